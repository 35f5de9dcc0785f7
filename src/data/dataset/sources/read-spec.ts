/**
 * What one read task reads: plain data (paths, SQL, row groups), built on the driver when a source is
 * planned and shipped to a worker as a task argument.
 */
import type { ScalarTypeName } from '../../types/logical-type.js';
import type { ReadMode } from '../../io/csv-reader.js';

/** Hive-style partition values taken from a path (`dir/country=FR/part-0.parquet`). */
export interface PartitionValues {
  readonly names: readonly string[];
  readonly types: readonly ScalarTypeName[];
  /** Raw text per name; null for `__HIVE_DEFAULT_PARTITION__`. */
  readonly values: readonly (string | null)[];
}

export interface TextReadSettings {
  readonly header?: boolean;
  readonly delimiter?: string;
  readonly quote?: string;
  readonly mode?: ReadMode;
  readonly gzip?: boolean;
  readonly maxFieldBytes?: number;
}

export type ReadSpec =
  | { readonly type: 'range'; readonly start: number; readonly end: number; readonly column: string }
  | {
      readonly type: 'csv';
      readonly path: string;
      /** This file's own columns with the (unified) types to parse them as. */
      readonly schema: Readonly<Record<string, ScalarTypeName>>;
      readonly settings: TextReadSettings;
    }
  | { readonly type: 'json'; readonly path: string; readonly schema: Readonly<Record<string, ScalarTypeName>>; readonly settings: TextReadSettings }
  | {
      readonly type: 'parquet';
      readonly path: string;
      readonly rowGroups: readonly number[] | null;
      /** The file's own columns (Hive partition columns excluded): what a projection may ask the reader for. */
      readonly columns: readonly string[];
      readonly partitionValues: PartitionValues | null;
    }
  | { readonly type: 'postgres'; readonly url: string; readonly sql: string; readonly fetchSize: number; readonly snapshot: string | null };

