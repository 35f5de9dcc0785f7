/**
 * `shoal/features`: Spark-MLlib-style featurizers fitted with distributed aggregations on a Dataset,
 * pipelines whose fitted stages run the same kernel on the cluster (`transform`) and in a plain
 * serving process (`transformRow`), leakage-free trailing-window entity aggregates and Feast-style
 * point-in-time joins.
 *
 * @example
 * ```ts
 * import { init, shutdown } from 'shoal';
 * import { fromRows } from 'shoal/data';
 * import { Imputer, OneHotEncoder, Pipeline, StandardScaler, StringIndexer } from 'shoal/features';
 * await init();
 * const listings = fromRows([
 *   { price: 120, room_type: 'Entire home' },
 *   { price: null, room_type: 'Private room' },
 *   { price: 60, room_type: 'Private room' },
 * ]);
 * const model = await new Pipeline([
 *   new Imputer({ inputCols: ['price'], strategy: 'median' }),
 *   new StandardScaler({ inputCols: ['price'], outputCols: ['price_z'] }),
 *   new StringIndexer({ inputCol: 'room_type', handleInvalid: 'keep' }),
 *   new OneHotEncoder({ inputCol: 'room_type_index' }),
 * ]).fit(listings);
 * await model.transform(listings).show();
 * console.log(model.transformRow({ price: 80, room_type: 'Private room' })); // no cluster needed
 * await shutdown();
 * ```
 *
 * @packageDocumentation
 */
export {
  Pipeline, PipelineModel, PIPELINE_FORMAT, PIPELINE_FORMAT_VERSION,
  FeatureModel, isFeatureModel, isFeaturizer, modelFromJSON, registerFeatureModel, registeredFeatureModels, rowsToTable, tableToRows,
} from './features/index.js';
export type { FeatureRow, Featurizer, SavedStage, StageConfig, HandleInvalid } from './features/index.js';
export {
  MinMaxScaler, MinMaxScalerModel, StandardScaler, StandardScalerModel, Imputer, ImputerModel,
  CategoryMapModel, FrequencyEncoder, OneHotEncoder, OneHotEncoderModel, StringIndexer, StringIndexerModel, TargetEncoder,
  Bucketizer, BucketizerModel, QuantileDiscretizer, FeatureHasher, FeatureHasherModel, HashingTF, HashingTFModel, IDF, IDFModel,
  Tokenizer, TokenizerModel, MultiHotEncoder, MultiHotEncoderModel, VectorAssembler, VectorAssemblerModel,
  TIME_FEATURES, TimeFeatures, TimeFeaturesModel, isUsFederalHoliday, usFederalHolidays,
} from './features/index.js';
export type {
  MinMaxScalerOptions, StandardScalerOptions, ImputerOptions, ImputerStrategy, FrequencyEncoderOptions, OneHotEncoderOptions,
  StringIndexerOptions, TargetEncoderOptions, BucketizerOptions, QuantileDiscretizerOptions, FeatureHasherOptions, HashingTFOptions,
  IDFOptions, TokenizerOptions, MultiHotEncoderOptions, VectorAssemblerOptions, TimeFeature, TimeFeaturesOptions,
} from './features/index.js';
export { trailingWindowFeatures, asOfJoin } from './features/index.js';
export type { TrailingWindowOptions, AsOfJoinOptions } from './features/index.js';
export {
  FeatureError, ColumnTypeError, CorruptedPipelineError, EmptyDatasetError, InvalidOptionError, ArtifactExistsError, InvalidValueError, PipelineVersionError,
  UnknownModelClassError,
} from './features/index.js';
export type { FeatureErrorContext, SaveOptions } from './features/index.js';
// The feature store (src/features/feature-store): definitions, registry, historical retrieval, materialization, online lookups.
export {
  FeatureStore, FileFeatureRegistry, InProcessOnlineStore, PlatformFeatureRegistry, SnapshotRegistry, RedisOnlineStore, FEATURE_TYPES, defaultRegistryDir, defineEntity, defineFeatureView, defineOnDemandFeatureView,
  CorruptedRegistryError, EntityKeyTypeError, FeatureSourceError, FeatureTypeChangedError, MaterializationLockedError, OnlineStoreUnavailableError,
  UnknownEntityError, UnknownFeatureError, UnknownFeatureViewError, checkSkew, FRESHNESS_METRIC, registerFreshnessGauge,
} from './features/index.js';
export type {
  AppliedDefinition, Definition, DefinitionSpec, Entity, EntityKeyType, EntityOptions, EntitySpec, FeatureRegistry, FeatureSpec, FeatureStoreOptions, FeatureType,
  FeatureView, FeatureViewOptions, FeatureViewSource, FeatureViewSpec, HistoricalOptions, MaterializeOptions, MaterializeResult, OnDemandFeatureView,
  OnDemandFeatureViewOptions, OnDemandFeatureViewSpec, OnlineOptions, OnlineReadRequest, OnlineRecord, OnlineStore, OnlineStoreDump, OnlineViewInfo, RedisOnlineStoreOptions,
  RegistrySnapshot, SourceSpec, Versioned, SkewMismatch, SkewOptions, SkewReport,
} from './features/index.js';
