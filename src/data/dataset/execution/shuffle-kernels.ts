/**
 * The per-partition halves of every shuffle, as pure functions over Arrow tables. A map side splits
 * one input partition into `n` bucket tables; a reduce side combines bucket `i` of every map output.
 * The remote wrappers in partition-tasks.ts run these on workers.
 */
import * as arrow from 'apache-arrow';
import { finalizeAggregates, mergeAggregates, partialAggregatePartitioned, type AggSpec } from '../../kernels/aggregate.js';
import { concatTables } from '../../kernels/concat.js';
import { distinct } from '../../kernels/distinct.js';
import { hashJoin, hashJoinCount, type JoinOn, type JoinType } from '../../kernels/hash-join.js';
import { hashPartition } from '../../kernels/hash-partition.js';
import { sortIndices, sortTable, type SortKey } from '../../kernels/sort.js';
import { takeTable } from '../../kernels/take.js';
import { windowTable } from '../../kernels/window.js';
import type { WindowColumnSpec } from '../../expr/window.js';

export type ShuffleMap =
  | { readonly kind: 'hash'; readonly columns: readonly string[] }
  | { readonly kind: 'roundRobin' }
  | { readonly kind: 'aggregate'; readonly keys: readonly string[]; readonly aggs: readonly AggSpec[] }
  | { readonly kind: 'distinct'; readonly columns: readonly string[] | null }
  /** Range partitioning by sort keys; the boundary rows come as a separate table argument. */
  | { readonly kind: 'range'; readonly keys: readonly SortKey[] };

export type ShuffleReduce =
  | { readonly kind: 'concat' }
  | { readonly kind: 'aggregate'; readonly keys: readonly string[]; readonly aggs: readonly AggSpec[] }
  | { readonly kind: 'distinct'; readonly columns: readonly string[] | null }
  | { readonly kind: 'sort'; readonly keys: readonly SortKey[] }
  | { readonly kind: 'window'; readonly partitionBy: readonly string[]; readonly columns: readonly WindowColumnSpec[] };

export interface JoinSpec {
  readonly on: JoinOn;
  readonly how: JoinType;
}

function sliceEvenly(table: arrow.Table, n: number): arrow.Table[] {
  const out: arrow.Table[] = [];
  const size = Math.ceil(table.numRows / n);
  for (let i = 0; i < n; i++) out.push(table.slice(Math.min(i * size, table.numRows), Math.min((i + 1) * size, table.numRows)));
  return out;
}

/**
 * Range partitioning: bucket of a row = number of boundary rows that sort at or before it. Boundary
 * rows and partition rows are sorted together (stable, boundaries first), so ties go to the same
 * bucket in every partition.
 */
export function rangePartition(table: arrow.Table, keys: readonly SortKey[], boundaries: arrow.Table): arrow.Table[] {
  const n = boundaries.numRows + 1;
  if (n === 1) return [table];
  const cols = keys.map((k) => k.column);
  const both = concatTables([boundaries.select(cols), table.select(cols)]);
  const order = sortIndices(both, keys);
  const bucketOf = new Int32Array(table.numRows);
  let seen = 0;
  for (const j of order) {
    if (j < boundaries.numRows) seen++;
    else bucketOf[j - boundaries.numRows] = seen;
  }
  const counts = new Int32Array(n);
  for (const b of bucketOf) counts[b]!++;
  const idx = Array.from(counts, (c) => new Int32Array(c));
  const fill = new Int32Array(n);
  for (let i = 0; i < bucketOf.length; i++) idx[bucketOf[i]!]![fill[bucketOf[i]!]!++] = i;
  return idx.map((ix) => takeTable(table, ix));
}

