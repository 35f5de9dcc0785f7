/**
 * A mergeable quantile sketch: the data layer's `approxQuantile` aggregate, and the summaries behind
 * the features layer's Imputer 'median' and QuantileDiscretizer.
 *
 * A partition sorts its values and keeps at most `k`: all of them when it has at most `k`, otherwise
 * the values at ranks ⌊(j + ½)·n/k⌋ (j = 0..k-1), each weighted n/k. For any value v the kept weights
 * at or below v differ from the true count of values ≤ v by at most n/(2k). Merging concatenates the
 * weighted values without compressing again, so the count errors of P partitions add up to at most
 * N/(2k). **Bound: a quantile q is answered with a value whose rank (1-based, among the N non-null
 * values) is within ε·N + 1 of q·N, ε = 1/k = relativeError** (the +1 covers rank rounding; exact when
 * every partition has ≤ k values, or relativeError = 0). The merged state of one group holds at most
 * P·k values.
 */
import { type Column, columnFromValues } from '../types/column.js';

/** k for a relative rank error (relativeError = 0 → exact: every value kept). */
export function sketchK(relativeError: number): number {
  return Math.max(1, Math.ceil(1 / relativeError));
}

/** Sketch of one sorted run of values: at most `k` (value, weight) pairs. */
export function sketchSorted(sorted: Float64Array, k: number): { values: number[]; weights: number[] } {
  const n = sorted.length;
  if (n <= k) return { values: Array.from(sorted), weights: new Array<number>(n).fill(1) };
  const values: number[] = [];
  const weights: number[] = [];
  for (let j = 0; j < k; j++) {
    values.push(sorted[Math.floor(((j + 0.5) * n) / k)]!);
    weights.push(n / k);
  }
  return { values, weights };
}

/** A merged summary: weighted values, answering rank queries. */
export class QuantileSummary {
  private readonly values: Float64Array;
  private readonly cumulative: Float64Array;
  readonly count: number;

  constructor(pairs: readonly (readonly [number, number])[]) {
    const sorted = [...pairs].sort((a, b) => a[0] - b[0]);
    this.values = Float64Array.from(sorted, (p) => p[0]);
    this.cumulative = new Float64Array(sorted.length);
    let acc = 0;
    sorted.forEach((p, i) => (this.cumulative[i] = acc += p[1]));
    this.count = acc;
  }

  /** The value at quantile `q` ∈ [0, 1] (NaN when the summary is empty). */
  quantile(q: number): number {
    const n = this.values.length;
    if (n === 0) return NaN;
    const target = Math.max(0, Math.min(1, q)) * this.count;
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.cumulative[mid]! >= target) hi = mid;
      else lo = mid + 1;
    }
    return this.values[lo]!;
  }
}

/** Per-group state of the approxQuantile aggregate: list<float64> of kept values and of their weights. */
export interface QuantileState {
  readonly values: Column;
  readonly weights: Column;
}

/** Partial aggregation: sketches the non-null, non-NaN values of a numeric column per group. */
export function quantileStatePartial(c: Column, groupOf: Int32Array, numGroups: number, k: number): QuantileState {
  const per: number[][] = Array.from({ length: numGroups }, () => []);
  if (c.type !== 'null') {
    const vals = c.values as Float64Array | Int32Array;
    for (let i = 0; i < c.length; i++) {
      if (c.valid !== null && c.valid[i] !== 1) continue;
      const x = vals[i]!;
      if (!Number.isNaN(x)) per[groupOf[i]!]!.push(x);
    }
  }
  const values: number[][] = [];
  const weights: number[][] = [];
  for (const xs of per) {
    const s = sketchSorted(Float64Array.from(xs).sort(), k);
    values.push(s.values);
    weights.push(s.weights);
  }
  return { values: columnFromValues({ list: 'float64' }, values), weights: columnFromValues({ list: 'float64' }, weights) };
}

/** Merge: concatenates the states of each group (no recompression, so errors stay within the bound). */
export function quantileStateMerge(state: QuantileState, groupOf: Int32Array, numGroups: number): QuantileState {
  const values: number[][] = Array.from({ length: numGroups }, () => []);
  const weights: number[][] = Array.from({ length: numGroups }, () => []);
  const vs = state.values.values as (number[] | null)[];
  const ws = state.weights.values as (number[] | null)[];
  for (let i = 0; i < state.values.length; i++) {
    const g = groupOf[i]!;
    for (const v of vs[i] ?? []) values[g]!.push(v);
    for (const w of ws[i] ?? []) weights[g]!.push(w);
  }
  return { values: columnFromValues({ list: 'float64' }, values), weights: columnFromValues({ list: 'float64' }, weights) };
}

/** Final: the quantile(s) of each group's summary: float64 for one probability, list<float64> for several; null for a group without values. */
export function quantileStateFinal(state: QuantileState, probabilities: number | readonly number[]): Column {
  const vs = state.values.values as (number[] | null)[];
  const ws = state.weights.values as (number[] | null)[];
  const out: unknown[] = [];
  for (let i = 0; i < state.values.length; i++) {
    const v = vs[i] ?? [];
    if (v.length === 0) {
      out.push(null);
      continue;
    }
    const w = ws[i] ?? [];
    const summary = new QuantileSummary(v.map((x, j) => [x, w[j]!] as const));
    out.push(typeof probabilities === 'number' ? summary.quantile(probabilities) : probabilities.map((p) => summary.quantile(p)));
  }
  return columnFromValues(typeof probabilities === 'number' ? 'float64' : { list: 'float64' }, out);
}
