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

/** Hash of one column's values, by value (`hashNumber`/`hashBigInt`/`hashString` inlined for typed arrays). */
function hashColumn(c: Column, n: number, out: Uint32Array): void {
  const t = c.type;
  const valid = c.valid;
  if (t === 'int32' || t === 'date') {
    const v = c.values as Int32Array;
    for (let i = 0; i < n; i++) {
      const x = v[i]!;
      out[i] = fmix32(((x >>> 0) ^ Math.imul(x < 0 ? HI_NEG : HI_ZERO, 0x27d4eb2d)) >>> 0);
    }
  } else if ((t === 'int64' || t === 'float64' || t === 'timestamp') && c.exact === undefined) {
    const v = c.values as Float64Array;
    for (let i = 0; i < n; i++) {
      const x = v[i]!;
      // Integral and within ±2^53: hash the two 32-bit words (hashNumber's integer branch, inlined).
      if (x === Math.floor(x) && x <= Number.MAX_SAFE_INTEGER && x >= -Number.MAX_SAFE_INTEGER) {
        const hi = Math.floor(x / 4294967296);
        const lo = x - hi * 4294967296;
        out[i] = fmix32((lo ^ Math.imul(fmix32(hi | 0), 0x27d4eb2d)) >>> 0);
      } else out[i] = hashNumber(x);
    }
  } else {
    for (let i = 0; i < n; i++) {
      if (t === 'utf8') out[i] = hashString((c.values as string[])[i] ?? '');
      else if (c.exact !== undefined) out[i] = hashBigInt(c.exact[i]!);
      else if (isListType(t) || t === 'null') out[i] = hashString(JSON.stringify((c.values as unknown[])[i]));
      else out[i] = hashNumber((c.values as ArrayLike<number>)[i]!);
    }
  }
  if (valid !== null) for (let i = 0; i < n; i++) if (valid[i] !== 1) out[i] = NULL_HASH;
}

const HI_ZERO = fmix32(0);
const HI_NEG = fmix32(-1 | 0);

/** Per-row hash of the key columns; the same values give the same hash in any process. */
export function hashRows(cols: readonly Column[], n: number): Uint32Array {
  const out = new Uint32Array(n);
  if (cols.length === 0) return out;
  hashColumn(cols[0]!, n, out);
  if (cols.length === 1) return out;
  const h = new Uint32Array(n);
  for (let j = 1; j < cols.length; j++) {
    hashColumn(cols[j]!, n, h);
    for (let i = 0; i < n; i++) out[i] = fmix32((Math.imul(out[i]!, 31) + h[i]!) >>> 0);
  }
  return out;
}

/** True when row `a` of `x` and row `b` of `y` hold the same key value (nulls equal nulls; NaN equals NaN). */
export function keyValuesEqual(x: Column, a: number, y: Column, b: number): boolean {
  const va = x.valid === null || x.valid[a] === 1;
  const vb = y.valid === null || y.valid[b] === 1;
  if (!va || !vb) return va === vb;
  if (x.exact !== undefined || y.exact !== undefined) {
    const p = x.exact !== undefined ? x.exact[a]! : (x.values as Float64Array)[a]!;
    const q = y.exact !== undefined ? y.exact[b]! : (y.values as Float64Array)[b]!;
    return typeof p === typeof q ? p === q : Number.isInteger(typeof p === 'bigint' ? q : p) && BigInt(p) === BigInt(q);
  }
  const t = x.type;
  if (isListType(t) || t === 'null') return JSON.stringify((x.values as unknown[])[a]) === JSON.stringify((y.values as unknown[])[b]);
  const p = (x.values as ArrayLike<unknown>)[a];
  const q = (y.values as ArrayLike<unknown>)[b];
  return p === q || (p !== p && q !== q);
}

/** Dense group ids (in order of first appearance) from an open-addressing hash table over typed arrays. */
export interface GroupIds {
  readonly groupOf: Int32Array;
  /** Row of each group's first appearance. */
  readonly firstRows: Int32Array;
  readonly numGroups: number;
}

/**
 * Assigns each row a dense group id, rows with equal key values (nulls equal) sharing one. Same
 * grouping as `groupRows(encodeKeys(...).keys)`, without building a string or Map entry per row.
 */
