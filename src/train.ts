/**
 * `shoal/train`: distributed training on the core runtime — block ALS with Spark MLlib's parameters
 * (explicit and implicit feedback, cold start, top-k recommendations, save/load), hyperparameter
 * search (`tune`: grid and random search, FIFO or ASHA scheduling), data-parallel TensorFlow.js
 * (`Trainer`) and a two-tower neural recommender trained with it (`NeuralRecommender`).
 *
 * TensorFlow.js is an optional peer dependency, loaded only when `Trainer`, `trainLocal` or
 * `NeuralRecommender` starts: ALS and `tune` never need it. Without `@tensorflow/tfjs` and
 * `@tensorflow/tfjs-backend-wasm` installed, those fail at once with a `TfjsNotInstalledError`
 * naming the packages to install.
 *
 * @example
 * ```ts
 * import { init, shutdown } from 'shoal';
 * import { ALS } from 'shoal/train';
 * await init();
 * const ratings = [
 *   { user: 1, item: 10, rating: 4 }, { user: 1, item: 11, rating: 1 },
 *   { user: 2, item: 10, rating: 5 }, { user: 2, item: 12, rating: 3 },
 * ];
 * const model = await new ALS({ rank: 4, maxIter: 5, implicitPrefs: true }).fit(ratings);
 * console.log((await model.recommendForAllUsers(2)).toArray());
 * await shutdown();
 * ```
 *
 * @packageDocumentation
 */
export { ALS, ALSModel, referenceALS, ALS_MODEL_FORMAT, ALS_MODEL_VERSION } from './train/index.js';
export type {
  ALSOptions, ALSFitStats, ALSModelParams, FactorMatrix, SaveOptions, ColdStartStrategy, FactorExchange, ALSSolver, RatingsInput, ArrowConvertible,
  ReferenceALSResult, RecommendOptions,
} from './train/index.js';
export { FoldInSolver, foldInParams } from './train/index.js';
export type { FoldInOptions, FoldInParams, FoldInResult, FoldInSolve } from './train/index.js';
export { tune, grid, choice, uniform, loguniform, randint, AshaScheduler, FifoScheduler } from './train/index.js';
export type {
  Trainable, StepTrainable, TrialMetrics, TrialResult, TuneResult, TuneOptions, Domain, SearchSpace, TrialConfig, TrialScheduler,
  TrialDecision, AshaParams,
} from './train/index.js';
export { Trainer, trainLocal } from './train/index.js';
export type {
  TrainerResult, TrainerOptions, AllreduceAlgorithm, AllreduceTransport, ModelBuilder, ModelJSON, LossName, OptimizerConfig, TrainingData,
  EpochEvent,
} from './train/index.js';
export { NeuralRecommender, NeuralRecommenderModel, buildTwoTowerModel, NEURAL_RECOMMENDER_FORMAT, NEURAL_RECOMMENDER_VERSION } from './train/index.js';
export type {
  NeuralRecommenderOptions, NeuralRecommenderFitStats, NeuralRecommenderParams, TwoTowerBuilder, TwoTowerSpec,
} from './train/index.js';
export {
  TrainError, InvalidOptionError, ArtifactExistsError, InvalidTrainingDataError, InvalidIdError, NumericalError, ModelFormatError, ModelVersionError,
  TuneError, ModelBuildError, TrainingFailedError, MissingItemFeaturesError, TfjsNotInstalledError,
} from './train/index.js';
export { AlsExplainer, sampledShapley, exactShapley, permutationImportance, rocAuc } from './train/index.js';
export type {
  HistoryContribution, ItemExplanation, BatchModel, ShapleyOptions, Attribution, ScoreMetric, PermutationImportanceOptions, PermutationImportance, FeatureImportance,
} from './train/index.js';
