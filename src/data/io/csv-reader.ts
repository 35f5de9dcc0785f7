/**
 * Reads one CSV partition (a file or buffer) into an Arrow table. Types come from `schema` or are
 * inferred from the data (a first streaming pass over the input). Malformed records — wrong field
 * count, broken quoting, a value that does not parse as its column's type — are handled per `mode`,
 * like Spark: `failfast` throws naming the file and line, `dropMalformed` skips the record,
 * `permissive` keeps it with nulls where values are missing or unparseable (and the raw text in
 * `corruptRecordColumn` when one is configured).
 *
 * The input streams through in chunks (gunzipped on the fly): memory holds one chunk plus the
 * columns being built, never the file as one string or a JS object per record. Values are parsed
 * from the bytes straight into typed arrays (strings are copied as UTF-8 bytes; integers never go
 * through BigInt unless they need more than 53 bits).
 */
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { createGunzip, gunzipSync } from 'node:zlib';
import * as arrow from 'apache-arrow';
import { invalidOption, MalformedRecordError, SourceNotFoundError } from '../errors.js';
import { tableFromVectors } from '../kernels/take.js';
import { type ScalarTypeName, arrowTypeOf, isScalarTypeName, logicalTypeOf } from '../types/logical-type.js';
import { daysFromCivil } from '../types/temporal.js';
import { CsvSyntaxError, CsvTokenizer, DEFAULT_MAX_CSV_FIELD_BYTES, type CsvFields, type CsvRecordInfo, fieldBytes } from './csv-tokenizer.js';
import type { Source } from './read-source.js';
import { INVALID, TextTypeInferrer, parseText } from './text-values.js';

export type ReadMode = 'failfast' | 'dropMalformed' | 'permissive';

/** Column types by name, or an Arrow schema (mapped to int32/int64/float64/utf8/bool/date/timestamp). */
export type TextSchema = arrow.Schema | Readonly<Record<string, ScalarTypeName>>;

export interface CsvReadOptions {
  /** Column names and types; inferred from the data when absent. */
  readonly schema?: TextSchema;
  /** First record holds the column names. @default true */
  readonly header?: boolean;
  /** @default ',' */
  readonly delimiter?: string;
  /** @default '"' */
  readonly quote?: string;
  /** @default 'permissive' */
  readonly mode?: ReadMode;
  /** Gunzip the input; detected from a `.gz` suffix or the gzip magic bytes when absent. */
  readonly gzip?: boolean;
  /** In permissive mode, a utf8 column appended with the raw text of malformed records. */
  readonly corruptRecordColumn?: string;
  /** Name used in error messages for buffer input. @default '<buffer>' */
  readonly fileName?: string;
  /**
   * Longest field, in bytes: a longer one is malformed in every mode (the read cannot tell where the
   * next record starts — usually a closing quote is missing). @default 16 MiB (DEFAULT_MAX_CSV_FIELD_BYTES)
   */
  readonly maxFieldBytes?: number;
}

export function resolveTextSchema(schema: TextSchema): { names: string[]; types: ScalarTypeName[] } {
  if (schema instanceof arrow.Schema) {
    const names = schema.fields.map((f) => f.name);
    const types = schema.fields.map((f) => {
      const t = logicalTypeOf(f.type, f.name);
      if (!isScalarTypeName(t))
        throw invalidOption(`schema.${f.name}`, `must be a scalar type (int32, int64, float64, utf8, bool, date, timestamp); got ${String(f.type)}`);
      return t;
    });
    return { names, types };
  }
  const names = Object.keys(schema);
  const types = names.map((n) => {
    const t = schema[n];
    if (!isScalarTypeName(t))
      throw invalidOption(`schema.${n}`, `must be one of int32, int64, float64, utf8, bool, date, timestamp; got ${String(t)}`);
    return t;
  });
  return { names, types };
}

/** Bytes handed to the tokenizer at a time. */
const CHUNK_BYTES = 1 << 20;

async function isGzipFile(path: string): Promise<boolean> {
  const fh = await open(path, 'r');
  try {
    const head = new Uint8Array(2);
    const { bytesRead } = await fh.read(head, 0, 2, 0);
    return bytesRead === 2 && head[0] === 0x1f && head[1] === 0x8b;
  } finally {
    await fh.close();
  }
}

