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
import { fmix32, hashString } from './hash.js';
import { requireColumn } from './table-util.js';

export function keyColumns(table: arrow.Table, names: readonly string[]): Column[] {
  return names.map((n) => columnFromVector(requireColumn(table, n), n));
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
const ZERO_MIX = Math.imul(HI_ZERO, 0x27d4eb2d);
const NEG_MIX = Math.imul(HI_NEG, 0x27d4eb2d);

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
  /** Each group's row hash (`hashRows` of its key values), e.g. to route groups to partitions. */
  readonly groupHash: Uint32Array;
}

/**
 * Values of a single numeric key column as a typed array, when it can be hashed and compared by value
 * straight from that array (int32/int64/float64/date/timestamp without exact 64-bit values); else null.
 */
export function numericKeyValues(c: Column): Float64Array | Int32Array | null {
  if (c.exact !== undefined) return null;
  return c.values instanceof Float64Array || c.values instanceof Int32Array ? c.values : null;
}

/** `hashNumeric` of an int32 value (what hashColumn gives an int32 column). */
function hashInt32(x: number): number {
  return fmix32(((x >>> 0) ^ (x < 0 ? NEG_MIX : ZERO_MIX)) >>> 0);
}

/**
 * `hashNumber` specialised for integral values, and equal to what `hashColumn` gives for an int32,
 * int64 or float64 holding `x` (so rows partitioned by these hashes meet those partitioned by
 * `hashRows`). Small enough for V8 to inline into the grouping and probe loops.
 */
function hashNumeric(x: number): number {
  if (x === Math.floor(x) && x <= Number.MAX_SAFE_INTEGER && x >= -Number.MAX_SAFE_INTEGER) {
    const hi = Math.floor(x / 4294967296);
    const lo = x - hi * 4294967296;
    return fmix32((lo ^ Math.imul(hi === 0 ? HI_ZERO : hi === -1 ? HI_NEG : fmix32(hi | 0), 0x27d4eb2d)) >>> 0);
  }
  return hashNumber(x);
}

/**
 * Assigns each row a dense group id, rows with equal key values (nulls equal) sharing one. Same
 * grouping as `groupRows(encodeKeys(...).keys)`, without building a string or Map entry per row.
 */
export function groupIds(cols: readonly Column[], n: number): GroupIds {
  const single = cols.length === 1 ? numericKeyValues(cols[0]!) : null;
  if (single === null) return groupIdsGeneric(cols, n);
  const range = denseKeyRange(cols[0]!, n);
  return range !== null ? groupIdsDense(single, cols[0]!.valid, n, range) : groupIdsNumeric(single, cols[0]!.valid, n);
}

/** The integer span of key values (max - min + 1) up to which a key column is grouped by direct indexing. */
function maxDenseSpan(n: number): number {
  return 2 * n + 1024;
}

type DenseRange = { readonly min: number; readonly span: number } | null;

/** denseKeyRange results by column and row count (columns are immutable; a kernel often asks twice). */
const denseRanges = new WeakMap<Column, { n: number; range: DenseRange }>();

/** Smallest valid value and span of a single numeric key column whose valid values are all integers in a small range (see maxDenseSpan); else null. */
export function denseKeyRange(c: Column, n: number): DenseRange {
  const cached = denseRanges.get(c);
  if (cached !== undefined && cached.n === n) return cached.range;
  const range = computeDenseRange(c, n);
  denseRanges.set(c, { n, range });
  return range;
}

function computeDenseRange(c: Column, n: number): DenseRange {
  const vals = numericKeyValues(c);
  if (vals === null) return null;
  const valid = c.valid;
  let min = Infinity;
  let max = -Infinity;
  let integral = true;
  if (valid === null) {
    for (let i = 0; i < n; i++) {
      const x = vals[i]!;
      if (x < min) min = x;
      if (x > max) max = x;
      if (x !== Math.floor(x)) integral = false;
    }
  } else {
    for (let i = 0; i < n; i++) {
      if (valid[i] !== 1) continue;
      const x = vals[i]!;
      if (x < min) min = x;
      if (x > max) max = x;
      if (x !== Math.floor(x)) integral = false;
    }
  }
  // NaN fails `x === floor(x)`; ±Infinity passes it but gives an infinite span.
  if (!integral) return null;
  if (min > max) return { min: 0, span: 0 };
  const span = max - min + 1;
  return span <= maxDenseSpan(n) ? { min, span } : null;
}

