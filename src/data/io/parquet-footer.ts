/**
 * Reads column-chunk statistics (min, max, null count) from a Parquet footer. parquet-wasm 0.8 does
 * not expose them, so this decodes the footer's Thrift compact-protocol FileMetaData directly —
 * only the fields needed, skipping everything else generically.
 */

const enum CT {
  Stop = 0,
  True = 1,
  False = 2,
  Byte = 3,
  I16 = 4,
  I32 = 5,
  I64 = 6,
  Double = 7,
  Binary = 8,
  List = 9,
  Set = 10,
  Map = 11,
  Struct = 12,
}

class CompactReader {
  pos = 0;
  constructor(private readonly buf: Uint8Array) {}

  byte(): number {
    if (this.pos >= this.buf.length) throw new Error('truncated Parquet footer');
    return this.buf[this.pos++]!;
  }
  varint(): bigint {
    let shift = 0n;
    let result = 0n;
    for (;;) {
      const b = this.byte();
      result |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return result;
      shift += 7n;
    }
  }
  zigzag(): bigint {
    const v = this.varint();
    return (v >> 1n) ^ -(v & 1n);
  }
  int(): number {
    return Number(this.zigzag());
  }
  binary(): Uint8Array {
    const len = Number(this.varint());
    const out = this.buf.subarray(this.pos, this.pos + len);
    this.pos += len;
    return out;
  }
  /** Iterates a struct's fields, calling `onField(id, type)`; the callback must consume or skip the value. */
  struct(onField: (id: number, type: number) => void): void {
    let last = 0;
    for (;;) {
      const header = this.byte();
      const type = header & 0x0f;
      if (type === CT.Stop) return;
      const delta = header >> 4;
      const id = delta === 0 ? this.int() : last + delta;
      last = id;
      onField(id, type);
    }
  }
  list(onElem: (type: number) => void): void {
    const header = this.byte();
    let size = header >> 4;
    const type = header & 0x0f;
    if (size === 15) size = Number(this.varint());
    for (let i = 0; i < size; i++) onElem(type);
  }
  skip(type: number): void {
    switch (type) {
      case CT.True:
      case CT.False:
        return;
      case CT.Byte:
        this.pos++;
        return;
      case CT.I16:
      case CT.I32:
      case CT.I64:
        this.varint();
        return;
      case CT.Double:
        this.pos += 8;
        return;
      case CT.Binary:
        this.binary();
        return;
      case CT.List:
      case CT.Set:
        this.list((t) => this.skip(t));
        return;
      case CT.Map: {
        const size = Number(this.varint());
        if (size === 0) return;
        const kv = this.byte();
        for (let i = 0; i < size; i++) {
          this.skip(kv >> 4);
          this.skip(kv & 0x0f);
        }
        return;
      }
      case CT.Struct:
        this.struct((_, t) => this.skip(t));
        return;
      default:
        throw new Error(`unknown Thrift compact type ${type}`);
    }
  }
}

export type ParquetStatValue = number | bigint | string | boolean | Uint8Array;

export interface ColumnChunkStats {
  readonly column: string;
  /** Minimum non-null value, decoded by physical type (UTF-8 byte arrays as strings), if recorded. */
  readonly min?: ParquetStatValue;
  readonly max?: ParquetStatValue;
  readonly nullCount?: number;
  /** [start, end) of the column chunk's pages in the file (dictionary page included). */
  readonly byteRange: readonly [number, number];
}

/** Physical type ids from parquet.thrift. */
const PHYSICAL = { BOOLEAN: 0, INT32: 1, INT64: 2, INT96: 3, FLOAT: 4, DOUBLE: 5, BYTE_ARRAY: 6, FIXED_LEN_BYTE_ARRAY: 7 } as const;

function decodeStat(bytes: Uint8Array, physical: number, utf8: boolean): ParquetStatValue {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  switch (physical) {
    case PHYSICAL.BOOLEAN:
      return bytes[0] === 1;
    case PHYSICAL.INT32:
      return dv.getInt32(0, true);
    case PHYSICAL.INT64:
      return dv.getBigInt64(0, true);
    case PHYSICAL.FLOAT:
      return dv.getFloat32(0, true);
    case PHYSICAL.DOUBLE:
      return dv.getFloat64(0, true);
    case PHYSICAL.BYTE_ARRAY:
      return utf8 ? new TextDecoder().decode(bytes) : bytes.slice();
    default:
      return bytes.slice();
  }
}

