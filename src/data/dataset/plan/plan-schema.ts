/**
 * Output schemas of plan nodes, computed on the driver by running each operator's kernel over
 * zero-row tables — so a plan is checked (unknown columns, type errors, join keys) with the kernels'
 * own errors before any task runs, and an unknown column names the operator that asked for it and
 * the closest column there is.
 *
 * Checked when the plan is built (`knownSchema`, called by every Dataset transformation) wherever the
 * input's schema is known without reading anything: Arrow tables and rows, `range`, CSV and JSON read
 * with a `schema`. Sources whose schema is only known once read — Parquet footers, CSV/JSON type
 * inference (a task per file), a PostgreSQL query — and the output of `mapBatches` (the user's
 * function run once on an empty table) are checked when the schema is first resolved (`schemaOf`:
 * `schema()`, or the start of any action), with the same errors.
 */
import * as arrow from 'apache-arrow';
import { get } from '../../../core/index.js';
import { InvalidPlanError, UnknownColumnError } from '../../errors.js';
import { resolveTextSchema } from '../../io/csv-reader.js';
import { aggregate } from '../../kernels/aggregate.js';
import { distinct } from '../../kernels/distinct.js';
import { hashJoin } from '../../kernels/hash-join.js';
import { hashPartition } from '../../kernels/hash-partition.js';
import { sortTable } from '../../kernels/sort.js';
import { windowTable } from '../../kernels/window.js';
import { arrowTypeOf, logicalTypeOf, typeToString } from '../../types/logical-type.js';
import { resolveArrow, resolveRange } from '../sources/memory-source.js';
import { resolveSource } from '../sources/resolve-source.js';
import type { SourceSpec } from '../sources/source-options.js';
import { nodeCallText, opCallText } from './explain.js';
import { children, type PlanNode } from './logical-plan.js';
import { applyOp, emptyTable, unshareColumns, type NarrowOp } from './narrow-ops.js';

function typeKey(s: arrow.Schema): string[] {
  return s.fields.map((f) => `${f.name}: ${typeToString(logicalTypeOf(f.type, f.name))}`);
}

/** Runs `check`; an UnknownColumnError it throws is thrown again naming the operator (`filter(x > 1)`). */
function naming<T>(operator: () => string, check: () => T): T {
  try {
    return check();
  } catch (err) {
    if (err instanceof UnknownColumnError && err.operator === undefined) throw new UnknownColumnError(err.column, err.available, { operator: operator(), cause: err });
    throw err;
  }
}

function applyNarrow(schema: arrow.Schema, ops: readonly NarrowOp[]): arrow.Schema {
  let t = emptyTable(schema);
  for (const op of ops) t = naming(() => opCallText(op), () => applyOp(t, op, 0));
  return (ops.length > 0 ? unshareColumns(t) : t).schema;
}

/** The schema `node` produces from its inputs' schemas (`inputs` in `children(node)` order); sources and mapBatches are not handled here. */
function step(node: PlanNode, inputs: readonly arrow.Schema[]): arrow.Schema {
  const s = inputs[0]!;
  switch (node.kind) {
    case 'narrow':
    case 'map':
      return applyNarrow(s, node.ops);
    case 'cache':
    case 'limit':
      return s;
    case 'distinct':
      naming(() => nodeCallText(node), () => distinct(emptyTable(s), node.columns ?? undefined));
      return s;
    case 'sort':
      naming(() => nodeCallText(node), () => sortTable(emptyTable(s), node.keys));
      return s;
    case 'repartition':
      if (node.columns) naming(() => nodeCallText(node), () => hashPartition(emptyTable(s), node.columns!, node.n));
      return s;
    case 'aggregate':
      return naming(() => nodeCallText(node), () => aggregate(emptyTable(s), node.keys, node.aggs).schema);
    case 'window':
      return naming(() => nodeCallText(node), () => windowTable(emptyTable(s), node.partitionBy, node.columns).schema);
    case 'join':
      return naming(() => nodeCallText(node), () => hashJoin(emptyTable(s), emptyTable(inputs[1]!), node.on, node.how).schema);
    case 'union': {
      const first = typeKey(s);
      inputs.forEach((x, i) => {
        const k = typeKey(x);
        if (k.join(', ') !== first.join(', ')) {
          throw new InvalidPlanError(`union: input ${i} has columns (${k.join(', ')}) but input 0 has (${first.join(', ')}); select the same columns, in the same order, with the same types`);
        }
      });
      return s;
    }
    case 'scan': {
      const base = node.columns ? new arrow.Schema(node.columns.map((c) => s.fields.find((f) => f.name === c)!)) : s;
      return applyNarrow(base, node.ops);
    }
    case 'source':
    case 'mapBatches':
      throw new Error(`plan-schema: step() does not compute ${node.kind} nodes`);
  }
}

// ---------------- when the plan is built ----------------

/** A source's schema if it is known without reading anything (undefined otherwise). */
function sourceSchemaNow(spec: SourceSpec): arrow.Schema | undefined {
  switch (spec.type) {
    case 'arrow':
      return resolveArrow(spec.partitions).schema;
    case 'range':
      return resolveRange(spec.n, spec.numPartitions).schema;
    case 'csv':
    case 'json': {
      if (spec.options.schema === undefined) return undefined;
      const { names, types } = resolveTextSchema(spec.options.schema);
      return new arrow.Schema(names.map((n, i) => new arrow.Field(n, arrowTypeOf(types[i]!), true)));
    }
    case 'parquet':
    case 'postgres':
      return undefined;
  }
}

const known = new WeakMap<PlanNode, arrow.Schema | null>();

/**
 * The schema of `node` when every source under it has a schema known without reading (see the file
 * header), else undefined. Checks the node as it goes: a bad plan throws here, as it is built.
 */
export function knownSchema(node: PlanNode): arrow.Schema | undefined {
  const cached = known.get(node);
  if (cached !== undefined) return cached ?? undefined;
  let schema: arrow.Schema | undefined;
  if (node.kind === 'source' || node.kind === 'scan') {
    const base = sourceSchemaNow(node.source);
    schema = base === undefined || node.kind === 'source' ? base : step(node, [base]);
  } else if (node.kind !== 'mapBatches') {
    const inputs = children(node).map(knownSchema);
    schema = inputs.every((s) => s !== undefined) ? step(node, inputs as arrow.Schema[]) : undefined;
  }
  known.set(node, schema ?? null);
  return schema;
}

// ---------------- when the schema is first resolved ----------------

async function compute(node: PlanNode): Promise<arrow.Schema> {
  const now = knownSchema(node);
  if (now !== undefined) return now;
  switch (node.kind) {
    case 'source':
      return (await resolveSource(node.source)).schema;
    case 'scan':
      return step(node, [(await resolveSource(node.source)).schema]);
    case 'mapBatches': {
      const out = await get(node.fn.remote(emptyTable(await schemaOf(node.input)), ...node.args));
      return out.schema;
    }
    default:
      return step(node, await Promise.all(children(node).map(schemaOf)));
  }
}

const cache = new WeakMap<PlanNode, Promise<arrow.Schema>>();

/** The schema `node` produces (cached per node); reads what it must (file footers, CSV inference, the database). */
export function schemaOf(node: PlanNode): Promise<arrow.Schema> {
  let p = cache.get(node);
  if (p === undefined) {
    p = compute(node);
    cache.set(node, p);
    p.catch(() => cache.delete(node));
  }
  return p;
}
