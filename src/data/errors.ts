/**
 * Errors thrown by the data layer. Each class carries a stable `code` that callers (and the far side
 * of a task boundary) can match on, readonly context fields, and the underlying `cause`.
 * All extend {@link ShoalError}; `instanceof` works across realms through the `Symbol.for` marker
 * each class gets from `markErrorClasses`, so errors rebuilt after crossing a worker thread still match.
 */

import { InvalidOptionError, invalidOption, markErrorClasses, ShoalError } from '../core/index.js';
import { closestName } from './closest-name.js';

/** Thrown when a kernel, reader or Dataset method receives an invalid option (the one class of every layer). */
export { InvalidOptionError, invalidOption };

/** Base class of every data-layer error (a {@link ShoalError}). */
export class DataError extends ShoalError {
  /** Stable machine-readable code, e.g. `DATA_UNKNOWN_COLUMN`. */
  override readonly code: string = 'DATA_ERROR';
}

/**
 * Thrown when an operator, expression or kernel names a column its input does not have. Datasets
 * throw it when the plan is built (or, for a source whose schema is known only once read, when the
 * schema is first resolved), naming the `operator` — `filter(pricee > 3): unknown column "pricee" —
 * did you mean "price"? (columns: "id", "price")`. `suggestion` is the closest column, if any is close.
 */
export class UnknownColumnError extends DataError {
  override readonly code = 'DATA_UNKNOWN_COLUMN';
  /** The operator whose input lacks the column, as the user wrote it (`filter(...)`), when known. */
  readonly operator: string | undefined;
  /** The existing column nearest to `column` by edit distance, when one is near. */
  readonly suggestion: string | undefined;
  constructor(
    readonly column: string,
    readonly available: readonly string[],
    options?: { cause?: unknown; operator?: string },
  ) {
    const suggestion = closestName(column, available.filter((c) => c !== column));
    const columns = available.map((c) => `"${c}"`).join(', ') || 'none';
    super(`${options?.operator !== undefined ? `${options.operator}: ` : ''}unknown column "${column}"${suggestion !== undefined ? ` — did you mean "${suggestion}"?` : ''} (columns: ${columns})`, options);
    this.operator = options?.operator;
    this.suggestion = suggestion;
  }
}

/** Thrown when an expression is applied to operands of a type it does not accept. */
export class ExpressionTypeError extends DataError {
  override readonly code = 'DATA_EXPRESSION_TYPE';
  constructor(
    message: string,
    readonly expression: string,
    options?: { cause?: unknown },
  ) {
    super(`${message} in expression ${expression}`, options);
  }
}

/** Thrown when a serialized expression tree is malformed (unknown op, missing fields). */
export class InvalidExpressionError extends DataError {
  override readonly code = 'DATA_INVALID_EXPRESSION';
}

/** Thrown when an Arrow column has a type the data layer cannot process. */
export class UnsupportedTypeError extends DataError {
  override readonly code = 'DATA_UNSUPPORTED_TYPE';
  constructor(
    readonly column: string,
    readonly arrowType: string,
    options?: { cause?: unknown },
  ) {
    super(`column "${column}" has unsupported Arrow type ${arrowType}`, options);
  }
}

