/**
 * Confidence intervals by the bootstrap over users (the unit the metrics average over): every
 * metric with a 95% percentile interval, and paired comparisons — the same resampled users for both
 * candidates — giving the difference, the ratio of means and a two-sided p-value. Seeded: the
 * report is the same on every run.
 */

/** A mean with its 95% bootstrap interval. */
export interface Interval {
  mean: number;
  lo: number;
  hi: number;
}

/** A paired comparison of candidate `a` against `b` on the same users. */
export interface Paired {
  a: string;
  b: string;
  /** mean(a) − mean(b), with its interval. */
  diff: Interval;
  /** mean(a) / mean(b), with its interval (NaN when mean(b) is 0). */
  ratio: Interval;
  /** Two-sided bootstrap p-value of diff = 0. */
  p: number;
  users: number;
}

export const BOOTSTRAP_SAMPLES = 1000;

/** mulberry32: a small seeded generator (the resamples are the same on every run). */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `samples` resamples of n indices (with replacement), as counts per index: one array per resample. */
export function resampleCounts(n: number, samples = BOOTSTRAP_SAMPLES, seed = 7): Uint16Array[] {
  const r = rng(seed);
  const out: Uint16Array[] = [];
  for (let b = 0; b < samples; b++) {
    const c = new Uint16Array(n);
    for (let k = 0; k < n; k++) c[Math.floor(r() * n)]!++;
    out.push(c);
  }
  return out;
}

const quantile = (sorted: Float64Array, q: number): number => {
  if (sorted.length === 0) return NaN;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
};

const mean = (v: ArrayLike<number>): number => {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i]!;
  return v.length ? s / v.length : NaN;
};

const weightedMean = (v: ArrayLike<number>, c: Uint16Array): number => {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i]! * c[i]!;
  return v.length ? s / v.length : NaN;
};

function interval(point: number, draws: Float64Array): Interval {
  const sorted = Float64Array.from(draws.filter((d) => Number.isFinite(d))).sort();
  return { mean: point, lo: quantile(sorted, 0.025), hi: quantile(sorted, 0.975) };
}

/** The mean of per-user values with its 95% bootstrap interval. */
export function bootstrapMean(v: ArrayLike<number>, resamples: Uint16Array[] = resampleCounts(v.length)): Interval {
  return interval(mean(v), Float64Array.from(resamples, (c) => weightedMean(v, c)));
}

/** Paired bootstrap of `a` against `b` (per-user values of the same users, in the same order). */
export function pairedBootstrap(aName: string, a: ArrayLike<number>, bName: string, b: ArrayLike<number>, resamples: Uint16Array[] = resampleCounts(a.length)): Paired {
  if (a.length !== b.length) throw new RangeError(`paired bootstrap needs the same users (${a.length} vs ${b.length} values)`);
  const diffs = new Float64Array(resamples.length);
  const ratios = new Float64Array(resamples.length);
  let le = 0;
  let ge = 0;
  resamples.forEach((c, k) => {
    const ma = weightedMean(a, c);
    const mb = weightedMean(b, c);
    diffs[k] = ma - mb;
    ratios[k] = mb > 0 ? ma / mb : NaN;
    if (diffs[k]! <= 0) le++;
    if (diffs[k]! >= 0) ge++;
  });
  const ma = mean(a);
  const mb = mean(b);
  const n = Math.max(1, resamples.length);
  return {
    a: aName, b: bName, diff: interval(ma - mb, diffs), ratio: interval(mb > 0 ? ma / mb : NaN, ratios),
    p: Math.min(1, 2 * Math.min(le, ge) / n), users: a.length,
  };
}
