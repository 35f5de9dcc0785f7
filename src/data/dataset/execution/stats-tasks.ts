/**
 * Built-in tasks of the streaming executor: the size of a produced partition (rows and the bytes of
 * its Arrow buffers) and the re-chunking of partitions into fixed-size batches for mapBatches. Like
 * partition-tasks.ts, this module holds only `remote()` definitions and pure helpers.
 */
import type * as arrow from 'apache-arrow';
import { remote } from '../../../core/index.js';
import { concatTables } from '../../kernels/concat.js';

export interface PartitionSize {
  readonly rows: number;
  /** Sum of byteLength of every Arrow buffer (values, offsets, validity, type ids, children). */
  readonly bytes: number;
  /** What a reader did silently to this partition (schema metadata `shoal.read_notes`, e.g. ragged CSV rows). */
  readonly notes?: string;
}

function dataBytes(d: arrow.Data, seen: Set<ArrayBufferView>): number {
  let n = 0;
  for (const b of [d.values, d.valueOffsets, d.nullBitmap, d.typeIds] as (ArrayBufferView | undefined)[]) {
    if (b === undefined || seen.has(b)) continue;
    seen.add(b);
    n += b.byteLength;
  }
  for (const c of d.children) n += dataBytes(c, seen);
  if (d.dictionary !== undefined) for (const dd of d.dictionary.data) n += dataBytes(dd, seen);
  return n;
}

/** Rows and Arrow buffer bytes of a table (buffers shared between columns counted once). */
export function tableBytes(table: arrow.Table): number {
  const seen = new Set<ArrayBufferView>();
  let n = 0;
  for (const b of table.batches) n += dataBytes(b.data, seen);
  return n;
}

export function partitionSize(value: arrow.Table | arrow.Table[] | number): PartitionSize {
  if (typeof value === 'number') return { rows: value, bytes: 0 };
  const tables = Array.isArray(value) ? value : [value];
  const notes = tables.map((t) => t.schema.metadata.get('shoal.read_notes')).filter((n): n is string => n !== undefined);
  return { rows: tables.reduce((s, t) => s + t.numRows, 0), bytes: tables.reduce((s, t) => s + tableBytes(t), 0), ...(notes.length > 0 ? { notes: notes.join('; ') } : {}) };
}

/** Size of a produced partition (a table, the bucket tables of a shuffle map, or a fused count). */
export const partitionSizeTask = remote(function shoalDataPartitionSize(value: arrow.Table | arrow.Table[] | number): PartitionSize {
  return partitionSize(value);
});

/** A slice [start, end) of the k-th table argument. */
export interface BatchPiece {
  readonly start: number;
  readonly end: number;
}

/** One batch of mapBatches({ batchSize }): the given slices of consecutive partitions, concatenated. */
export const batchSliceTask = remote(function shoalDataBatchSlice(pieces: BatchPiece[], ...tables: arrow.Table[]): arrow.Table {
  const parts = pieces.map((p, k) => tables[k]!.slice(p.start, p.end));
  const nonEmpty = parts.filter((t) => t.numRows > 0);
  return nonEmpty.length === 0 ? parts[0]! : nonEmpty.length === 1 ? nonEmpty[0]! : concatTables(nonEmpty);
});

/** Pieces of each batch of `batchSize` rows over partitions with these row counts (in order). */
export function planBatches(counts: readonly number[], batchSize: number): { partition: number; start: number; end: number }[][] {
  const batches: { partition: number; start: number; end: number }[][] = [];
  let current: { partition: number; start: number; end: number }[] = [];
  let filled = 0;
  counts.forEach((c, p) => {
    let at = 0;
    while (at < c) {
      const k = Math.min(c - at, batchSize - filled);
      current.push({ partition: p, start: at, end: at + k });
      at += k;
      filled += k;
      if (filled === batchSize) {
        batches.push(current);
        current = [];
        filled = 0;
      }
    }
  });
  if (current.length > 0) batches.push(current);
  return batches;
}
