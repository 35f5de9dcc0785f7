/**
 * Gathers rows by index, preserving each column's Arrow type. Fixed-width, boolean and utf8/binary
 * columns are gathered straight from their buffers; other types (lists, dictionaries, ...) go through
 * an Arrow builder. An index of -1 produces a null row (used by outer joins).
 */
import * as arrow from 'apache-arrow';

type AnyTypedArray = { [i: number]: number | bigint; readonly length: number };

interface Chunk {
  readonly data: arrow.Data;
  readonly start: number;
}

function chunksOf(v: arrow.Vector): Chunk[] {
  const out: Chunk[] = [];
  let start = 0;
  for (const d of v.data as arrow.Data[]) {
    out.push({ data: d, start });
    start += d.length;
  }
  return out;
}

function locate(chunks: readonly Chunk[], index: number): Chunk {
  if (chunks.length === 1) return chunks[0]!;
  let lo = 0;
  let hi = chunks.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (chunks[mid]!.start <= index) lo = mid;
    else hi = mid - 1;
  }
  return chunks[lo]!;
}

const FIXED_WIDTH = new Set<arrow.Type>([arrow.Type.Int, arrow.Type.Float, arrow.Type.Date, arrow.Type.Timestamp, arrow.Type.Time, arrow.Type.Duration, arrow.Type.Interval, arrow.Type.Decimal, arrow.Type.FixedSizeBinary]);

