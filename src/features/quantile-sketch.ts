/**
 * Table adapters around the data layer's mergeable quantile sketch (src/data kernels/quantile-sketch.ts,
 * which states the error bound), used by Imputer 'median' and QuantileDiscretizer: per-partition
 * summary rows (column, value, weight) that travel as an Arrow table, and their merge per column.
 * `relativeError` options map to k = ⌈1/relativeError⌉.
 */
import * as arrow from 'apache-arrow';
import { QuantileSummary, sketchK, sketchSorted } from '../data/index.js';
import { readNumbers, vectorOf } from './columns.js';

export { QuantileSummary, sketchK };

/** Per-partition summary rows: (column, value, weight). */
export function sketchPartition(table: arrow.Table, columns: readonly string[], k: number): arrow.Table {
  const names: string[] = [];
  const values: number[] = [];
  const weights: number[] = [];
  for (const c of columns) {
    const { values: v, valid } = readNumbers(vectorOf(table, c));
    const xs: number[] = [];
    for (let i = 0; i < v.length; i++) if (valid[i] === 1 && Number.isFinite(v[i])) xs.push(v[i]!);
    const s = sketchSorted(Float64Array.from(xs).sort(), k);
    for (let j = 0; j < s.values.length; j++) (names.push(c), values.push(s.values[j]!), weights.push(s.weights[j]!));
  }
  return new arrow.Table({
    column: arrow.vectorFromArray(names, new arrow.Utf8()),
    value: arrow.vectorFromArray(values, new arrow.Float64()),
    weight: arrow.vectorFromArray(weights, new arrow.Float64()),
  });
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
