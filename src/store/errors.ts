/**
 * Errors of the store layer. Each extends {@link StoreError} (itself a {@link ShoalError}) with a
 * stable `code`, readonly context naming the run, model, artifact or file at fault, and works with
 * `instanceof` across realms and across the wire.
 */
import { markErrorClasses, ShoalError } from '../core/index.js';

/** Root of the store layer's errors: `instanceof StoreError` catches every one of them. */
export class StoreError extends ShoalError {
  override readonly code: string = 'STORE_ERROR';
}

/**
 * Thrown when saving an artifact folder (a model, a pipeline) to a path that already holds one (or
 * any file): nothing is written. Pass `{ overwrite: true }` to replace it.
 */
export class ArtifactExistsError extends StoreError {
  override readonly code = 'ARTIFACT_EXISTS';
  constructor(readonly path: string) {
    super(`${path} already exists and is not empty; pass { overwrite: true } to replace it`);
  }
  override context() {
    return { path: this.path };
  }
}

/**
 * Thrown when an artifact cannot be read back as it was written: a folder's manifest is missing or
 * not JSON, a file is missing, of another length, fails its sha256, or is not a regular file (a
 * symlink). `path` names the artifact at fault (a file path, or `runs:/<id>/<name>` in the store).
 * Layers that own a format pass their own error (e.g. `ModelFormatError`) instead.
 */
export class ArtifactCorruptError extends StoreError {
  override readonly code = 'ARTIFACT_CORRUPT';
  constructor(readonly path: string, readonly detail: string, options?: { cause?: unknown }) {
    super(`${path}: ${detail}`, options);
  }
  override context() {
    return { path: this.path, detail: this.detail };
  }
}

/** What each errno of a failed artifact write means, in words. */
const WRITE_FAILURES: Record<string, string> = {
  ENOSPC: 'the disk is full',
  EDQUOT: 'the disk quota is exhausted',
  EROFS: 'the file system is read-only',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EIO: 'an I/O error',
};

/**
 * Writing an artifact failed — the disk is full (`ENOSPC`), a quota is exhausted, the file system is
 * read-only, or another I/O error — and nothing of it is visible: its temporary file or staging
 * folder is removed and no record names it (a folder being replaced keeps its previous contents).
 * `artifact` names what was written (`runs:/<id>/<path>` or a folder path), `errno` the system code.
 */
export class ArtifactWriteError extends StoreError {
  override readonly code = 'ARTIFACT_WRITE_FAILED';
  readonly errno: string;
  constructor(readonly artifact: string, readonly dir: string, cause: unknown) {
    const errno = (cause as NodeJS.ErrnoException | undefined)?.code ?? 'UNKNOWN';
    const why = WRITE_FAILURES[errno] ?? (cause instanceof Error ? cause.message : String(cause));
    super(`could not write ${artifact} in ${dir}: ${why} (${errno}); nothing of it was kept`, { cause });
    this.errno = errno;
  }
  override context() {
    return { artifact: this.artifact, dir: this.dir, errno: this.errno };
  }
}

/** A store database written by a newer shoal (or not a shoal store): refused before anything is read. */
export class StoreSchemaError extends StoreError {
  override readonly code = 'STORE_SCHEMA';
  constructor(readonly store: string, readonly detail: string, options?: { cause?: unknown }) {
    super(`store ${store}: ${detail}`, options);
  }
  override context() {
    return { store: this.store, detail: this.detail };
  }
}

/** The store's database cannot be opened or reached (bad URL, refused connection, unreadable file). */
export class StoreUnavailableError extends StoreError {
  override readonly code = 'STORE_UNAVAILABLE';
  constructor(readonly store: string, readonly detail: string, options?: { cause?: unknown }) {
    super(`store ${store}: ${detail}`, options);
  }
  override context() {
    return { store: this.store, detail: this.detail };
  }
}

/** Kinds of things the store looks up by name or id. */
export type StoreEntity = 'experiment' | 'run' | 'registered model' | 'model version' | 'alias' | 'artifact' | 'dataset version' | 'pipeline run' | 'pipeline step';

/** A run, experiment, model, version, alias, artifact or dataset version that does not exist. `what` and `name` say which. */
export class StoreNotFoundError extends StoreError {
  override readonly code: string = 'STORE_NOT_FOUND';
  constructor(readonly what: StoreEntity, readonly key: string, hint = '') {
    super(`no ${what} ${JSON.stringify(key)}${hint ? `: ${hint}` : ''}`);
  }
  override context() {
    return { what: this.what, key: this.key };
  }
}

/** No run with this id. */
export class RunNotFoundError extends StoreNotFoundError {
  override readonly code = 'RUN_NOT_FOUND';
  constructor(readonly runId: string) {
    super('run', runId);
  }
}

/** No experiment with this name. */
export class ExperimentNotFoundError extends StoreNotFoundError {
  override readonly code = 'EXPERIMENT_NOT_FOUND';
  constructor(readonly experimentName: string) {
    super('experiment', experimentName);
  }
}

/** No artifact at this path of the run (`runs:/<id>/<path>`). */
export class ArtifactNotFoundError extends StoreNotFoundError {
  override readonly code = 'ARTIFACT_NOT_FOUND';
  constructor(readonly uri: string) {
    super('artifact', uri);
  }
}