/**
 * One integer key column in a small range: the group of a value is found at `slot[value - min]`, so
 * no row is hashed (each group's hash is computed once, from its first row). Nulls form one group.
 */
function groupIdsDense(vals: Float64Array | Int32Array, valid: Uint8Array | null, n: number, range: { readonly min: number; readonly span: number }): GroupIds {
  const groupOf = new Int32Array(n);
  const slot = new Int32Array(range.span).fill(-1);
  const min = range.min;
  let firstRows = new Int32Array(Math.min(n, Math.max(16, range.span + 1)));
  let numGroups = 0;
  let nullGroup = -1;
  for (let i = 0; i < n; i++) {
    if (valid !== null && valid[i] !== 1) {
      if (nullGroup < 0) {
        nullGroup = numGroups++;
        firstRows[nullGroup] = i;
      }
      groupOf[i] = nullGroup;
      continue;
    }
    const d = (vals[i]! - min) | 0;
    let g = slot[d]!;
    if (g < 0) {
      g = numGroups++;
      slot[d] = g;
      firstRows[g] = i;
    }
    groupOf[i] = g;
  }
  firstRows = firstRows.subarray(0, numGroups);
  const groupHash = new Uint32Array(numGroups);
  for (let g = 0; g < numGroups; g++) groupHash[g] = g === nullGroup ? NULL_HASH : hashNumeric(vals[firstRows[g]!]!);
  return { groupOf, firstRows, numGroups, groupHash };
}

/** The partition of a row hash: `hash % numPartitions` (in 32-bit integer arithmetic while numPartitions ≤ 2^15, as a uint32 above 2^31 would make `%` a float op). */
export function partitionOfHash(h: number, numPartitions: number): number {
  return numPartitions <= 32768 ? ((((h >>> 16) % numPartitions) << 16) | (h & 0xffff)) % numPartitions : h % numPartitions;
}

/**
 * The groups of `groupIds`, numbered partition by partition (`partitionOfHash` of each group's hash,
 * partition 0 first), and where each partition's groups start (`starts[p]`; `starts[numPartitions]`
 * is the number of groups). Within a partition, integer keys in a small range come in key order,
 * others in order of first appearance.
 */
export function groupIdsPartitioned(cols: readonly Column[], n: number, numPartitions: number): { ids: GroupIds; starts: Int32Array } {
  const single = cols.length === 1 ? numericKeyValues(cols[0]!) : null;
  const range = single !== null ? denseKeyRange(cols[0]!, n) : null;
  if (single !== null && range !== null) return groupIdsDensePartitioned(single, cols[0]!.valid, n, range, numPartitions);
  return renumberByPartition(groupIds(cols, n), n, numPartitions);
}

/**
 * `groupIdsDense` numbering groups by partition: a first pass marks the values present (their
 * first row), a pass over the value range numbers them partition by partition, and a last pass
 * gives each row its group.
 */
