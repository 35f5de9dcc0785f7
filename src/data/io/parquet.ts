/**
 * Parquet files to and from Arrow tables through parquet-wasm (Rust arrow/parquet compiled to wasm):
 * bytes cross the wasm boundary as Arrow IPC streams.
 */
import { open, readFile, writeFile } from 'node:fs/promises';
import * as arrow from 'apache-arrow';
import * as pq from 'parquet-wasm';
import { ParquetError } from '../errors.js';
import { tableFromVectors } from '../kernels/take.js';
import { type ColumnChunkStats, type ParquetStatValue, projectFooter, readFooterStats } from './parquet-footer.js';

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
 * `ARROW:schema` (the writer's Arrow schema, base64 IPC) restricted to `keep`, so it matches a
 * projected footer; null (drop the entry) when it cannot be decoded.
 */
function projectArrowSchema(value: Uint8Array, keep: ReadonlySet<string>): Uint8Array | null {
  try {
    const schema = arrow.tableFromIPC(Buffer.from(new TextDecoder().decode(value), 'base64')).schema;
    const projected = new arrow.Schema(
      schema.fields.filter((f) => keep.has(f.name)),
      schema.metadata,
    );
    const ipc = arrow.tableToIPC(new arrow.Table(projected), 'stream');
    // The schema message alone: continuation marker, length, flatbuffer (the writer's own layout).
    const length = new DataView(ipc.buffer, ipc.byteOffset, 8).getInt32(4, true);
    return new TextEncoder().encode(Buffer.from(ipc.subarray(0, 8 + length)).toString('base64'));
  } catch {
    return null;
  }
}

interface RowGroupBytes {
  /** A buffer of the file's data size plus a (possibly rewritten) footer; only the needed column chunks are filled in. */
  readonly bytes: Uint8Array;
  /** The row groups to decode, in order. */
  readonly rowGroups: readonly number[];
  /** Every column of the file (top level), when the footer was projected; else undefined. */
  readonly fileColumns: readonly string[] | undefined;
}

/**
 * The file's bytes as parquet-wasm's reader needs them for `rowGroups` (default all) and `columns`
 * (default all): a buffer holding the footer and only those row groups' column chunks (read at their
 * offsets; the rest stays zero and is never read from disk). With `columns`, the footer is rewritten
 * to describe only those columns (projectFooter), so the reader never decodes the others: its own
 * `columns` option is ignored by the synchronous reader of parquet-wasm 0.8, and the asynchronous
 * reader, which honours it, traps outside any promise on a corrupt page (killing the process).
 */
async function readRowGroupBytes(path: string, rowGroups: readonly number[] | undefined, columns: readonly string[] | undefined): Promise<RowGroupBytes> {
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
    const dataEnd = size - footer.length;
    let groups;
    let projected;
    try {
      groups = readFooterStats(footer, new Set());
      if (columns !== undefined) {
        const keep = new Set(columns);
        projected = projectFooter(footer.subarray(0, footerLength), keep, (key, value) => (key === 'ARROW:schema' ? projectArrowSchema(value, keep) : value));
      }
    } catch (cause) {
      throw new ParquetError(`cannot decode Parquet: bad footer: ${cause instanceof Error ? cause.message : String(cause)}`, path, { cause });
    }
    const count = groups.length;
    for (const g of rowGroups ?? []) if (!Number.isInteger(g) || g < 0 || g >= count) throw new ParquetError(`no row group ${g} (the file has ${count})`, path);
    if (projected != null) {
      const names = projected.columns;
      for (const c of columns ?? []) if (!names.includes(c)) throw new ParquetError(`no column "${c}" (columns: ${names.join(', ')})`, path);
    }
    const selected = rowGroups ?? groups.map((_, i) => i);
    // Every column asked for: the file's own footer does (no rewrite).
    const everyColumn = projected != null && projected.columns.every((c) => columns!.includes(c));
    const newFooter = everyColumn ? undefined : projected?.footer;
    const bytes = new Uint8Array(dataEnd + (newFooter === undefined ? footer.length : newFooter.length + 8));
    if (newFooter === undefined) bytes.set(footer, dataEnd);
    else {
      bytes.set(newFooter, dataEnd);
      new DataView(bytes.buffer).setUint32(dataEnd + newFooter.length, newFooter.length, true);
      bytes.set(tail.subarray(4), bytes.length - 4);
    }
    const keep = projected != null && !everyColumn ? new Set(columns) : undefined;
    await Promise.all(
      selected.flatMap((g) =>
        groups[g]!.filter((c) => keep === undefined || keep.has(c.column)).map(({ byteRange: [start, end] }) => {
          if (start < 4 || end > dataEnd || end < start) throw new ParquetError(`cannot decode Parquet: row group ${g} has a column chunk at bytes [${start}, ${end}) outside the data`, path);
          return readAt(bytes.subarray(start, end), start);
        }),
      ),
    );
    return { bytes, rowGroups: selected, fileColumns: projected?.columns };
  } finally {
    await fh.close();
  }
}

/** Decodes the given row groups of `bytes` one at a time, so a failure names its row group. */
function decodeRowGroups(path: string, bytes: Uint8Array, rowGroups: readonly number[]): arrow.Table {
  const decode = (options: pq.ReaderOptions, where: string): arrow.Table => {
    try {
      return arrow.tableFromIPC(pq.readParquet(bytes, { batchSize: MAX_BATCH_ROWS, ...options }).intoIPCStream());
    } catch (cause) {
      throw new ParquetError(`cannot decode Parquet${where}: ${cause instanceof Error ? cause.message : String(cause)}`, path, { cause });
    }
  };
  if (rowGroups.length === 0) return decode({ rowGroups: [] }, '');
  const tables = rowGroups.map((g) => decode({ rowGroups: [g] }, ` row group ${g}`));
  if (tables.length === 1) return tables[0]!;
  const schema = tables[0]!.schema;
  return new arrow.Table(schema, tables.flatMap((t) => t.batches.map((b) => (b.schema === schema ? b : new arrow.RecordBatch(schema, b.data)))));
}

/**
 * Reads a Parquet file (optionally a subset of columns and row groups) into an Arrow table. Only the
 * footer and the selected row groups' chunks of the selected columns are read from disk and decoded
 * (see readRowGroupBytes). A row group that fails to decode is a ParquetError naming the file and
 * the row group.
 */
export async function readParquetFile(path: string, options: ParquetReadOptions = {}): Promise<arrow.Table> {
  const wanted = options.columns;
  // An empty projection still needs the row count: decode the file's first column only.
  let read = await readRowGroupBytes(path, options.rowGroups, wanted);
  if (wanted !== undefined && wanted.length === 0 && read.fileColumns !== undefined && read.fileColumns.length > 0) {
    read = await readRowGroupBytes(path, options.rowGroups, read.fileColumns.slice(0, 1));
  }
  const table = decodeRowGroups(path, read.bytes, read.rowGroups);
  if (wanted === undefined) return table;
  const names = read.fileColumns ?? table.schema.fields.map((f) => f.name);
  for (const c of wanted) if (!names.includes(c)) throw new ParquetError(`no column "${c}" (columns: ${names.join(', ')})`, path);
  if (wanted.length === 0) return tableFromVectors([], [], table.numRows);
  return table.select([...wanted]);
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