/** The input's bytes in chunks, gunzipped (by option, `.gz` suffix or magic bytes). */
async function* chunksOf(source: Source, gzip: boolean | undefined): AsyncGenerator<Uint8Array> {
  if (typeof source !== 'string') {
    const isGz = gzip ?? (source.length >= 2 && source[0] === 0x1f && source[1] === 0x8b);
    const bytes = isGz ? gunzipSync(source) : source;
    for (let i = 0; i < bytes.length; i += CHUNK_BYTES) yield bytes.subarray(i, i + CHUNK_BYTES);
    return;
  }
  const isGz = gzip ?? (source.endsWith('.gz') || (await isGzipFile(source)));
  const file = createReadStream(source, { highWaterMark: CHUNK_BYTES });
  if (!isGz) {
    for await (const c of file) yield c as Uint8Array;
    return;
  }
  const gunzip = createGunzip({ chunkSize: CHUNK_BYTES });
  file.on('error', (err) => gunzip.destroy(err));
  file.pipe(gunzip);
  try {
    for await (const c of gunzip) yield c as Uint8Array;
  } finally {
    file.destroy();
  }
}

/** A failure to read the input (not a bad record): a typed error naming the file. */
function readError(cause: unknown, file: string, line: number): Error {
  const code = (cause as { code?: unknown } | null)?.code;
  const message = cause instanceof Error ? cause.message : String(cause);
  if (typeof code === 'string' && code.startsWith('Z_'))
    return new MalformedRecordError(`the input is not valid gzip data (${message})`, file, line, undefined, { cause });
  return new SourceNotFoundError(file, message, { cause });
}

/** Runs the tokenizer over the whole input. */
async function tokenize(
  source: Source,
  file: string,
  gzip: boolean | undefined,
  delimiter: string,
  quote: string,
  maxFieldBytes: number,
  onRecord: (f: CsvFields, r: CsvRecordInfo) => void,
): Promise<void> {
  const tokenizer = new CsvTokenizer(delimiter, quote, onRecord, maxFieldBytes);
  const chunks = chunksOf(source, gzip);
  try {
    for (;;) {
      let next: IteratorResult<Uint8Array>;
      try {
        next = await chunks.next();
      } catch (cause) {
        throw readError(cause, file, tokenizer.currentLine);
      }
      if (next.done === true) break;
      tokenizer.push(next.value);
    }
    tokenizer.end();
  } catch (err) {
    // No way to tell where records resume: an error in every mode.
    if (err instanceof CsvSyntaxError) throw new MalformedRecordError(err.reason, file, err.line, undefined, { cause: err });
    throw err;
  } finally {
    // Stopped by a malformed record in failfast mode: close the file.
    await chunks.return(undefined);
  }
}

const decoder = new TextDecoder('utf-8');

function text(b: Uint8Array): string {
  if (b.length <= 32) {
    let ascii = true;
    for (let i = 0; i < b.length; i++) if (b[i]! >= 0x80) ascii = false;
    if (ascii) return String.fromCharCode.apply(null, b as unknown as number[]);
  }
  return decoder.decode(b);
}

const isBlank = (b: number): boolean => b === 32 || b === 9 || b === 10 || b === 13 || b === 11 || b === 12;
const POW10 = Array.from({ length: 23 }, (_, i) => 10 ** i);

/**
 * The common ASCII forms parsed straight from bytes: integers of up to 15 digits and decimals with up
 * to 15 digits and a small exponent (exact: one correctly rounded IEEE operation on exact operands);
 * a longer well-formed decimal goes to Number. NaN when the fast path does not apply; the caller then
 * parses the text with parseText's rules.
 */