function groupIdsDensePartitioned(vals: Float64Array | Int32Array, valid: Uint8Array | null, n: number, range: { readonly min: number; readonly span: number }, numPartitions: number): { ids: GroupIds; starts: Int32Array } {
  const { min, span } = range;
  const slot = new Int32Array(span).fill(-1);
  let nullFirst = -1;
  for (let i = 0; i < n; i++) {
    if (valid !== null && valid[i] !== 1) {
      if (nullFirst < 0) nullFirst = i;
      continue;
    }
    const d = (vals[i]! - min) | 0;
    if (slot[d]! < 0) slot[d] = i;
  }
  // Groups per partition: the value of slot d is min + d (hashing it is cheaper than keeping hashes).
  const int32 = min >= -2147483648 && min + span <= 2147483648;
  const hashOf = (x: number): number => (int32 ? hashInt32(x) : hashNumeric(x));
  const starts = new Int32Array(numPartitions + 1);
  for (let d = 0; d < span; d++) if (slot[d]! >= 0) starts[partitionOfHash(hashOf(min + d), numPartitions) + 1]!++;
  if (nullFirst >= 0) starts[partitionOfHash(NULL_HASH, numPartitions) + 1]!++;
  for (let p = 0; p < numPartitions; p++) starts[p + 1]! += starts[p]!;
  const G = starts[numPartitions]!;
  const fill = starts.slice(0, numPartitions);
  const firstRows = new Int32Array(G);
  const groupHash = new Uint32Array(G);
  for (let d = 0; d < span; d++) {
    const first = slot[d]!;
    if (first < 0) continue;
    const h = hashOf(min + d);
    const g = fill[partitionOfHash(h, numPartitions)]!++;
    firstRows[g] = first;
    groupHash[g] = h;
    slot[d] = g;
  }
  let nullGroup = -1;
  if (nullFirst >= 0) {
    nullGroup = fill[partitionOfHash(NULL_HASH, numPartitions)]!++;
    firstRows[nullGroup] = nullFirst;
    groupHash[nullGroup] = NULL_HASH;
  }
  const groupOf = new Int32Array(n);
  for (let i = 0; i < n; i++) groupOf[i] = valid !== null && valid[i] !== 1 ? nullGroup : slot[(vals[i]! - min) | 0]!;
  return { ids: { groupOf, firstRows, numGroups: G, groupHash }, starts };
}

/** `ids` renumbered partition by partition, keeping the order of first appearance within a partition. */
function renumberByPartition(ids: GroupIds, n: number, numPartitions: number): { ids: GroupIds; starts: Int32Array } {
  const G = ids.numGroups;
  const partOf = new Int32Array(G);
  const starts = new Int32Array(numPartitions + 1);
  for (let g = 0; g < G; g++) {
    const p = partitionOfHash(ids.groupHash[g]!, numPartitions);
    partOf[g] = p;
    starts[p + 1]!++;
  }
  for (let p = 0; p < numPartitions; p++) starts[p + 1]! += starts[p]!;
  const fill = starts.slice(0, numPartitions);
  const rank = new Int32Array(G);
  const firstRows = new Int32Array(G);
  const groupHash = new Uint32Array(G);
  for (let g = 0; g < G; g++) {
    const r = fill[partOf[g]!]!++;
    rank[g] = r;
    firstRows[r] = ids.firstRows[g]!;
    groupHash[r] = ids.groupHash[g]!;
  }
  const groupOf = new Int32Array(n);
  const src = ids.groupOf;
  for (let i = 0; i < n; i++) groupOf[i] = rank[src[i]!]!;
  return { ids: { groupOf, firstRows, numGroups: G, groupHash }, starts };
}

/** Growable per-group arrays (first row and hash), shared by both grouping paths. */
class GroupList {
  firstRows: Int32Array;
  hashes: Uint32Array;
  size = 0;

  constructor(private readonly maxGroups: number) {
    this.firstRows = new Int32Array(Math.min(maxGroups, 1024));
    this.hashes = new Uint32Array(this.firstRows.length);
  }

  add(row: number, h: number): number {
    const g = this.size++;
    if (g === this.firstRows.length) {
      const firstRows = new Int32Array(Math.min(this.maxGroups, g * 2));
      firstRows.set(this.firstRows);
      this.firstRows = firstRows;
      const hashes = new Uint32Array(firstRows.length);
      hashes.set(this.hashes);
      this.hashes = hashes;
    }
    this.firstRows[g] = row;
    this.hashes[g] = h;
    return g;
  }

  result(groupOf: Int32Array): GroupIds {
    return { groupOf, firstRows: this.firstRows.subarray(0, this.size), numGroups: this.size, groupHash: this.hashes.subarray(0, this.size) };
  }
}

