/**
 * Hash join of two partitions (the caller co-partitions both sides with `hashPartition` on the join
 * keys first). The right side is built into a hash table, the left side probes it. SQL semantics:
 * a null in any key column never matches anything, so such rows appear only as unmatched rows of
 * outer joins and in anti joins.
 */
import * as arrow from 'apache-arrow';
import { invalidOption, SchemaMismatchError } from '../errors.js';
import { widen } from '../expr/coerce.js';
import { commonType } from '../expr/output-type.js';
import { columnFromVector, columnToVector } from '../types/column.js';
import { typeToString } from '../types/logical-type.js';
import { Int64KeyIndex, int64Chunks } from './int64-key-index.js';
import { type KeyMatches, keyColumns, matchKeys } from './row-key.js';
import { requireColumn } from './table-util.js';
import { tableFromVectors, takeVector } from './take.js';

export type JoinType = 'inner' | 'left' | 'right' | 'full' | 'semi' | 'anti';

/** Join keys: column names present on both sides, or separate lists per side. */
export type JoinOn = string | readonly string[] | { readonly left: readonly string[]; readonly right: readonly string[] };

export interface HashJoinOptions {
  /** Appended to right-side column names that collide with left-side names. @default '_right' */
  readonly suffix?: string;
}

const JOIN_TYPES: readonly JoinType[] = ['inner', 'left', 'right', 'full', 'semi', 'anti'];

/**
 * Joins `left` and `right`. When `on` names the same columns on both sides the key columns appear
 * once (coalesced from both sides, like Spark's `join(df, on=[...])`), followed by the left then the
 * right non-key columns. With `{left, right}` keys every column of both sides is kept. `semi` and
 * `anti` return left columns only.
 */
export function hashJoin(left: arrow.Table, right: arrow.Table, on: JoinOn, how: JoinType = 'inner', options: HashJoinOptions = {}): arrow.Table {
  const suffix = options.suffix ?? '_right';
  const { first: firstMatch, next } = joinMatches(left, right, on, how);

  const li = new IndexBuffer(left.numRows);
  const ri = new IndexBuffer(left.numRows);
  const rightMatched = how === 'right' || how === 'full' ? new Uint8Array(right.numRows) : null;
  for (let i = 0, iEnd = left.numRows; i < iEnd; i++) {
    const first = firstMatch[i]!;
    if (how === 'semi' || how === 'anti') {
      if (first >= 0 === (how === 'semi')) li.push(i);
      continue;
    }
    if (first < 0) {
      if (how === 'left' || how === 'full') {
        li.push(i);
        ri.push(-1);
      }
      continue;
    }
    for (let j = first; j >= 0; j = next[j]!) {
      li.push(i);
      ri.push(j);
      if (rightMatched !== null) rightMatched[j] = 1;
    }
  }
  if (rightMatched !== null) {
    for (let j = 0, jEnd = right.numRows; j < jEnd; j++) {
      if (rightMatched[j] === 0) {
        li.push(-1);
        ri.push(j);
      }
    }
  }
  const lIdx = li.toArray();
  if (how === 'semi' || how === 'anti') {
    const vectors = left.schema.fields.map((_, c) => takeVector(left.getChildAt(c) as arrow.Vector, lIdx));
    return tableFromVectors(left.schema.fields, vectors, lIdx.length);
  }
  const rIdx = ri.toArray();
  const leftNullable = how === 'right' || how === 'full';
  const rightNullable = how === 'left' || how === 'full';
  const fields: arrow.Field[] = [];
  const vectors: arrow.Vector[] = [];
  for (const c of joinColumns(fieldNames(left), fieldNames(right), on, how, suffix)) {
    const side = c.side === 'right' ? right : left;
    const f = side.schema.fields.find((x) => x.name === c.name)!;
    let v: arrow.Vector;
    if (c.side === 'key') v = coalesceTake(requireColumn(left, c.name), requireColumn(right, c.rightName!), lIdx, rIdx, c.name);
    else v = takeVector(requireColumn(side, c.name), c.side === 'left' ? lIdx : rIdx);
    const nullable = c.side === 'key' ? false : c.side === 'left' ? leftNullable : rightNullable;
    fields.push(new arrow.Field(c.out, v.type as arrow.DataType, nullable || f.nullable, f.metadata));
    vectors.push(v);
  }
  return tableFromVectors(fields, vectors, lIdx.length);
}

