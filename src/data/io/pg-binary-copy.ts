/**
 * Decodes PostgreSQL's binary COPY stream (`COPY … TO STDOUT (FORMAT binary)`) straight into Arrow
 * column buffers: big-endian integers and floats are read with a DataView into typed arrays, text
 * bytes are copied into the Utf8 data buffer without ever becoming JS strings, and every
 * `batchRows` rows the buffers are handed to Arrow as one RecordBatch (no further copy). Chunks
 * arrive at arbitrary byte boundaries; a tuple split across chunks waits until enough bytes are
 * buffered to finish it, so memory stays bounded by one batch plus one tuple.
 *
 * Wire format: an 11-byte signature, int32 flags, int32 header-extension length and the extension;
 * then per tuple an int16 field count and per field an int32 byte length (-1 = NULL) and the bytes;
 * an int16 -1 ends the data.
 */
import * as arrow from 'apache-arrow';
import { PostgresError } from '../errors.js';
import { arrowTypeOf } from '../types/logical-type.js';
import type { PgBinaryKind, PgColumnRead } from './pg-types.js';

const SIGNATURE = [0x50, 0x47, 0x43, 0x4f, 0x50, 0x59, 0x0a, 0xff, 0x0d, 0x0a, 0x00];
const HEADER_BYTES = 19;
/** Days from 1970-01-01 to PostgreSQL's epoch 2000-01-01. */
const PG_EPOCH_DAYS = 10_957;
const PG_EPOCH_MS = PG_EPOCH_DAYS * 86_400_000;
const TWO_32 = 4_294_967_296;
const INITIAL_CAPACITY = 1024;

const bitmapBytes = (n: number): number => ((n + 63) >> 6) << 3;

/** Grows a typed array to at least `n` elements (doubling), keeping its contents. */
function grown<T extends Int32Array | Float64Array | Uint8Array>(a: T, n: number): T {
  if (a.length >= n) return a;
  let size = Math.max(a.length * 2, 16);
  while (size < n) size *= 2;
  const b = new (a.constructor as new (n: number) => T)(size);
  b.set(a);
  return b;
}

/** Appends values of one column (or of the elements of a list column) and hands them over as arrow.Data. */
abstract class ColumnBuilder {
  length = 0;
  nullCount = 0;
  protected valid: Uint8Array;
  protected capacity: number;

  constructor(capacity: number) {
    this.capacity = capacity;
    this.valid = new Uint8Array(bitmapBytes(capacity));
  }

  appendNull(): void {
    if (this.length === this.capacity) this.grow();
    this.nullAt(this.length);
    this.nullCount++;
    this.length++;
  }

  /** Decodes one non-null value of `len` bytes at `off`. */
  append(view: DataView, bytes: Uint8Array, off: number, len: number): void {
    if (this.length === this.capacity) this.grow();
    const i = this.length;
    if (this.decode(view, bytes, off, len, i)) this.valid[i >> 3]! |= 1 << (i & 7);
    else {
      this.nullAt(i);
      this.nullCount++;
    }
    this.length++;
  }

  /** The built data; the builder starts over with fresh buffers. */
  finish(): arrow.Data {
    const data = this.build(this.length, this.nullCount, this.nullCount === 0 ? new Uint8Array(0) : this.valid.subarray(0, bitmapBytes(this.length)));
    this.length = 0;
    this.nullCount = 0;
    this.valid = new Uint8Array(bitmapBytes(this.capacity));
    this.reset();
    return data;
  }

  private grow(): void {
    this.capacity *= 2;
    this.valid = grown(this.valid, bitmapBytes(this.capacity));
    this.resize();
  }

  /** Writes row `i`; false makes it null (e.g. an infinite date). */
  protected abstract decode(view: DataView, bytes: Uint8Array, off: number, len: number, i: number): boolean;
  /** Fills row `i` of a null (offsets of variable-width columns). */
  protected nullAt(_i: number): void {}
  protected abstract resize(): void;
  protected abstract reset(): void;
  protected abstract build(length: number, nullCount: number, nullBitmap: Uint8Array): arrow.Data;
}

class Int32Builder extends ColumnBuilder {
  private data: Int32Array;
  constructor(
    capacity: number,
    private readonly kind: 'int2' | 'int4' | 'date',
  ) {
    super(capacity);
    this.data = new Int32Array(capacity);
  }
  protected decode(view: DataView, _b: Uint8Array, off: number, _len: number, i: number): boolean {
    if (this.kind === 'int4') this.data[i] = view.getInt32(off);
    else if (this.kind === 'int2') this.data[i] = view.getInt16(off);
    else {
      const d = view.getInt32(off);
      // ±infinity dates have no Arrow value: null, as the text reader did.
      if (d === 0x7fffffff || d === -0x80000000) return false;
      this.data[i] = d + PG_EPOCH_DAYS;
    }
    return true;
  }
  protected resize(): void {
    this.data = grown(this.data, this.capacity);
  }
  protected reset(): void {
    this.data = new Int32Array(this.capacity);
  }
  protected build(length: number, nullCount: number, nullBitmap: Uint8Array): arrow.Data {
    const data = this.data.subarray(0, length);
    if (this.kind === 'date') return arrow.makeData({ type: new arrow.DateDay(), length, nullCount, nullBitmap, data });
    return arrow.makeData({ type: new arrow.Int32(), length, nullCount, nullBitmap, data });
  }
}

