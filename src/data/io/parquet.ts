/**
 * Parquet files to and from Arrow tables through parquet-wasm (Rust arrow/parquet compiled to wasm):
 * bytes cross the wasm boundary as Arrow IPC streams.
 */
import { open, readFile, writeFile } from 'node:fs/promises';
import * as arrow from 'apache-arrow';
import * as pq from 'parquet-wasm';
import { ParquetError } from '../errors.js';
import { tableFromVectors } from '../kernels/take.js';
import { type ColumnChunkStats, type ParquetStatValue, readFooterStats } from './parquet-footer.js';

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
 * The file's bytes as parquet-wasm's reader needs them for `rowGroups`: a buffer of the file's size
 * holding only the footer and those row groups' column chunks (read at their offsets); the rest stays
 * zero and is never read from disk. Whole file when `rowGroups` is undefined.
 */
async function readRowGroupBytes(path: string, rowGroups: readonly number[] | undefined): Promise<Uint8Array> {
  let fh;
  try {
    fh = await open(path, 'r');
  } catch (cause) {
    throw new ParquetError('cannot read file', path, { cause });
  }
  try {
    const size = (await fh.stat()).size;
    const readAt = async (into: Uint8Array, offset: number): Promise<void> => {
      const { bytesRead } = await fh.read(into, 0, into.length, offset);
      if (bytesRead !== into.length) throw new ParquetError(`unexpected end of file at byte ${offset + bytesRead} (size ${size})`, path);
    };
    if (size < 12) throw new ParquetError('cannot decode Parquet: not a Parquet file (too short)', path);
    const tail = new Uint8Array(8);
    await readAt(tail, size - 8);
    const footerLength = new DataView(tail.buffer).getUint32(0, true);
    if (String.fromCharCode(...tail.subarray(4)) !== 'PAR1' || footerLength + 12 > size) throw new ParquetError('cannot decode Parquet: not a Parquet file (missing PAR1 footer magic)', path);
    const footer = new Uint8Array(footerLength + 8);
    await readAt(footer, size - footer.length);
    let groups;
    try {
      groups = readFooterStats(footer, new Set());
    } catch (cause) {
      throw new ParquetError(`cannot decode Parquet: bad footer: ${cause instanceof Error ? cause.message : String(cause)}`, path, { cause });
    }
    const count = groups.length;
    if (rowGroups === undefined) {
      const bytes = new Uint8Array(size);
      await readAt(bytes, 0);
      return bytes;
    }
    for (const g of rowGroups) if (!Number.isInteger(g) || g < 0 || g >= count) throw new ParquetError(`no row group ${g} (the file has ${count})`, path);
    const bytes = new Uint8Array(size);
    bytes.set(footer, size - footer.length);
    await Promise.all(
      rowGroups.flatMap((g) =>
        groups[g]!.map(({ byteRange: [start, end] }) => {
          if (start < 4 || end > size - footer.length || end < start) throw new ParquetError(`cannot decode Parquet: row group ${g} has a column chunk at bytes [${start}, ${end}) outside the data`, path);
          return readAt(bytes.subarray(start, end), start);
        }),
      ),
    );
    return bytes;
  } finally {
    await fh.close();
  }
}

/**
 * Reads a Parquet file (optionally a subset of columns and row groups) into an Arrow table. Only the
 * footer and the selected row groups' column chunks are read from disk. (parquet-wasm's synchronous
 * reader decodes every column of those row groups and `columns` are selected afterwards: its async
 * reader would skip them, but a corrupt page makes it trap outside any promise, killing the process.)
 */
export async function readParquetFile(path: string, options: ParquetReadOptions = {}): Promise<arrow.Table> {
  const bytes = await readRowGroupBytes(path, options.rowGroups);
  let table: arrow.Table;
  try {
    const readerOptions: pq.ReaderOptions = { batchSize: MAX_BATCH_ROWS };
    if (options.rowGroups !== undefined) readerOptions.rowGroups = [...options.rowGroups];
    table = arrow.tableFromIPC(pq.readParquet(bytes, readerOptions).intoIPCStream());
  } catch (cause) {
    throw new ParquetError(`cannot decode Parquet: ${cause instanceof Error ? cause.message : String(cause)}`, path, { cause });
  }
  if (options.columns === undefined) return table;
  const names = table.schema.fields.map((f) => f.name);
  for (const c of options.columns) if (!names.includes(c)) throw new ParquetError(`no column "${c}" (columns: ${names.join(', ')})`, path);
  if (options.columns.length === 0) return tableFromVectors([], [], table.numRows);
  return table.select([...options.columns]);
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
        ...statsOnly(stats[index]?.[ci]),
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

function statsOnly(s: ColumnChunkStats | undefined): Partial<ParquetColumnChunkInfo> {
  if (s === undefined) return {};
  const { byteRange: _range, ...rest } = s;
  return rest;
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
