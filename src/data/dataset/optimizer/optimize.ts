/**
 * Rule-based optimizer: (1) fuse consecutive narrow operators into one task per partition, attaching
 * those right after a source to its read task; (2) push the leading filters of a scan down as
 * conjuncts (row-group/file pruning, SQL WHERE); (3) prune the columns a scan reads to those the plan
 * above it needs.
 */
import type { ExprNode } from '../../expr/expr-node.js';
import { newNodeId, type PlanNode } from '../plan/logical-plan.js';
import type { NarrowOp } from '../plan/narrow-ops.js';
import { schemaOf } from '../plan/plan-schema.js';
import { resolveSource } from '../sources/resolve-source.js';

/** Column names an expression reads. */
export function exprColumns(node: ExprNode, out = new Set<string>()): Set<string> {
  switch (node.op) {
    case 'col':
      out.add(node.name);
      break;
    case 'lit':
      break;
    case 'binary':
      exprColumns(node.left, out);
      exprColumns(node.right, out);
      break;
    case 'unary':
    case 'cast':
    case 'alias':
      exprColumns(node.arg, out);
      break;
    case 'case':
      for (const b of node.branches) {
        exprColumns(b.when, out);
        exprColumns(b.then, out);
      }
      if (node.otherwise) exprColumns(node.otherwise, out);
      break;
    case 'call':
      for (const a of node.args) exprColumns(a, out);
      break;
  }
  return out;
}

/** Splits an AND tree into its conjuncts. */
export function conjuncts(node: ExprNode): ExprNode[] {
  return node.op === 'binary' && node.fn === 'and' ? [...conjuncts(node.left), ...conjuncts(node.right)] : [node];
}

function fuse(node: PlanNode): PlanNode {
  switch (node.kind) {
    case 'narrow': {
      const input = fuse(node.input);
      if (input.kind === 'scan') return { ...input, id: newNodeId(), ops: [...input.ops, ...node.ops] };
      if (input.kind === 'map') return { ...input, id: newNodeId(), ops: [...input.ops, ...node.ops] };
      return { kind: 'map', id: newNodeId(), input, ops: node.ops };
    }
    case 'source':
      return { kind: 'scan', id: newNodeId(), source: node.source, sourceId: node.id, ops: [], columns: null, pushed: [] };
    case 'scan':
      return node;
    case 'union':
      return { ...node, inputs: node.inputs.map(fuse) };
    case 'join':
      return { ...node, left: fuse(node.left), right: fuse(node.right) };
    default:
      return { ...node, input: fuse(node.input) } as PlanNode;
  }
}

function pushFilters(ops: readonly NarrowOp[]): ExprNode[] {
  const pushed: ExprNode[] = [];
  for (const op of ops) {
    if (op.op === 'filter') pushed.push(...conjuncts(op.predicate));
    else if (op.op !== 'drop') break;
  }
  return pushed;
}

type Required = ReadonlySet<string> | null;

/**
 * `ops` without the withColumns whose column nothing after them reads (nor the output, when
 * `required` is known), and the columns their input must provide.
 */
function liveOps(ops: readonly NarrowOp[], required: Required): { ops: NarrowOp[]; needed: Required } {
  let needed: Set<string> | null = required === null ? null : new Set(required);
  const live: NarrowOp[] = [];
  for (let i = ops.length - 1; i >= 0; i--) {
    const op = ops[i]!;
    if (op.op === 'withColumn' && needed !== null && !needed.has(op.name)) continue;
    live.push(op);
    switch (op.op) {
      case 'select': {
        const s = new Set<string>();
        for (const e of op.exprs) exprColumns(e, s);
        needed = s;
        break;
      }
      case 'withColumn':
        if (needed !== null) {
          needed.delete(op.name);
          exprColumns(op.expr, needed);
        }
        break;
      case 'filter':
        if (needed !== null) exprColumns(op.predicate, needed);
        break;
      case 'rename':
        if (needed !== null) {
          const back = new Map(op.mapping.map(([a, b]) => [b, a]));
          const s = new Set<string>();
          for (const n of needed) s.add(back.get(n) ?? n);
          for (const [a] of op.mapping) s.add(a);
          needed = s;
        }
        break;
      case 'explode':
        if (needed !== null) needed.add(op.column);
        break;
      case 'drop':
      case 'sample':
        break;
    }
  }
  return { ops: live.reverse(), needed };
}

/** Columns a window node's input must provide: its keys, order columns and arguments, and what passes through. */
function windowInputColumns(node: Extract<PlanNode, { kind: 'window' }>, required: Required): Required {
  if (required === null) return null;
  const needed = new Set(required);
  for (let i = node.columns.length - 1; i >= 0; i--) {
    const c = node.columns[i]!;
    needed.delete(c.name);
    for (const k of c.spec.orderBy) needed.add(k.column);
    const arg = (c.fn as { arg?: ExprNode | null }).arg;
    if (arg) exprColumns(arg, needed);
  }
  for (const k of node.partitionBy) needed.add(k);
  return needed;
}

const union = (a: Required, more: Iterable<string>): Required => (a === null ? null : new Set([...a, ...more]));

async function prune(node: PlanNode, required: Required): Promise<PlanNode> {
  switch (node.kind) {
    case 'scan': {
      const pushed = pushFilters(node.ops);
      const { ops, needed } = liveOps(node.ops, required);
      let columns: string[] | null = null;
      if (needed !== null && ['parquet', 'csv', 'json', 'postgres'].includes(node.source.type)) {
        const schema = (await resolveSource(node.source)).schema;
        const all = schema.fields.map((f) => f.name);
        const keep = all.filter((c) => needed.has(c));
        // A read needs at least one column to carry the row count.
        if (keep.length === 0 && all.length > 0) keep.push(all[0]!);
        if (keep.length < all.length) columns = keep;
      }
      return { ...node, ops, columns, pushed };
    }
    case 'map': {
      const { ops, needed } = liveOps(node.ops, required);
      return { ...node, ops, input: await prune(node.input, needed) };
    }
    case 'aggregate':
      return { ...node, input: await prune(node.input, new Set([...node.keys, ...node.aggs.flatMap((a) => (a.column ? [a.column] : []))])) };
    case 'sort':
      return { ...node, input: await prune(node.input, union(required, node.keys.map((k) => k.column))) };
    case 'window':
      return { ...node, input: await prune(node.input, windowInputColumns(node, required)) };
    case 'limit':
      return { ...node, input: await prune(node.input, required) };
    case 'repartition':
      return { ...node, input: await prune(node.input, union(required, node.columns ?? [])) };
    case 'distinct':
      return { ...node, input: await prune(node.input, node.columns ? union(required, node.columns) : null) };
    case 'union':
      return { ...node, inputs: await Promise.all(node.inputs.map((i) => prune(i, null))) };
    case 'join':
      return { ...node, left: await prune(node.left, null), right: await prune(node.right, null) };
    case 'mapBatches':
    case 'cache':
      return { ...node, input: await prune(node.input, null) };
    case 'source':
    case 'narrow':
      return node;
  }
}

/** The physical plan for `root`. Validates the logical plan first (schema errors surface here). */
export async function optimize(root: PlanNode): Promise<PlanNode> {
  await schemaOf(root);
  return prune(fuse(root), null);
}
