/**
 * The evaluator's working form of a column: one flat typed array per logical type plus a byte-per-row
 * validity mask. Converting from Arrow flattens chunks once; converting back builds Arrow `Data`
 * directly from the typed arrays (no per-value builder calls for fixed-width types).
 *
 * JS value conventions (used by `columnGet` and `columnFromValues`): int32/int64/float64 → number,
 * date → days since epoch, timestamp → ms since epoch, bool → boolean, utf8 → string, list → array.
 */
import * as arrow from 'apache-arrow';
import { UnsupportedTypeError } from '../errors.js';
import { type LogicalType, arrowTypeOf, isListType, logicalTypeOf } from './logical-type.js';

export type ColumnValues = Int32Array | Float64Array | Uint8Array | unknown[];

export interface Column {
  readonly type: LogicalType;
  readonly length: number;
  /** int32/date: Int32Array; int64/float64/timestamp: Float64Array; bool: Uint8Array; utf8/list/null: JS array. */
  readonly values: ColumnValues;
  /** 1 = valid, 0 = null; `null` means every row is valid. */
  readonly valid: Uint8Array | null;
  /**
   * For int64 columns holding values beyond ±2^53 only: the exact values, so keys (group, join,
   * distinct, partition) and sort order stay exact where the float64 `values` would round.
   */
  readonly exact?: BigInt64Array;
}

export const MS_PER_DAY = 86_400_000;

export function storageFor(type: LogicalType, length: number): ColumnValues {
  if (isListType(type)) return new Array<unknown>(length).fill(null);
  switch (type) {
    case 'int32':
    case 'date':
      return new Int32Array(length);
    case 'int64':
    case 'float64':
    case 'timestamp':
      return new Float64Array(length);
    case 'bool':
      return new Uint8Array(length);
    case 'utf8':
    case 'null':
      return new Array<unknown>(length).fill(null);
  }
}

export function isValidAt(col: Column, i: number): boolean {
  return col.valid === null || col.valid[i] === 1;
}

/** The JS value at row `i`, or null. */
export function columnGet(col: Column, i: number): unknown {
  if (col.valid !== null && col.valid[i] !== 1) return null;
  if (col.type === 'bool') return (col.values as Uint8Array)[i] === 1;
  const v = col.values[i];
  return v === undefined ? null : v;
}

function bitAt(bitmap: Uint8Array, i: number): number {
  return (bitmap[i >> 3]! >> (i & 7)) & 1;
}

function timestampDivisor(unit: arrow.TimeUnit): number {
  switch (unit) {
    case arrow.TimeUnit.SECOND:
      return 1 / 1000;
    case arrow.TimeUnit.MILLISECOND:
      return 1;
    case arrow.TimeUnit.MICROSECOND:
      return 1000;
    case arrow.TimeUnit.NANOSECOND:
      return 1_000_000;
  }
}

/** Converts an Arrow JS value (as returned by `Vector.get`) to the column's JS value convention. */
export function normalizeArrowValue(type: LogicalType, v: unknown): unknown {
  if (v === null || v === undefined) return null;
  if (isListType(type)) {
    if (Array.isArray(v)) return v.map((x) => normalizeArrowValue(type.list, x));
    const vec = v as arrow.Vector;
    const out: unknown[] = [];
    for (let i = 0; i < vec.length; i++) out.push(normalizeArrowValue(type.list, vec.get(i)));
    return out;
  }
  switch (type) {
    case 'int32':
    case 'int64':
    case 'float64':
      return typeof v === 'bigint' ? Number(v) : (v as number);
    case 'date':
      return Math.floor((v instanceof Date ? v.getTime() : Number(v)) / MS_PER_DAY);
    case 'timestamp':
      return v instanceof Date ? v.getTime() : Number(v);
    case 'bool':
      return Boolean(v);
    case 'utf8':
      return String(v);
    case 'null':
      return null;
  }
}

/** The byte-per-row validity of a vector (1 = valid), or null when no row is null; values are not converted. */
export function validityOf(vector: arrow.Vector): Uint8Array | null {
  if (vector.type.typeId === arrow.Type.Null) return new Uint8Array(vector.length);
  if (vector.nullCount === 0) return null;
  const valid = new Uint8Array(vector.length);
  let base = 0;
  for (const data of vector.data as arrow.Data[]) {
    const bm = data.nullBitmap;
    if (data.nullCount === 0 || bm === undefined || bm.length === 0) valid.fill(1, base, base + data.length);
    else for (let i = 0; i < data.length; i++) valid[base + i] = bitAt(bm, data.offset + i);
    base += data.length;
  }
  return valid;
}

