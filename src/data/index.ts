/**
 * shoal data layer. Two levels:
 *
 * - **Dataset** (`dataset/`): the lazy distributed DataFrame. Sources, transformations and actions
 *   build and run a plan of partition tasks on the cluster (fusion, projection and predicate pushdown,
 *   shuffles through the object store).
 * - **Partition kernels**: pure functions over Arrow tables that those tasks run — expressions,
 *   project/filter/shuffle/aggregate/join/sort, and readers/writers producing Arrow.
 *
 * @example
 * ```ts
 * import { init } from 'shoal';
 * import { agg, col, readCsv, readParquet } from 'shoal/data';
 * await init();
 * const listings = readCsv('listings.csv').filter(col('price_usd').lt(100));
 * const reviews = readParquet('reviews/', { columns: ['listing_id', 'date'] }).rename({ listing_id: 'id' });
 * const perRoom = listings.join(reviews, 'id').groupBy('room_type').agg(agg.count(), agg.mean('price_usd', 'avg_price'));
 * await perRoom.explain();   // logical and optimized plans
 * await perRoom.show();      // runs it
 * ```
 */

export {
  DataError,
  ExpressionTypeError,
  InvalidExpressionError,
  InvalidOptionError,
  InvalidPlanError,
  InvalidWindowError,
  MalformedRecordError,
  ParquetError,
  PostgresError,
  SchemaMismatchError,
  SourceNotFoundError,
  SourceSchemaMismatchError,
  StreamQueryError,
  StreamSourceError,
  UnknownColumnError,
  UnsafeWriteError,
  UnsupportedTypeError,
} from './errors.js';

export type { PgClientSettings, PgConnection, StreamRecord, StreamRecordKind, StreamSource } from './stream/stream-source.js';
export { isStreamSource } from './stream/stream-source.js';
export type { PostgresCdcOptions } from './stream/postgres-cdc-source.js';
export { PostgresCdcSource, dropReplicationSlot, listReplicationSlots, parseLsn } from './stream/postgres-cdc-source.js';
export type { NatsSourceOptions } from './stream/nats-source.js';
export { DEAD_LETTER_REASON_HEADER, NatsSource } from './stream/nats-source.js';
export type { PostgresUpsertSinkOptions, StreamCheckpoint, StreamSink } from './stream/stream-sink.js';
export { PostgresUpsertSink } from './stream/stream-sink.js';
export type { BatchInfo, StreamingQuery, WindowedAggregate, WriteStreamOptions } from './stream/stream-query.js';
export { StreamFrame, readStream } from './stream/stream-query.js';
export type { ArrowTypeFamily, LogicalType, ScalarTypeName } from './types/logical-type.js';
export { arrowTypeFamily, logicalTypeOf } from './types/logical-type.js';

export type { BinaryFn, CallFn, ExprNode, LiteralValue, UnaryFn } from './expr/expr-node.js';
export type { DateTruncUnit, ExprInput } from './expr/expr.js';
export { CaseExpr, Expr, SortOrder, coalesce, col, dateDiff, lit, pow, when } from './expr/expr.js';
export { outputType } from './expr/output-type.js';
export type { Duration, FrameBound, FrameExclusion, WindowAggOp, WindowColumnSpec, WindowFnData, WindowFrame, WindowSpecData } from './expr/window.js';
export {
  WindowColumn,
  WindowFunction,
  Window,
  WindowSpec,
  currentRow,
  denseRank,
  lag,
  lead,
  rank,
  rowNumber,
  unboundedFollowing,
  unboundedPreceding,
  window,
} from './expr/window.js';
export type { TableLike } from './expr/evaluate.js';
export { evaluate } from './expr/evaluate.js';

export { project, withColumn } from './kernels/project.js';
export { filter } from './kernels/filter.js';
export { limit } from './kernels/limit.js';
export { sampleTable } from './kernels/sample.js';
export { concatTables } from './kernels/concat.js';
export { distinct } from './kernels/distinct.js';
export type { SortKey } from './kernels/sort.js';
export { sortTable } from './kernels/sort.js';
export { hashPartition } from './kernels/hash-partition.js';
export { hashBigInt, hashNumber } from './kernels/row-key.js';
export { fnv1a32, hashString } from './kernels/hash.js';
export { takeTable } from './kernels/take.js';
export { windowTable } from './kernels/window.js';
export { explodeTable } from './kernels/explode.js';
export type { HashJoinOptions, JoinOn, JoinType } from './kernels/hash-join.js';
export { hashJoin } from './kernels/hash-join.js';
export type { AggOp, AggSpec } from './kernels/aggregate.js';
export { QuantileSummary, sketchK, sketchSorted } from './kernels/quantile-sketch.js';
export { AggFunction, agg } from './expr/agg-function.js';
export { aggregate, aggregateStateColumns, finalizeAggregates, mergeAggregates, partialAggregate } from './kernels/aggregate.js';

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
export { parquetMetadata, readParquetFile, writeParquetFile } from './io/parquet.js';
export type { ParquetStatValue } from './io/parquet-footer.js';
export type { PartitionBound, PgPartitionOptions } from './io/pg-partition-queries.js';
export { pgPartitionQueries } from './io/pg-partition-queries.js';
export type { Int8Mode } from './io/pg-types.js';
// The PostgreSQL readers and writers (io/pg-*.ts) are not re-exported: their declarations name the
// pg driver's types, whose @types package is not a dependency; the Dataset API is what reads and writes.

export type { CsvWriteOptions } from './io/csv-writer.js';

export type {
  BatchFunction,
  ExecutionOptions,
  ExecutionReport,
  ExecutionStats,
  IterBatchesOptions,
  MapBatchesOptions,
  StageStats,
  ReadCsvOptions,
  ReadJsonOptions,
  ReadParquetOptions,
  ReadPostgresOptions,
  WriteFilesOptions,
  WritePostgresOptions,
  WriteResult,
} from './dataset/index.js';
export { Dataset, GroupedDataset, formatTable, fromArrow, fromRows, range, readCsv, readJson, readParquet, readPostgres } from './dataset/index.js';