export function groupIds(cols: readonly Column[], n: number): GroupIds {
  const hashes = hashRows(cols, n);
  const groupOf = new Int32Array(n);
  let firstRows = new Int32Array(Math.min(n, 1024));
  let groupHash = new Uint32Array(firstRows.length);
  let cap = 1024;
  let mask = cap - 1;
  let slots = new Int32Array(cap).fill(-1);
  let numGroups = 0;
  const single = cols.length === 1 ? cols[0]! : undefined;
  const fastVals = single !== undefined && single.valid === null && single.exact === undefined && (single.values instanceof Float64Array || single.values instanceof Int32Array) ? single.values : null;
  for (let i = 0; i < n; i++) {
    const h = hashes[i]!;
    let s = h & mask;
    let g = -1;
    for (;;) {
      const cand = slots[s]!;
      if (cand < 0) break;
      if (groupHash[cand] === h) {
        const r = firstRows[cand]!;
        if (fastVals !== null) {
          const p = fastVals[r]!;
          const q = fastVals[i]!;
          if (p === q || (p !== p && q !== q)) {
            g = cand;
            break;
          }
        } else {
          let eq = true;
          for (let j = 0; j < cols.length && eq; j++) eq = keyValuesEqual(cols[j]!, r, cols[j]!, i);
          if (eq) {
            g = cand;
            break;
          }
        }
      }
      s = (s + 1) & mask;
    }
    if (g < 0) {
      g = numGroups++;
      if (g >= firstRows.length) {
        const bigger = new Int32Array(Math.min(n, firstRows.length * 2));
        bigger.set(firstRows);
        firstRows = bigger;
        const bh = new Uint32Array(bigger.length);
        bh.set(groupHash);
        groupHash = bh;
      }
      firstRows[g] = i;
      groupHash[g] = h;
      slots[s] = g;
      if (numGroups * 2 > cap) {
        cap *= 4;
        mask = cap - 1;
        slots = new Int32Array(cap).fill(-1);
        for (let k = 0; k < numGroups; k++) {
          let t = groupHash[k]! & mask;
          while (slots[t]! >= 0) t = (t + 1) & mask;
          slots[t] = k;
        }
      }
    }
    groupOf[i] = g;
  }
  return { groupOf, firstRows: firstRows.subarray(0, numGroups), numGroups };
}


/**
 * Rows of one table indexed by key for lookups from another table's rows (the build side of a hash
 * join): an open-addressing table over typed arrays, rows with equal keys chained through `next`.
 * Rows with a null key value are left out (SQL: null never matches).
 */
export class KeyIndex {
  /** Next row with the same key as a row (-1 at the end of a chain), in row order. */
  readonly next: Int32Array;
  private readonly slots: Int32Array;
  private readonly mask: number;
  private readonly hashes: Uint32Array;

  constructor(
    private readonly cols: readonly Column[],
    n: number,
    anyNull: Uint8Array,
  ) {
    this.hashes = hashRows(cols, n);
    let cap = 16;
    while (cap < n * 2) cap *= 2;
    this.mask = cap - 1;
    this.slots = new Int32Array(cap).fill(-1);
    this.next = new Int32Array(n).fill(-1);
    const tail = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      if (anyNull[i] === 1) continue;
      const h = this.hashes[i]!;
      let s = h & this.mask;
      for (;;) {
        const head = this.slots[s]!;
        if (head < 0) {
          this.slots[s] = i;
          tail[i] = i;
          break;
        }
        if (this.hashes[head] === h && this.rowEquals(head, cols, i)) {
          this.next[tail[head]!] = i;
          tail[head] = i;
          break;
        }
        s = (s + 1) & this.mask;
      }
    }
  }

  private rowEquals(row: number, other: readonly Column[], j: number): boolean {
    for (let c = 0; c < this.cols.length; c++) if (!keyValuesEqual(this.cols[c]!, row, other[c]!, j)) return false;
    return true;
  }

  /** First indexed row whose key equals row `j` of `other` (hash `h`), or -1. */
  find(other: readonly Column[], j: number, h: number): number {
    let s = h & this.mask;
    for (;;) {
      const head = this.slots[s]!;
      if (head < 0) return -1;
      if (this.hashes[head] === h && this.rowEquals(head, other, j)) return head;
      s = (s + 1) & this.mask;
    }
  }
}

/** 1 where any key value of the row is null. */
export function anyNullRows(cols: readonly Column[], n: number): Uint8Array {
  const anyNull = new Uint8Array(n);
  for (const c of cols) {
    if (c.type === 'null') anyNull.fill(1);
    else if (c.valid !== null) for (let i = 0; i < n; i++) if (c.valid[i] !== 1) anyNull[i] = 1;
  }
  return anyNull;
}