function fastNumber(buf: Uint8Array, s: number, e: number, integer: boolean): number {
  while (s < e && isBlank(buf[s]!)) s++;
  while (e > s && isBlank(buf[e - 1]!)) e--;
  let i = s;
  let neg = false;
  if (i < e && (buf[i] === 45 || buf[i] === 43)) neg = buf[i++] === 45;
  let m = 0;
  let digits = 0;
  let scale = 0;
  while (i < e) {
    const d = buf[i]! - 48;
    if (d < 0 || d > 9) break;
    m = m * 10 + d;
    digits++;
    i++;
  }
  if (!integer && i < e && buf[i] === 46) {
    i++;
    while (i < e) {
      const d = buf[i]! - 48;
      if (d < 0 || d > 9) break;
      m = m * 10 + d;
      digits++;
      scale--;
      i++;
    }
  }
  if (!integer && i < e && (buf[i] === 101 || buf[i] === 69)) {
    i++;
    let eneg = false;
    if (i < e && (buf[i] === 45 || buf[i] === 43)) eneg = buf[i++] === 45;
    let x = 0;
    let xd = 0;
    while (i < e) {
      const d = buf[i]! - 48;
      if (d < 0 || d > 9) break;
      x = x * 10 + d;
      xd++;
      i++;
    }
    if (xd === 0 || xd > 3) return NaN;
    scale += eneg ? -x : x;
  }
  if (i !== e || digits === 0) return NaN;
  if (digits > 15) {
    // Well-formed but too many digits for one exact operation: let Number round the text (ASCII).
    return integer ? NaN : Number(String.fromCharCode.apply(null, buf.subarray(s, e) as unknown as number[]));
  }
  let v = m;
  if (scale < 0) {
    if (scale < -22) return NaN;
    v = m / POW10[-scale]!;
  } else if (scale > 0) {
    if (scale > 22) return NaN;
    v = m * POW10[scale]!;
  }
  return neg ? -v : v;
}