const fieldNames = (t: arrow.Table): string[] => t.schema.fields.map((f) => f.name);

/** One output column of a join: where it comes from and its name in the result. */
export interface JoinColumn {
  /** `key`: a shared key column, coalesced from both sides (`name` on the left, `rightName` on the right). */
  readonly side: 'key' | 'left' | 'right';
  readonly name: string;
  readonly rightName?: string;
  readonly out: string;
}

/** The key column names of each side. */
export function joinKeys(on: JoinOn): { left: readonly string[]; right: readonly string[] } {
  if (typeof on === 'string') return { left: [on], right: [on] };
  if (Array.isArray(on)) return { left: on as readonly string[], right: on as readonly string[] };
  const lr = on as { left: readonly string[]; right: readonly string[] };
  return { left: lr.left, right: lr.right };
}

/**
 * The columns `hashJoin` returns for sides with these column names, in order: shared keys once
 * (when `on` names the same columns on both sides), then left then right non-key columns; a right
 * name that is already taken gets `suffix` appended (repeatedly) until it is free. `semi` and `anti`
 * return the left columns. The optimizer uses this to prune columns through a join.
 */
export function joinColumns(leftNames: readonly string[], rightNames: readonly string[], on: JoinOn, how: JoinType, suffix = '_right'): JoinColumn[] {
  if (how === 'semi' || how === 'anti') return leftNames.map((name) => ({ side: 'left', name, out: name }));
  const shared = typeof on === 'string' || Array.isArray(on);
  const keys = joinKeys(on);
  const out: JoinColumn[] = [];
  const used = new Set<string>();
  const add = (c: Omit<JoinColumn, 'out'>): void => {
    let name = c.name;
    while (used.has(name)) name += suffix;
    used.add(name);
    out.push({ ...c, out: name });
  };
  if (shared) keys.left.forEach((name, k) => add({ side: 'key', name, rightName: keys.right[k]! }));
  for (const name of leftNames) if (!(shared && keys.left.includes(name))) add({ side: 'left', name });
  for (const name of rightNames) if (!(shared && keys.right.includes(name))) add({ side: 'right', name });
  return out;
}

/** Validated join type and key names of both sides. */
function checkJoin(on: JoinOn, how: JoinType): { leftKeys: readonly string[]; rightKeys: readonly string[] } {
  if (!JOIN_TYPES.includes(how)) throw invalidOption('how', `must be one of ${JOIN_TYPES.join(', ')}; got ${String(how)}`);
  const { left: leftKeys, right: rightKeys } = joinKeys(on);
  if (leftKeys.length === 0 || leftKeys.length !== rightKeys.length) throw invalidOption('on', 'must name the same non-zero number of key columns on both sides');
  return { leftKeys, rightKeys };
}

/** The build index over one int64 key column on each side (read from the Arrow words), or null for any other key. */
function int64Join(left: arrow.Table, right: arrow.Table, on: JoinOn, how: JoinType): { index: Int64KeyIndex; probe: ReturnType<typeof int64Chunks> & object } | null {
  const { leftKeys, rightKeys } = checkJoin(on, how);
  if (leftKeys.length !== 1) return null;
  const l = left.getChild(leftKeys[0]!);
  const r = right.getChild(rightKeys[0]!);
  const probe = l === null ? null : int64Chunks(l);
  const build = r === null ? null : int64Chunks(r);
  if (probe === null || build === null) return null;
  return { index: new Int64KeyIndex(build, right.numRows), probe };
}

