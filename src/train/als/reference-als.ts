/**
 * A plain single-process ALS with the same math as the distributed trainer, written
 * straightforwardly (per-row lists, full matrices, no blocking or unrolling) so tests can check the
 * distributed factors against it: same id indexing, same initialization, same order of half-steps
 * (items, then users, like Spark), same float32 rounding of stored factors. With `solver: 'cg'` it
 * runs the same warm-started conjugate-gradient steps per row as the distributed trainer
 * (`solveBlockCG`), written plainly: A·v = YᵀY·v + Σ c₁·(y·v)·y + λn·v, never formed.
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
  o: { rank: number; regParam: number; implicitPrefs: boolean; alpha: number; nonnegative: boolean; solver: 'cholesky' | 'cg'; cgSteps: number },
): void {
  const { rank } = o;
  let yty: Float64Array | undefined;
  if (o.implicitPrefs) {
    yty = new Float64Array(rank * rank);
    for (let s = 0; s < numSrc; s++) {
      for (let i = 0; i < rank; i++) for (let j = 0; j < rank; j++) yty[i * rank + j]! += src[s * rank + i]! * src[s * rank + j]!;
    }
  }
  if (o.solver === 'cg') {
    lists.forEach((entries, r) => solveRowCG(entries, src, yty, out, r, o));
    return;
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

/**
 * One row by `o.cgSteps` conjugate-gradient steps from its previous factors (`out`'s row, zeros before
 * the first solve), like benfred/implicit: the residual r = b − A·x, then per step A·d with A applied
 * as YᵀY·d + λn·d + Σ c₁·(y·d)·y.
 */
function solveRowCG(
  entries: Entry[], src: Float32Array, yty: Float64Array | undefined, out: Float32Array, r: number,
  o: { rank: number; regParam: number; implicitPrefs: boolean; alpha: number; cgSteps: number },
): void {
  const { rank } = o;
  const weights = (rating: number): { a: number; b: number } =>
    o.implicitPrefs ? { a: o.alpha * Math.abs(rating), b: rating > 0 ? 1 + o.alpha * Math.abs(rating) : 0 } : { a: 1, b: rating };
  const n = entries.filter((e) => !o.implicitPrefs || e.rating > 0).length;
  const lambda = o.regParam * n;
  const row = (other: number): Float32Array => src.subarray(other * rank, (other + 1) * rank);
  const dot = (u: ArrayLike<number>, v: ArrayLike<number>): number => {
    let s = 0;
    for (let f = 0; f < rank; f++) s += u[f]! * v[f]!;
    return s;
  };
  const applyA = (v: Float64Array): Float64Array => {
    const res = new Float64Array(rank);
    for (let i = 0; i < rank; i++) {
      let s = lambda * v[i]!;
      if (yty) for (let j = 0; j < rank; j++) s += yty[i * rank + j]! * v[j]!;
      res[i] = s;
    }
    for (const e of entries) {
      const y = row(e.other);
      const c = weights(e.rating).a * dot(y, v);
      for (let f = 0; f < rank; f++) res[f]! += c * y[f]!;
    }
    return res;
  };
  const x = Float64Array.from(out.subarray(r * rank, (r + 1) * rank));
  const b = new Float64Array(rank);
  for (const e of entries) {
    const y = row(e.other);
    const w = weights(e.rating).b;
    for (let f = 0; f < rank; f++) b[f]! += w * y[f]!;
  }
  const ax = applyA(x);
  const res = b.map((bf, f) => bf - ax[f]!);
  const d = Float64Array.from(res);
  let rs = dot(res, res);
  for (let it = 0; it < o.cgSteps && rs > 1e-20; it++) {
    const ad = applyA(d);
    const dad = dot(d, ad);
    if (!(dad > 0)) break;
    const step = rs / dad;
    for (let f = 0; f < rank; f++) {
      x[f]! += step * d[f]!;
      res[f]! -= step * ad[f]!;
    }
    const rsNew = dot(res, res);
    for (let f = 0; f < rank; f++) d[f] = res[f]! + (rsNew / rs) * d[f]!;
    rs = rsNew;
  }
  out.set(x, r * rank);
}

/**
 * Fits ALS in this process with the ALS options (blocking and exchange options are ignored; the
 * solver is honoured: exact Cholesky/NNLS, or the same CG steps as the distributed trainer).
 */
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
