/**
 * Row keys for grouping, joining and distinct, and row hashes for partitioning.
 *
 * Keys are Map keys: with one key column the value itself (number, string, boolean or null), with
 * several a canonical string encoding (numbers of every numeric type encode alike, strings are
 * length-prefixed so there is no separator ambiguity, null has its own tag).
 *
 * Hashes are a pure function of the key values — numbers hash by value (an int32 5, an int64 5 and a
 * float64 5.0 hash alike), strings by FNV-1a over UTF-16 code units, finished with murmur3's fmix32 —
 * so the same key lands in the same partition in every process.
 */
import type * as arrow from 'apache-arrow';
import { type Column, columnFromVector } from '../types/column.js';
import { isListType } from '../types/logical-type.js';
import { requireColumn } from './table-util.js';

export function keyColumns(table: arrow.Table, names: readonly string[]): Column[] {
  return names.map((n) => columnFromVector(requireColumn(table, n), n));
}

function encodeValue(col: Column, i: number): string {
  if (col.valid !== null && col.valid[i] !== 1) return '\u0000';
  const t = col.type;
  if (t === 'utf8') {
    const s = (col.values as string[])[i]!;
    return `s${s.length}:${s}`;
  }
  if (t === 'bool') return (col.values as Uint8Array)[i] === 1 ? 'T' : 'F';
  if (isListType(t) || t === 'null') return `l${JSON.stringify((col.values as unknown[])[i])}`;
  if (col.exact !== undefined) return `n${col.exact[i]!}`;
  const v = (col.values as Int32Array | Float64Array)[i]!;
  const prefix = t === 'date' ? 'd' : t === 'timestamp' ? 't' : 'n';
  return prefix + (v === 0 ? '0' : String(v));
}

export type RowKey = string | number | bigint | boolean | null;

export interface EncodedKeys {
  /** One Map key per row. */
  readonly keys: RowKey[];
  /** 1 where any key value of the row is null. */
  readonly anyNull: Uint8Array;
}

export function encodeKeys(cols: readonly Column[], n: number): EncodedKeys {
  const keys = new Array<RowKey>(n);
  const anyNull = new Uint8Array(n);
  for (const c of cols) if (c.valid !== null) for (let i = 0; i < n; i++) if (c.valid[i] !== 1) anyNull[i] = 1;
  const only = cols.length === 1 ? cols[0]! : undefined;
  if (only !== undefined && !isListType(only.type) && only.type !== 'null') {
    const values = only.values as ArrayLike<unknown>;
    const exact = only.exact;
    for (let i = 0; i < n; i++) {
      if (anyNull[i] === 1) keys[i] = null;
      else {
        const v = values[i] as string | number;
        // Unsafe int64 values key by their exact BigInt; safe ones as numbers, matching int32/float64 keys.
        keys[i] = exact !== undefined && !Number.isSafeInteger(v) ? exact[i]! : v === 0 ? 0 : v; // -0 → 0
      }
    }
  } else {
    for (let i = 0; i < n; i++) {
      let k = '';
      for (let j = 0; j < cols.length; j++) k += (j === 0 ? '' : '|') + encodeValue(cols[j]!, i);
      keys[i] = k;
    }
  }
  return { keys, anyNull };
}

function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

const f64 = new Float64Array(1);
const f64Words = new Uint32Array(f64.buffer);
const NULL_HASH = 0x9e3779b9;

/** Stable 32-bit hash of a number by value (integral values hash alike whatever their storage type). */
export function hashNumber(v: number): number {
  if (Number.isInteger(v) && Math.abs(v) <= Number.MAX_SAFE_INTEGER) {
    const hi = Math.floor(v / 4294967296);
    const lo = v - hi * 4294967296;
    return fmix32((lo ^ Math.imul(fmix32(hi | 0), 0x27d4eb2d)) >>> 0);
  }
  if (v !== v) return 0x7ff80000;
  f64[0] = v;
  return fmix32((f64Words[0]! ^ Math.imul(f64Words[1]!, 0x27d4eb2d)) >>> 0);
}

/** Stable 32-bit hash of an integer given exactly; equals `hashNumber(Number(v))` whenever that is exact. */
export function hashBigInt(v: bigint): number {
  if (v >= -9007199254740991n && v <= 9007199254740991n) return hashNumber(Number(v));
  const hi = Number(BigInt.asIntN(32, v >> 32n));
  const lo = Number(BigInt.asUintN(32, v));
  return fmix32((lo ^ Math.imul(fmix32(hi | 0), 0x27d4eb2d)) >>> 0);
}

/** Stable 32-bit hash of a string (FNV-1a over UTF-16 code units, then fmix32). */
export function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return fmix32(h);
}

/** Per-row hash of the key columns; the same values give the same hash in any process. */
export function hashRows(cols: readonly Column[], n: number): Uint32Array {
  const out = new Uint32Array(n);
  for (let j = 0; j < cols.length; j++) {
    const c = cols[j]!;
    const t = c.type;
    for (let i = 0; i < n; i++) {
      let h: number;
      if (c.valid !== null && c.valid[i] !== 1) h = NULL_HASH;
      else if (t === 'utf8') h = hashString((c.values as string[])[i]!);
      else if (c.exact !== undefined) h = hashBigInt(c.exact[i]!);
      else if (isListType(t) || t === 'null') h = hashString(JSON.stringify((c.values as unknown[])[i]));
      else h = hashNumber((c.values as ArrayLike<number>)[i]!);
      out[i] = j === 0 ? h : fmix32((Math.imul(out[i]!, 31) + h) >>> 0);
    }
  }
  return out;
}

/** Assigns each row a dense group id in order of first appearance. */
export function groupRows(keys: readonly RowKey[]): { groupOf: Int32Array; firstRows: number[] } {
  const ids = new Map<RowKey, number>();
  const groupOf = new Int32Array(keys.length);
  const firstRows: number[] = [];
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i]!;
    let g = ids.get(k);
    if (g === undefined) {
      g = firstRows.length;
      ids.set(k, g);
      firstRows.push(i);
    }
    groupOf[i] = g;
  }
  return { groupOf, firstRows };
}