export function takeVector(vector: arrow.Vector, indices: Int32Array): arrow.Vector {
  const type = vector.type as arrow.DataType;
  const n = indices.length;
  const chunks = chunksOf(vector);
  const fast = chunks.length === 1 ? gatherFixedWidth(chunks[0]!.data, type, indices) : chunks.length > 1 ? gatherFixedWidth(flattenFixedWidth(chunks, type), type, indices) : null;
  if (fast !== null) return fast;
  const multi = chunks.length > 1;
  // Resolve (chunk, local index) once; -1 chunk = null row (negative index or null value).
  const chunkOf = new Int32Array(n);
  const localOf = multi ? new Int32Array(n) : indices;
  let nullCount = 0;
  const valid = new Uint8Array(((n + 63) >> 6) << 3);
  const bitmaps = chunks.map((c) => (c.data.nullCount > 0 && c.data.nullBitmap !== undefined && c.data.nullBitmap.length > 0 ? c.data.nullBitmap : null));
  const offsets = chunks.map((c) => c.data.offset);
  for (let i = 0; i < n; i++) {
    const idx = indices[i]!;
    if (idx < 0) {
      chunkOf[i] = -1;
      nullCount++;
      continue;
    }
    let ci = 0;
    if (multi) {
      const c = locate(chunks, idx);
      ci = chunks.indexOf(c);
      localOf[i] = idx - c.start;
    }
    const bm = bitmaps[ci];
    if (bm !== null && bm !== undefined) {
      const j = offsets[ci]! + localOf[i]!;
      if (((bm[j >> 3]! >> (j & 7)) & 1) === 0) {
        chunkOf[i] = -1;
        nullCount++;
        continue;
      }
    } else if (type.typeId === arrow.Type.Null) {
      chunkOf[i] = -1;
      nullCount++;
      continue;
    }
    chunkOf[i] = ci;
    valid[i >> 3]! |= 1 << (i & 7);
  }
  const nullBitmap = nullCount > 0 ? valid : new Uint8Array(0);
  const typeId = type.typeId;
  if (FIXED_WIDTH.has(typeId) && type.ArrayType !== undefined) {
    const stride = chunks[0]?.data.stride ?? strideOf(type);
    const out = new (type.ArrayType as unknown as new (n: number) => AnyTypedArray)(n * stride);
    const vals = chunks.map((c) => c.data.values as AnyTypedArray);
    if (stride === 1 && !multi && vals[0] !== undefined) {
      const src = vals[0];
      for (let i = 0; i < n; i++) if (chunkOf[i] === 0) out[i] = src[localOf[i]!]!;
    } else {
      for (let i = 0; i < n; i++) {
        const ci = chunkOf[i]!;
        if (ci < 0) continue;
        const src = vals[ci]!;
        const l = localOf[i]!;
        for (let k = 0; k < stride; k++) out[i * stride + k] = src[l * stride + k]!;
      }
    }
    return new arrow.Vector([arrow.makeData({ type, length: n, nullCount, nullBitmap, data: out } as never)]);
  }
  if (typeId === arrow.Type.Bool) {
    const out = new Uint8Array(((n + 63) >> 6) << 3);
    const vals = chunks.map((c) => c.data.values as Uint8Array);
    for (let i = 0; i < n; i++) {
      const ci = chunkOf[i]!;
      if (ci < 0) continue;
      const j = offsets[ci]! + localOf[i]!;
      if ((vals[ci]![j >> 3]! >> (j & 7)) & 1) out[i >> 3]! |= 1 << (i & 7);
    }
    return new arrow.Vector([arrow.makeData({ type: type as arrow.Bool, length: n, nullCount, nullBitmap, data: out })]);
  }
  if (typeId === arrow.Type.Utf8 || typeId === arrow.Type.Binary) {
    const outOffsets = new Int32Array(n + 1);
    const vos = chunks.map((c) => c.data.valueOffsets as Int32Array);
    const vals = chunks.map((c) => c.data.values as Uint8Array);
    let total = 0;
    for (let i = 0; i < n; i++) {
      const ci = chunkOf[i]!;
      if (ci >= 0) {
        const vo = vos[ci]!;
        const l = localOf[i]!;
        total += vo[l + 1]! - vo[l]!;
      }
      outOffsets[i + 1] = total;
    }
    const bytes = new Uint8Array(total);
    for (let i = 0; i < n; i++) {
      const ci = chunkOf[i]!;
      if (ci < 0) continue;
      const vo = vos[ci]!;
      const src = vals[ci]!;
      const l = localOf[i]!;
      let s = vo[l]!;
      const e = vo[l + 1]!;
      let p = outOffsets[i]!;
      if (e - s > 32) bytes.set(src.subarray(s, e), p);
      else while (s < e) bytes[p++] = src[s++]!;
    }
    return new arrow.Vector([arrow.makeData({ type: type as arrow.Utf8, length: n, nullCount, nullBitmap, valueOffsets: outOffsets, data: bytes })]);
  }
  if (typeId === arrow.Type.Null) return new arrow.Vector([arrow.makeData({ type: type as arrow.Null, length: n })]);
  const b = arrow.makeBuilder({ type, nullValues: [null, undefined] });
  for (let i = 0; i < n; i++) {
    const idx = indices[i]!;
    b.append(chunkOf[i]! < 0 ? null : plainValue(vector.get(idx)));
  }
  return b.finish().toVector();
}

/**
 * Fast path of `takeVector` for one chunk of a fixed-width type with no nulls and no -1 indices: a
 * straight gather (64-bit integers as pairs of 32-bit words, so no BigInt per value). Null when
 * the path does not apply.
 */
function gatherFixedWidth(data: arrow.Data | undefined, type: arrow.DataType, indices: Int32Array): arrow.Vector | null {
  if (data === undefined || data.nullCount > 0 || !FIXED_WIDTH.has(type.typeId) || data.stride !== 1) return null;
  const src = data.values as unknown as { buffer: ArrayBuffer; byteOffset: number; length: number; BYTES_PER_ELEMENT: number } | undefined;
  if (src === undefined || type.ArrayType === undefined) return null;
  const n = indices.length;
  const out = new (type.ArrayType as unknown as new (n: number) => { buffer: ArrayBuffer; BYTES_PER_ELEMENT: number })(n);
  if (src.BYTES_PER_ELEMENT === 8) {
    const s32 = new Int32Array(src.buffer, src.byteOffset, src.length * 2);
    const o32 = new Int32Array(out.buffer);
    for (let i = 0; i < n; i++) {
      const j = indices[i]!;
      if (j < 0) return null;
      o32[2 * i] = s32[2 * j]!;
      o32[2 * i + 1] = s32[2 * j + 1]!;
    }
  } else {
    const s = src as unknown as AnyTypedArray;
    const o = out as unknown as AnyTypedArray;
    for (let i = 0; i < n; i++) {
      const j = indices[i]!;
      if (j < 0) return null;
      o[i] = s[j]!;
    }
  }
  return new arrow.Vector([arrow.makeData({ type, length: n, nullCount: 0, nullBitmap: new Uint8Array(0), data: out } as never)]);
}

