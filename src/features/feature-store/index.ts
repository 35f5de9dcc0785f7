/**
 * The feature store (Feast's model on shoal): entities, feature views and on-demand feature views in
 * a versioned registry; point-in-time-correct training sets (`getHistoricalFeatures`); materialization
 * of the latest values into an online store (in-process by default, Redis in production); online
 * lookups for serving (`getOnlineFeatures`) through the same fitted kernels as training.
 */
export type { Definition, Entity, EntityKeyType, EntityOptions, FeatureSpec, FeatureType, FeatureView, FeatureViewOptions, FeatureViewSource, OnDemandFeatureView, OnDemandFeatureViewOptions } from './definitions.js';
export { FEATURE_TYPES, defineEntity, defineFeatureView, defineOnDemandFeatureView } from './definitions.js';
export {
  CorruptedRegistryError, EntityKeyTypeError, FeatureSourceError, FeatureTypeChangedError, MaterializationLockedError, OnlineStoreUnavailableError,
  UnknownEntityError, UnknownFeatureError, UnknownFeatureViewError,
} from './errors.js';
export type { AppliedDefinition, DefinitionSpec, EntitySpec, FeatureViewSpec, OnDemandFeatureViewSpec, RegistrySnapshot, SourceSpec, Versioned } from './specs.js';
export type { FeatureRegistry } from './registry.js';
export { FileFeatureRegistry, SnapshotRegistry, defaultRegistryDir } from './registry.js';
export { PlatformFeatureRegistry } from './platform-registry.js';
export type { OnlineReadRequest, OnlineRecord, OnlineStore, OnlineStoreDump, OnlineViewInfo } from './online-store.js';
export { InProcessOnlineStore } from './online-store.js';
export type { RedisOnlineStoreOptions } from './redis-online-store.js';
export { RedisOnlineStore } from './redis-online-store.js';
export type { HistoricalOptions } from './historical.js';
export type { MaterializeResult } from './materialize.js';
export type { FeatureStoreOptions, MaterializeOptions, OnlineOptions } from './feature-store.js';
export { FeatureStore } from './feature-store.js';
export type { SkewMismatch, SkewOptions, SkewReport } from './skew.js';
export { checkSkew } from './skew.js';
export { FRESHNESS_METRIC, registerFreshnessGauge } from './freshness.js';
