/**
 * shoal data layer — partition-level engine. Pure functions over Arrow tables that distributed
 * Dataset operators run inside tasks: expressions, kernels (project/filter/shuffle/aggregate/join/
 * sort), and readers/writers producing Arrow.
 *
 * @example
 * ```ts
 * import { col, filter, project, partialAggregate, mergeAggregates, finalizeAggregates, agg } from './data/index.js';
 * const cheap = filter(listings, col('price').lt(100).and(col('room_type').eq('Private room')));
 * const withTax = project(cheap, [col('id'), col('price').mul(1.1).alias('gross')]);
 * const aggs = [agg.count(), agg.mean('gross', 'avg_gross')];
 * const state = partialAggregate(withTax, [], aggs);
 * const result = finalizeAggregates(mergeAggregates([state], [], aggs), [], aggs);
 * ```
 */

export {
  DataError,
  ExpressionTypeError,
  InvalidExpressionError,
  InvalidOptionError,
  MalformedRecordError,
  ParquetError,
  PostgresError,
  SchemaMismatchError,
  UnknownColumnError,
  UnsupportedTypeError,
} from './errors.js';

export type { LogicalType, ScalarTypeName } from './types/logical-type.js';
export { arrowTypeOf, logicalTypeOf } from './types/logical-type.js';

export type { BinaryFn, CallFn, ExprNode, LiteralValue, UnaryFn } from './expr/expr-node.js';
export { exprToString, outputName, validateExprNode } from './expr/expr-node.js';
export type { DateTruncUnit, ExprInput } from './expr/expr.js';
export { CaseExpr, Expr, coalesce, col, dateDiff, lit, pow, when } from './expr/expr.js';
export { outputType, schemaTypes } from './expr/output-type.js';
export type { TableLike } from './expr/evaluate.js';
export { evaluate } from './expr/evaluate.js';

export { project, withColumn } from './kernels/project.js';
export { filter } from './kernels/filter.js';
export { limit } from './kernels/limit.js';
export { sampleTable } from './kernels/sample.js';
export { concatTables } from './kernels/concat.js';
export { distinct } from './kernels/distinct.js';
export type { SortKey } from './kernels/sort.js';
export { sortIndices, sortTable } from './kernels/sort.js';
export { hashPartition } from './kernels/hash-partition.js';
export { hashBigInt, hashNumber, hashString } from './kernels/row-key.js';
export { takeTable } from './kernels/take.js';
export type { HashJoinOptions, JoinOn, JoinType } from './kernels/hash-join.js';
export { hashJoin } from './kernels/hash-join.js';
export type { AggOp, AggSpec } from './kernels/aggregate.js';
export { agg, aggOutputName, aggregate, aggregateStateColumns, finalizeAggregates, mergeAggregates, partialAggregate } from './kernels/aggregate.js';

export type { CsvReadOptions, ReadMode, TextSchema } from './io/csv-reader.js';
export { readCsvPartition } from './io/csv-reader.js';
export type { JsonLinesReadOptions } from './io/json-lines.js';
export { readJsonLines } from './io/json-lines.js';
export type { Source } from './io/read-source.js';
export type {
  ParquetColumnChunkInfo,
  ParquetCompression,
  ParquetMetadata,
  ParquetReadOptions,
  ParquetRowGroupInfo,
  ParquetWriteOptions,
} from './io/parquet.js';
export { encodeParquet, parquetMetadata, readParquetFile, writeParquetFile } from './io/parquet.js';
export type { ParquetStatValue } from './io/parquet-footer.js';
export type { PartitionBound, PgPartitionOptions } from './io/pg-partition-queries.js';
export { pgPartitionQueries } from './io/pg-partition-queries.js';
export type { PgReadOptions } from './io/pg-reader.js';
export { readPostgresPartition } from './io/pg-reader.js';
export type { Int8Mode } from './io/pg-types.js';
export type { PgWriteMode, PgWriteOptions, PgWriteResult } from './io/pg-writer.js';
export { pgTypeFor, writePostgresTable } from './io/pg-writer.js';
export type { ExportedSnapshot } from './io/pg-snapshot.js';
export { exportSnapshot } from './io/pg-snapshot.js';
