import type * as arrow from 'apache-arrow';
import { invalidOption } from '../errors.js';
import { hashRows, keyColumns, partitionOfHash } from './row-key.js';

export { partitionOfHash };
import { takeTable } from './take.js';

/**
 * Splits a table into `numPartitions` tables by a stable hash of the key columns (nulls hash to a fixed
 * partition). The same key values always go to the same partition, across calls and processes, and
 * regardless of whether a number is stored as int32, int64 or float64. Row order within a partition
 * follows the input.
 */
export function hashPartition(table: arrow.Table, keyColumnNames: readonly string[], numPartitions: number): arrow.Table[] {
  if (!Number.isInteger(numPartitions) || numPartitions < 1) throw invalidOption('numPartitions', `must be a positive integer; got ${numPartitions}`);
  if (keyColumnNames.length === 0) throw invalidOption('keyColumns', 'must name at least one column');
  return partitionByHashes(table, hashRows(keyColumns(table, keyColumnNames), table.numRows), numPartitions);
}

/**
 * Splits a table into `numPartitions` tables by precomputed row hashes (`hashRows` of the key columns,
 * or hashes carried from an earlier pass over the same key values): row i goes to `hashes[i] % n`.
 */
export function partitionByHashes(table: arrow.Table, hashes: Uint32Array, numPartitions: number): arrow.Table[] {
  const n = table.numRows;
  if (hashes.length !== n) throw invalidOption('hashes', `must have one hash per row (${n}); got ${hashes.length}`);
  if (numPartitions === 1) return [table];
  const part = new Int32Array(n);
  const counts = new Int32Array(numPartitions);
  for (let i = 0; i < n; i++) {
    const p = partitionOfHash(hashes[i]!, numPartitions);
    part[i] = p;
    counts[p]!++;
  }
  const indices = Array.from(counts, (c) => new Int32Array(c));
  const fill = new Int32Array(numPartitions);
  for (let i = 0; i < n; i++) {
    const p = part[i]!;
    indices[p]![fill[p]!++] = i;
  }
  return indices.map((idx) => takeTable(table, idx));
}

