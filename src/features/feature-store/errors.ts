/**
 * Errors of the feature store. They extend the features layer's {@link FeatureError} (one root per
 * layer), carry the view, feature or entity they concern, and keep their class across the wire.
 */
import { markErrorClasses } from '../../core/index.js';
import { FeatureError } from '../errors.js';

const list = (names: readonly string[]): string => (names.length === 0 ? 'none' : names.join(', '));

/** Thrown when a feature view (or on-demand view) is named that the registry does not hold. */
export class UnknownFeatureViewError extends FeatureError {
  override readonly code = 'FEATURE_STORE_UNKNOWN_VIEW';
  constructor(
    readonly view: string,
    readonly known: readonly string[],
  ) {
    super(`unknown feature view "${view}" (defined: ${list(known)})`);
  }
}

/** Thrown when a feature reference `view:feature` names a feature its view does not expose. */
export class UnknownFeatureError extends FeatureError {
  override readonly code = 'FEATURE_STORE_UNKNOWN_FEATURE';
  constructor(
    readonly view: string,
    readonly feature: string,
    readonly known: readonly string[],
  ) {
    super(`feature view "${view}" has no feature "${feature}" (its features: ${list(known)})`);
  }
}

/** Thrown when an entity is named that the registry does not hold. */
export class UnknownEntityError extends FeatureError {
  override readonly code = 'FEATURE_STORE_UNKNOWN_ENTITY';
  constructor(
    readonly entity: string,
    readonly known: readonly string[],
  ) {
    super(`unknown entity "${entity}" (defined: ${list(known)})`);
  }
}

/** Thrown by `apply()` when a feature keeps its name but changes its type (define a new feature name instead). */
export class FeatureTypeChangedError extends FeatureError {
  override readonly code = 'FEATURE_STORE_TYPE_CHANGED';
  constructor(
    readonly view: string,
    readonly feature: string,
    readonly previousType: string,
    readonly newType: string,
    readonly previousVersion: number,
  ) {
    super(`feature "${view}:${feature}" is registered as ${previousType} (version ${previousVersion}); refusing to change its type to ${newType} under the same name — give the new feature a new name`);
  }
}

/** Thrown when an entity key value (online lookup, push, entity rows) does not have the entity's key type. */
export class EntityKeyTypeError extends FeatureError {
  override readonly code = 'FEATURE_STORE_ENTITY_KEY_TYPE';
  constructor(
    readonly joinKey: string,
    readonly expected: string,
    readonly actual: string,
    where: string,
  ) {
    super(`${where}: join key "${joinKey}" must be ${expected === 'int64' ? 'an integer' : 'a string'} (entity key type ${expected}); got ${actual}`);
  }
}

/**
 * Thrown when the online store (Redis) cannot be reached or does not answer within its timeouts.
 * Serving fallback: `getOnlineFeatures(..., { fallback: 'nulls' })` answers with null stored features
 * instead (the model's imputation handles them), reporting the error to `onUnavailable`.
 */
export class OnlineStoreUnavailableError extends FeatureError {
  override readonly code = 'FEATURE_STORE_ONLINE_UNAVAILABLE';
  constructor(
    readonly target: string,
    readonly operation: string,
    cause?: unknown,
  ) {
    super(`online store ${target} is unavailable (${operation}): ${cause instanceof Error ? cause.message : String(cause ?? 'no answer')}`, { cause });
  }
}

/** Thrown when a materialization of a view could not take the view's lock within `lockWaitMs` (another one runs). */
export class MaterializationLockedError extends FeatureError {
  override readonly code = 'FEATURE_STORE_MATERIALIZATION_LOCKED';
  constructor(
    readonly view: string,
    readonly waitedMs: number,
  ) {
    super(`feature view "${view}" is being materialized by another process; waited ${waitedMs} ms for its lock (raise lockWaitMs or retry later)`);
  }
}

/** Thrown when a registry file cannot be read (bad JSON, a newer format, missing fields). */
export class CorruptedRegistryError extends FeatureError {
  override readonly code = 'FEATURE_STORE_REGISTRY_CORRUPTED';
  constructor(
    readonly path: string,
    detail: string,
  ) {
    super(`feature registry ${path} is unreadable: ${detail}`);
  }
}

/** Thrown when a view's definition cannot be used where it is needed (e.g. an in-memory Dataset source from the CLI). */
export class FeatureSourceError extends FeatureError {
  override readonly code = 'FEATURE_STORE_SOURCE';
  constructor(
    readonly view: string,
    detail: string,
  ) {
    super(`feature view "${view}": ${detail}`);
  }
}

markErrorClasses('shoal/features', {
  UnknownFeatureViewError, UnknownFeatureError, UnknownEntityError, FeatureTypeChangedError, EntityKeyTypeError,
  OnlineStoreUnavailableError, MaterializationLockedError, CorruptedRegistryError, FeatureSourceError,
});
