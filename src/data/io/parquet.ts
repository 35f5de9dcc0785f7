/**
 * Parquet files to and from Arrow tables through parquet-wasm (Rust arrow/parquet compiled to wasm):
 * bytes cross the wasm boundary as Arrow IPC streams.
 */
import { openAsBlob } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import * as arrow from 'apache-arrow';
import * as pq from 'parquet-wasm';
import { ParquetError } from '../errors.js';
import { tableFromVectors } from '../kernels/take.js';
import { type ParquetStatValue, readFooterStats } from './parquet-footer.js';

export interface ParquetReadOptions {
  /** Only these columns (by name). */
  readonly columns?: readonly string[];
  /** Only these row groups (0-based indexes), e.g. one row group per task. */
  readonly rowGroups?: readonly number[];
}

export type ParquetCompression = 'uncompressed' | 'snappy' | 'gzip' | 'zstd' | 'lz4';

export interface ParquetWriteOptions {
  /** @default 'snappy' */
  readonly compression?: ParquetCompression;
  /** Maximum rows per row group. @default 1_048_576 (the writer's default) */
  readonly maxRowGroupSize?: number;
}

export interface ParquetColumnChunkInfo {
  readonly column: string;
  /** Minimum non-null value in the chunk, when the writer recorded statistics (int64 as bigint, dates as epoch days, timestamps in the file's unit). */
  readonly min?: ParquetStatValue;
  readonly max?: ParquetStatValue;
  readonly nullCount?: number;
  readonly compressedBytes: number;
  readonly uncompressedBytes: number;
  readonly numValues: number;
}

export interface ParquetRowGroupInfo {
  readonly index: number;
  readonly numRows: number;
  readonly compressedBytes: number;
  readonly columns: readonly ParquetColumnChunkInfo[];
}

export interface ParquetMetadata {
  readonly numRows: number;
  readonly rowGroups: readonly ParquetRowGroupInfo[];
  readonly schema: arrow.Schema;
}

async function readBytes(path: string): Promise<Uint8Array> {
  try {
    return await readFile(path);
  } catch (cause) {
    throw new ParquetError('cannot read file', path, { cause });
  }
}

/** Rows per record batch decoded by parquet-wasm (its default, 1024, makes thousands of tiny batches). */
const MAX_BATCH_ROWS = 1 << 20;

/**
 * Reads a Parquet file (optionally a subset of columns and row groups) into an Arrow table. The file
 * is opened as a file-backed Blob: parquet-wasm reads the footer and then only the byte ranges of the
 * selected row groups' selected column chunks, so a task reading one row group of a large file reads
 * and decodes just that.
 */
export async function readParquetFile(path: string, options: ParquetReadOptions = {}): Promise<arrow.Table> {
  let blob: Blob;
  try {
    blob = await openAsBlob(path);
  } catch (cause) {
    throw new ParquetError('cannot read file', path, { cause });
  }
  let file: pq.ParquetFile | undefined;
  try {
    try {
      file = await pq.ParquetFile.fromFile(blob);
    } catch (cause) {
      throw new ParquetError(`cannot decode Parquet: ${cause instanceof Error ? cause.message : String(cause)}`, path, { cause });
    }
    const meta = file.metadata();
    const groups = meta.rowGroups();
    const count = groups.length;
    const selected = options.rowGroups ?? groups.map((_, i) => i);
    for (const g of selected) if (!Number.isInteger(g) || g < 0 || g >= count) throw new ParquetError(`no row group ${g} (the file has ${count})`, path);
    const rows = selected.reduce((s, g) => s + groups[g]!.numRows(), 0);
    groups.forEach((g) => g.free());
    meta.free();
    const columns = options.columns;
    if (columns !== undefined) {
      const schema = file.schema();
      const missing = columns.filter((c) => schema.indexOf(c) < 0);
      if (missing.length > 0) {
        const names = arrow.tableFromIPC(schema.intoIPCStream()).schema.fields.map((f) => f.name);
        throw new ParquetError(`no column "${missing[0]!}" (columns: ${names.join(', ')})`, path);
      }
      schema.free();
      // No column asked for: only the row count matters.
      if (columns.length === 0) return tableFromVectors([], [], rows);
    }
    let table: arrow.Table;
    try {
      const wasmTable = await file.read({ rowGroups: [...selected], batchSize: Math.max(1, Math.min(rows, MAX_BATCH_ROWS)), ...(columns !== undefined ? { columns: [...columns] } : {}) });
      table = arrow.tableFromIPC(wasmTable.intoIPCStream());
    } catch (cause) {
      throw new ParquetError(`cannot decode Parquet: ${cause instanceof Error ? cause.message : String(cause)}`, path, { cause });
    }
    return columns === undefined ? table : table.select([...columns]);
  } finally {
    file?.free();
  }
}