class Float64Builder extends ColumnBuilder {
  private data: Float64Array;
  constructor(
    capacity: number,
    private readonly kind: 'float4' | 'float8' | 'int8',
  ) {
    super(capacity);
    this.data = new Float64Array(capacity);
  }
  protected decode(view: DataView, _b: Uint8Array, off: number, _len: number, i: number): boolean {
    if (this.kind === 'float8') this.data[i] = view.getFloat64(off);
    else if (this.kind === 'float4') this.data[i] = view.getFloat32(off);
    else this.data[i] = view.getInt32(off) * TWO_32 + view.getUint32(off + 4);
    return true;
  }
  protected resize(): void {
    this.data = grown(this.data, this.capacity);
  }
  protected reset(): void {
    this.data = new Float64Array(this.capacity);
  }
  protected build(length: number, nullCount: number, nullBitmap: Uint8Array): arrow.Data {
    return arrow.makeData({ type: new arrow.Float64(), length, nullCount, nullBitmap, data: this.data.subarray(0, length) });
  }
}

/** int8, oid and timestamps, written as two little-endian 32-bit words per value (no BigInt per row). */
class Int64Builder extends ColumnBuilder {
  private words: Int32Array;
  constructor(
    capacity: number,
    private readonly kind: 'int8' | 'oid' | 'timestamp',
  ) {
    super(capacity);
    this.words = new Int32Array(2 * capacity);
  }
  protected decode(view: DataView, _b: Uint8Array, off: number, _len: number, i: number): boolean {
    const w = this.words;
    if (this.kind === 'int8') {
      w[2 * i] = view.getInt32(off + 4);
      w[2 * i + 1] = view.getInt32(off);
    } else if (this.kind === 'oid') {
      w[2 * i] = view.getInt32(off);
      w[2 * i + 1] = 0;
    } else {
      // Microseconds since 2000-01-01 → milliseconds since 1970 (floored), exactly: us = hi·2^32 + lo
      // = hi·4294967·1000 + (hi·296 + lo), and both parts stay below 2^53.
      const hi = view.getInt32(off);
      const lo = view.getUint32(off + 4);
      if ((hi === 0x7fffffff && lo === 0xffffffff) || (hi === -0x80000000 && lo === 0)) return false;
      const ms = hi * 4_294_967 + Math.floor((hi * 296 + lo) / 1000) + PG_EPOCH_MS;
      const h = Math.floor(ms / TWO_32);
      w[2 * i] = ms - h * TWO_32;
      w[2 * i + 1] = h;
    }
    return true;
  }
  protected resize(): void {
    this.words = grown(this.words, 2 * this.capacity);
  }
  protected reset(): void {
    this.words = new Int32Array(2 * this.capacity);
  }
  protected build(length: number, nullCount: number, nullBitmap: Uint8Array): arrow.Data {
    const data = new BigInt64Array(this.words.buffer, 0, length);
    if (this.kind === 'timestamp') return arrow.makeData({ type: new arrow.TimestampMillisecond(), length, nullCount, nullBitmap, data });
    return arrow.makeData({ type: new arrow.Int64(), length, nullCount, nullBitmap, data });
  }
}

class BoolBuilder extends ColumnBuilder {
  private bits: Uint8Array;
  constructor(capacity: number) {
    super(capacity);
    this.bits = new Uint8Array(bitmapBytes(capacity));
  }
  protected decode(_v: DataView, bytes: Uint8Array, off: number, _len: number, i: number): boolean {
    if (bytes[off] !== 0) this.bits[i >> 3]! |= 1 << (i & 7);
    return true;
  }
  protected resize(): void {
    this.bits = grown(this.bits, bitmapBytes(this.capacity));
  }
  protected reset(): void {
    this.bits = new Uint8Array(bitmapBytes(this.capacity));
  }
  protected build(length: number, nullCount: number, nullBitmap: Uint8Array): arrow.Data {
    return arrow.makeData({ type: new arrow.Bool(), length, nullCount, nullBitmap, data: this.bits.subarray(0, bitmapBytes(length)) });
  }
}

