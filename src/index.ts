/**
 * shoal — a distributed compute framework for TypeScript: tasks, actors and objects on a cluster of
 * processes over gRPC, and the ML platform built on it.
 *
 * @example
 * ```ts
 * // square.ts
 * import { remote } from 'shoal';
 * export const square = remote(function square(x: number) { return x * x; });
 *
 * // main.ts
 * import { init, get, shutdown } from 'shoal';
 * import { square } from './square.js';
 * await init();                                   // starts a local cluster
 * console.log(await get([1, 2, 3].map((x) => square.remote(x)))); // [1, 4, 9]
 * await shutdown();
 * ```
 *
 * @packageDocumentation
 */
export {
  init, shutdown, isInitialized, isMain, remote, actor, get, wait, put, cancel, free, getActor, kill,
  placementGroup, inPlacementGroup, clusterStatus, ObjectRef, serialize, deserialize,
  ShoalError, TaskError, OutOfMemoryError, WorkerDiedError, ActorDiedError, ActorNotFoundError,
  ActorMethodNotFoundError, ObjectFreedError, ObjectLostError, GetTimeoutError, TaskCancelledError,
  SerializationError, RemoteDefinitionError, BundleBuildError, ConnectionError, AuthenticationError,
  InvalidOptionsError, NotInitializedError, VersionMismatchError, InfeasibleError, startLocalCluster, SHOAL_VERSION,
} from './core/index.js';
export type {
  InitOptions, ClusterInfo, RemoteFunction, RemoteArgs, ActorHandle, ActorClass, GetOptions, WaitOptions,
  PlacementGroup, PlacementGroupOptions, NodeStatus, TaskOptions, ActorOptions, SchedulingStrategyOption,
  LocalCluster, LocalClusterOptions, TlsOptions, Resources,
} from './core/index.js';

// ---- data layer (src/data) ----
export {
  col, lit, when, Expr, DataError, UnknownColumnError, ExpressionTypeError, SchemaMismatchError, MalformedRecordError,
  agg, coalesce, Dataset, GroupedDataset, fromArrow, fromRows, range, readCsv, readJson, readParquet, readPostgres,
  InvalidOptionError as DataInvalidOptionError, InvalidPlanError, ParquetError, PostgresError, SourceNotFoundError, SourceSchemaMismatchError,
  InvalidWindowError, window, Window, WindowSpec, WindowFunction, WindowColumn, rowNumber, rank, denseRank, lag, lead, sum, mean, avg, min, max, count,
  unboundedPreceding, unboundedFollowing, currentRow,
} from './data/index.js';
export type {
  AggSpec, BatchFunction, ExecutionOptions, ExecutionReport, IterBatchesOptions, JoinOn, JoinType, ReadCsvOptions, ReadJsonOptions,
  ReadParquetOptions, ReadPostgresOptions, SortKey, WriteFilesOptions, WritePostgresOptions, WriteResult,
  Duration, FrameBound, FrameExclusion, WindowSpecData,
} from './data/index.js';

// ---- train layer (src/train) ----
export {
  ALS, ALSModel, referenceALS, compileALSOptions, ALS_MODEL_FORMAT, ALS_MODEL_VERSION,
  TrainError, InvalidTrainOptionError, InvalidTrainingDataError, InvalidIdError, NumericalError, ModelFormatError, ModelVersionError,
  TuneError, ModelBuildError, TrainingFailedError, tune, grid, choice, uniform, loguniform, randint, Trainer, trainLocal, ringAllreduceMean, butterflyAllreduceMean, Mailbox,
  MissingItemFeaturesError, NeuralRecommender, NeuralRecommenderModel, buildTwoTowerModel, NEURAL_RECOMMENDER_FORMAT, NEURAL_RECOMMENDER_VERSION,
} from './train/index.js';
export type {
  ALSOptions, CompiledALSOptions, ALSFitStats, ALSModelParams, FactorMatrix, ColdStartStrategy, FactorExchange, ALSSolver, RatingsInput,
  ArrowConvertible, ReferenceALSResult, Trainable, StepTrainable, TrialMetrics, TrialResult, TuneResult, TuneOptions, SearchSpace, TrialConfig,
  TrainerResult, TrainerOptions, ModelBuilder, ModelJSON, LossName, OptimizerConfig, TrainingData, EpochEvent, ReplicaState, RingTransport, AllreduceAlgorithm, AllreduceTransport,
  RecommendOptions, NeuralRecommenderOptions, NeuralRecommenderFitStats, NeuralRecommenderParams, TwoTowerBuilder, TwoTowerSpec,
} from './train/index.js';

// ---- features layer (src/features) ----
export {
  ColumnTypeError, CorruptedPipelineError, EmptyDatasetError, FeatureError, FeatureOptionError, InvalidValueError, PipelineVersionError, UnknownModelClassError,
  FeatureModel, isFeatureModel, isFeaturizer, modelFromJSON, registerFeatureModel, registeredFeatureModels, rowsToTable, tableToRows,
  MinMaxScaler, MinMaxScalerModel, StandardScaler, StandardScalerModel, Imputer, ImputerModel,
  CategoryMapModel, FrequencyEncoder, OneHotEncoder, OneHotEncoderModel, StringIndexer, StringIndexerModel, TargetEncoder,
  Bucketizer, BucketizerModel, QuantileDiscretizer, QuantileSummary, sketchK,
  FeatureHasher, FeatureHasherModel, HashingTF, HashingTFModel, IDF, IDFModel, Tokenizer, TokenizerModel,
  MultiHotEncoder, MultiHotEncoderModel, VectorAssembler, VectorAssemblerModel, TIME_FEATURES, TimeFeatures, TimeFeaturesModel, isUsFederalHoliday, usFederalHolidays,
  trailingWindowFeatures, trailingWindowKernel, asOfJoin, asOfKernel, PIPELINE_FORMAT, PIPELINE_FORMAT_VERSION, Pipeline, PipelineModel,
} from './features/index.js';
export type {
  FeatureErrorContext, FeatureRow, Featurizer, SavedStage, StageConfig, HandleInvalid, MinMaxScalerOptions, StandardScalerOptions, ImputerOptions,
  ImputerStrategy, FrequencyEncoderOptions, OneHotEncoderOptions, StringIndexerOptions, TargetEncoderOptions, BucketizerOptions,
  QuantileDiscretizerOptions, FeatureHasherOptions, HashingTFOptions, IDFOptions, TokenizerOptions, VectorAssemblerOptions, TimeFeature,
  TimeFeaturesOptions, TrailingWindowOptions, AsOfJoinOptions, MultiHotEncoderOptions,
} from './features/index.js';