/**
 * Row groups with their row counts, column-chunk sizes and min/max/null-count statistics (read from the
 * footer directly, as parquet-wasm 0.8 does not expose them), and the Arrow schema. Use it to plan one
 * task per row group and to skip row groups whose ranges cannot match a filter.
 */
export async function parquetMetadata(path: string): Promise<ParquetMetadata> {
  const bytes = await readBytes(path);
  let file: pq.ParquetFile | undefined;
  try {
    file = await pq.ParquetFile.fromFile(new Blob([bytes]));
    const meta = file.metadata();
    const schema = arrow.tableFromIPC(pq.readSchema(bytes).intoIPCStream()).schema;
    const utf8 = new Set(schema.fields.filter((f) => f.type.typeId === arrow.Type.Utf8 || f.type.typeId === arrow.Type.LargeUtf8).map((f) => f.name));
    const stats = readFooterStats(bytes, utf8);
    const rowGroups: ParquetRowGroupInfo[] = meta.rowGroups().map((rg, index) => ({
      index,
      numRows: rg.numRows(),
      compressedBytes: rg.compressedSize(),
      columns: rg.columns().map((c, ci) => ({
        ...stats[index]?.[ci],
        column: c.columnPath().join('.'),
        compressedBytes: c.compressedSize(),
        uncompressedBytes: c.uncompressedSize(),
        numValues: c.numValues(),
      })),
    }));
    return { numRows: rowGroups.reduce((s, r) => s + r.numRows, 0), rowGroups, schema };
  } catch (cause) {
    throw new ParquetError(`cannot read Parquet metadata: ${cause instanceof Error ? cause.message : String(cause)}`, path, { cause });
  } finally {
    file?.free();
  }
}

const COMPRESSION: Record<ParquetCompression, pq.Compression> = {
  uncompressed: pq.Compression.UNCOMPRESSED,
  snappy: pq.Compression.SNAPPY,
  gzip: pq.Compression.GZIP,
  zstd: pq.Compression.ZSTD,
  lz4: pq.Compression.LZ4_RAW,
};

/** Encodes a table as Parquet bytes. */
export function encodeParquet(table: arrow.Table, options: ParquetWriteOptions = {}): Uint8Array {
  let builder = new pq.WriterPropertiesBuilder().setCompression(COMPRESSION[options.compression ?? 'snappy']);
  if (options.maxRowGroupSize !== undefined) builder = builder.setMaxRowGroupSize(options.maxRowGroupSize);
  const wasmTable = pq.Table.fromIPCStream(arrow.tableToIPC(table, 'stream'));
  return pq.writeParquet(wasmTable, builder.build());
}

/** Writes a table to a Parquet file. */
export async function writeParquetFile(path: string, table: arrow.Table, options: ParquetWriteOptions = {}): Promise<void> {
  let bytes: Uint8Array;
  try {
    bytes = encodeParquet(table, options);
  } catch (cause) {
    throw new ParquetError(`cannot encode Parquet: ${cause instanceof Error ? cause.message : String(cause)}`, path, { cause });
  }
  try {
    await writeFile(path, bytes);
  } catch (cause) {
    throw new ParquetError('cannot write file', path, { cause });
  }
}
