import { describe, expect, it } from 'vitest';
import { exactShapley, permutationImportance, rocAuc, sampledShapley, type BatchModel } from '../../../src/train/index.js';
import { InvalidOptionError, InvalidTrainingDataError } from '../../../src/train/errors.js';

/** A small nonlinear model: tanh of a weighted sum, plus an interaction of features 0 and 2. */
const mlp: BatchModel = (batch, rows) => {
  const d = batch.length / rows;
  const out = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    const x = batch.subarray(r * d, (r + 1) * d);
    let s = 0.3;
    for (let k = 0; k < d; k++) s += (k + 1) * 0.2 * x[k]!;
    out[r] = Math.tanh(s) + 1.5 * x[0]! * x[2]! - 0.5 * x[1]! ** 2;
  }
  return out;
};

describe('sampledShapley', () => {
  const x = [0.9, -1.2, 0.4, 2.0, -0.3];
  const b = [0, 0.1, 0, 0.5, 0];

  it('is additive: the attributions sum to f(x) − f(baseline), whatever the number of orders', () => {
    for (const orders of [1, 3, 50]) {
      const a = sampledShapley(mlp, x, b, { orders, seed: 7 });
      const fx = mlp(Float64Array.from(x), 1)[0]!;
      const fb = mlp(Float64Array.from(b), 1)[0]!;
      expect(a.value).toBeCloseTo(fx, 12);
      expect(a.baselineValue).toBeCloseTo(fb, 12);
      expect(a.values.reduce((s, v) => s + v, 0)).toBeCloseTo(fx - fb, 12);
      expect(a.evaluations).toBe(1 + 2 * orders * x.length);
    }
  });

  it('approaches the exact Shapley values (enumeration of all subsets) as orders grow', () => {
    const exact = exactShapley(mlp, x, b);
    const sampled = sampledShapley(mlp, x, b, { orders: 2000, seed: 3 });
    for (let k = 0; k < x.length; k++) expect(Math.abs(sampled.values[k]! - exact.values[k]!)).toBeLessThan(0.02);
    expect(exact.values.reduce((s, v) => s + v, 0)).toBeCloseTo(exact.value - exact.baselineValue, 12);
  });

  it('gives an additive model its exact terms with a single order: w_k·(x_k − b_k)', () => {
    const w = [2, -1, 0.5];
    const lin: BatchModel = (batch, rows) => Float64Array.from({ length: rows }, (_, r) => w.reduce((s, wk, k) => s + wk * batch[r * 3 + k]!, 1));
    const a = sampledShapley(lin, [1, 2, 3], [0, 1, 1], { orders: 1 });
    expect(Array.from(a.values)).toEqual([2, -1, 1]);
  });

  it('refuses inputs of different widths, non-finite features and unknown options', () => {
    expect(() => sampledShapley(mlp, [1, 2], [1])).toThrow(InvalidTrainingDataError);
    expect(() => sampledShapley(mlp, [1, NaN], [1, 1])).toThrow(/x\[1\] is NaN/);
    expect(() => sampledShapley(mlp, [1], [1], { orders: 0 })).toThrow(InvalidOptionError);
    expect(() => sampledShapley(mlp, [1], [1], { ordres: 3 } as never)).toThrow(/'ordres' is not an option of sampledShapley/);
  });
});

describe('permutationImportance', () => {
  it('finds the feature the model relies on, and none in a feature it ignores', () => {
    const n = 400;
    const rows = new Float64Array(n * 3);
    const y = new Uint8Array(n);
    let s = 5;
    const rand = (): number => ((s = (s * 16807) % 2147483647) / 2147483647);
    for (let i = 0; i < n; i++) {
      rows[i * 3] = rand();
      rows[i * 3 + 1] = rand();
      rows[i * 3 + 2] = rand();
      y[i] = rows[i * 3]! + 0.2 * rand() > 0.6 ? 1 : 0;
    }
    const model: BatchModel = (batch, m) => Float64Array.from({ length: m }, (_, r) => 3 * batch[r * 3]! + 0.1 * batch[r * 3 + 1]!);
    const p = permutationImportance(model, rows, n, y, rocAuc, { repeats: 5, names: ['signal', 'weak', 'unused'] });
    expect(p.baseline).toBeGreaterThan(0.9);
    expect(p.features.map((f) => f.feature)).toEqual(['signal', 'weak', 'unused']);
    expect(p.features[0]!.importance).toBeGreaterThan(0.3);
    expect(p.features[2]!.importance).toBe(0);
    expect(p.features[2]!.std).toBe(0);
  });

  it('rocAuc: hand-computed, ties count half', () => {
    expect(rocAuc([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1])).toBeCloseTo(0.75, 12);
    expect(rocAuc([1, 1, 1, 1], [0, 1, 0, 1])).toBeCloseTo(0.5, 12);
  });

  it('refuses targets that do not match the rows', () => {
    expect(() => permutationImportance(() => [0, 0], new Float64Array(4), 2, [1], rocAuc)).toThrow(/1 targets for 2 rows/);
  });
});