/** Thrown when tables that must share a schema do not. */
export class SchemaMismatchError extends DataError {
  override readonly code = 'DATA_SCHEMA_MISMATCH';
  constructor(
    message: string,
    readonly column: string | undefined,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Thrown by readers in `failfast` mode on a malformed record. `line` is 1-based. */
export class MalformedRecordError extends DataError {
  override readonly code = 'DATA_MALFORMED_RECORD';
  constructor(
    reason: string,
    readonly file: string,
    readonly line: number,
    readonly column?: string,
    options?: { cause?: unknown },
  ) {
    super(`malformed record at ${file}:${line}${column !== undefined ? ` (column "${column}")` : ''}: ${reason}`, options);
  }
}

/** Thrown when reading or writing Parquet fails. */
export class ParquetError extends DataError {
  override readonly code = 'DATA_PARQUET';
  constructor(
    message: string,
    readonly file: string,
    options?: { cause?: unknown },
  ) {
    super(`${message} (file ${file})`, options);
  }
}

/** Thrown when a PostgreSQL read or write fails; `sql` is the statement that failed. */
export class PostgresError extends DataError {
  override readonly code = 'DATA_POSTGRES';
  constructor(
    message: string,
    readonly sql: string | undefined,
    readonly table?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Thrown when a Dataset source path, directory or glob matches no readable file. */
export class SourceNotFoundError extends DataError {
  override readonly code = 'DATA_SOURCE_NOT_FOUND';
  constructor(
    readonly path: string,
    reason: string,
    options?: { cause?: unknown },
  ) {
    super(`cannot read ${path}: ${reason}`, options);
  }
}

/**
 * Thrown when the files (or partitions) of one Dataset source do not share a schema and `mergeSchema`
 * is off: names the file and the column that differ.
 */
export class SourceSchemaMismatchError extends SchemaMismatchError {
  constructor(
    readonly file: string,
    column: string,
    detail: string,
    options?: { cause?: unknown },
  ) {
    super(`schema of ${file} differs at column "${column}": ${detail} (pass { mergeSchema: true } to unify the files' schemas)`, column, options);
  }
}

/** Thrown when a Dataset plan is invalid before anything runs (e.g. union of incompatible schemas). */
export class InvalidPlanError extends DataError {
  override readonly code = 'DATA_INVALID_PLAN';
}

/**
 * Thrown when a window function or window specification is invalid: a window function used without
 * `over()`, `orderBy` missing where the function or frame needs it, a range frame over a column that is
 * neither numeric nor temporal, bad frame offsets. `fn` names the function (e.g. `rank()`), `column`
 * the column involved when there is one.
 */
export class InvalidWindowError extends DataError {
  override readonly code = 'DATA_INVALID_WINDOW';
  constructor(
    readonly fn: string,
    rule: string,
    readonly column?: string,
    options?: { cause?: unknown },
  ) {
    super(`${fn}: ${rule}`, options);
  }
}

/**
 * Thrown by `writeParquet`/`writeCsv` before anything is computed when the write could destroy data:
 * `mode: 'overwrite'` on a path the same plan reads (Spark refuses it too), or on a folder holding
 * files the dataset did not write (`files` names some of them). `path` is the resolved target.
 */
export class UnsafeWriteError extends DataError {
  override readonly code = 'DATA_UNSAFE_WRITE';
  constructor(
    readonly path: string,
    reason: string,
    readonly files: readonly string[] = [],
    options?: { cause?: unknown },
  ) {
    super(`refusing to write ${path}: ${reason}`, options);
  }
}

/**
 * Thrown by a streaming source (change data capture, an event log) when it cannot be opened or read:
 * the server refused the replication slot or the stream, a record's offset went backwards, the
 * source was used after `close()`. `source` names it (`postgres-cdc:<slot>`, `nats:<stream>/<durable>`).
 */
export class StreamSourceError extends DataError {
  override readonly code = 'DATA_STREAM_SOURCE';
  constructor(readonly source: string, message: string, options?: { cause?: unknown }) {
    super(`${source}: ${message}`, options);
  }
}

/**
 * Thrown by a streaming query (`readStream(...).writeStream(...)`) when its sink or its checkpoint
 * fails or disagrees with the source: `query` names it.
 */
export class StreamQueryError extends DataError {
  override readonly code = 'DATA_STREAM_QUERY';
  constructor(readonly query: string, message: string, options?: { cause?: unknown }) {
    super(`stream query "${query}": ${message}`, options);
  }
}

markErrorClasses('shoal/data', { StreamSourceError, StreamQueryError,  DataError, UnknownColumnError, ExpressionTypeError, InvalidExpressionError, UnsupportedTypeError, SchemaMismatchError, MalformedRecordError, ParquetError, PostgresError, SourceNotFoundError, SourceSchemaMismatchError, InvalidPlanError, InvalidWindowError, UnsafeWriteError });