/** The matches of every left row among the right rows. */
function joinMatches(left: arrow.Table, right: arrow.Table, on: JoinOn, how: JoinType): KeyMatches {
  const fast = int64Join(left, right, on, how);
  if (fast !== null) return fast.index.matches(fast.probe, left.numRows);
  const { leftKeys, rightKeys } = checkJoin(on, how);
  const lk = keyColumns(left, leftKeys);
  const rk = keyColumns(right, rightKeys);
  lk.forEach((c, i) => {
    const t = commonType(c.type, rk[i]!.type);
    // Compare dates with timestamps as timestamps (numbers of any width already compare by value).
    if (t === 'timestamp') {
      lk[i] = widen(c, t);
      rk[i] = widen(rk[i]!, t);
    }
    if (t === undefined) throw new SchemaMismatchError(`join key "${leftKeys[i]}" is ${typeToString(c.type)} on the left but "${rightKeys[i]}" is ${typeToString(rk[i]!.type)} on the right`, leftKeys[i]);
  });
  return matchKeys(lk, left.numRows, rk, right.numRows);
}

/**
 * The number of rows `hashJoin(left, right, on, how)` returns, without gathering any column (for a
 * join whose result is only counted).
 */
export function hashJoinCount(left: arrow.Table, right: arrow.Table, on: JoinOn, how: JoinType = 'inner'): number {
  const fast = int64Join(left, right, on, how);
  if (fast !== null) return fast.index.count(fast.probe, how);
  const { first, next } = joinMatches(left, right, on, how);
  const nl = left.numRows;
  const nr = right.numRows;
  // Rows in the chain from each right row to the end of its key's chain (chains run in row order).
  const chain = new Int32Array(nr);
  for (let j = nr - 1; j >= 0; j--) chain[j] = 1 + (next[j]! >= 0 ? chain[next[j]!]! : 0);
  let rows = 0;
  const matched = how === 'right' || how === 'full' ? new Uint8Array(nr) : null;
  for (let i = 0; i < nl; i++) {
    const f = first[i]!;
    if (how === 'semi') rows += f >= 0 ? 1 : 0;
    else if (how === 'anti') rows += f >= 0 ? 0 : 1;
    else if (f >= 0) {
      rows += chain[f]!;
      if (matched !== null) matched[f] = 1;
    } else if (how === 'left' || how === 'full') rows++;
  }
  if (matched !== null) {
    // A chain's head marks its whole chain matched; the unmatched right rows are output once each.
    for (let j = 0; j < nr; j++) {
      if (matched[j] === 1) {
        if (next[j]! >= 0) matched[next[j]!] = 1;
      } else rows++;
    }
  }
  return rows;
}

/** The key value from the left row when there is one, else from the right row. */
function coalesceTake(lv: arrow.Vector, rv: arrow.Vector, lIdx: Int32Array, rIdx: Int32Array, name: string): arrow.Vector {
  let l = lv;
  let r = rv;
  if (String(lv.type) !== String(rv.type)) {
    const lc = columnFromVector(lv, name);
    const rc = columnFromVector(rv, name);
    const t = commonType(lc.type, rc.type)!;
    l = columnToVector(widen(lc, t));
    r = columnToVector(widen(rc, t));
  }
  // Every output row has a left row (inner and left joins): the left key column alone suffices.
  if (l === lv && !lIdx.includes(-1)) return takeVector(lv, lIdx);
  const both = new arrow.Vector([...(l.data as arrow.Data[]), ...(r.data as arrow.Data[])]);
  const idx = new Int32Array(lIdx.length);
  for (let i = 0; i < idx.length; i++) idx[i] = lIdx[i]! >= 0 ? lIdx[i]! : rIdx[i]! >= 0 ? l.length + rIdx[i]! : -1;
  return takeVector(both, idx);
}

/** A growable Int32Array of row indices. */
class IndexBuffer {
  private buf: Int32Array;
  private n = 0;

  constructor(initial: number) {
    this.buf = new Int32Array(Math.max(16, initial));
  }

  push(v: number): void {
    if (this.n === this.buf.length) {
      const bigger = new Int32Array(this.buf.length * 2);
      bigger.set(this.buf);
      this.buf = bigger;
    }
    this.buf[this.n++] = v;
  }

  toArray(): Int32Array {
    return this.buf.subarray(0, this.n);
  }
}
