/**
 * Column access shared by every stage's kernel: typed checks that name the stage and column, reading
 * Arrow vectors into flat JS arrays, and building output vectors. Kernels read values through these
 * helpers only, so a stage computes the same numbers whatever physical type the column arrived in
 * (float64 from a training Dataset, a dictionary-encoded or int64 column from a serving batch).
 */
import * as arrow from 'apache-arrow';
import { arrowTypeFamily, takeTable, type ArrowTypeFamily } from '../data/index.js';
import { ColumnTypeError } from './errors.js';

export type ColumnKind = 'numeric' | 'string' | 'bool' | 'date' | 'timestamp' | 'list' | 'null' | 'other';

const KIND_OF_FAMILY: Readonly<Record<ArrowTypeFamily, ColumnKind>> = {
  int: 'numeric', float: 'numeric', decimal: 'numeric', utf8: 'string', bool: 'bool', date: 'date', timestamp: 'timestamp',
  list: 'list', 'fixed-size-list': 'list', null: 'null', other: 'other',
};

/** What a stage sees of a column's type (data's one Arrow-type classifier, in the features layer's words). */
export function kindOf(type: arrow.DataType): ColumnKind {
  return KIND_OF_FAMILY[arrowTypeFamily(type)];
}

/** The field named `column`, checked against the kinds the stage accepts ('null' columns always pass). */
export function requireColumn(schema: arrow.Schema, column: string, stage: string, accepts: readonly ColumnKind[]): arrow.Field {
  const field = schema.fields.find((f) => f.name === column);
  if (field === undefined) {
    throw new ColumnTypeError('input column is missing', { stage, column, expected: accepts.join(' | '), actual: `no such column (have ${schema.fields.map((f) => f.name).join(', ')})` });
  }
  const kind = kindOf(field.type);
  if (kind !== 'null' && !accepts.includes(kind)) throw new ColumnTypeError('input column has the wrong type', { stage, column, expected: accepts.join(' | '), actual: String(field.type) });
  return field;
}

export function vectorOf(table: arrow.Table, column: string): arrow.Vector {
  const v = table.getChild(column);
  if (v === null) throw new ColumnTypeError('input column is missing', { column, expected: 'a column', actual: 'missing' });
  return v;
}

/** A plain JS value: bigint → number, Date → epoch ms, Arrow lists → arrays. */
export function plain(v: unknown): unknown {
  // A 64-bit integer becomes a number when that is exact, else it stays a bigint (ids beyond 2^53 never round).
  if (typeof v === 'bigint') return Number.isSafeInteger(Number(v)) ? Number(v) : v;
  if (v instanceof Date) return v.getTime();
  if (v !== null && typeof v === 'object' && typeof (v as { toArray?: unknown }).toArray === 'function') return Array.from((v as { toArray(): ArrayLike<unknown> }).toArray(), plain);
  return v;
}

/** Numeric values as float64; nulls (and non-numbers) become NaN with `valid[i] = 0`. */
export function readNumbers(vec: arrow.Vector): { values: Float64Array; valid: Uint8Array } {
  const n = vec.length;
  const values = new Float64Array(n);
  const valid = new Uint8Array(n);
  if (vec.nullCount === 0 && vec.type.typeId === arrow.Type.Float && (vec.type as arrow.Float).precision === arrow.Precision.DOUBLE) {
    values.set(vec.toArray() as Float64Array);
    valid.fill(1);
    return { values, valid };
  }
  if (vec.type.typeId === arrow.Type.Float || (vec.type.typeId === arrow.Type.Int && (vec.type as arrow.Int).bitWidth <= 32)) {
    // Fast path: typed values per chunk (already offset), validity from the chunk's bitmap.
    let base = 0;
    for (const d of vec.data) {
      const src = d.values as ArrayLike<number>;
      const hasNulls = d.nullCount > 0;
      for (let j = 0; j < d.length; j++) {
        if (hasNulls && !d.getValid(j)) values[base + j] = NaN;
        else {
          values[base + j] = src[j]!;
          valid[base + j] = 1;
        }
      }
      base += d.length;
    }
    return { values, valid };
  }
  let i = 0;
  for (const raw of vec) {
    const v = typeof raw === 'bigint' ? Number(raw) : typeof raw === 'boolean' ? (raw ? 1 : 0) : raw instanceof Date ? raw.getTime() : raw;
    if (typeof v === 'number') {
      values[i] = v;
      valid[i] = 1;
    } else values[i] = NaN;
    i++;
  }
  return { values, valid };
}

/** Epoch milliseconds of a date/timestamp/ISO-string/number value (null when absent or unparsable). */
export function toMillis(v: unknown, kind: ColumnKind): number | null {
  if (v === null || v === undefined) return null;
  if (v instanceof Date) return v.getTime();
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'number') return Number.isFinite(v) ? v : null;
  if (typeof v === 'string' && kind === 'string') {
    const t = Date.parse(/^\d{4}-\d{2}-\d{2}$/.test(v) ? `${v}T00:00:00Z` : v);
    return Number.isNaN(t) ? null : t;
  }
  return null;
}

/** Epoch ms of every row of a date, timestamp or ISO-string column. */
export function readMillis(vec: arrow.Vector): Float64Array {
  const kind = kindOf(vec.type);
  const out = new Float64Array(vec.length);
  let i = 0;
  for (const v of vec) out[i++] = toMillis(v, kind) ?? NaN;
  return out;
}

