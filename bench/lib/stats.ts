/** Small statistics helpers. All take unsorted samples and do not modify them. */

export function sorted(xs: readonly number[]): number[] {
  return [...xs].sort((a, b) => a - b);
}

/** Percentile by linear interpolation between closest ranks; p in [0, 100]. */
export function percentile(xs: readonly number[], p: number): number {
  if (xs.length === 0) return NaN;
  const s = sorted(xs);
  const rank = (p / 100) * (s.length - 1);
  const lo = Math.floor(rank);
  const hi = Math.ceil(rank);
  return s[lo]! + (s[hi]! - s[lo]!) * (rank - lo);
}

export const median = (xs: readonly number[]): number => percentile(xs, 50);
export const min = (xs: readonly number[]): number => (xs.length ? Math.min(...xs) : NaN);
export const max = (xs: readonly number[]): number => (xs.length ? Math.max(...xs) : NaN);
export const mean = (xs: readonly number[]): number => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN);

/**
 * What `total` takes beyond `base` (a round trip with a big argument over the same with a small one).
 * Both are noisy: a difference within noise can come out negative, which no duration can be, so it
 * counts as 0 ("not measurable above the base").
 */
export const excess = (total: number, base: number): number => Math.max(0, total - base);