export function shuffleMap(table: arrow.Table, spec: ShuffleMap, n: number, boundaries: arrow.Table | null): arrow.Table[] {
  switch (spec.kind) {
    case 'hash':
      return hashPartition(table, spec.columns, n);
    case 'roundRobin':
      return sliceEvenly(table, n);
    case 'aggregate':
      return partialAggregatePartitioned(table, spec.keys, spec.aggs, n);
    case 'distinct': {
      const local = distinct(table, spec.columns ?? undefined);
      const cols = spec.columns ?? local.schema.fields.map((f) => f.name);
      return cols.length === 0 ? sliceEvenly(local, n) : hashPartition(local, cols, n);
    }
    case 'range':
      return rangePartition(table, spec.keys, boundaries!);
  }
}

export function shuffleReduce(pieces: readonly arrow.Table[], spec: ShuffleReduce): arrow.Table {
  switch (spec.kind) {
    case 'concat':
      return concatTables(pieces);
    case 'aggregate':
      return finalizeAggregates(mergeAggregates(pieces, spec.keys, spec.aggs), spec.keys, spec.aggs);
    case 'distinct':
      return distinct(concatTables(pieces), spec.columns ?? undefined);
    case 'sort':
      return sortTable(concatTables(pieces), spec.keys);
    case 'window':
      return windowTable(concatTables(pieces), spec.partitionBy, spec.columns);
  }
}

export function joinPieces(left: readonly arrow.Table[], right: readonly arrow.Table[], spec: JoinSpec): arrow.Table {
  return hashJoin(concatTables(left), concatTables(right), spec.on, spec.how);
}

/** A sample of the sort-key columns of one partition (every k-th row), for range boundaries. */
export function sortSample(table: arrow.Table, keys: readonly SortKey[], maxRows: number): arrow.Table {
  const cols = table.select(keys.map((k) => k.column));
  if (table.numRows <= maxRows) return cols;
  const step = table.numRows / maxRows;
  const idx = Int32Array.from({ length: maxRows }, (_, i) => Math.floor(i * step));
  return takeTable(cols, idx);
}

/**
 * What a fused partition task does with its result instead of returning the table: the map side of
 * the shuffle that consumes it, its row count (`count()`), a broadcast join with a small side that
 * arrives as extra task arguments (then what consumes the join), or nothing (`table`: the task
 * returns it). The table between the steps never goes through the object store.
 */
export type FusedOutput =
  | { readonly kind: 'table' }
  | { readonly kind: 'shuffleMap'; readonly map: ShuffleMap; readonly n: number }
  | { readonly kind: 'count' }
  /**
   * Joins the table (the big side) with the small side: the first `smallCount` extra arguments (each
   * a partition, or a shuffle map output whose buckets are all used), then goes on to `then`.
   */
  | { readonly kind: 'broadcastJoin'; readonly spec: JoinSpec; readonly bigIsLeft: boolean; readonly smallCount: number; readonly then: FusedOutput };

/** A fused step's extra arguments: partitions, or shuffle map outputs (arrays of bucket tables). */
export type FusedArgs = readonly (arrow.Table | arrow.Table[])[];

export function finishFused(table: arrow.Table, out: FusedOutput, extra: FusedArgs): arrow.Table | arrow.Table[] | number {
  switch (out.kind) {
    case 'table':
      return table;
    case 'count':
      return table.numRows;
    case 'shuffleMap':
      return shuffleMap(table, out.map, out.n, null);
    case 'broadcastJoin': {
      const small = extra.slice(0, out.smallCount).flat();
      const rest = extra.slice(out.smallCount);
      return out.bigIsLeft ? joinFused([table], small, out.spec, out.then, rest) : joinFused(small, [table], out.spec, out.then, rest);
    }
  }
}

/** A join whose result goes on to `out`: only counted (no column is gathered), or handed to the next step. */
export function joinFused(left: readonly arrow.Table[], right: readonly arrow.Table[], spec: JoinSpec, out: FusedOutput, extra: FusedArgs): arrow.Table | arrow.Table[] | number {
  if (out.kind === 'count') return hashJoinCount(concatTables(left), concatTables(right), spec.on, spec.how);
  return finishFused(joinPieces(left, right, spec), out, extra);
}