/** String form of categorical values (numbers and booleans stringified; null stays null). */
export function readStrings(vec: arrow.Vector): (string | null)[] {
  const out: (string | null)[] = new Array<string | null>(vec.length);
  if (vec.type.typeId === arrow.Type.Utf8) {
    // Fast path: ASCII values decoded without TextDecoder, repeated values shared through a small cache.
    let base = 0;
    for (const d of vec.data) {
      const offsets = d.valueOffsets as Int32Array;
      const bytes = d.values as Uint8Array;
      const hasNulls = d.nullCount > 0;
      for (let j = 0; j < d.length; j++) {
        out[base + j] = hasNulls && !d.getValid(j) ? null : decodeUtf8(bytes, offsets[j]!, offsets[j + 1]!);
      }
      base += d.length;
    }
    return out;
  }
  let i = 0;
  for (const v of vec) out[i++] = v === null || v === undefined ? null : typeof v === 'string' ? v : String(plain(v));
  return out;
}

/** A float64 vector; rows with `valid[i] === 0` are null. */
export function float64Vector(values: Float64Array, valid: Uint8Array | null = null): arrow.Vector {
  const n = values.length;
  if (valid === null || valid.every((b) => b === 1)) return arrow.makeVector(values);
  const bitmap = new Uint8Array((n + 7) >> 3);
  let nullCount = 0;
  for (let i = 0; i < n; i++) {
    if (valid[i] === 1) bitmap[i >> 3]! |= 1 << (i & 7);
    else nullCount++;
  }
  return arrow.makeVector(arrow.makeData({ type: new arrow.Float64(), length: n, nullCount, nullBitmap: bitmap, data: values }));
}

/** A List<Float32> vector of `n` rows of `width` values each (row-major `values`); rows with valid 0 are null. */
export function float32ListVector(values: Float32Array, width: number, n: number, valid: Uint8Array | null = null): arrow.Vector {
  const child = arrow.makeData({ type: new arrow.Float32(), length: values.length, nullCount: 0, data: values });
  const offsets = new Int32Array(n + 1);
  for (let i = 0; i <= n; i++) offsets[i] = i * width;
  const type = new arrow.List(new arrow.Field('item', new arrow.Float32(), false));
  return arrow.makeVector(arrow.makeData({ type, length: n, valueOffsets: offsets, child, ...nullParts(valid, n) }));
}

/** A FixedSizeList<Float32>(width) vector (VectorAssembler's output). */
export function fixedFloat32ListVector(values: Float32Array, width: number, n: number, valid: Uint8Array | null = null): arrow.Vector {
  const child = arrow.makeData({ type: new arrow.Float32(), length: values.length, nullCount: 0, data: values });
  const type = new arrow.FixedSizeList(width, new arrow.Field('item', new arrow.Float32(), false));
  return arrow.makeVector(arrow.makeData({ type, length: n, child, ...nullParts(valid, n) }));
}

function nullParts(valid: Uint8Array | null, n: number): { nullCount: number; nullBitmap?: Uint8Array } {
  if (valid === null) return { nullCount: 0 };
  const bitmap = new Uint8Array((n + 7) >> 3);
  let nullCount = 0;
  for (let i = 0; i < n; i++) {
    if (valid[i] === 1) bitmap[i >> 3]! |= 1 << (i & 7);
    else nullCount++;
  }
  return nullCount === 0 ? { nullCount: 0 } : { nullCount, nullBitmap: bitmap };
}

/** List<Utf8> vector from arrays of strings (null rows stay null). */
export function stringListVector(rows: readonly (readonly string[] | null)[]): arrow.Vector {
  return arrow.vectorFromArray(rows as (string[] | null)[], new arrow.List(new arrow.Field('item', new arrow.Utf8(), true)));
}

/** Rows of a list column as number arrays (null rows → null). */
export function readNumberLists(vec: arrow.Vector): (Float64Array | null)[] {
  const out: (Float64Array | null)[] = [];
  for (const v of vec) {
    if (v === null || v === undefined) out.push(null);
    else {
      const arr = (v as { toArray(): ArrayLike<unknown> }).toArray();
      out.push(Float64Array.from(arr as ArrayLike<number>, (x) => (typeof x === 'bigint' ? Number(x) : x === null ? NaN : Number(x))));
    }
  }
  return out;
}

/** `table` with these columns replaced in place or appended (in the given order). */
export function setColumns(table: arrow.Table, columns: readonly (readonly [string, arrow.Vector])[]): arrow.Table {
  const record: Record<string, arrow.Vector> = {};
  const replaced = new Map(columns);
  for (const f of table.schema.fields) record[f.name] = replaced.get(f.name) ?? table.getChild(f.name)!;
  for (const [name, v] of columns) record[name] = v;
  return new arrow.Table(record);
}

/** Only the rows whose `keep[i]` is 1 (the table itself when all are kept). */
export function keepRows(table: arrow.Table, keep: Uint8Array): arrow.Table {
  let count = 0;
  for (let i = 0; i < keep.length; i++) count += keep[i]!;
  if (count === table.numRows) return table;
  const idx = new Int32Array(count);
  let j = 0;
  for (let i = 0; i < keep.length; i++) if (keep[i] === 1) idx[j++] = i;
  return takeTable(table, idx);
}

const decoder = new TextDecoder();

function decodeUtf8(bytes: Uint8Array, start: number, end: number): string {
  if (end - start > 32) return decoder.decode(bytes.subarray(start, end));
  let s = '';
  for (let k = start; k < end; k++) {
    const b = bytes[k]!;
    if (b >= 0x80) return decoder.decode(bytes.subarray(start, end));
    s += String.fromCharCode(b);
  }
  return s;
}
