/**
 * Sampled Shapley values of one prediction (Štrumbelj & Kononenko's permutation sampling): a
 * black-box model `f` over feature vectors, an input `x` and a baseline `b` (typically the mean
 * input). For each sampled order of the features, the features are switched from `b` to `x` one at
 * a time and each gets the change of `f` it caused; a feature's attribution is its mean change over
 * the orders. Every order's changes add up to f(x) − f(b) (they telescope), so the attributions
 * are additive exactly, whatever the number of orders — only their split between features is an
 * estimate (exact for an additive model, where every order gives the same split). Each order is
 * taken with its reverse (antithetic pairs), which cancels the first-order sampling error.
 *
 * `f` takes a batch (rows of width d, row-major) and returns one value per row, so a model
 * evaluates all the points of a call in one batch: (orders · d + 1) rows.
 */
import { optionRules } from '../../core/index.js';
import { InvalidTrainingDataError } from '../errors.js';
import { seededRandom } from '../tune/search-space.js';

/** A model over a batch of feature rows (`rows` × d values, row-major): one value per row. */
export type BatchModel = (batch: Float64Array, rows: number) => ArrayLike<number>;

export interface ShapleyOptions {
  /** Feature orders sampled (each with its reverse, so the model sees 2·orders walks). @default 32 */
  orders?: number;
  /** Seed of the orders. @default 1 */
  seed?: number;
}

/** The attributions of one prediction: `values[k]` is feature k's; Σ values = value − baselineValue. */
export interface Attribution {
  values: Float64Array;
  /** f(x). */
  value: number;
  /** f(baseline). */
  baselineValue: number;
  /** Model rows evaluated. */
  evaluations: number;
}

function checkVector(name: string, v: ArrayLike<number>, d: number): void {
  if (v.length !== d) throw new InvalidTrainingDataError(`sampledShapley: ${name} has ${v.length} features, the input has ${d}`, name);
  for (let k = 0; k < d; k++) if (!Number.isFinite(v[k]!)) throw new InvalidTrainingDataError(`sampledShapley: ${name}[${k}] is ${v[k]} (features must be finite numbers)`, name, k);
}

/** Sampled Shapley values of `f` at `x` against `baseline` (see the file header). */
export function sampledShapley(f: BatchModel, x: ArrayLike<number>, baseline: ArrayLike<number>, options?: ShapleyOptions): Attribution {
  const r = optionRules('sampledShapley');
  const o = r.object(options);
  r.knownKeys(o, ['orders', 'seed']);
  const orders = r.int('orders', o.orders, 32, { min: 1, max: 100_000 });
  const seed = r.int('seed', o.seed, 1, { min: 0 });
  const d = x.length;
  checkVector('x', x, d);
  checkVector('baseline', baseline, d);
  const walks = 2 * orders;
  // Row 0: the baseline; then each walk's d rows (features switched to x one more at a time).
  const rows = 1 + walks * d;
  const batch = new Float64Array(rows * d);
  for (let k = 0; k < d; k++) batch[k] = baseline[k]!;
  const rand = seededRandom(seed);
  const perms: Int32Array[] = [];
  for (let w = 0; w < orders; w++) {
    const p = Int32Array.from({ length: d }, (_, k) => k);
    for (let k = d - 1; k > 0; k--) {
      const j = Math.floor(rand() * (k + 1));
      const t = p[k]!;
      p[k] = p[j]!;
      p[j] = t;
    }
    perms.push(p, p.slice().reverse());
  }
  perms.forEach((p, w) => {
    const row = new Float64Array(baseline.length);
    for (let k = 0; k < d; k++) row[k] = baseline[k]!;
    for (let s = 0; s < d; s++) {
      row[p[s]!] = x[p[s]!]!;
      batch.set(row, (1 + w * d + s) * d);
    }
  });
  const out = f(batch, rows);
  if (out.length !== rows) throw new InvalidTrainingDataError(`sampledShapley: the model returned ${out.length} values for ${rows} rows`);
  const base = out[0]!;
  const values = new Float64Array(d);
  perms.forEach((p, w) => {
    let prev = base;
    for (let s = 0; s < d; s++) {
      const v = out[1 + w * d + s]!;
      values[p[s]!]! += v - prev;
      prev = v;
    }
  });
  for (let k = 0; k < d; k++) values[k]! /= walks;
  // Every walk ends at x: its last row is f(x).
  return { values, value: out[d]!, baselineValue: base, evaluations: rows };
}

/** Exact Shapley values by enumerating every subset (2^d model rows): the reference the sampler is tested against; d ≤ 16. */
export function exactShapley(f: BatchModel, x: ArrayLike<number>, baseline: ArrayLike<number>): Attribution {
  const d = x.length;
  checkVector('x', x, d);
  checkVector('baseline', baseline, d);
  if (d > 16) throw new InvalidTrainingDataError(`exactShapley: ${d} features need 2^${d} model rows; use sampledShapley beyond 16`);
  const n = 1 << d;
  const batch = new Float64Array(n * d);
  for (let m = 0; m < n; m++) for (let k = 0; k < d; k++) batch[m * d + k] = m & (1 << k) ? x[k]! : baseline[k]!;
  const v = f(batch, n);
  const fact = [1];
  for (let i = 1; i <= d; i++) fact.push(fact[i - 1]! * i);
  const values = new Float64Array(d);
  for (let m = 0; m < n; m++) {
    let size = 0;
    for (let k = 0; k < d; k++) if (m & (1 << k)) size++;
    for (let k = 0; k < d; k++) {
      if (m & (1 << k)) continue;
      const weight = (fact[size]! * fact[d - size - 1]!) / fact[d]!;
      values[k]! += weight * (v[m | (1 << k)]! - v[m]!);
    }
  }
  return { values, value: v[n - 1]!, baselineValue: v[0]!, evaluations: n };
}