/**
 * Column forms of single-chunk Arrow data already converted in this thread (by `columnFromVector`, or
 * made by `columnToVector`), so a chain of kernels over one partition converts each column once.
 * Columns are never modified after they are made, so sharing them is safe.
 */
const columnCache = new WeakMap<arrow.Data, Column>();

/** Flattens an Arrow vector into a Column. `name` is used in error messages only. */
export function columnFromVector(vector: arrow.Vector, name: string): Column {
  const single = vector.data.length === 1 ? (vector.data[0] as arrow.Data) : undefined;
  const cached = single !== undefined ? columnCache.get(single) : undefined;
  if (cached !== undefined && cached.length === vector.length) return cached;
  const col = convertVector(vector, name);
  if (single !== undefined) columnCache.set(single, col);
  return col;
}

function convertVector(vector: arrow.Vector, name: string): Column {
  const type = logicalTypeOf(vector.type as arrow.DataType, name);
  const length = vector.length;
  const values = storageFor(type, length);
  let valid: Uint8Array | null = null;
  let base = 0;
  for (const data of vector.data as arrow.Data[]) {
    const n = data.length;
    if (data.nullCount > 0) {
      if (valid === null) valid = new Uint8Array(length).fill(1, 0, base);
      const bm = data.nullBitmap;
      for (let i = 0; i < n; i++) valid[base + i] = bm === undefined || bm.length === 0 ? 1 : bitAt(bm, data.offset + i);
    } else if (valid !== null) {
      valid.fill(1, base, base + n);
    }
    fillChunk(type, data, values, base, name);
    base += n;
  }
  if (type === 'null') valid = new Uint8Array(length);
  if (type === 'int64') {
    const f = values as Float64Array;
    let unsafe = false;
    if (maybeUnsafe(f, length)) for (let i = 0; i < length && !unsafe; i++) if (f[i]! > Number.MAX_SAFE_INTEGER || f[i]! < -Number.MAX_SAFE_INTEGER) unsafe = true;
    if (unsafe) {
      const exact = new BigInt64Array(length);
      let at = 0;
      for (const data of vector.data as arrow.Data[]) {
        const src = data.values as ArrayLike<bigint | number>;
        for (let i = 0; i < data.length; i++) exact[at + i] = BigInt.asIntN(64, BigInt(src[i]!));
        at += data.length;
      }
      return { type, length, values, valid, exact };
    }
  }
  return { type, length, values, valid };
}

function fillChunk(type: LogicalType, data: arrow.Data, out: ColumnValues, base: number, name: string): void {
  const n = data.length;
  const dt = data.type as arrow.DataType;
  const typeId = dt.typeId;
  if (typeId === arrow.Type.Utf8) {
    decodeUtf8Chunk(data, out as unknown[], base);
    return;
  }
  if (typeId === arrow.Type.Dictionary || isListType(type) || type === 'utf8' || (typeId === arrow.Type.Float && (dt as arrow.Float).precision === arrow.Precision.HALF)) {
    const vec = new arrow.Vector([data]);
    const arr = out as unknown[];
    if (type === 'utf8' || isListType(type)) {
      for (let i = 0; i < n; i++) arr[base + i] = normalizeArrowValue(type, vec.get(i));
    } else {
      for (let i = 0; i < n; i++) {
        const v = normalizeArrowValue(type, vec.get(i));
        if (type === 'bool') (out as Uint8Array)[base + i] = v === true ? 1 : 0;
        else (out as Int32Array | Float64Array)[base + i] = v === null ? 0 : (v as number);
      }
    }
    return;
  }
  const src = data.values as ArrayLike<number | bigint> | undefined;
  switch (type) {
    case 'int32':
    case 'float64':
      (out as Int32Array | Float64Array).set((src as Int32Array | Float64Array).subarray(0, n), base);
      return;
    case 'int64':
      if (src instanceof BigInt64Array || src instanceof BigUint64Array) int64WordsToFloat(src, n, out as Float64Array, base, src instanceof BigUint64Array);
      else for (let i = 0; i < n; i++) (out as Float64Array)[base + i] = Number(src![i]!);
      return;
    case 'date': {
      const o = out as Int32Array;
      if ((dt as arrow.Date_).unit === arrow.DateUnit.DAY) o.set((src as Int32Array).subarray(0, n), base);
      else for (let i = 0; i < n; i++) o[base + i] = Math.floor(Number(src![i]!) / MS_PER_DAY);
      return;
    }
    case 'timestamp': {
      const o = out as Float64Array;
      const div = timestampDivisor((dt as arrow.Timestamp).unit);
      if (div === 1 && src instanceof BigInt64Array) int64WordsToFloat(src, n, o, base, false);
      else if (div === 1) for (let i = 0; i < n; i++) o[base + i] = Number(src![i]!);
      else for (let i = 0; i < n; i++) o[base + i] = Math.floor(Number(src![i]!) / div);
      return;
    }
    case 'bool': {
      const o = out as Uint8Array;
      const bits = data.values as Uint8Array;
      for (let i = 0; i < n; i++) o[base + i] = bitAt(bits, data.offset + i);
      return;
    }
    case 'null':
      return;
    default:
      throw new UnsupportedTypeError(name, String(dt));
  }
}