/** No registered model with this name. */
export class ModelNotFoundError extends StoreNotFoundError {
  override readonly code = 'MODEL_NOT_FOUND';
  constructor(readonly modelName: string) {
    super('registered model', modelName, 'register it with registerModel() first');
  }
}

/** The registered model exists but has no such version. */
export class ModelVersionNotFoundError extends StoreNotFoundError {
  override readonly code = 'MODEL_VERSION_NOT_FOUND';
  constructor(readonly modelName: string, readonly version: number) {
    super('model version', `${modelName}/${version}`);
  }
}

/** The registered model exists but no alias of that name points at one of its versions. */
export class AliasNotFoundError extends StoreNotFoundError {
  override readonly code = 'ALIAS_NOT_FOUND';
  constructor(readonly modelName: string, readonly alias: string) {
    super('alias', `${modelName}@${alias}`);
  }
}

/**
 * A client-supplied name (artifact path, model, alias, experiment, tag or metric key) that the store
 * refuses: `..` segments, backslashes, percent-encoding, absolute paths and other characters outside
 * the allowed set. Names never become server paths; this keeps them plain too.
 */
export class InvalidNameError extends StoreError {
  override readonly code = 'INVALID_NAME';
  constructor(readonly kind: string, readonly value: string, readonly rule: string) {
    super(`invalid ${kind} ${JSON.stringify(value)}: ${rule}`);
  }
  override context() {
    return { kind: this.kind, value: this.value, rule: this.rule };
  }
}

/** A model URI that is not `models:/<name>@<alias>`, `models:/<name>/<version>` or `runs:/<id>/<path>`. */
export class InvalidModelUriError extends StoreError {
  override readonly code = 'INVALID_MODEL_URI';
  constructor(readonly uri: string, readonly detail: string) {
    super(`invalid model URI ${JSON.stringify(uri)}: ${detail} (expected models:/<name>@<alias>, models:/<name>/<version> or runs:/<run id>/<path>)`);
  }
  override context() {
    return { uri: this.uri, detail: this.detail };
  }
}

/** A `searchRuns` filter that does not parse: `position` is the offset of the bad token in `filter`. */
export class FilterSyntaxError extends StoreError {
  override readonly code = 'FILTER_SYNTAX';
  constructor(readonly filter: string, readonly position: number, readonly token: string, readonly expected: string) {
    super(`bad filter at position ${position} (${token === '' ? 'end of filter' : `token ${JSON.stringify(token)}`}): expected ${expected}\n  ${filter}\n  ${' '.repeat(position)}^`);
  }
  override context() {
    return { filter: this.filter, position: this.position, token: this.token, expected: this.expected };
  }
}

/** A write to a run that has ended (FINISHED, FAILED or KILLED). */
export class RunEndedError extends StoreError {
  override readonly code = 'RUN_ENDED';
  constructor(readonly runId: string, readonly status: string) {
    super(`run ${runId} has ended (${status}); start a new run to log more`);
  }
  override context() {
    return { runId: this.runId, status: this.status };
  }
}

/** `setAlias` with `ifCurrent` found the alias moved by someone else first: nothing was changed. */
export class AliasConflictError extends StoreError {
  override readonly code = 'ALIAS_CONFLICT';
  constructor(readonly modelName: string, readonly alias: string, readonly expected: number | null, readonly actual: number | null) {
    super(`alias ${modelName}@${alias} points at ${actual === null ? 'no version' : `version ${actual}`}, not ${expected === null ? 'no version' : `version ${expected}`} as expected; it was moved meanwhile, nothing was changed`);
  }
  override context() {
    return { modelName: this.modelName, alias: this.alias, expected: this.expected, actual: this.actual };
  }
}

/** A stored model whose description (format, tensors, signature) is not one shoal writes. */
export class ModelFormatInvalidError extends StoreError {
  override readonly code = 'STORED_MODEL_INVALID';
  constructor(readonly uri: string, readonly detail: string) {
    super(`${uri}: ${detail}`);
  }
  override context() {
    return { uri: this.uri, detail: this.detail };
  }
}

/**
 * A request to the store's REST API (http/store-api.ts) refused before any lookup: an unknown or
 * malformed query parameter, a bad body, a method the path does not take. `status` is the HTTP
 * status it is answered with (400, 405 or 413); `parameter` names what was wrong.
 */
export class StoreRequestError extends StoreError {
  override readonly code = 'STORE_BAD_REQUEST';
  constructor(readonly status: 400 | 405 | 413, readonly parameter: string, readonly rule: string) {
    super(`${parameter} ${rule}`);
  }
  override context() {
    return { status: this.status, parameter: this.parameter, rule: this.rule };
  }
}

markErrorClasses('shoal/store', {
  StoreError, ArtifactExistsError, ArtifactCorruptError, StoreSchemaError, StoreUnavailableError, StoreNotFoundError, RunNotFoundError, ExperimentNotFoundError, ArtifactNotFoundError,
  ModelNotFoundError, ModelVersionNotFoundError, AliasNotFoundError, InvalidNameError, InvalidModelUriError, FilterSyntaxError,
  RunEndedError, AliasConflictError, ModelFormatInvalidError, StoreRequestError, ArtifactWriteError,
});
