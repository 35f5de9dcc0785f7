import type * as arrow from 'apache-arrow';
import { invalidOption } from '../errors.js';
import { takeTable } from './take.js';

/** splitmix32-style mix of (seed, row index) to a uniform float in [0, 1). */
function uniform(seed: number, i: number): number {
  let z = (Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) + Math.imul(i + 1, 0x9e3779b9)) | 0;
  z = Math.imul(z ^ (z >>> 16), 0x21f0aaad);
  z = Math.imul(z ^ (z >>> 15), 0x735a2d97);
  z ^= z >>> 15;
  return (z >>> 0) / 4294967296;
}

/**
 * Bernoulli sample: each row is kept with probability `fraction`, decided by a hash of (seed, row
 * index), so the same table, fraction and seed always give the same rows. Use a different seed per
 * partition (e.g. seed + partitionIndex) to sample partitions independently.
 */
export function sampleTable(table: arrow.Table, fraction: number, seed: number): arrow.Table {
  if (!(fraction >= 0 && fraction <= 1)) throw invalidOption('fraction', `must be between 0 and 1; got ${fraction}`);
  if (!Number.isInteger(seed)) throw invalidOption('seed', `must be an integer; got ${seed}`);
  const keep: number[] = [];
  for (let i = 0, iEnd = table.numRows; i < iEnd; i++) if (uniform(seed, i) < fraction) keep.push(i);
  return takeTable(table, Int32Array.from(keep));
}
