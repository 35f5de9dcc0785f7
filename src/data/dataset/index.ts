/** The Dataset layer's public surface (re-exported by src/data/index.ts). */
export { Dataset, GroupedDataset, formatTable, fromArrow, fromRows, range, readCsv, readJson, readParquet, readPostgres } from './dataset.js';
export type { ExecutionReport, ExecutionStats, IterBatchesOptions, MapBatchesOptions, WriteFilesOptions } from './dataset.js';
export type { StageStats } from './execution/executor.js';
export type { ExecutionOptions } from './execution-options.js';
export type { WritePostgresOptions, WriteResult } from './postgres-write.js';
export type { ReadCsvOptions, ReadJsonOptions, ReadParquetOptions, ReadPostgresOptions } from './sources/source-options.js';
export type { BatchFunction } from './plan/logical-plan.js';
