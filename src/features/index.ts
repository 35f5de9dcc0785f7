/**
 * shoal features layer: Spark-MLlib-style featurizers fitted with distributed aggregations on a
 * Dataset, pipelines whose fitted stages run identically on the cluster (`transform`) and in a plain
 * serving process (`transformBatch`/`transformRow`), leakage-free trailing-window entity aggregates,
 * and Feast-style point-in-time joins.
 *
 * @example
 * ```ts
 * import { init } from 'shoal';
 * import { readCsv } from 'shoal/data';
 * import { Pipeline, Imputer, StandardScaler, StringIndexer, OneHotEncoder, PipelineModel } from 'shoal/features';
 * await init();
 * const ds = readCsv('listings.csv');
 * const model = await new Pipeline([
 *   new Imputer({ inputCols: ['price'], strategy: 'median' }),
 *   new StandardScaler({ inputCols: ['price'], outputCols: ['price_z'] }),
 *   new StringIndexer({ inputCol: 'room_type', handleInvalid: 'keep' }),
 *   new OneHotEncoder({ inputCol: 'room_type_index' }),
 * ]).fit(ds);
 * await model.transform(ds).show();
 * await model.save('models/listing-features');
 * const serving = await PipelineModel.load('models/listing-features');
 * serving.transformRow({ price: 120, room_type: 'Private room' }); // no cluster needed
 * ```
 */
import './all-models.js';

export {
  ColumnTypeError, CorruptedPipelineError, EmptyDatasetError, FeatureError, InvalidOptionError, ArtifactExistsError, InvalidValueError, PipelineVersionError, UnknownModelClassError,
} from './errors.js';
export type { FeatureErrorContext } from './errors.js';
export type { SaveOptions } from '../store/index.js';
export type { FeatureRow, Featurizer, SavedStage, StageConfig } from './featurizer.js';
export { FeatureModel, isFeatureModel, isFeaturizer, modelFromJSON, registerFeatureModel, registeredFeatureModels, rowsToTable, tableToRows } from './featurizer.js';
export type { HandleInvalid } from './options.js';
export type { MinMaxScalerOptions, StandardScalerOptions } from './scalers.js';
export { MinMaxScaler, MinMaxScalerModel, StandardScaler, StandardScalerModel } from './scalers.js';
export type { ImputerOptions, ImputerStrategy } from './imputer.js';
export { Imputer, ImputerModel } from './imputer.js';
export type { FrequencyEncoderOptions, OneHotEncoderOptions, StringIndexerOptions, TargetEncoderOptions } from './categorical.js';
export { CategoryMapModel, FrequencyEncoder, OneHotEncoder, OneHotEncoderModel, StringIndexer, StringIndexerModel, TargetEncoder } from './categorical.js';
export type { BucketizerOptions, QuantileDiscretizerOptions } from './bucketing.js';
export { Bucketizer, BucketizerModel, QuantileDiscretizer } from './bucketing.js';
export { QuantileSummary, sketchK } from './quantile-sketch.js';
export type { FeatureHasherOptions, HashingTFOptions, IDFOptions, TokenizerOptions } from './text.js';
export { FeatureHasher, FeatureHasherModel, HashingTF, HashingTFModel, IDF, IDFModel, Tokenizer, TokenizerModel } from './text.js';
export type { MultiHotEncoderOptions } from './multi-hot.js';
export { MultiHotEncoder, MultiHotEncoderModel } from './multi-hot.js';
export type { VectorAssemblerOptions } from './vector-assembler.js';
export { VectorAssembler, VectorAssemblerModel } from './vector-assembler.js';
export type { TimeFeature, TimeFeaturesOptions } from './time-features.js';
export { TIME_FEATURES, TimeFeatures, TimeFeaturesModel } from './time-features.js';
export { isUsFederalHoliday, usFederalHolidays } from './holidays.js';
export type { TrailingWindowOptions } from './trailing-windows.js';
export { trailingWindowFeatures, trailingWindowKernel } from './trailing-windows.js';
export type { AsOfJoinOptions } from './as-of-join.js';
export { asOfJoin, asOfKernel } from './as-of-join.js';
export { PIPELINE_FORMAT, PIPELINE_FORMAT_VERSION, Pipeline, PipelineModel } from './pipeline.js';
export type {
  AppliedDefinition, Definition, DefinitionSpec, Entity, EntityKeyType, EntityOptions, EntitySpec, FeatureRegistry, FeatureSpec, FeatureStoreOptions, FeatureType,
  FeatureView, FeatureViewOptions, FeatureViewSource, FeatureViewSpec, HistoricalOptions, MaterializeOptions, MaterializeResult, OnDemandFeatureView,
  OnDemandFeatureViewOptions, OnDemandFeatureViewSpec, OnlineOptions, OnlineReadRequest, OnlineRecord, OnlineStore, OnlineStoreDump, OnlineViewInfo, RedisOnlineStoreOptions,
  RegistrySnapshot, SourceSpec, Versioned, SkewMismatch, SkewOptions, SkewReport,
} from './feature-store/index.js';
export {
  CorruptedRegistryError, EntityKeyTypeError, FEATURE_TYPES, FeatureSourceError, FeatureStore, FeatureTypeChangedError, FileFeatureRegistry, InProcessOnlineStore, PlatformFeatureRegistry, SnapshotRegistry,
  MaterializationLockedError, OnlineStoreUnavailableError, RedisOnlineStore, UnknownEntityError, UnknownFeatureError, UnknownFeatureViewError,
  defaultRegistryDir, defineEntity, defineFeatureView, defineOnDemandFeatureView, checkSkew, FRESHNESS_METRIC, registerFreshnessGauge,
} from './feature-store/index.js';
