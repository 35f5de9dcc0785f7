/**
 * A mergeable quantile summary (used by Imputer 'median' and QuantileDiscretizer).
 *
 * Each partition sorts its non-null finite values and keeps at most `k` of them: all values when it
 * has at most `k`, otherwise the values at ranks ⌊(j + ½)·n/k⌋ (j = 0..k-1), each weighted n/k.
 * Every kept value stands for a block of ≤ ⌈n/k⌉ consecutive ranks, so a partition's summary answers
 * any rank query within n/k ranks; merging summaries (concatenating and sorting weighted values) adds
 * the errors. **Bound: a quantile q is answered with a value whose true rank is within ε·N of q·N,
 * ε = 1/k** (N = non-null values across all partitions; exact when every partition has ≤ k values).
 * `relativeError` options map to k = ⌈1/relativeError⌉.
 */
import * as arrow from 'apache-arrow';
import { readNumbers, vectorOf } from './columns.js';

/** Per-partition summary rows: (column, value, weight). */
export function sketchPartition(table: arrow.Table, columns: readonly string[], k: number): arrow.Table {
  const names: string[] = [];
  const values: number[] = [];
  const weights: number[] = [];
  for (const c of columns) {
    const { values: v, valid } = readNumbers(vectorOf(table, c));
    const xs: number[] = [];
    for (let i = 0; i < v.length; i++) if (valid[i] === 1 && Number.isFinite(v[i])) xs.push(v[i]!);
    const sorted = Float64Array.from(xs).sort();
    const n = sorted.length;
    if (n <= k) {
      for (const x of sorted) (names.push(c), values.push(x), weights.push(1));
    } else {
      for (let j = 0; j < k; j++) {
        names.push(c);
        values.push(sorted[Math.floor(((j + 0.5) * n) / k)]!);
        weights.push(n / k);
      }
    }
  }
  return new arrow.Table({
    column: arrow.vectorFromArray(names, new arrow.Utf8()),
    value: arrow.vectorFromArray(values, new arrow.Float64()),
    weight: arrow.vectorFromArray(weights, new arrow.Float64()),
  });
}

/** A merged summary of one column. */
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

/** Merges collected summary rows into one summary per column. */
export function mergeSketches(rows: arrow.Table, columns: readonly string[]): Map<string, QuantileSummary> {
  const byCol = new Map<string, [number, number][]>(columns.map((c) => [c, []]));
  const cs = rows.getChild('column');
  const vs = rows.getChild('value');
  const ws = rows.getChild('weight');
  for (let i = 0; i < rows.numRows; i++) byCol.get(String(cs?.get(i)))?.push([Number(vs?.get(i)), Number(ws?.get(i))]);
  return new Map([...byCol].map(([c, pairs]) => [c, new QuantileSummary(pairs)]));
}

/** k for a relative rank error. */
export function sketchK(relativeError: number): number {
  return Math.max(1, Math.ceil(1 / relativeError));
}