/**
 * One numeric key column: the table keeps each slot's key value next to its group id, so a probe
 * compares numbers (NaN equals NaN, -0 equals 0) without touching the rows. Nulls form one group
 * outside the table.
 */
function groupIdsNumeric(vals: Float64Array | Int32Array, valid: Uint8Array | null, n: number): GroupIds {
  const groupOf = new Int32Array(n);
  const groups = new GroupList(n);
  let cap = 1024;
  let mask = cap - 1;
  let slotGroup = new Int32Array(cap).fill(-1);
  let slotKey = new Float64Array(cap);
  let nullGroup = -1;
  for (let i = 0; i < n; i++) {
    if (valid !== null && valid[i] !== 1) {
      if (nullGroup < 0) nullGroup = groups.add(i, NULL_HASH);
      groupOf[i] = nullGroup;
      continue;
    }
    const x = vals[i]!;
    const h = hashNumeric(x);
    let s = h & mask;
    let g: number;
    for (;;) {
      g = slotGroup[s]!;
      if (g < 0) break;
      const k = slotKey[s]!;
      if (k === x || (k !== k && x !== x)) break;
      s = (s + 1) & mask;
    }
    if (g < 0) {
      g = groups.add(i, h);
      slotGroup[s] = g;
      slotKey[s] = x;
      if (groups.size * 2 > cap) {
        cap *= 2;
        mask = cap - 1;
        slotGroup = new Int32Array(cap).fill(-1);
        slotKey = new Float64Array(cap);
        const { firstRows, hashes } = groups;
        for (let k = 0; k < groups.size; k++) {
          if (k === nullGroup) continue;
          let t = hashes[k]! & mask;
          while (slotGroup[t]! >= 0) t = (t + 1) & mask;
          slotGroup[t] = k;
          slotKey[t] = vals[firstRows[k]!]!;
        }
      }
    }
    groupOf[i] = g;
  }
  return groups.result(groupOf);
}

function groupIdsGeneric(cols: readonly Column[], n: number): GroupIds {
  const hashes = hashRows(cols, n);
  const groupOf = new Int32Array(n);
  const groups = new GroupList(n);
  let cap = 1024;
  let mask = cap - 1;
  let slots = new Int32Array(cap).fill(-1);
  for (let i = 0; i < n; i++) {
    const h = hashes[i]!;
    let s = h & mask;
    let g = -1;
    for (;;) {
      const cand = slots[s]!;
      if (cand < 0) break;
      if (groups.hashes[cand] === h) {
        const r = groups.firstRows[cand]!;
        let eq = true;
        for (let j = 0; j < cols.length && eq; j++) eq = keyValuesEqual(cols[j]!, r, cols[j]!, i);
        if (eq) {
          g = cand;
          break;
        }
      }
      s = (s + 1) & mask;
    }
    if (g < 0) {
      g = groups.add(i, h);
      slots[s] = g;
      if (groups.size * 2 > cap) {
        cap *= 2;
        mask = cap - 1;
        slots = new Int32Array(cap).fill(-1);
        for (let k = 0; k < groups.size; k++) {
          let t = groups.hashes[k]! & mask;
          while (slots[t]! >= 0) t = (t + 1) & mask;
          slots[t] = k;
        }
      }
    }
    groupOf[i] = g;
  }
  return groups.result(groupOf);
}

/**
 * The home slot of hash `h` in a join index of 2^(32 - shift) slots: the top bits of a Fibonacci
 * product. Not `h & mask`: the rows of a shuffle bucket all share `h % numBuckets`, so their low
 * bits are alike and would crowd a fraction of the slots.
 */
const slotOf = (h: number, shift: number): number => Math.imul(h, 0x9e3779b1) >>> shift;

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
  private readonly shift: number;
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
    this.shift = Math.clz32(cap) + 1;
    this.slots = new Int32Array(cap).fill(-1);
    this.next = new Int32Array(n).fill(-1);
    const tail = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      if (anyNull[i] === 1) continue;
      const h = this.hashes[i]!;
      let s = slotOf(h, this.shift);
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
    let s = slotOf(h, this.shift);
    for (;;) {
      const head = this.slots[s]!;
      if (head < 0) return -1;
      if (this.hashes[head] === h && this.rowEquals(head, other, j)) return head;
      s = (s + 1) & this.mask;
    }
  }
}