const TWO_32 = 4294967296;

/**
 * False when every value is within ±2^31 (checked as one compare pair per value); true means some
 * value may lie beyond ±2^53, and the caller checks exactly.
 */
function maybeUnsafe(f: Float64Array, n: number): boolean {
  let lo = 0;
  let hi = 0;
  for (let i = 0; i < n; i++) {
    const x = f[i]!;
    if (x < lo) lo = x;
    else if (x > hi) hi = x;
  }
  return !(lo >= -Number.MAX_SAFE_INTEGER && hi <= Number.MAX_SAFE_INTEGER);
}

/**
 * 64-bit integers to float64 without a BigInt per value: reads the two 32-bit words of each value
 * (little-endian, as every platform Node runs on). Exact up to ±2^53; beyond that it rounds, and
 * `columnFromVector` then keeps the exact values too.
 */
function int64WordsToFloat(src: BigInt64Array | BigUint64Array, n: number, out: Float64Array, base: number, unsigned: boolean): void {
  const lo = new Uint32Array(src.buffer, src.byteOffset, n * 2);
  const hi = unsigned ? lo : new Int32Array(src.buffer, src.byteOffset, n * 2);
  for (let i = 0; i < n; i++) out[base + i] = hi[2 * i + 1]! * TWO_32 + lo[2 * i]!;
}

/**
 * Integral float64 values to int64 words without a BigInt per value (values beyond ±2^63 and
 * non-finite ones are written as 0, like the BigInt path). Rows where `valid` is 0 are left 0.
 * `exact` is false when some valid value was not an integer within ±2^53 (so reading the words back
 * would not give the same float64 values).
 */
function floatToInt64Words(src: Float64Array, valid: Uint8Array | null, length: number): { data: BigInt64Array; exact: boolean } {
  const data = new BigInt64Array(length);
  const words = new Int32Array(data.buffer);
  let exact = true;
  for (let i = 0; i < length; i++) {
    const x = src[i]!;
    const small = x | 0;
    // Fast path: an int32 value (sign-extended into the high word); -0 is written as 0.
    if (small === x) {
      words[2 * i] = small;
      words[2 * i + 1] = small >> 31;
      continue;
    }
    if (valid !== null && valid[i] !== 1) continue;
    const v = Math.trunc(x);
    if (v !== x || v > Number.MAX_SAFE_INTEGER || v < -Number.MAX_SAFE_INTEGER) exact = false;
    if (v >= -9007199254740992 && v <= 9007199254740992) {
      const hi = Math.floor(v / TWO_32);
      words[2 * i] = (v - hi * TWO_32) | 0;
      words[2 * i + 1] = hi;
    } else if (Number.isFinite(v) && Math.abs(v) < 9223372036854775808) data[i] = BigInt(v);
  }
  return { data, exact };
}

function packBits(valid: Uint8Array, length: number): { bitmap: Uint8Array; nullCount: number } {
  const bitmap = new Uint8Array(((length + 63) >> 6) << 3);
  let nullCount = 0;
  for (let i = 0; i < length; i++) {
    if (valid[i] === 1) bitmap[i >> 3]! |= 1 << (i & 7);
    else nullCount++;
  }
  return { bitmap, nullCount };
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Bytes of `s` in UTF-8 (lone surrogates count as U+FFFD, as TextEncoder writes them). */
function utf8Length(s: string): number {
  let n = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) n += 1;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      n += 2;
      i++;
    } else n += 2;
  }
  return n;
}

