/**
 * A plain single-process ALS with the same math as the distributed trainer, written
 * straightforwardly (per-row lists, full matrices, no blocking or unrolling) so tests can check the
 * distributed factors against it: same id indexing, same initialization, same order of half-steps
 * (items, then users, like Spark), same float32 rounding of stored factors.
 */
import { compileALSOptions, type ALSOptions } from './als-options.js';
import { indexIds, readRatingColumns, type RatingsInput } from './als-data.js';
import { choleskySolve, initFactors, nnls } from './kernels.js';
import { InvalidTrainingDataError } from '../errors.js';

export interface ReferenceALSResult {
  userIds: Float64Array;
  itemIds: Float64Array;
  rank: number;
  /** numUsers × rank, row-major, rows in ascending id order. */
  userFactors: Float32Array;
  itemFactors: Float32Array;
}

interface Entry {
  other: number;
  rating: number;
}

function solveSide(
  lists: Entry[][],
  src: Float32Array,
  numSrc: number,
  out: Float32Array,
  o: { rank: number; regParam: number; implicitPrefs: boolean; alpha: number; nonnegative: boolean },
): void {
  const { rank } = o;
  let yty: Float64Array | undefined;
  if (o.implicitPrefs) {
    yty = new Float64Array(rank * rank);
    for (let s = 0; s < numSrc; s++) {
      for (let i = 0; i < rank; i++) for (let j = 0; j < rank; j++) yty[i * rank + j]! += src[s * rank + i]! * src[s * rank + j]!;
    }
  }
  lists.forEach((entries, r) => {
    const a = yty ? Float64Array.from(yty) : new Float64Array(rank * rank);
    const b = new Float64Array(rank);
    let n = 0;
    for (const { other, rating } of entries) {
      let weightA = 1;
      let weightB = rating;
      if (o.implicitPrefs) {
        const c1 = o.alpha * Math.abs(rating);
        weightA = c1;
        weightB = rating > 0 ? 1 + c1 : 0;
        if (rating > 0) n++;
      } else n++;
      for (let i = 0; i < rank; i++) {
        const yi = src[other * rank + i]!;
        b[i]! += weightB * yi;
        for (let j = 0; j < rank; j++) a[i * rank + j]! += weightA * yi * src[other * rank + j]!;
      }
    }
    for (let i = 0; i < rank; i++) a[i * rank + i]! += o.regParam * n;
    const x = o.nonnegative ? nnls(a, b, rank) : choleskySolve(a, b, rank);
    for (let f = 0; f < rank; f++) out[r * rank + f] = x[f]!;
  });
}

/** Fits ALS in this process with the ALS options (blocking, exchange and solver options are ignored: solves are exact). */
export async function referenceALS(input: RatingsInput, options: ALSOptions = {}): Promise<ReferenceALSResult> {
  const o = compileALSOptions(options);
  const cols = await readRatingColumns(input, o.userCol, o.itemCol, o.ratingCol);
  if (cols.numRows === 0) throw new InvalidTrainingDataError('ALS needs at least one rating (the input is empty)');
  const users = indexIds(cols.users);
  const items = indexIds(cols.items);
  const numUsers = users.ids.length;
  const numItems = items.ids.length;
  const byUser: Entry[][] = Array.from({ length: numUsers }, () => []);
  const byItem: Entry[][] = Array.from({ length: numItems }, () => []);
  for (let k = 0; k < cols.numRows; k++) {
    const u = users.index[k]!;
    const i = items.index[k]!;
    const rating = cols.ratings![k]!;
    byUser[u]!.push({ other: i, rating });
    byItem[i]!.push({ other: u, rating });
  }
  const userFactors = initFactors(numUsers, o.rank, o.seed, 'user');
  const itemFactors = new Float32Array(numItems * o.rank);
  for (let iter = 0; iter < o.maxIter; iter++) {
    const t0 = performance.now();
    solveSide(byItem, userFactors, numUsers, itemFactors, o);
    solveSide(byUser, itemFactors, numItems, userFactors, o);
    o.onIteration?.({ iteration: iter + 1, durationMs: performance.now() - t0 });
  }
  return { userIds: users.ids, itemIds: items.ids, rank: o.rank, userFactors, itemFactors };
}
