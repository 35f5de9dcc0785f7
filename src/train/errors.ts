/**
 * Errors thrown by the train layer. Each class carries a stable `code` callers can match on,
 * readonly context fields, and the underlying `cause`. All extend {@link ShoalError}; `instanceof`
 * works across realms through the `Symbol.for` marker each class gets from `markErrorClasses`, so an
 * error rebuilt after crossing a thread or process still matches.
 */

import { InvalidOptionError, markErrorClasses, ShoalError } from '../core/index.js';

import { ArtifactExistsError } from '../store/index.js';

/** Thrown when an option of a trainer or model call breaks its rule (the one class of every layer). */
export { InvalidOptionError };
/** Thrown by a model's `save(dir)` when `dir` already holds something and `overwrite` is not set (store's error). */
export { ArtifactExistsError };

/** Base class of every train-layer error (a {@link ShoalError}). */
export class TrainError extends ShoalError {
  /** Stable machine-readable code, e.g. `TRAIN_INVALID_DATA`. */
  override readonly code: string = 'TRAIN_ERROR';
}

/** Thrown when training input is unusable: empty, a missing column, a non-numeric or NaN rating. */
export class InvalidTrainingDataError extends TrainError {
  override readonly code: string = 'TRAIN_INVALID_DATA';
  constructor(
    message: string,
    /** Column at fault, when one is. */
    readonly column?: string | undefined,
    /** Row at fault (0-based), when one is. */
    readonly row?: number | undefined,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Thrown when a user or item id is null, or is not an integer (ALS also accepts strings, which it indexes itself). */
export class InvalidIdError extends InvalidTrainingDataError {
  override readonly code = 'TRAIN_INVALID_ID';
  constructor(column: string, row: number, readonly value: unknown, /** Appended after a colon, e.g. what ids may be. */ hint?: string) {
    super(`${column} at row ${row} must be an integer id (got ${describe(value)})${hint ? `: ${hint}` : ''}`, column, row);
  }
}

/**
 * Thrown by the neural recommender when an item it must score has no usable feature row: a rated
 * item absent from the item-feature table, or a feature row that is null, NaN or of the wrong width.
 */
export class MissingItemFeaturesError extends InvalidTrainingDataError {
  override readonly code = 'TRAIN_MISSING_ITEM_FEATURES';
  constructor(
    message: string,
    /** Up to 10 of the items at fault. */
    readonly items: readonly number[],
    /** How many items are at fault. */
    readonly count: number,
  ) {
    super(message);
  }
}

/** Thrown by a numeric kernel when its input has no solution it can compute (a matrix not positive definite). */
export class NumericalError extends TrainError {
  override readonly code = 'TRAIN_NUMERICAL';
}

/** Thrown when loading a saved model whose files are missing, truncated, altered or not a model at all. */
export class ModelFormatError extends TrainError {
  override readonly code = 'TRAIN_MODEL_FORMAT';
  constructor(readonly path: string, message: string, options?: { cause?: unknown }) {
    super(`${path}: ${message}`, options);
  }
}

/** Thrown when loading a model saved by a newer format version than this build understands. */
export class ModelVersionError extends TrainError {
  override readonly code = 'TRAIN_MODEL_VERSION';
  constructor(readonly path: string, readonly found: number, readonly supported: number) {
    super(`${path}: model format version ${found} is newer than this build of shoal supports (${supported}); upgrade shoal to load it`);
  }
}

function describe(v: unknown): string {
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v)}`;
  if (typeof v === 'bigint') return `${v}n`;
  if (v === null || v === undefined) return String(v);
  if (typeof v === 'number') return String(v);
  return typeof v;
}

/** Thrown by `tune()` when no trial produced the searched metric (every trial failed or none reported it). */
export class TuneError extends TrainError {
  override readonly code = 'TRAIN_TUNE_FAILED';
  constructor(message: string, readonly trialErrors: readonly string[] = [], options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** Thrown by the TensorFlow.js `Trainer` when the user's model-building function throws or returns no model. */
export class ModelBuildError extends TrainError {
  override readonly code = 'TRAIN_MODEL_BUILD';
  constructor(readonly builder: string, message: string, options?: { cause?: unknown }) {
    super(`model-building function '${builder}': ${message}`, options);
  }
}

/** Thrown by the TensorFlow.js `Trainer` when workers failed more times than `maxFailures` allows. */
export class TrainingFailedError extends TrainError {
  override readonly code = 'TRAIN_FAILED';
  constructor(message: string, readonly failures: number, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/**
 * Thrown when training or inference with TensorFlow.js starts (`Trainer`, `trainLocal`,
 * `NeuralRecommender`) and the optional peer dependencies it needs are not installed; `packages`
 * names the missing ones. ALS and `tune` never need them.
 */
export class TfjsNotInstalledError extends TrainError {
  override readonly code = 'TRAIN_TFJS_NOT_INSTALLED';
  constructor(readonly packages: readonly string[], install: string, options?: { cause?: unknown }) {
    const which = packages.length === 1 ? `the optional peer dependency ${packages[0]}, which is` : `the optional peer dependencies ${packages.join(' and ')}, which are`;
    super(`training and inference with TensorFlow.js need ${which} not installed: ${install}`, options);
  }
}

markErrorClasses('shoal/train', { TrainError, InvalidTrainingDataError, InvalidIdError, MissingItemFeaturesError, NumericalError, ModelFormatError, ModelVersionError, TuneError, ModelBuildError, TrainingFailedError, TfjsNotInstalledError });