/** The footer's statistics per row group, per column chunk. `utf8Columns` names byte-array columns holding text. */
export function readFooterStats(file: Uint8Array, utf8Columns: ReadonlySet<string>): ColumnChunkStats[][] {
  const n = file.length;
  const magic = String.fromCharCode(...file.subarray(n - 4));
  if (n < 12 || magic !== 'PAR1') throw new Error('not a Parquet file (missing PAR1 footer magic)');
  const len = new DataView(file.buffer, file.byteOffset + n - 8, 4).getUint32(0, true);
  const r = new CompactReader(file.subarray(n - 8 - len, n - 8));
  const rowGroups: ColumnChunkStats[][] = [];
  r.struct((id, type) => {
    if (id !== 4 || type !== CT.List) return r.skip(type);
    r.list(() => {
      const chunks: ColumnChunkStats[] = [];
      r.struct((rgId, rgType) => {
        if (rgId !== 1 || rgType !== CT.List) return r.skip(rgType);
        r.list(() => {
          let stats: ColumnChunkStats | undefined;
          r.struct((ccId, ccType) => {
            if (ccId !== 3 || ccType !== CT.Struct) return r.skip(ccType);
            let physical = -1;
            let path: string[] = [];
            let min: Uint8Array | undefined;
            let max: Uint8Array | undefined;
            let legacyMin: Uint8Array | undefined;
            let legacyMax: Uint8Array | undefined;
            let nullCount: number | undefined;
            let compressed = 0;
            let dataOffset = 0;
            let dictOffset: number | undefined;
            r.struct((mId, mType) => {
              if (mId === 1 && mType === CT.I32) physical = r.int();
              else if (mId === 7 && mType === CT.I64) compressed = r.int();
              else if (mId === 9 && mType === CT.I64) dataOffset = r.int();
              else if (mId === 11 && mType === CT.I64) dictOffset = r.int();
              else if (mId === 3 && mType === CT.List) {
                path = [];
                r.list(() => path.push(new TextDecoder().decode(r.binary())));
              } else if (mId === 12 && mType === CT.Struct) {
                r.struct((sId, sType) => {
                  if (sId === 1 && sType === CT.Binary) legacyMax = r.binary();
                  else if (sId === 2 && sType === CT.Binary) legacyMin = r.binary();
                  else if (sId === 3 && sType === CT.I64) nullCount = r.int();
                  else if (sId === 5 && sType === CT.Binary) max = r.binary();
                  else if (sId === 6 && sType === CT.Binary) min = r.binary();
                  else r.skip(sType);
                });
              } else r.skip(mType);
            });
            const column = path.join('.');
            const utf8 = utf8Columns.has(column);
            const lo = min ?? legacyMin;
            const hi = max ?? legacyMax;
            const start = dictOffset !== undefined && dictOffset > 0 && dictOffset < dataOffset ? dictOffset : dataOffset;
            stats = {
              column,
              byteRange: [start, start + compressed],
              ...(lo !== undefined ? { min: decodeStat(lo, physical, utf8) } : {}),
              ...(hi !== undefined ? { max: decodeStat(hi, physical, utf8) } : {}),
              ...(nullCount !== undefined ? { nullCount } : {}),
            };
          });
          if (stats !== undefined) chunks.push(stats);
        });
      });
      rowGroups.push(chunks);
    });
  });
  return rowGroups;
}

/** Thrift compact-protocol output: enough to re-emit a FileMetaData with some fields rewritten. */
class CompactWriter {
  private buf = new Uint8Array(1024);
  length = 0;
  private readonly lastIds: number[] = [0];

  private ensure(n: number): void {
    if (this.length + n <= this.buf.length) return;
    const next = new Uint8Array(Math.max(this.buf.length * 2, this.length + n));
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
  }
  byte(b: number): void {
    this.ensure(1);
    this.buf[this.length++] = b;
  }
  varint(v: number): void {
    let x = BigInt(v);
    for (;;) {
      const low = Number(x & 0x7fn);
      x >>= 7n;
      if (x === 0n) return this.byte(low);
      this.byte(low | 0x80);
    }
  }
  raw(bytes: Uint8Array): void {
    this.ensure(bytes.length);
    this.buf.set(bytes, this.length);
    this.length += bytes.length;
  }
  /** A field header inside the innermost open struct. */
  field(id: number, type: number): void {
    const last = this.lastIds[this.lastIds.length - 1]!;
    const delta = id - last;
    if (delta > 0 && delta <= 15) this.byte((delta << 4) | type);
    else {
      this.byte(type);
      this.varint((id << 1) ^ (id >> 31));
    }
    this.lastIds[this.lastIds.length - 1] = id;
  }
  beginStruct(): void {
    this.lastIds.push(0);
  }
  endStruct(): void {
    this.byte(CT.Stop);
    this.lastIds.pop();
  }
  listHeader(size: number, type: number): void {
    if (size < 15) this.byte((size << 4) | type);
    else {
      this.byte(0xf0 | type);
      this.varint(size);
    }
  }
  binary(bytes: Uint8Array): void {
    this.varint(bytes.length);
    this.raw(bytes);
  }
  bytes(): Uint8Array {
    return this.buf.slice(0, this.length);
  }
}

/** Reads one value of `type` and returns its raw bytes (to copy unchanged). */
function rawValue(r: CompactReader, buf: Uint8Array, type: number): Uint8Array {
  const start = r.pos;
  r.skip(type);
  return buf.subarray(start, r.pos);
}

/** Reads a list of structs, returning each element's raw bytes (struct body including its stop byte). */
function rawStructList(r: CompactReader, buf: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  r.list((t) => out.push(rawValue(r, buf, t)));
  return out;
}