/** text-like types: the UTF-8 bytes as sent (client_encoding is UTF8); jsonb after its version byte. */
class Utf8Builder extends ColumnBuilder {
  private offsets: Int32Array;
  private bytes: Uint8Array;
  private end = 0;
  constructor(
    capacity: number,
    private readonly jsonb: boolean,
  ) {
    super(capacity);
    this.offsets = new Int32Array(capacity + 1);
    this.bytes = new Uint8Array(capacity * 16);
  }
  protected decode(_v: DataView, src: Uint8Array, off: number, len: number, i: number): boolean {
    if (this.jsonb) {
      if (src[off] !== 1) throw new PostgresError(`unsupported jsonb binary format version ${src[off]}`, undefined);
      off++;
      len--;
    }
    const at = this.end;
    if (at + len > this.bytes.length) this.bytes = grown(this.bytes, at + len);
    const dst = this.bytes;
    if (len <= 32) for (let j = 0; j < len; j++) dst[at + j] = src[off + j]!;
    else dst.set(src.subarray(off, off + len), at);
    this.end = at + len;
    this.offsets[i + 1] = this.end;
    return true;
  }
  protected override nullAt(i: number): void {
    this.offsets[i + 1] = this.end;
  }
  protected resize(): void {
    this.offsets = grown(this.offsets, this.capacity + 1);
  }
  protected reset(): void {
    this.offsets = new Int32Array(this.capacity + 1);
    this.bytes = new Uint8Array(Math.max(this.end, this.capacity * 16));
    this.end = 0;
  }
  protected build(length: number, nullCount: number, nullBitmap: Uint8Array): arrow.Data {
    return arrow.makeData({ type: new arrow.Utf8(), length, nullCount, nullBitmap, valueOffsets: this.offsets.subarray(0, length + 1), data: this.bytes.subarray(0, this.end) });
  }
}

/** Arrays: header (ndim, has-null flag, element OID, then size and lower bound per dimension), then elements. */
class ListBuilder extends ColumnBuilder {
  private offsets: Int32Array;
  constructor(
    capacity: number,
    private readonly type: arrow.List,
    private readonly child: ColumnBuilder,
  ) {
    super(capacity);
    this.offsets = new Int32Array(capacity + 1);
  }
  protected decode(view: DataView, bytes: Uint8Array, off: number, len: number, i: number): boolean {
    const end = off + len;
    const ndim = view.getInt32(off);
    let p = off + 12;
    let count = ndim === 0 ? 0 : 1;
    for (let d = 0; d < ndim; d++, p += 8) count *= view.getInt32(p);
    for (let k = 0; k < count; k++) {
      const n = view.getInt32(p);
      p += 4;
      if (n < 0) this.child.appendNull();
      else {
        if (p + n > end) throw new PostgresError('malformed binary COPY data: an array element runs past its value', undefined);
        this.child.append(view, bytes, p, n);
        p += n;
      }
    }
    this.offsets[i + 1] = this.child.length;
    return true;
  }
  protected override nullAt(i: number): void {
    this.offsets[i + 1] = this.child.length;
  }
  protected resize(): void {
    this.offsets = grown(this.offsets, this.capacity + 1);
  }
  protected reset(): void {
    this.offsets = new Int32Array(this.capacity + 1);
  }
  protected build(length: number, nullCount: number, nullBitmap: Uint8Array): arrow.Data {
    const child = this.child.finish();
    return arrow.makeData({ type: this.type, length, nullCount, nullBitmap, valueOffsets: this.offsets.subarray(0, length + 1), child });
  }
}

function scalarBuilder(kind: PgBinaryKind, float64Int8: boolean, capacity: number): ColumnBuilder {
  switch (kind) {
    case 'bool':
      return new BoolBuilder(capacity);
    case 'int2':
    case 'int4':
    case 'date':
      return new Int32Builder(capacity, kind);
    case 'int8':
      return float64Int8 ? new Float64Builder(capacity, 'int8') : new Int64Builder(capacity, 'int8');
    case 'oid':
    case 'timestamp':
      return new Int64Builder(capacity, kind);
    case 'float4':
    case 'float8':
      return new Float64Builder(capacity, kind);
    case 'text':
    case 'jsonb':
      return new Utf8Builder(capacity, kind === 'jsonb');
  }
}

function columnBuilder(read: PgColumnRead, capacity: number): ColumnBuilder {
  if (!read.list) return scalarBuilder(read.kind, read.type === 'float64', capacity);
  const elem = typeof read.type === 'object' ? read.type.list : read.type;
  return new ListBuilder(capacity, arrowTypeOf(read.type) as arrow.List, scalarBuilder(read.kind, elem === 'float64', capacity));
}

/**
 * Push binary COPY chunks in order with `push`; complete batches of `batchRows` rows come back from
 * `push` and the last (possibly empty) one from `end`. Errors are PostgresErrors naming `sql`.
 */
