/**
 * The remote functions every Dataset stage runs. They are shoal built-ins: defined at the top level of
 * a module inside the package, so workers import this compiled module from their own installation
 * (no bundling). Keep this module free of side effects beyond the `remote()` definitions.
 *
 * A shuffle is: map tasks return an array of bucket tables (one object per map task), and reduce
 * task i takes every map output as a top-level argument and picks bucket i — the runtime resolves
 * the arguments before the task runs, so no reduce task waits in a nested `get()` holding a CPU.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type * as arrow from 'apache-arrow';
import pg from 'pg';
import { remote } from '../../../core/index.js';
import { formatCsv } from '../../io/csv-writer.js';
import { writeParquetFile } from '../../io/parquet.js';
import { writePostgresTable } from '../../io/pg-writer.js';
import { applyOps, type NarrowOp } from '../plan/narrow-ops.js';
import type { ReadSpec } from '../sources/read-spec.js';
import { inferPartitionSchema, readPartition } from './read-partition.js';
import { finishFused, joinFused, shuffleMap, shuffleReduce, sortSample, type FusedOutput, type JoinSpec, type ShuffleMap, type ShuffleReduce } from './shuffle-kernels.js';
import { splitByPartitionValues } from './write-layout.js';
import type { SortKey } from '../../kernels/sort.js';

/** Reads one partition of a source and runs the fused narrow operators over it. */
export const readTask = remote(async function shoalDataRead(
  spec: ReadSpec,
  template: arrow.Table | null,
  mergeSchema: boolean,
  columns: string[] | null,
  ops: NarrowOp[],
  partition: number,
): Promise<arrow.Table> {
  return applyOps(await readPartition(spec, template, mergeSchema, columns), ops, partition);
});

/** Runs fused narrow operators over one partition. */
export const mapTask = remote(function shoalDataMap(table: arrow.Table, ops: NarrowOp[], partition: number): arrow.Table {
  return applyOps(table, ops, partition);
});

/** Schema of one file: reads it and returns its empty slice (CSV and JSON lines type inference). */
export const inferSchemaTask = remote(async function shoalDataInferSchema(spec: ReadSpec): Promise<arrow.Table> {
  return inferPartitionSchema(spec);
});

export const sliceTask = remote(function shoalDataSlice(table: arrow.Table, start: number, end: number): arrow.Table {
  return table.slice(start, end);
});

export const sortSampleTask = remote(function shoalDataSortSample(table: arrow.Table, keys: SortKey[], maxRows: number): arrow.Table {
  return sortSample(table, keys, maxRows);
});

/** A read and its narrow operators fused with what consumes the partition (see FusedOutput). */
export const readFusedTask = remote(async function shoalDataReadFused(
  spec: ReadSpec,
  template: arrow.Table | null,
  mergeSchema: boolean,
  columns: string[] | null,
  ops: NarrowOp[],
  partition: number,
  out: FusedOutput,
  ...extra: (arrow.Table | arrow.Table[])[]
): Promise<arrow.Table | arrow.Table[] | number> {
  return finishFused(applyOps(await readPartition(spec, template, mergeSchema, columns), ops, partition), out, extra);
});

/** Fused narrow operators followed by what consumes the partition, in one task. */
export const mapFusedTask = remote(function shoalDataMapFused(table: arrow.Table, ops: NarrowOp[], partition: number, out: FusedOutput, ...extra: (arrow.Table | arrow.Table[])[]): arrow.Table | arrow.Table[] | number {
  return finishFused(applyOps(table, ops, partition), out, extra);
});

/** A shuffle reduce fused with what consumes its result: `numMaps` map outputs, then the extra arguments of `out`. */
export const shuffleReduceFusedTask = remote(function shoalDataShuffleReduceFused(
  spec: ShuffleReduce,
  out: FusedOutput,
  bucket: number,
  numMaps: number,
  ...args: (arrow.Table | arrow.Table[])[]
): arrow.Table | arrow.Table[] | number {
  const maps = args.slice(0, numMaps) as arrow.Table[][];
  return finishFused(
    shuffleReduce(
      maps.map((m) => m[bucket]!),
      spec,
    ),
    out,
    args.slice(numMaps),
  );
});

/** A shuffle-hash join fused with what consumes its result: `numLeft` then `numRight` map outputs, then the extra arguments of `out`. */
export const shuffleJoinFusedTask = remote(function shoalDataShuffleJoinFused(
  spec: JoinSpec,
  out: FusedOutput,
  bucket: number,
  numLeft: number,
  numRight: number,
  ...args: (arrow.Table | arrow.Table[])[]
): arrow.Table | arrow.Table[] | number {
  const pieces = (args.slice(0, numLeft + numRight) as arrow.Table[][]).map((m) => m[bucket]!);
  return joinFused(pieces.slice(0, numLeft), pieces.slice(numLeft), spec, out, args.slice(numLeft + numRight));
});

/** A broadcast join of one materialized big-side partition, fused with what consumes its result. */
export const broadcastJoinFusedTask = remote(function shoalDataBroadcastJoinFused(
  out: FusedOutput,
  big: arrow.Table,
  ...args: (arrow.Table | arrow.Table[])[]
): arrow.Table | arrow.Table[] | number {
  return finishFused(big, out, args);
});

/** Shuffle map side: one array of `n` bucket tables. */
export const shuffleMapTask = remote(function shoalDataShuffleMap(table: arrow.Table, spec: ShuffleMap, n: number, boundaries: arrow.Table | null): arrow.Table[] {
  return shuffleMap(table, spec, n, boundaries);
});

/** Shuffle reduce side: bucket `bucket` of every map output, combined. */
export const shuffleReduceTask = remote(function shoalDataShuffleReduce(spec: ShuffleReduce, bucket: number, ...mapOutputs: arrow.Table[][]): arrow.Table {
  return shuffleReduce(
    mapOutputs.map((m) => m[bucket]!),
    spec,
  );
});

export interface FileWriteSpec {
  readonly dir: string;
  readonly format: 'parquet' | 'csv';
  readonly partitionBy: string[];
  readonly partition: number;
  readonly jobId: string;
}

/** Writes one partition as files under `dir` (Hive layout with partitionBy); returns rows written. */
export const writeFilesTask = remote(async function shoalDataWriteFiles(table: arrow.Table, spec: FileWriteSpec): Promise<number> {
  const groups = spec.partitionBy.length > 0 ? splitByPartitionValues(table, spec.partitionBy) : [{ subdir: '', table }];
  const name = `part-${String(spec.partition).padStart(5, '0')}-${spec.jobId}.${spec.format}`;
  for (const g of groups) {
    const dir = g.subdir === '' ? spec.dir : join(spec.dir, g.subdir);
    await mkdir(dir, { recursive: true });
    if (spec.format === 'parquet') await writeParquetFile(join(dir, name), g.table);
    else await writeFile(join(dir, name), formatCsv(g.table));
  }
  return table.numRows;
});

/** COPYs one partition into a (staging) table; returns rows written. */
export const writePostgresTask = remote(async function shoalDataWritePostgres(table: arrow.Table, url: string, target: string): Promise<number> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await writePostgresTable(client, table, { table: target, mode: 'append', createTable: false });
    return table.numRows;
  } finally {
    await client.end().catch(() => undefined);
  }
});