const INTERN_BITS = 12;
const INTERN_MAX_BYTES = 64;

/**
 * Decodes the strings of a Utf8 chunk straight from its offsets and bytes (ASCII fast path).
 * Repeated short values (categories, group keys) are interned: a value whose bytes match the last one
 * seen in its hash slot reuses that string instead of decoding a new one — far less work and garbage
 * for low-cardinality columns. Interning stops after the first 1,024 rows when most of them missed.
 */
function decodeUtf8Chunk(data: arrow.Data, out: unknown[], base: number): void {
  const offsets = data.valueOffsets as Int32Array;
  const bytes = data.values as Uint8Array;
  const n = data.length;
  let interned: (string | undefined)[] | null = n >= 256 ? new Array<string | undefined>(1 << INTERN_BITS) : null;
  const at = interned === null ? null : new Int32Array(1 << INTERN_BITS);
  let misses = 0;
  for (let i = 0; i < n; i++) {
    const s = offsets[i]!;
    const e = offsets[i + 1]!;
    const len = e - s;
    let slot = -1;
    if (interned !== null && len <= INTERN_MAX_BYTES) {
      let h = 0x811c9dc5 ^ len;
      for (let j = s; j < e; j++) h = Math.imul(h ^ bytes[j]!, 0x01000193);
      slot = Math.imul(h, 0x9e3779b1) >>> (32 - INTERN_BITS);
      const hit = interned[slot];
      if (hit !== undefined) {
        const t = at![slot]!;
        if (offsets[t + 1]! - offsets[t]! === len) {
          let same = true;
          for (let j = 0, a = offsets[t]!; j < len; j++) {
            if (bytes[a + j] !== bytes[s + j]) {
              same = false;
              break;
            }
          }
          if (same) {
            out[base + i] = hit;
            continue;
          }
        }
      }
    }
    let ascii = len <= 128;
    for (let j = s; ascii && j < e; j++) if (bytes[j]! > 127) ascii = false;
    const str = ascii ? String.fromCharCode.apply(null, bytes.subarray(s, e) as unknown as number[]) : decoder.decode(bytes.subarray(s, e));
    out[base + i] = str;
    if (slot >= 0) {
      interned![slot] = str;
      at![slot] = i;
      if (++misses > 512 && i < 1024) interned = null;
    }
  }
}

/** Converts a JS value (column convention) to what Arrow builders expect for `type`. */
function toBuilderValue(type: LogicalType, v: unknown): unknown {
  if (v === null || v === undefined) return null;
  if (isListType(type)) return (v as unknown[]).map((x) => toBuilderValue(type.list, x));
  switch (type) {
    case 'int64':
      return BigInt(Math.trunc(v as number));
    case 'date':
      return (v as number) * MS_PER_DAY;
    default:
      return v;
  }
}

/** Builds an Arrow vector from a Column. */
export function columnToVector(col: Column): arrow.Vector {
  const { vector, exact } = buildVector(col);
  // Cached only when converting the vector back would give `col` again (int64/timestamp: valid values
  // integral within ±2^53, null rows 0).
  if (vector.data.length === 1 && !isListType(col.type) && exact) columnCache.set(vector.data[0] as arrow.Data, col);
  return vector;
}

/** The vector, and whether it holds exactly `col`'s values (see columnToVector). */
function buildVector(col: Column): { vector: arrow.Vector; exact: boolean } {
  if (col.type === 'int64' || col.type === 'timestamp') return buildInt64Vector(col);
  return { vector: buildOtherVector(col), exact: true };
}

function buildInt64Vector(col: Column): { vector: arrow.Vector; exact: boolean } {
  const { type, length } = col;
  const { bitmap, nullCount } = col.valid === null ? { bitmap: new Uint8Array(0), nullCount: 0 } : packBits(col.valid, length);
  const nullBitmap = nullCount === 0 ? new Uint8Array(0) : bitmap;
  const { data, exact } = col.exact !== undefined && col.exact.length === length ? { data: col.exact, exact: false } : floatToInt64Words(col.values as Float64Array, col.valid, length);
  const arrowType = type === 'int64' ? new arrow.Int64() : new arrow.TimestampMillisecond();
  const vector = new arrow.Vector([arrow.makeData({ type: arrowType, length, nullCount, nullBitmap, data } as never)]) as arrow.Vector;
  // A null row written as 0 reads back as 0: exact only if the float there was 0 too.
  let nullsZero = true;
  if (exact && nullCount > 0) {
    const f = col.values as Float64Array;
    for (let i = 0; i < length && nullsZero; i++) if (col.valid![i] !== 1 && f[i] !== 0) nullsZero = false;
  }
  return { vector, exact: exact && nullsZero };
}

