/**
 * Output schemas of plan nodes, computed on the driver by running each operator's kernel over
 * zero-row tables — so a plan is checked (unknown columns, type errors, join keys) with the kernels'
 * own errors before any task runs. mapBatches runs the user's function once on an empty table.
 */
import * as arrow from 'apache-arrow';
import { get } from '../../../core/index.js';
import { InvalidPlanError } from '../../errors.js';
import { aggregate } from '../../kernels/aggregate.js';
import { distinct } from '../../kernels/distinct.js';
import { hashJoin } from '../../kernels/hash-join.js';
import { hashPartition } from '../../kernels/hash-partition.js';
import { sortTable } from '../../kernels/sort.js';
import { windowTable } from '../../kernels/window.js';
import { logicalTypeOf, typeToString } from '../../types/logical-type.js';
import { resolveSource } from '../sources/resolve-source.js';
import type { PlanNode } from './logical-plan.js';
import { applyOps, emptyTable } from './narrow-ops.js';

const cache = new WeakMap<PlanNode, Promise<arrow.Schema>>();

function typeKey(s: arrow.Schema): string[] {
  return s.fields.map((f) => `${f.name}: ${typeToString(logicalTypeOf(f.type, f.name))}`);
}

async function compute(node: PlanNode): Promise<arrow.Schema> {
  switch (node.kind) {
    case 'source':
      return (await resolveSource(node.source)).schema;
    case 'scan': {
      const s = (await resolveSource(node.source)).schema;
      const base = node.columns ? new arrow.Schema(node.columns.map((c) => s.fields.find((f) => f.name === c)!)) : s;
      return applyOps(emptyTable(base), node.ops, 0).schema;
    }
    case 'narrow':
    case 'map':
      return applyOps(emptyTable(await schemaOf(node.input)), node.ops, 0).schema;
    case 'mapBatches': {
      const out = await get(node.fn.remote(emptyTable(await schemaOf(node.input)), ...node.args));
      return out.schema;
    }
    case 'cache':
      return schemaOf(node.input);
    case 'limit':
      return schemaOf(node.input);
    case 'distinct': {
      const s = await schemaOf(node.input);
      distinct(emptyTable(s), node.columns ?? undefined);
      return s;
    }
    case 'sort': {
      const s = await schemaOf(node.input);
      sortTable(emptyTable(s), node.keys);
      return s;
    }
    case 'repartition': {
      const s = await schemaOf(node.input);
      if (node.columns) hashPartition(emptyTable(s), node.columns, node.n);
      return s;
    }
    case 'aggregate':
      return aggregate(emptyTable(await schemaOf(node.input)), node.keys, node.aggs).schema;
    case 'window':
      return windowTable(emptyTable(await schemaOf(node.input)), node.partitionBy, node.columns).schema;
    case 'join': {
      const [l, r] = await Promise.all([schemaOf(node.left), schemaOf(node.right)]);
      return hashJoin(emptyTable(l), emptyTable(r), node.on, node.how).schema;
    }
    case 'union': {
      const schemas = await Promise.all(node.inputs.map(schemaOf));
      const first = typeKey(schemas[0]!);
      schemas.forEach((s, i) => {
        const k = typeKey(s);
        if (k.join(', ') !== first.join(', ')) {
          throw new InvalidPlanError(`union: input ${i} has columns (${k.join(', ')}) but input 0 has (${first.join(', ')}); select the same columns, in the same order, with the same types`);
        }
      });
      return schemas[0]!;
    }
  }
}

/** The schema `node` produces (cached per node). */
export function schemaOf(node: PlanNode): Promise<arrow.Schema> {
  let p = cache.get(node);
  if (p === undefined) {
    p = compute(node);
    cache.set(node, p);
    p.catch(() => cache.delete(node));
  }
  return p;
}
