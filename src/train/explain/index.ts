/** Model-agnostic explanations: sampled Shapley values of one prediction, permutation importance over held-out rows. */
export { sampledShapley, exactShapley } from './shapley.js';
export type { BatchModel, ShapleyOptions, Attribution } from './shapley.js';
export { permutationImportance, rocAuc } from './permutation-importance.js';
export type { ScoreMetric, PermutationImportanceOptions, PermutationImportance, FeatureImportance } from './permutation-importance.js';
