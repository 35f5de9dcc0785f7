/**
 * Global feature importance by permutation (Breiman; scikit-learn's `permutation_importance`): a
 * fitted model's metric on held-out rows, then again with one feature's column shuffled across the
 * rows (its link to the target broken, its distribution kept); the importance is the drop, averaged
 * over `repeats` shuffles, with its standard deviation. Measured on validation rows, not training
 * rows, so it says what the model relies on for data it did not see.
 */
import { optionRules } from '../../core/index.js';
import { InvalidTrainingDataError } from '../errors.js';
import { seededRandom } from '../tune/search-space.js';
import type { BatchModel } from './shapley.js';

/** Higher is better (AUC, NDCG, −log-loss): the metric of predictions against the rows' targets. */
export type ScoreMetric = (predictions: ArrayLike<number>, targets: ArrayLike<number>) => number;

export interface PermutationImportanceOptions {
  /** Shuffles per feature. @default 5 */
  repeats?: number;
  /** @default 1 */
  seed?: number;
  /** Feature names (length d), carried into the result. @default f0, f1, … */
  names?: readonly string[];
}

export interface FeatureImportance {
  feature: string;
  /** Mean drop of the metric when the feature is shuffled (positive: the model relies on it). */
  importance: number;
  std: number;
}

export interface PermutationImportance {
  /** The metric on the rows as they are. */
  baseline: number;
  /** One per feature, in feature order. */
  features: FeatureImportance[];
}

/** Permutation importance of every feature of `rows` (n × d, row-major) for `model` under `metric`. */
export function permutationImportance(
  model: BatchModel, rows: Float64Array, n: number, targets: ArrayLike<number>, metric: ScoreMetric, options?: PermutationImportanceOptions,
): PermutationImportance {
  const r = optionRules('permutationImportance');
  const o = r.object(options);
  r.knownKeys(o, ['repeats', 'seed', 'names']);
  const repeats = r.int('repeats', o.repeats, 5, { min: 1, max: 10_000 });
  const seed = r.int('seed', o.seed, 1, { min: 0 });
  if (!Number.isInteger(n) || n < 2) throw new InvalidTrainingDataError(`permutationImportance: needs at least 2 rows (got ${n})`);
  if (rows.length % n !== 0) throw new InvalidTrainingDataError(`permutationImportance: ${rows.length} values are not ${n} rows of equal width`);
  if (targets.length !== n) throw new InvalidTrainingDataError(`permutationImportance: ${targets.length} targets for ${n} rows`);
  const d = rows.length / n;
  const names = o.names ?? Array.from({ length: d }, (_, k) => `f${k}`);
  if (names.length !== d) r.fail('names', `must name the ${d} features`, names.length);
  const baseline = metric(model(rows, n), targets);
  const rand = seededRandom(seed);
  const work = rows.slice();
  const perm = new Int32Array(n);
  const features: FeatureImportance[] = [];
  for (let k = 0; k < d; k++) {
    const drops: number[] = [];
    for (let t = 0; t < repeats; t++) {
      for (let i = 0; i < n; i++) perm[i] = i;
      for (let i = n - 1; i > 0; i--) {
        const j = Math.floor(rand() * (i + 1));
        const s = perm[i]!;
        perm[i] = perm[j]!;
        perm[j] = s;
      }
      for (let i = 0; i < n; i++) work[i * d + k] = rows[perm[i]! * d + k]!;
      drops.push(baseline - metric(model(work, n), targets));
    }
    for (let i = 0; i < n; i++) work[i * d + k] = rows[i * d + k]!;
    const mean = drops.reduce((a, b) => a + b, 0) / repeats;
    features.push({ feature: names[k]!, importance: mean, std: Math.sqrt(drops.reduce((a, b) => a + (b - mean) ** 2, 0) / repeats) });
  }
  return { baseline, features };
}

/** Area under the ROC curve of `scores` for binary `labels` (ties count half): a ScoreMetric. */
export function rocAuc(scores: ArrayLike<number>, labels: ArrayLike<number>): number {
  const idx = Array.from({ length: scores.length }, (_, i) => i).sort((a, b) => scores[a]! - scores[b]!);
  let pos = 0;
  let rankSum = 0;
  for (let i = 0; i < idx.length;) {
    let j = i;
    while (j + 1 < idx.length && scores[idx[j + 1]!] === scores[idx[i]!]) j++;
    const rank = (i + j) / 2 + 1;
    for (let t = i; t <= j; t++) if (labels[idx[t]!]) {
      pos++;
      rankSum += rank;
    }
    i = j + 1;
  }
  const neg = idx.length - pos;
  if (pos === 0 || neg === 0) return NaN;
  return (rankSum - (pos * (pos + 1)) / 2) / (pos * neg);
}