/** 'YYYY-MM-DD' exactly (the common form) to epoch days; NaN otherwise (then parseDate decides). */
function fastDate(buf: Uint8Array, s: number, e: number): number {
  if (e - s !== 10 || buf[s + 4] !== 45 || buf[s + 7] !== 45) return NaN;
  let y = 0;
  for (let i = s; i < s + 4; i++) {
    const d = buf[i]! - 48;
    if (d < 0 || d > 9) return NaN;
    y = y * 10 + d;
  }
  const d1 = buf[s + 5]! - 48;
  const d2 = buf[s + 6]! - 48;
  const d3 = buf[s + 8]! - 48;
  const d4 = buf[s + 9]! - 48;
  if (d1 < 0 || d1 > 9 || d2 < 0 || d2 > 9 || d3 < 0 || d3 > 9 || d4 < 0 || d4 > 9) return NaN;
  const mo = d1 * 10 + d2;
  const d = d3 * 10 + d4;
  const leap = (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
  const dim = mo === 2 ? (leap ? 29 : 28) : mo === 4 || mo === 6 || mo === 9 || mo === 11 ? 30 : 31;
  if (mo < 1 || mo > 12 || d < 1 || d > dim) return NaN;
  return daysFromCivil(y, mo, d);
}

const TWO_32 = 4294967296;

/** One output column: values parsed into a typed array, a byte per row for validity. */
class ColumnBuilder {
  length = 0;
  private nulls = 0;
  private valid = new Uint8Array(1024);
  /** int32/date: Int32Array; float64: Float64Array; int64/timestamp: Int32Array word pairs; bool: Uint8Array. */
  private values: Int32Array | Float64Array | Uint8Array;
  private offsets: Int32Array;
  private bytes: Uint8Array;
  private byteLength = 0;
  /** The value parsed by `check` for the current record. */
  private num = 0;
  private big: bigint | undefined;

  constructor(readonly type: ScalarTypeName) {
    this.values =
      type === 'float64'
        ? new Float64Array(1024)
        : type === 'bool'
          ? new Uint8Array(1024)
          : type === 'int64' || type === 'timestamp'
            ? new Int32Array(2048)
            : new Int32Array(1024);
    this.offsets = new Int32Array(type === 'utf8' ? 1025 : 0);
    this.bytes = new Uint8Array(type === 'utf8' ? 1 << 16 : 0);
  }

  /** Parses field `i` of the record; false when it is not a valid value of the type. */
  check(f: CsvFields, i: number, quote: number): boolean {
    const type = this.type;
    if (type === 'utf8') return true;
    const s = f.starts[i]!;
    const e = f.ends[i]!;
    if (f.kinds[i] === 0) {
      if (type === 'int32' || type === 'int64' || type === 'float64') {
        const v = fastNumber(f.buf, s, e, type !== 'float64');
        if (v === v && (type !== 'int32' || (v >= -2147483648 && v <= 2147483647))) {
          this.num = v;
          this.big = undefined;
          return true;
        }
      } else if (type === 'date') {
        const v = fastDate(f.buf, s, e);
        if (v === v) {
          this.num = v;
          return true;
        }
      }
    }
    const p = parseText(type, text(fieldBytes(f, i, quote)));
    if (p === INVALID) return false;
    if (typeof p === 'bigint') {
      this.big = p;
      this.num = Number(p);
    } else {
      this.big = undefined;
      this.num = typeof p === 'boolean' ? (p ? 1 : 0) : (p as number);
    }
    return true;
  }

  private grow(): void {
    const cap = this.valid.length * 2;
    const valid = new Uint8Array(cap);
    valid.set(this.valid);
    this.valid = valid;
    const per = this.type === 'int64' || this.type === 'timestamp' ? 2 : 1;
    const values = new (this.values.constructor as Int32ArrayConstructor)(cap * per) as Int32Array | Float64Array | Uint8Array;
    values.set(this.values as never);
    this.values = values;
    if (this.type === 'utf8') {
      const offsets = new Int32Array(cap + 1);
      offsets.set(this.offsets);
      this.offsets = offsets;
    }
  }

  /** Appends the value `check` parsed (or, for utf8, field `i`'s bytes). */
  append(f: CsvFields, i: number, quote: number): void {
    if (this.length === this.valid.length) this.grow();
    const row = this.length++;
    this.valid[row] = 1;
    switch (this.type) {
      case 'utf8': {
        const escaped = f.kinds[i] === 2;
        const b = escaped ? fieldBytes(f, i, quote) : f.buf;
        const s = escaped ? 0 : f.starts[i]!;
        const len = (escaped ? b.length : f.ends[i]!) - s;
        if (this.byteLength + len > this.bytes.length) {
          const next = new Uint8Array(Math.max(this.bytes.length * 2, this.byteLength + len));
          next.set(this.bytes.subarray(0, this.byteLength));
          this.bytes = next;
        }
        // A short value is copied byte by byte: cheaper than a subarray view per value.
        const out = this.bytes;
        const at = this.byteLength;
        if (len <= 64) for (let k = 0; k < len; k++) out[at + k] = b[s + k]!;
        else out.set(b.subarray(s, s + len), at);
        this.byteLength += len;
        this.offsets[row + 1] = this.byteLength;
        return;
      }
      case 'int64':
      case 'timestamp': {
        const words = this.values as Int32Array;
        if (this.big !== undefined) {
          words[2 * row] = Number(BigInt.asIntN(32, this.big));
          words[2 * row + 1] = Number(BigInt.asIntN(32, this.big >> 32n));
        } else {
          const v = this.num;
          const hi = Math.floor(v / TWO_32);
          words[2 * row] = (v - hi * TWO_32) | 0;
          words[2 * row + 1] = hi | 0;
        }
        return;
      }
      default:
        this.values[row] = this.num;
    }
  }

  appendNull(): void {
    if (this.length === this.valid.length) this.grow();
    const row = this.length++;
    this.valid[row] = 0;
    this.nulls++;
    if (this.type === 'utf8') this.offsets[row + 1] = this.byteLength;
  }

  finish(): arrow.Vector {
    const length = this.length;
    const nullCount = this.nulls;
    let nullBitmap = new Uint8Array(0);
    if (nullCount > 0) {
      nullBitmap = new Uint8Array(((length + 63) >> 6) << 3);
      for (let i = 0; i < length; i++) if (this.valid[i] === 1) nullBitmap[i >> 3]! |= 1 << (i & 7);
    }
    const type = arrowTypeOf(this.type);
    switch (this.type) {
      case 'utf8':
        return new arrow.Vector([
          arrow.makeData({
            type: type as arrow.Utf8,
            length,
            nullCount,
            nullBitmap,
            valueOffsets: this.offsets.slice(0, length + 1),
            data: this.bytes.slice(0, this.byteLength),
          }),
        ]);
      case 'int64':
      case 'timestamp': {
        const data = new BigInt64Array((this.values as Int32Array).buffer.slice(0, length * 8));
        return new arrow.Vector([arrow.makeData({ type: type as arrow.Int64, length, nullCount, nullBitmap, data })]);
      }
      case 'bool': {
        const src = this.values as Uint8Array;
        const data = new Uint8Array(((length + 63) >> 6) << 3);
        for (let i = 0; i < length; i++) if (src[i] === 1) data[i >> 3]! |= 1 << (i & 7);
        return new arrow.Vector([arrow.makeData({ type: type as arrow.Bool, length, nullCount, nullBitmap, data })]);
      }
      case 'float64':
        return new arrow.Vector([
          arrow.makeData({
            type: type as arrow.Float64,
            length,
            nullCount,
            nullBitmap,
            data: (this.values as Float64Array).slice(0, length),
          }),
        ]);
      default:
        return new arrow.Vector([
          arrow.makeData({ type: type as arrow.Int32, length, nullCount, nullBitmap, data: (this.values as Int32Array).slice(0, length) }),
        ]);
    }
  }
}

interface CompiledCsvOptions {
  readonly delimiter: string;
  readonly quote: string;
  readonly mode: ReadMode;
  readonly header: boolean;
  readonly maxFieldBytes: number;
}

function compileCsvOptions(options: CsvReadOptions): CompiledCsvOptions {
  const delimiter = options.delimiter ?? ',';
  const quote = options.quote ?? '"';
  const mode = options.mode ?? 'permissive';
  if (delimiter.length !== 1)
    throw invalidOption('options.delimiter', `must be a single character; got ${JSON.stringify(delimiter)}`);
  if (quote.length !== 1) throw invalidOption('options.quote', `must be a single character; got ${JSON.stringify(quote)}`);
  if (!['failfast', 'dropMalformed', 'permissive'].includes(mode))
    throw invalidOption('options.mode', `must be failfast, dropMalformed or permissive; got ${String(mode)}`);
  const maxFieldBytes = options.maxFieldBytes ?? DEFAULT_MAX_CSV_FIELD_BYTES;
  if (!Number.isInteger(maxFieldBytes) || maxFieldBytes < 1) throw invalidOption('options.maxFieldBytes', `must be a positive integer; got ${String(maxFieldBytes)}`);
  return { delimiter, quote, mode, header: options.header ?? true, maxFieldBytes };
}

const fileNameOf = (source: Source, options: CsvReadOptions): string =>
  options.fileName ?? (typeof source === 'string' ? source : '<buffer>');

/** The record's text as it appears in the input (line break excluded). */
function recordText(f: CsvFields, r: CsvRecordInfo): string {
  return decoder.decode(f.buf.subarray(r.start, r.end)).replace(/\r?\n$/, '');
}

/**
 * Column names and types of a CSV input, inferred from every value (one streaming pass): int32 →
 * int64 → float64, bool, date, timestamp, else utf8. Structurally malformed records count for
 * inference except in dropMalformed mode; in failfast mode they throw.
 */
export async function inferCsvSchema(source: Source, options: CsvReadOptions = {}): Promise<{ names: string[]; types: ScalarTypeName[] }> {
  const o = compileCsvOptions(options);
  const file = fileNameOf(source, options);
  const Q = o.quote.charCodeAt(0);
  let names: string[] | undefined;
  let width = -1;
  let inferrers: TextTypeInferrer[] = [];
  let first = true;
  await tokenize(source, file, options.gzip, o.delimiter, o.quote, o.maxFieldBytes, (f, r) => {
    if (first) {
      first = false;
      if (o.header) {
        names = Array.from({ length: f.count }, (_, i) =>
          f.kinds[i] === 0 && f.starts[i] === f.ends[i] ? `_c${i}` : text(fieldBytes(f, i, Q)),
        );
        width = names.length;
        inferrers = names.map(() => new TextTypeInferrer());
        return;
      }
    }
    if (width < 0) {
      width = f.count;
      inferrers = Array.from({ length: width }, () => new TextTypeInferrer());
    }
    const nul = hasNul(f, r);
    const bad = r.error !== undefined || f.count !== width || nul;
    if (bad) {
      if (o.mode === 'failfast') throw new MalformedRecordError(r.error ?? (f.count !== width ? `expected ${width} fields but found ${f.count}` : NUL_REASON), file, r.line);
      if (o.mode === 'dropMalformed') return;
    }
    const n = Math.min(width, f.count);
    for (let c = 0; c < n; c++) {
      if (f.kinds[c] === 0 && f.starts[c] === f.ends[c]) continue;
      // A value with a NUL byte is binary garbage, not evidence that the column is text.
      if (nul && f.buf.subarray(f.starts[c], f.ends[c]).includes(0)) continue;
      inferrers[c]!.add(text(fieldBytes(f, c, Q)));
    }
  });
  if (width < 0) width = 0;
  return { names: names ?? Array.from({ length: width }, (_, i) => `_c${i}`), types: inferrers.map((x) => x.result()) };
}

export async function readCsvPartition(source: Source, options: CsvReadOptions = {}): Promise<arrow.Table> {
  const o = compileCsvOptions(options);
  const file = fileNameOf(source, options);
  const { names, types } = options.schema !== undefined ? resolveTextSchema(options.schema) : await inferCsvSchema(source, options);
  const width = names.length;
  const Q = o.quote.charCodeAt(0);
  const columns = types.map((t) => new ColumnBuilder(t));
  const corruptColumn = options.corruptRecordColumn !== undefined && o.mode === 'permissive' ? new ColumnBuilder('utf8') : undefined;
  const corruptText = new TextEncoder();
  const ok = new Uint8Array(width);
  let headerPending = o.header;
  let rows = 0;
  let ragged = 0;
  let firstRagged = '';
  await tokenize(source, file, options.gzip, o.delimiter, o.quote, o.maxFieldBytes, (f, r) => {
    if (headerPending) {
      headerPending = false;
      return;
    }
    let bad = false;
    const nul = hasNul(f, r);
    if (r.error !== undefined || f.count !== width || nul) {
      if (o.mode === 'failfast') throw new MalformedRecordError(r.error ?? (f.count !== width ? `expected ${width} fields but found ${f.count}` : NUL_REASON), file, r.line);
      if (o.mode === 'dropMalformed') return;
      bad = true;
      if (r.error === undefined && f.count !== width) {
        if (ragged++ === 0) firstRagged = `line ${r.line}: expected ${width} fields but found ${f.count}`;
      }
    }
    const n = Math.min(width, f.count);
    // Parse every value first, so a dropped record leaves nothing behind.
    for (let c = 0; c < n; c++) {
      if (f.kinds[c] === 0 && f.starts[c] === f.ends[c]) {
        ok[c] = 0;
        continue;
      }
      if (columns[c]!.check(f, c, Q)) {
        ok[c] = 1;
        continue;
      }
      ok[c] = 0;
      if (o.mode === 'failfast') {
        const v = text(fieldBytes(f, c, Q));
        throw new MalformedRecordError(
          `value ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v)} is not a valid ${types[c]}`,
          file,
          r.line,
          names[c],
        );
      }
      if (o.mode === 'dropMalformed') return;
      bad = true;
    }
    rows++;
    for (let c = 0; c < width; c++) {
      const col = columns[c]!;
      if (c < n && ok[c] === 1) col.append(f, c, Q);
      else col.appendNull();
    }
    if (corruptColumn !== undefined) {
      if (bad) {
        const raw = corruptText.encode(recordText(f, r));
        corruptColumn.append(
          { buf: raw, count: 1, starts: Int32Array.of(0), ends: Int32Array.of(raw.length), kinds: Uint8Array.of(0) },
          0,
          Q,
        );
      } else corruptColumn.appendNull();
    }
  });
  const fields: arrow.Field[] = [];
  const vectors: arrow.Vector[] = [];
  names.forEach((n, c) => {
    const v = columns[c]!.finish();
    fields.push(new arrow.Field(n, v.type as arrow.DataType, true));
    vectors.push(v);
  });
  if (corruptColumn !== undefined) {
    const v = corruptColumn.finish();
    fields.push(new arrow.Field(options.corruptRecordColumn!, v.type as arrow.DataType, true));
    vectors.push(v);
  }
  const table = tableFromVectors(fields, vectors, rows);
  if (ragged === 0) return table;
  // Padded with nulls or truncated (permissive): counted, and said where, in the schema's metadata.
  const note = `${file}: ${ragged} record${ragged === 1 ? '' : 's'} with a wrong number of fields padded with nulls or truncated (first: ${firstRagged}); mode 'failfast' fails on them, 'dropMalformed' drops them`;
  return withMetadata(table, { [RAGGED_RECORDS_KEY]: String(ragged), [READ_NOTES_KEY]: note });
}

/** Schema metadata of a CSV partition: how many records had a wrong field count (permissive mode). */
export const RAGGED_RECORDS_KEY = 'shoal.csv.ragged_records';
/** Schema metadata: what a reader did silently (one line), surfaced by Dataset.lastExecution(). */
export const READ_NOTES_KEY = 'shoal.read_notes';

const NUL_REASON = 'a NUL byte (0x00) in the record';

/** True when the record's bytes hold a NUL (one native scan per record). */
function hasNul(f: CsvFields, r: CsvRecordInfo): boolean {
  return f.buf.subarray(r.start, r.end).includes(0);
}

function withMetadata(table: arrow.Table, meta: Record<string, string>): arrow.Table {
  const metadata = new Map([...table.schema.metadata, ...Object.entries(meta)]);
  const schema = new arrow.Schema(table.schema.fields, metadata);
  return new arrow.Table(schema, table.batches.map((b) => new arrow.RecordBatch(schema, b.data)));
}
