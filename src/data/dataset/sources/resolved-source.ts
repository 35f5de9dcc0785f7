/** A source planned on the driver: its schema and one read description per partition. */
import type * as arrow from 'apache-arrow';
import type { ParquetStatValue } from '../../io/parquet-footer.js';
import type { ReadPostgresOptions } from './source-options.js';
import type { ReadSpec } from './read-spec.js';

export interface ColumnStats {
  readonly min?: ParquetStatValue | undefined;
  readonly max?: ParquetStatValue | undefined;
  readonly nullCount?: number | undefined;
}

export interface ResolvedPartition {
  /** Null for in-memory partitions (their tables are put into the object store at execution). */
  readonly spec: ReadSpec | null;
  readonly rows?: number | undefined;
  /** Parquet row-group statistics by column, for pruning. */
  readonly stats?: ReadonlyMap<string, ColumnStats> | undefined;
  /** Hive partition values of the partition's file (a one-row table), for pruning. */
  readonly partitionRow?: arrow.Table | undefined;
}

export interface ResolvedSource {
  readonly schema: arrow.Schema;
  readonly partitions: readonly ResolvedPartition[];
  /** The schema each read is conformed to (files of one source), or null. */
  readonly template: arrow.Table | null;
  readonly mergeSchema: boolean;
  /** Known row count (in-memory, range, Parquet footers). */
  readonly estimatedRows: number | undefined;
  /** Tables of an in-memory source. */
  readonly tables?: readonly arrow.Table[] | undefined;
  /** PostgreSQL: the options, so the executor can build the partition SQL with pushed columns and filters. */
  readonly postgres?: ReadPostgresOptions | undefined;
}
