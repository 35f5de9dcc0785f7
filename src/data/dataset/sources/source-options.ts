/** Options of the Dataset sources (what users pass to readCsv, readParquet, readJson, readPostgres). */
import type { ReadMode, TextSchema } from '../../io/csv-reader.js';
import type { PartitionBound } from '../../io/pg-partition-queries.js';
import type { ExprInput } from '../../expr/expr.js';

export interface ReadCsvOptions {
  /** Column names and types; inferred per file when absent (every file is scanned once for its types before the read). */
  readonly schema?: TextSchema;
  /** @default true */
  readonly header?: boolean;
  /** @default ',' */
  readonly delimiter?: string;
  /** @default '"' */
  readonly quote?: string;
  /** @default 'permissive' */
  readonly mode?: ReadMode;
  /** Gunzip while reading; detected from a `.gz` suffix or the gzip magic bytes when absent. */
  readonly gzip?: boolean;
  /** Unify differing file schemas (missing columns become null, numbers widen) instead of failing. @default false */
  readonly mergeSchema?: boolean;
  /**
   * Longest field in bytes; a longer one (usually a missing closing quote) fails the read in every
   * mode, as does a quote still open at the end of a file. @default 16 MiB
   */
  readonly maxFieldBytes?: number;
}

export interface ReadJsonOptions {
  readonly schema?: TextSchema;
  /** @default 'permissive' */
  readonly mode?: ReadMode;
  readonly gzip?: boolean;
  /** @default false */
  readonly mergeSchema?: boolean;
}

export interface ReadParquetOptions {
  /** Read only these columns (projection pushed into the reader). */
  readonly columns?: readonly string[];
  /** Keep only rows matching this predicate; evaluated in the read task, row groups skipped by min/max statistics. */
  readonly filter?: ExprInput;
  /** @default false */
  readonly mergeSchema?: boolean;
}

export interface ReadPostgresOptions {
  /** `postgres://user@host:port/db` */
  readonly url: string;
  /** Table to read (optionally `schema.table`). Exactly one of `table` and `query`. */
  readonly table?: string;
  readonly query?: string;
  /** Numeric or timestamp column to range-partition on (required when numPartitions > 1). */
  readonly partitionColumn?: string;
  readonly lowerBound?: PartitionBound;
  readonly upperBound?: PartitionBound;
  /** Partitions read in parallel (also the number of concurrent connections). @default 1 */
  readonly numPartitions?: number;
  /** Rows per FETCH. @default 10_000 */
  readonly fetchSize?: number;
}

export type SourceSpec =
  | { readonly type: 'arrow'; readonly partitions: readonly import('apache-arrow').Table[] }
  | { readonly type: 'range'; readonly n: number; readonly numPartitions: number }
  | { readonly type: 'csv'; readonly paths: string | readonly string[]; readonly options: ReadCsvOptions }
  | { readonly type: 'json'; readonly paths: string | readonly string[]; readonly options: ReadJsonOptions }
  | { readonly type: 'parquet'; readonly paths: string | readonly string[]; readonly mergeSchema: boolean }
  | { readonly type: 'postgres'; readonly options: ReadPostgresOptions };
