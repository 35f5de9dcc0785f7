/**
 * `shoal/data`: the lazy distributed DataFrame (Spark DataFrame / Ray Data for TypeScript). Sources
 * (`readCsv`, `readParquet`, `readJson`, `readPostgres`, `fromArrow`, `fromRows`, `range`) give a
 * `Dataset`; transformations build a plan, checked against the input's schema as it is built;
 * actions (`count`, `collect`, `take`, `show`, `iterBatches`, `write*`) run it on the cluster that
 * `init()` (from `shoal`) connected to.
 *
 * @example
 * ```ts
 * import { init, shutdown } from 'shoal';
 * import { agg, col, fromRows, window } from 'shoal/data';
 * await init();
 * const stays = fromRows([
 *   { room: 'Entire home', price: 120 },
 *   { room: 'Private room', price: 45 },
 *   { room: 'Private room', price: 60 },
 * ]);
 * await stays.filter(col('price').gt(50)).groupBy('room').agg(agg.count(), agg.mean('price', 'avg_price')).show();
 * await stays.withColumn('room_max', agg.max('price').over(window().partitionBy('room'))).show();
 * await shutdown();
 * ```
 *
 * @packageDocumentation
 */
export { Dataset, GroupedDataset, fromArrow, fromRows, range, readCsv, readJson, readParquet, readPostgres } from './data/index.js';
export type {
  BatchFunction, ExecutionOptions, ExecutionReport, ExecutionStats, IterBatchesOptions, MapBatchesOptions, StageStats,
  ReadCsvOptions, ReadJsonOptions, ReadParquetOptions, ReadPostgresOptions, WriteFilesOptions, WritePostgresOptions, WriteResult,
  ReadMode, TextSchema, PartitionBound,
} from './data/index.js';
export { Expr, CaseExpr, SortOrder, col, lit, when, coalesce, pow, dateDiff } from './data/index.js';
export type { ExprInput, ExprNode, DateTruncUnit, LogicalType, ScalarTypeName } from './data/index.js';
export { agg, AggFunction } from './data/index.js';
export type { AggOp, AggSpec, JoinOn, JoinType, SortKey } from './data/index.js';
export {
  window, Window, WindowSpec, WindowFunction, WindowColumn, rowNumber, rank, denseRank, lag, lead,
  unboundedPreceding, unboundedFollowing, currentRow,
} from './data/index.js';
export type { Duration, FrameBound, FrameExclusion, WindowSpecData } from './data/index.js';
export {
  DataError, UnknownColumnError, ExpressionTypeError, InvalidExpressionError, InvalidOptionError, InvalidPlanError, InvalidWindowError,
  MalformedRecordError, ParquetError, PostgresError, SchemaMismatchError, SourceNotFoundError, SourceSchemaMismatchError, UnsafeWriteError, UnsupportedTypeError,
} from './data/index.js';
export {
  PostgresCdcSource, NatsSource, isStreamSource, PostgresUpsertSink, StreamFrame, readStream, dropReplicationSlot, listReplicationSlots, DEAD_LETTER_REASON_HEADER, StreamSourceError, StreamQueryError,
} from './data/index.js';
export type {
  StreamRecord, StreamRecordKind, StreamSource, PostgresCdcOptions, NatsSourceOptions, PostgresUpsertSinkOptions, StreamCheckpoint, StreamSink,
  BatchInfo, StreamingQuery, WindowedAggregate, WriteStreamOptions,
} from './data/index.js';