/**
 * A FileMetaData (the footer's Thrift bytes, without length and magic) describing only the top-level
 * columns in `keep`, so a reader decodes no other column chunk: the schema, every row group's column
 * chunks and the column orders are filtered, sorting columns (which index columns) are dropped, and
 * each key-value entry is passed through `rewriteMetadata` (null drops it; used for `ARROW:schema`).
 * Returns the new footer and every column's name, or null for a nested schema (a top-level column
 * spanning several leaves), which this does not project. Column-chunk offsets are absolute, so the data before the footer stays where it is.
 */
export function projectFooter(
  footer: Uint8Array,
  keep: ReadonlySet<string>,
  rewriteMetadata: (key: string, value: Uint8Array) => Uint8Array | null,
): { readonly footer: Uint8Array; readonly columns: readonly string[] } | null {
  const r = new CompactReader(footer);
  const w = new CompactWriter();
  let keptLeaves: boolean[] | undefined;
  let columns: string[] = [];
  let nested = false;
  const filtered = <T>(items: T[]): T[] => {
    if (keptLeaves === undefined) throw new Error('row groups before the schema in the Parquet footer');
    if (items.length !== keptLeaves.length) throw new Error(`${items.length} column entries for ${keptLeaves.length} schema columns`);
    return items.filter((_, i) => keptLeaves![i]);
  };
  w.beginStruct();
  r.struct((id, type) => {
    if (nested) return r.skip(type);
    if (id === 2 && type === CT.List) {
      // Schema: the root, then (for a flat schema) one leaf element per column.
      const elements = rawStructList(r, footer).map((raw) => {
        const er = new CompactReader(raw);
        let name = '';
        let children: number | undefined;
        er.struct((eId, eType) => {
          if (eId === 4 && eType === CT.Binary) name = new TextDecoder().decode(er.binary());
          else if (eId === 5 && eType === CT.I32) children = er.int();
          else er.skip(eType);
        });
        return { raw, name, children };
      });
      const [root, ...leaves] = elements;
      if (root === undefined || leaves.some((e) => e.children !== undefined && e.children > 0)) {
        nested = true;
        return;
      }
      columns = leaves.map((e) => e.name);
      keptLeaves = leaves.map((e) => keep.has(e.name));
      const kept = leaves.filter((_, i) => keptLeaves![i]);
      w.field(2, CT.List);
      w.listHeader(kept.length + 1, CT.Struct);
      // The root again with num_children (field 5) set to the kept count.
      const rr = new CompactReader(root.raw);
      w.beginStruct();
      rr.struct((eId, eType) => {
        if (eId === 5 && eType === CT.I32) {
          rr.int();
          w.field(5, CT.I32);
          w.varint(kept.length << 1);
        } else {
          w.field(eId, eType);
          w.raw(rawValue(rr, root.raw, eType));
        }
      });
      w.endStruct();
      for (const e of kept) w.raw(e.raw);
      return;
    }
    if (id === 4 && type === CT.List) {
      const groups: Uint8Array[] = [];
      r.list(() => {
        const g = new CompactWriter();
        g.beginStruct();
        r.struct((gId, gType) => {
          if (gId === 1 && gType === CT.List) {
            const chunks = filtered(rawStructList(r, footer));
            g.field(1, CT.List);
            g.listHeader(chunks.length, CT.Struct);
            for (const c of chunks) g.raw(c);
          } else if (gId === 4) r.skip(gType);
          else {
            g.field(gId, gType);
            g.raw(rawValue(r, footer, gType));
          }
        });
        g.endStruct();
        groups.push(g.bytes());
      });
      w.field(4, CT.List);
      w.listHeader(groups.length, CT.Struct);
      for (const g of groups) w.raw(g);
      return;
    }
    if (id === 5 && type === CT.List) {
      const entries: { key: Uint8Array; value: Uint8Array | undefined }[] = [];
      r.list(() => {
        let key: Uint8Array = new Uint8Array(0);
        let value: Uint8Array | undefined;
        r.struct((kId, kType) => {
          if (kId === 1 && kType === CT.Binary) key = r.binary();
          else if (kId === 2 && kType === CT.Binary) value = r.binary();
          else r.skip(kType);
        });
        const next = value === undefined ? undefined : rewriteMetadata(new TextDecoder().decode(key), value);
        if (next !== null) entries.push({ key, value: next });
      });
      w.field(5, CT.List);
      w.listHeader(entries.length, CT.Struct);
      for (const e of entries) {
        w.beginStruct();
        w.field(1, CT.Binary);
        w.binary(e.key);
        if (e.value !== undefined) {
          w.field(2, CT.Binary);
          w.binary(e.value);
        }
        w.endStruct();
      }
      return;
    }
    if (id === 7 && type === CT.List) {
      const orders = filtered(rawStructList(r, footer));
      w.field(7, CT.List);
      w.listHeader(orders.length, CT.Struct);
      for (const o of orders) w.raw(o);
      return;
    }
    w.field(id, type);
    w.raw(rawValue(r, footer, type));
  });
  w.endStruct();
  return nested ? null : { footer: w.bytes(), columns };
}