function buildOtherVector(col: Column): arrow.Vector {
  const { type, length } = col;
  const arrowType = arrowTypeOf(type);
  if (type === 'null') return new arrow.Vector([arrow.makeData({ type: new arrow.Null(), length })]);
  const { bitmap, nullCount } = col.valid === null ? { bitmap: new Uint8Array(0), nullCount: 0 } : packBits(col.valid, length);
  const nullBitmap = nullCount === 0 ? new Uint8Array(0) : bitmap;
  if (isListType(type)) {
    const vals = (col.values as unknown[]).map((v, i) => (isValidAt(col, i) ? toBuilderValue(type, v) : null));
    return arrow.vectorFromArray(vals, arrowType as arrow.List);
  }
  switch (type) {
    case 'int32':
      return new arrow.Vector([arrow.makeData({ type: new arrow.Int32(), length, nullCount, nullBitmap, data: col.values as Int32Array })]);
    case 'date':
      return new arrow.Vector([arrow.makeData({ type: new arrow.DateDay(), length, nullCount, nullBitmap, data: col.values as Int32Array })]);
    case 'float64':
      return new arrow.Vector([arrow.makeData({ type: new arrow.Float64(), length, nullCount, nullBitmap, data: col.values as Float64Array })]);
    case 'int64':
    case 'timestamp':
      return buildInt64Vector(col).vector;
    case 'bool': {
      const src = col.values as Uint8Array;
      const data = new Uint8Array(((length + 63) >> 6) << 3);
      for (let i = 0; i < length; i++) if (src[i] === 1) data[i >> 3]! |= 1 << (i & 7);
      return new arrow.Vector([arrow.makeData({ type: new arrow.Bool(), length, nullCount, nullBitmap, data })]);
    }
    case 'utf8': {
      const src = col.values as (string | null)[];
      const offsets = new Int32Array(length + 1);
      let total = 0;
      for (let i = 0; i < length; i++) {
        const s = src[i];
        if (s !== null && s !== undefined && isValidAt(col, i)) total += utf8Length(s);
        offsets[i + 1] = total;
      }
      const bytes = new Uint8Array(total);
      for (let i = 0; i < length; i++) {
        const start = offsets[i]!;
        const end = offsets[i + 1]!;
        if (end === start) continue;
        const s = src[i]!;
        if (end - start === s.length) for (let j = 0; j < s.length; j++) bytes[start + j] = s.charCodeAt(j);
        else encoder.encodeInto(s, bytes.subarray(start, end));
      }
      return new arrow.Vector([arrow.makeData({ type: new arrow.Utf8(), length, nullCount, nullBitmap, valueOffsets: offsets, data: bytes })]);
    }
  }
}

/** Builds a Column of `type` from JS values (column convention); null/undefined become nulls. */
export function columnFromValues(type: LogicalType, values: readonly unknown[]): Column {
  const length = values.length;
  const out = storageFor(type, length);
  const valid = new Uint8Array(length);
  for (let i = 0; i < length; i++) {
    const v = values[i];
    if (v === null || v === undefined || type === 'null') continue;
    valid[i] = 1;
    if (type === 'bool') (out as Uint8Array)[i] = v === true ? 1 : 0;
    else if (out instanceof Int32Array || out instanceof Float64Array) out[i] = v as number;
    else (out as unknown[])[i] = v;
  }
  return { type, length, values: out, valid };
}

/** An all-valid or all-null column of `length` rows holding one repeated value. */
export function constantColumn(type: LogicalType, value: unknown, length: number): Column {
  const out = storageFor(type, length);
  if (value === null || value === undefined || type === 'null') return { type, length, values: out, valid: new Uint8Array(length) };
  if (type === 'bool') (out as Uint8Array).fill(value === true ? 1 : 0);
  else if (out instanceof Int32Array || out instanceof Float64Array) out.fill(value as number);
  else (out as unknown[]).fill(value);
  return { type, length, values: out, valid: null };
}