export class BinaryCopyDecoder {
  private readonly builders: ColumnBuilder[];
  private readonly schema: arrow.Schema;
  private readonly fieldStart: Int32Array;
  private readonly fieldLength: Int32Array;
  private headerDone = false;
  private trailerSeen = false;
  private pending: Uint8Array[] = [];
  private pendingBytes = 0;
  /** Bytes the pending tuple needs before parsing can make progress. */
  private need = 0;
  private rows = 0;
  private batchLength = 0;

  constructor(
    names: readonly string[],
    reads: readonly PgColumnRead[],
    private readonly batchRows: number,
    private readonly sql: string,
  ) {
    const capacity = Math.min(batchRows, INITIAL_CAPACITY * 64);
    this.builders = reads.map((r) => columnBuilder(r, capacity));
    this.schema = new arrow.Schema(names.map((n, i) => new arrow.Field(n, arrowTypeOf(reads[i]!.type), true)));
    this.fieldStart = new Int32Array(reads.length);
    this.fieldLength = new Int32Array(reads.length);
  }

  /** Decodes a chunk; returns the batches it completed. */
  push(chunk: Uint8Array): arrow.RecordBatch[] {
    const out: arrow.RecordBatch[] = [];
    if (this.trailerSeen) {
      if (chunk.length > 0) this.fail('data after the end-of-data marker');
      return out;
    }
    if (this.pending.length === 0) {
      this.parse(chunk, out);
      return out;
    }
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    if (this.pendingBytes < this.need) return out;
    const joined = new Uint8Array(this.pendingBytes);
    let at = 0;
    for (const p of this.pending) {
      joined.set(p, at);
      at += p.length;
    }
    this.pending = [];
    this.pendingBytes = 0;
    this.parse(joined, out);
    return out;
  }

  /** The last batch (all rows not yet returned; empty when the result had none). */
  end(): arrow.RecordBatch {
    if (!this.trailerSeen) this.fail(this.pendingBytes > 0 || !this.headerDone ? 'the stream ended inside a tuple' : 'the stream ended without the end-of-data marker');
    return this.batch();
  }

  private fail(what: string): never {
    throw new PostgresError(`malformed binary COPY data after ${this.rows} rows: ${what} (in: ${this.sql.slice(0, 200)})`, this.sql);
  }

  private batch(): arrow.RecordBatch {
    const children = this.builders.map((b) => b.finish());
    const length = this.batchLength;
    this.batchLength = 0;
    return new arrow.RecordBatch(this.schema, arrow.makeData({ type: new arrow.Struct(this.schema.fields), length, nullCount: 0, children }));
  }

  private parse(buf: Uint8Array, out: arrow.RecordBatch[]): void {
    const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    const n = buf.length;
    const ncols = this.builders.length;
    const starts = this.fieldStart;
    const lengths = this.fieldLength;
    let pos = 0;
    if (!this.headerDone) {
      if (n < HEADER_BYTES) return this.keep(buf, 0, HEADER_BYTES);
      for (let i = 0; i < SIGNATURE.length; i++) if (buf[i] !== SIGNATURE[i]) this.fail('bad file signature');
      const headerEnd = HEADER_BYTES + view.getInt32(15);
      if (n < headerEnd) return this.keep(buf, 0, headerEnd);
      pos = headerEnd;
      this.headerDone = true;
    }
    while (pos < n) {
      if (n - pos < 2) return this.keep(buf, pos, 2);
      const count = view.getInt16(pos);
      if (count === -1) {
        this.trailerSeen = true;
        if (pos + 2 !== n) this.fail('data after the end-of-data marker');
        return;
      }
      if (count !== ncols) this.fail(`a tuple has ${count} fields, expected ${ncols}`);
      // Walk the field lengths first, so a tuple is decoded only once all its bytes are here.
      let p = pos + 2;
      for (let c = 0; c < ncols; c++) {
        if (n - p < 4) return this.keep(buf, pos, p + 4 - pos);
        const len = view.getInt32(p);
        p += 4;
        starts[c] = p;
        lengths[c] = len;
        if (len > 0) {
          if (n - p < len) return this.keep(buf, pos, p + len - pos);
          p += len;
        }
      }
      for (let c = 0; c < ncols; c++) {
        const len = lengths[c]!;
        if (len < 0) this.builders[c]!.appendNull();
        else this.builders[c]!.append(view, buf, starts[c]!, len);
      }
      pos = p;
      this.rows++;
      if (++this.batchLength === this.batchRows) out.push(this.batch());
    }
  }

  /** Keeps the bytes from `pos` until at least `need` of them are buffered. */
  private keep(buf: Uint8Array, pos: number, need: number): void {
    this.pending = [buf.subarray(pos)];
    this.pendingBytes = buf.length - pos;
    this.need = need;
  }
}
