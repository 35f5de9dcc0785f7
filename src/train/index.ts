/**
 * shoal train layer: distributed training on the core runtime. So far: block ALS with Spark MLlib
 * parity (explicit and implicit feedback, NNLS, cold start, top-k recommendations, save/load);
 * hyperparameter search (`tune`: grid/random search, FIFO/ASHA scheduling); data-parallel
 * TensorFlow.js training (`Trainer`: placement-group gang scheduling, ring allreduce among workers,
 * checkpoints and restart after a worker is lost); a two-tower neural recommender over item features
 * trained with it (`NeuralRecommender`: cold-start items scored by their features).
 *
 * @example
 * ```ts
 * import { init, shutdown } from 'shoal';
 * import { ALS } from 'shoal/train';
 * await init();
 * const model = await new ALS({ rank: 10, implicitPrefs: true }).fit([{ user: 1, item: 7, rating: 3 }, ...]);
 * console.log((await model.recommendForAllUsers(5)).toArray());
 * await shutdown();
 * ```
 */
export {
  TrainError, InvalidOptionError, ArtifactExistsError, InvalidTrainingDataError, InvalidIdError, NumericalError, ModelFormatError, ModelVersionError,
  TuneError, ModelBuildError, TrainingFailedError, MissingItemFeaturesError, TfjsNotInstalledError,
} from './errors.js';
export { ALS } from './als/als.js';
export type { ALSFitStats } from './als/als.js';
export { ALSModel } from './als/als-model.js';
export type { ALSModelParams, FactorMatrix, RecommendOptions } from './als/als-model.js';
export { FoldInSolver, foldInParams } from './als/fold-in.js';
export { AlsExplainer } from './als/als-explain.js';
export type { HistoryContribution, ItemExplanation } from './als/als-explain.js';
export { sampledShapley, exactShapley, permutationImportance, rocAuc } from './explain/index.js';
export type { BatchModel, ShapleyOptions, Attribution, ScoreMetric, PermutationImportanceOptions, PermutationImportance, FeatureImportance } from './explain/index.js';
export type { FoldInOptions, FoldInParams, FoldInResult, FoldInSolve } from './als/fold-in.js';
export type { SaveOptions } from '../store/index.js';
export { compileALSOptions } from './als/als-options.js';
export type { ALSOptions, CompiledALSOptions, ColdStartStrategy, FactorExchange, ALSSolver } from './als/als-options.js';
export type { RatingsInput, ArrowConvertible } from './als/als-data.js';
export { referenceALS } from './als/reference-als.js';
export type { ReferenceALSResult } from './als/reference-als.js';
export { ALS_MODEL_FORMAT, ALS_MODEL_VERSION } from './als/als-model-io.js';
export { tune, compileTuneOptions, grid, choice, uniform, loguniform, randint, generateConfigs, AshaScheduler, FifoScheduler } from './tune/index.js';
export type {
  Trainable, StepTrainable, TrialMetrics, TrialResult, TuneResult, TuneOptions, CompiledTuneOptions, Domain, SearchSpace, TrialConfig,
  TrialScheduler, TrialDecision, AshaParams,
} from './tune/index.js';
export { Trainer, trainLocal, ringAllreduceMean, butterflyAllreduceMean, Mailbox } from './tfjs/index.js';
export type {
  TrainerResult, TrainerOptions, CompiledTrainerOptions, AllreduceAlgorithm, AllreduceTransport, ModelBuilder, ModelJSON, LossName, OptimizerConfig, TrainingData, EpochEvent,
  ReplicaState, RingTransport,
} from './tfjs/index.js';
export {
  NeuralRecommender, NeuralRecommenderModel, compileNeuralRecommenderOptions, buildTwoTowerModel,
  NEURAL_RECOMMENDER_FORMAT, NEURAL_RECOMMENDER_VERSION,
} from './recommender/index.js';
export type {
  NeuralRecommenderFitStats, NeuralRecommenderParams, TowerWeights, NeuralRecommenderOptions, CompiledNeuralRecommenderOptions, TwoTowerBuilder, TwoTowerSpec,
} from './recommender/index.js';