/**
 * The build side of a hash join over one numeric key column: like `KeyIndex`, but each slot keeps its
 * key value, so building and probing compare numbers (NaN equals NaN, -0 equals 0) instead of rows.
 */
class NumericKeyIndex {
  readonly next: Int32Array;
  private readonly slotRow: Int32Array;
  private readonly slotKey: Float64Array;
  private readonly mask: number;
  private readonly shift: number;

  constructor(vals: Float64Array | Int32Array, n: number, anyNull: Uint8Array) {
    let cap = 16;
    while (cap < n * 2) cap *= 2;
    this.mask = cap - 1;
    const mask = this.mask;
    const shift = (this.shift = Math.clz32(cap) + 1);
    const slotRow = (this.slotRow = new Int32Array(cap).fill(-1));
    const slotKey = (this.slotKey = new Float64Array(cap));
    const next = (this.next = new Int32Array(n).fill(-1));
    const tail = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      if (anyNull[i] === 1) continue;
      const x = vals[i]!;
      let s = slotOf(hashNumeric(x), shift);
      for (;;) {
        const head = slotRow[s]!;
        if (head < 0) {
          slotRow[s] = i;
          slotKey[s] = x;
          tail[i] = i;
          break;
        }
        const k = slotKey[s]!;
        if (k === x || (k !== k && x !== x)) {
          next[tail[head]!] = i;
          tail[head] = i;
          break;
        }
        s = (s + 1) & mask;
      }
    }
  }

  /** First indexed row of each probe value (-1: none, or the probe row has a null key). */
  probe(vals: Float64Array | Int32Array, n: number, anyNull: Uint8Array): Int32Array {
    const first = new Int32Array(n);
    const { slotRow, slotKey, mask, shift } = this;
    for (let i = 0; i < n; i++) {
      if (anyNull[i] === 1) {
        first[i] = -1;
        continue;
      }
      const x = vals[i]!;
      let s = slotOf(hashNumeric(x), shift);
      for (;;) {
        const head = slotRow[s]!;
        if (head < 0) {
          first[i] = -1;
          break;
        }
        const k = slotKey[s]!;
        if (k === x || (k !== k && x !== x)) {
          first[i] = head;
          break;
        }
        s = (s + 1) & mask;
      }
    }
    return first;
  }
}

/** Matches of a hash join's probe rows among its build rows: the first build row per probe row, and the chain of the rest. */
export interface KeyMatches {
  /** First build row whose key equals probe row i (-1 when none; always -1 for a null key). */
  readonly first: Int32Array;
  /** Next build row with the same key as a build row (-1 at the end), in row order. */
  readonly next: Int32Array;
}

/**
 * Indexes the build rows by key and looks up every probe row. One numeric key column on both sides
 * takes a typed path (values compared as numbers); any other key goes through `KeyIndex`. Rows with
 * a null key value never match (SQL).
 */
export function matchKeys(probe: readonly Column[], probeRows: number, build: readonly Column[], buildRows: number): KeyMatches {
  const probeNull = anyNullRows(probe, probeRows);
  const buildNull = anyNullRows(build, buildRows);
  const pv = probe.length === 1 ? numericKeyValues(probe[0]!) : null;
  const bv = build.length === 1 ? numericKeyValues(build[0]!) : null;
  if (pv !== null && bv !== null) {
    const index = new NumericKeyIndex(bv, buildRows, buildNull);
    return { first: index.probe(pv, probeRows, probeNull), next: index.next };
  }
  const index = new KeyIndex(build, buildRows, buildNull);
  const hashes = hashRows(probe, probeRows);
  const first = new Int32Array(probeRows);
  for (let i = 0; i < probeRows; i++) first[i] = probeNull[i] === 1 ? -1 : index.find(probe, i, hashes[i]!);
  return { first, next: index.next };
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