/**
 * The chunks of a fixed-width column without nulls copied into one Data (one memcpy per chunk), so a
 * gather over a concatenation (shuffle pieces) is one indexed loop. Undefined when that does not apply.
 */
function flattenFixedWidth(chunks: readonly Chunk[], type: arrow.DataType): arrow.Data | undefined {
  if (!FIXED_WIDTH.has(type.typeId) || type.ArrayType === undefined) return undefined;
  let length = 0;
  for (const c of chunks) {
    if (c.data.nullCount > 0 || c.data.stride !== 1 || c.data.values === undefined) return undefined;
    length += c.data.length;
  }
  const out = new (type.ArrayType as unknown as new (n: number) => { buffer: ArrayBuffer; BYTES_PER_ELEMENT: number })(length);
  const bytes = new Uint8Array(out.buffer);
  let at = 0;
  for (const c of chunks) {
    const v = c.data.values as unknown as { buffer: ArrayBuffer; byteOffset: number };
    const size = c.data.length * out.BYTES_PER_ELEMENT;
    bytes.set(new Uint8Array(v.buffer, v.byteOffset, size), at);
    at += size;
  }
  return arrow.makeData({ type, length, nullCount: 0, nullBitmap: new Uint8Array(0), data: out } as never) as arrow.Data;
}

function strideOf(type: arrow.DataType): number {
  if (type.typeId === arrow.Type.FixedSizeBinary) return (type as arrow.FixedSizeBinary).byteWidth;
  if (type.typeId === arrow.Type.Decimal) return 4;
  if (type.typeId === arrow.Type.Interval) return 2;
  return 1;
}

/** Converts nested Arrow values (list elements come back as Vectors) into plain JS arrays for builders. */
export function plainValue(v: unknown): unknown {
  if (v instanceof arrow.Vector) {
    const out: unknown[] = [];
    for (let i = 0; i < v.length; i++) out.push(plainValue(v.get(i)));
    return out;
  }
  return v;
}

/** The vector's data as one chunk (copying only when it has several). */
export function singleData(v: arrow.Vector): arrow.Data {
  if (v.data.length === 1) return v.data[0] as arrow.Data;
  return takeVector(v, Int32Array.from({ length: v.length }, (_, i) => i)).data[0] as arrow.Data;
}

/** A one-batch table from fields and vectors of equal length. */
export function tableFromVectors(fields: readonly arrow.Field[], vectors: readonly arrow.Vector[], numRows: number): arrow.Table {
  const children = vectors.map((v) => singleData(v));
  const schema = new arrow.Schema(fields.slice());
  const data = arrow.makeData({ type: new arrow.Struct(schema.fields), length: numRows, nullCount: 0, children });
  return new arrow.Table([new arrow.RecordBatch(schema, data)]);
}

/** Gathers rows of every column. With `nullable`, all output fields are marked nullable (for -1 indices). */
export function takeTable(table: arrow.Table, indices: Int32Array, nullable = false): arrow.Table {
  const fields = table.schema.fields.map((f) => (nullable && !f.nullable ? f.clone({ nullable: true }) : f));
  const vectors = table.schema.fields.map((_, i) => takeVector(table.getChildAt(i) as arrow.Vector, indices));
  return tableFromVectors(fields, vectors, indices.length);
}
