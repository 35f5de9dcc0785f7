/**
 * Errors of the features layer. Each has a stable `code` and readonly context (the stage and column
 * it concerns) so callers can match on them. All extend {@link ShoalError}; `instanceof` works across
 * realms through the `Symbol.for` marker each class gets from `markErrorClasses`.
 */
import { InvalidOptionError, invalidOption, markErrorClasses, ShoalError } from '../core/index.js';

import { ArtifactExistsError } from '../store/index.js';

/** Thrown by a featurizer constructor or feature function for an invalid option (the one class of every layer). */
export { InvalidOptionError, invalidOption };
/** Thrown by `PipelineModel.save(dir)` when `dir` already holds something and `overwrite` is not set (store's error). */
export { ArtifactExistsError };

/** Context every feature error can carry. */
export interface FeatureErrorContext {
  /** The stage (featurizer or model class name, with its pipeline index when known). */
  readonly stage?: string | undefined;
  /** The column concerned. */
  readonly column?: string | undefined;
  readonly cause?: unknown;
}

/** Base class of the features layer's errors. */
export class FeatureError extends ShoalError {
  override readonly code: string = 'FEATURE_ERROR';
  readonly stage: string | undefined;
  readonly column: string | undefined;

  constructor(message: string, context: FeatureErrorContext = {}) {
    const where = [context.stage !== undefined ? `stage ${context.stage}` : '', context.column !== undefined ? `column "${context.column}"` : ''].filter(Boolean).join(', ');
    super(where ? `${where}: ${message}` : message, context.cause !== undefined ? { cause: context.cause } : undefined);
    this.name = new.target.name;
    this.stage = context.stage;
    this.column = context.column;
  }
}

/** Thrown by `fit()` when the dataset (or the non-null values of a column it needs) is empty. */
export class EmptyDatasetError extends FeatureError {
  override readonly code = 'FEATURE_EMPTY_DATASET';
}

/** Thrown when a stage's input column is missing or has a type the stage does not accept. */
export class ColumnTypeError extends FeatureError {
  override readonly code = 'FEATURE_COLUMN_TYPE';
  constructor(
    message: string,
    context: FeatureErrorContext & { readonly expected: string; readonly actual: string },
  ) {
    super(`${message} (expected ${context.expected}, got ${context.actual})`, context);
    this.expected = context.expected;
    this.actual = context.actual;
  }
  readonly expected: string;
  readonly actual: string;
}

/** Thrown at transform time by a stage whose `handleInvalid` is 'error' on a null, NaN or unseen value. */
export class InvalidValueError extends FeatureError {
  override readonly code = 'FEATURE_INVALID_VALUE';
  constructor(
    message: string,
    context: FeatureErrorContext & { readonly value: unknown },
  ) {
    super(message, context);
    this.value = context.value;
  }
  readonly value: unknown;
}

/** Thrown by `PipelineModel.load()` when the saved pipeline was written by a newer format version. */
export class PipelineVersionError extends FeatureError {
  override readonly code = 'FEATURE_PIPELINE_VERSION';
  constructor(
    readonly path: string,
    readonly found: number,
    readonly supported: number,
  ) {
    super(`${path} was saved with pipeline format version ${found}; this shoal reads versions up to ${supported} (upgrade shoal to load it)`);
  }
}

/** Thrown by `PipelineModel.load()` when a saved pipeline is unreadable: bad JSON, a missing field, a checksum mismatch. */
export class CorruptedPipelineError extends FeatureError {
  override readonly code = 'FEATURE_PIPELINE_CORRUPTED';
  constructor(
    readonly path: string,
    detail: string,
    context: FeatureErrorContext = {},
  ) {
    super(`corrupted saved pipeline ${path}: ${detail}`, context);
  }
}

/** Thrown when a saved stage names a model class that is not registered. */
export class UnknownModelClassError extends FeatureError {
  override readonly code = 'FEATURE_UNKNOWN_CLASS';
  constructor(
    readonly className: string,
    known: readonly string[],
    context: FeatureErrorContext = {},
  ) {
    super(`unknown feature model class "${className}" (registered: ${known.join(', ')})`, context);
  }
}

markErrorClasses('shoal/features', { FeatureError, EmptyDatasetError, ColumnTypeError, InvalidValueError, PipelineVersionError, CorruptedPipelineError, UnknownModelClassError });
