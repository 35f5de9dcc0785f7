/**
 * Narrow (row-local) operators as plain data, so a fused chain of them travels to a worker as one task
 * argument and runs there in one pass over a partition. The same function computes output schemas on
 * the driver by running the chain over an empty table.
 */
import * as arrow from 'apache-arrow';
import { invalidOption, UnknownColumnError } from '../../errors.js';
import type { ExprNode } from '../../expr/expr-node.js';
import { explodeTable } from '../../kernels/explode.js';
import { filter } from '../../kernels/filter.js';
import { project, withColumn } from '../../kernels/project.js';
import { takeTable, takeVector, tableFromVectors } from '../../kernels/take.js';

export type NarrowOp =
  | { readonly op: 'select'; readonly exprs: readonly ExprNode[] }
  | { readonly op: 'withColumn'; readonly name: string; readonly expr: ExprNode }
  | { readonly op: 'filter'; readonly predicate: ExprNode }
  | { readonly op: 'drop'; readonly columns: readonly string[] }
  | { readonly op: 'rename'; readonly mapping: readonly (readonly [string, string])[] }
  /** Keeps rows whose pseudo-random draw u (from seed, partition, row) is in [lo, hi): sample and randomSplit. */
  | { readonly op: 'sample'; readonly lo: number; readonly hi: number; readonly seed: number }
  /** One row per element of a list column (`outer` keeps null and empty lists as one null element). */
  | { readonly op: 'explode'; readonly column: string; readonly outer: boolean };

/** splitmix-style mix of (seed, partition, row) to a uniform float in [0, 1). */
export function uniformDraw(seed: number, partition: number, row: number): number {
  let z = (Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) + Math.imul(partition + 1, 0xc2b2ae35) + Math.imul(row + 1, 0x9e3779b9)) | 0;
  z = Math.imul(z ^ (z >>> 16), 0x21f0aaad);
  z = Math.imul(z ^ (z >>> 15), 0x735a2d97);
  z ^= z >>> 15;
  return (z >>> 0) / 4294967296;
}

function names(table: arrow.Table): string[] {
  return table.schema.fields.map((f) => f.name);
}

/** Applies one narrow operator. `partition` seeds sampling so partitions sample independently. */
export function applyOp(table: arrow.Table, op: NarrowOp, partition: number): arrow.Table {
  switch (op.op) {
    case 'select':
      return project(table, op.exprs);
    case 'withColumn':
      return withColumn(table, op.name, op.expr);
    case 'filter':
      return filter(table, op.predicate);
    case 'drop': {
      const drop = new Set(op.columns);
      return table.select(names(table).filter((n) => !drop.has(n)));
    }
    case 'rename': {
      const all = names(table);
      const map = new Map(op.mapping);
      for (const from of map.keys()) if (!all.includes(from)) throw new UnknownColumnError(from, all);
      const fields = table.schema.fields.map((f) => (map.has(f.name) ? f.clone({ name: map.get(f.name)! }) : f));
      const seen = new Set<string>();
      for (const f of fields) {
        if (seen.has(f.name)) throw invalidOption('rename', `would produce column "${f.name}" twice`);
        seen.add(f.name);
      }
      const vectors = table.schema.fields.map((_, i) => table.getChildAt(i) as arrow.Vector);
      if (table.numRows === 0 || table.batches.length !== 1) return tableFromVectors(fields, vectors, table.numRows);
      return new arrow.Table(new arrow.Schema(fields), table.batches.map((b) => new arrow.RecordBatch(new arrow.Schema(fields), b.data)));
    }
    case 'sample': {
      const keep: number[] = [];
      for (let i = 0, iEnd = table.numRows; i < iEnd; i++) {
        const u = uniformDraw(op.seed, partition, i);
        if (u >= op.lo && u < op.hi) keep.push(i);
      }
      return keep.length === table.numRows ? table : takeTable(table, Int32Array.from(keep));
    }
    case 'explode':
      return explodeTable(table, op.column, op.outer);
  }
}

/** Applies a fused chain of narrow operators in order. */
export function applyOps(table: arrow.Table, ops: readonly NarrowOp[], partition: number): arrow.Table {
  let t = table;
  for (const op of ops) t = applyOp(t, op, partition);
  return ops.length > 0 ? unshareColumns(t) : t;
}

/**
 * Copies columns that share their buffers with an earlier column (`withColumn('b', col('a'))`):
 * apache-arrow's IPC writer emits a wrong body length for a batch that holds the same buffers twice
 * when those buffers came from an IPC read (zero-copy task inputs), and the result could not be read.
 */
export function unshareColumns(table: arrow.Table): arrow.Table {
  const seen = new Set<unknown>();
  let shared = false;
  const vectors = table.schema.fields.map((_, i) => table.getChildAt(i) as arrow.Vector);
  for (const v of vectors) {
    for (const d of v.data) {
      const key = d.values ?? d;
      if (seen.has(key)) shared = true;
      seen.add(key);
    }
  }
  if (!shared) return table;
  const seen2 = new Set<unknown>();
  const out = vectors.map((v) => {
    const keys = v.data.map((d) => d.values ?? d);
    const dup = keys.some((k) => seen2.has(k));
    keys.forEach((k) => seen2.add(k));
    return dup ? takeVector(v, Int32Array.from({ length: v.length }, (_, i) => i)) : v;
  });
  return tableFromVectors(table.schema.fields, out, table.numRows);
}

/** A zero-row table with `schema` (one empty batch, so kernels see every column). */
export function emptyTable(schema: arrow.Schema): arrow.Table {
  const vectors = schema.fields.map((f) => arrow.vectorFromArray([], f.type) as arrow.Vector);
  return tableFromVectors(schema.fields, vectors, 0);
}
