/**
 * Window kernel: computes window columns over one table that holds every row of its window partitions
 * (the window operator hash-shuffles by the partition keys first, so a reducer's table is complete for
 * each key it holds).
 *
 * Rows are sorted by (partition, order keys); each window column works in that "position space": a
 * position's partition is the segment [segStart, segEnd], its peers (equal order values) [peerStart,
 * peerEnd]. A frame is a position range cut by the frame exclusion into at most three ranges;
 * count/sum/mean read per-segment prefix sums, min/max a sparse table of argmin/argmax positions, so
 * every row costs O(1) whatever the frame size. The output keeps the order of the first column's spec.
 */
import * as arrow from 'apache-arrow';
import { InvalidWindowError } from '../errors.js';
import { evaluate } from '../expr/evaluate.js';
import { windowFnText, type FrameBound, type WindowColumnSpec, type WindowSpecData } from '../expr/window.js';
import { type Column, MS_PER_DAY, columnFromVector, columnToVector } from '../types/column.js';
import { isNumericType, typeToString } from '../types/logical-type.js';
import { parseDate, parseTimestamp } from '../types/temporal.js';
import { setColumn } from './project.js';
import { groupIds, keyColumns } from './row-key.js';
import { comparatorFor } from './sort.js';
import { requireColumn } from './table-util.js';
import { takeTable, takeVector } from './take.js';

/** Positions of one window spec over a table: sorted rows and each position's segment and peer range. */
interface Layout {
  readonly n: number;
  /** Row at each position. */
  readonly order: Int32Array;
  readonly segStart: Int32Array;
  readonly segEnd: Int32Array;
  readonly peerStart: Int32Array;
  readonly peerEnd: Int32Array;
}

/** Rows sorted by (partition, order keys, row); with `presorted` the table already is, and only the peer test is built. */
function orderRows(table: arrow.Table, groupOf: Int32Array, spec: WindowSpecData, presorted = false): { order: Int32Array; same: (a: number, b: number) => boolean } {
  const comparators = spec.orderBy.map((k) => {
    const ascending = k.ascending ?? true;
    return comparatorFor(columnFromVector(requireColumn(table, k.column), k.column), ascending, k.nullsFirst ?? ascending);
  });
  const one = comparators.length === 1 ? comparators[0]! : undefined;
  const same =
    comparators.length === 0 ? (): boolean => true : one !== undefined ? (a: number, b: number): boolean => one(a, b) === 0 : (a: number, b: number): boolean => comparators.every((c) => c(a, b) === 0);
  if (presorted) return { order: Int32Array.from({ length: table.numRows }, (_, i) => i), same };
  const idx = Array.from({ length: table.numRows }, (_, i) => i);
  if (one !== undefined) idx.sort((a, b) => groupOf[a]! - groupOf[b]! || one(a, b) || a - b);
  else
    idx.sort((a, b) => {
      const g = groupOf[a]! - groupOf[b]!;
      if (g !== 0) return g;
      for (const c of comparators) {
        const r = c(a, b);
        if (r !== 0) return r;
      }
      return a - b;
    });
  return { order: Int32Array.from(idx), same };
}

function layout(table: arrow.Table, groupOf: Int32Array, spec: WindowSpecData, presorted: boolean): Layout {
  const n = table.numRows;
  const { order, same } = orderRows(table, groupOf, spec, presorted);
  const segStart = new Int32Array(n);
  const segEnd = new Int32Array(n);
  const peerStart = new Int32Array(n);
  const peerEnd = new Int32Array(n);
  let s = 0;
  let ps = 0;
  for (let p = 0; p < n; p++) {
    const row = order[p]!;
    if (p > 0 && groupOf[row] !== groupOf[order[p - 1]!]) s = ps = p;
    else if (p > 0 && !same(row, order[p - 1]!)) ps = p;
    segStart[p] = s;
    peerStart[p] = ps;
  }
  let e = n - 1;
  let pe = n - 1;
  for (let p = n - 1; p >= 0; p--) {
    if (p < n - 1 && segStart[p + 1] !== segStart[p]) e = pe = p;
    else if (p < n - 1 && peerStart[p + 1] !== peerStart[p]) pe = p;
    segEnd[p] = e;
    peerEnd[p] = pe;
  }
  return { n, order, segStart, segEnd, peerStart, peerEnd };
}

/** Inclusive position ranges of each position's frame after exclusion (up to 3 per position; empty when lo > hi). */
interface Frames {
  /** lo/hi of range r for position p at [3p + r]. */
  readonly lo: Int32Array;
  readonly hi: Int32Array;
  readonly maxLength: number;
}

function offsetOf(fnName: string, b: FrameBound, orderType: string, column: string): number {
  if (b === null) return 0;
  if (typeof b === 'number') return b;
  if (orderType === 'date') return b.ms / MS_PER_DAY;
  if (orderType === 'timestamp') return b.ms;
  throw new InvalidWindowError(fnName, `a duration frame bound needs a date or timestamp orderBy column; "${column}" is ${orderType} (use plain numbers)`, column);
}

function computeFrames(table: arrow.Table, L: Layout, c: WindowColumnSpec, fnName: string): Frames {
  const { n, order, segStart, segEnd, peerStart, peerEnd } = L;
  const spec = c.spec;
  const frame = spec.frame;
  const lo = new Int32Array(3 * n).fill(1);
  const hi = new Int32Array(3 * n);
  const fs = new Int32Array(n);
  const fe = new Int32Array(n);
  if (frame === null) {
    for (let p = 0; p < n; p++) {
      fs[p] = segStart[p]!;
      fe[p] = spec.orderBy.length === 0 ? segEnd[p]! : peerEnd[p]!;
    }
  } else if (frame.type === 'rows') {
    const st = frame.start as number | null;
    const en = frame.end as number | null;
    for (let p = 0; p < n; p++) {
      fs[p] = st === null ? segStart[p]! : Math.max(segStart[p]!, p + st);
      fe[p] = en === null ? segEnd[p]! : Math.min(segEnd[p]!, p + en);
    }
  } else {
    const bounded = [frame.start, frame.end].some((b) => b !== null && b !== 0);
    if (!bounded) {
      for (let p = 0; p < n; p++) {
        fs[p] = frame.start === null ? segStart[p]! : peerStart[p]!;
        fe[p] = frame.end === null ? segEnd[p]! : peerEnd[p]!;
      }
    } else {
      const key = spec.orderBy[0]!;
      const oc = columnFromVector(requireColumn(table, key.column), key.column);
      const typeName = typeToString(oc.type);
      if (!isNumericType(oc.type) && oc.type !== 'date' && oc.type !== 'timestamp' && oc.type !== 'null') {
        throw new InvalidWindowError(fnName, `a range frame with offsets needs a numeric, date or timestamp orderBy column; "${key.column}" is ${typeName}`, key.column);
      }
      const so = offsetOf(fnName, frame.start, typeName, key.column);
      const eo = offsetOf(fnName, frame.end, typeName, key.column);
      const dir = key.ascending === false ? -1 : 1;
      const vals = oc.values as Float64Array | Int32Array;
      const valid = oc.valid;
      // Nulls and NaN (which sorts above every number) have no distance to other rows: their frame is their peers.
      const isNull = (p: number): boolean => oc.type === 'null' || (valid !== null && valid[order[p]!] !== 1) || Number.isNaN(vals[order[p]!]);
      const keys = new Float64Array(n);
      for (let q = 0; q < n; q++) keys[q] = dir * vals[order[q]!]!;
      // Other positions of the segment form one contiguous run (nulls sort to one end, NaN next to them or to the other end).
      let p = 0;
      while (p < n) {
        const s = segStart[p]!;
        const e = segEnd[p]!;
        let a = s;
        while (a <= e && isNull(a)) a++;
        let b = e;
        while (b >= a && isNull(b)) b--;
        // keys rise along [a, b], so both frame ends only move forward: two pointers, O(segment)
        let lo = a;
        let hi = a;
        for (let q = s; q <= e; q++) {
          if (q < a || q > b) {
            fs[q] = frame.start === null ? s : peerStart[q]!;
            fe[q] = frame.end === null ? e : peerEnd[q]!;
            continue;
          }
          const v = keys[q]!;
          if (frame.start === null) fs[q] = s;
          else {
            // first position in [a, b] with key >= v + so
            while (lo <= b && keys[lo]! < v + so) lo++;
            fs[q] = lo;
          }
          if (frame.end === null) fe[q] = e;
          else {
            // last position in [a, b] with key <= v + eo
            while (hi <= b && keys[hi]! <= v + eo) hi++;
            fe[q] = hi - 1;
          }
        }
        p = e + 1;
      }
    }
  }
  const exclude = frame?.exclude ?? 'noOthers';
  let maxLength = 0;
  for (let p = 0; p < n; p++) {
    const a = fs[p]!;
    const b = fe[p]!;
    if (b - a + 1 > maxLength) maxLength = b - a + 1;
    const k = 3 * p;
    switch (exclude) {
      case 'noOthers':
        lo[k] = a;
        hi[k] = b;
        break;
      case 'currentRow':
        lo[k] = a;
        hi[k] = Math.min(b, p - 1);
        lo[k + 1] = Math.max(a, p + 1);
        hi[k + 1] = b;
        break;
      case 'group':
      case 'ties':
        lo[k] = a;
        hi[k] = Math.min(b, peerStart[p]! - 1);
        lo[k + 1] = Math.max(a, peerEnd[p]! + 1);
        hi[k + 1] = b;
        if (exclude === 'ties' && a <= p && p <= b) {
          lo[k + 2] = p;
          hi[k + 2] = p;
        }
        break;
    }
  }
  return { lo, hi, maxLength };
}

function evalArg(table: arrow.Table, c: WindowColumnSpec): { vector: arrow.Vector; column: Column } {
  const f = c.fn as { arg: Parameters<typeof evaluate>[0] };
  const vector = evaluate(f.arg, table);
  return { vector, column: columnFromVector(vector, windowFnText(c.fn)) };
}

function lagLead(table: arrow.Table, L: Layout, c: WindowColumnSpec & { fn: { fn: 'lag' | 'lead' } }, fnName: string): arrow.Vector {
  const { vector, column } = evalArg(table, c);
  const { n, order, segStart, segEnd } = L;
  const step = c.fn.fn === 'lag' ? -c.fn.offset : c.fn.offset;
  const src = new Int32Array(n);
  for (let p = 0; p < n; p++) {
    const q = p + step;
    src[order[p]!] = q >= segStart[p]! && q <= segEnd[p]! ? order[q]! : -1;
  }
  const taken = takeVector(vector, src);
  const d = c.fn.default;
  if (d === null) return taken;
  const value = defaultFor(fnName, column, d);
  const out = columnFromVector(taken, fnName);
  const values = out.values;
  const valid = out.valid === null ? new Uint8Array(n).fill(1) : Uint8Array.from(out.valid);
  const filled = values instanceof Int32Array || values instanceof Float64Array || values instanceof Uint8Array ? values.slice() : [...values];
  for (let i = 0; i < n; i++) {
    if (src[i]! >= 0) continue;
    (filled as unknown[] | Float64Array)[i] = value as never;
    valid[i] = 1;
  }
  return columnToVector({ type: out.type, length: n, values: filled, valid });
}

/** The lag/lead default converted to the argument column's storage value. */
function defaultFor(fnName: string, column: Column, d: string | number | boolean): unknown {
  const t = column.type;
  const bad = (): never => {
    throw new InvalidWindowError(fnName, `default ${JSON.stringify(d)} does not fit the argument's type ${typeToString(t)}`);
  };
  switch (t) {
    case 'int32':
    case 'int64':
      return typeof d === 'number' && Number.isInteger(d) ? d : bad();
    case 'float64':
      return typeof d === 'number' ? d : bad();
    case 'bool':
      return typeof d === 'boolean' ? (d ? 1 : 0) : bad();
    case 'utf8':
      return typeof d === 'string' ? d : bad();
    case 'date':
      return typeof d === 'number' && Number.isInteger(d) ? d : typeof d === 'string' ? (parseDate(d) ?? bad()) : bad();
    case 'timestamp':
      return typeof d === 'number' ? d : typeof d === 'string' ? (parseTimestamp(d) ?? bad()) : bad();
    default:
      return bad();
  }
}

function ranking(L: Layout, fn: 'rowNumber' | 'rank' | 'denseRank'): arrow.Vector {
  const { n, order, segStart, peerStart } = L;
  const out = new Int32Array(n);
  let dense = 0;
  for (let p = 0; p < n; p++) {
    if (p === segStart[p]) dense = 0;
    if (p === peerStart[p]) dense++;
    out[order[p]!] = fn === 'rowNumber' ? p - segStart[p]! + 1 : fn === 'rank' ? peerStart[p]! - segStart[p]! + 1 : dense;
  }
  return columnToVector({ type: 'int32', length: n, values: out, valid: null });
}

function aggregateOverFrames(table: arrow.Table, L: Layout, c: WindowColumnSpec, fnName: string): arrow.Vector {
  const op = c.fn.fn as 'sum' | 'mean' | 'min' | 'max' | 'count';
  const arg = (c.fn as { arg: unknown }).arg === null ? null : evalArg(table, c);
  if (arg !== null && (op === 'sum' || op === 'mean') && !isNumericType(arg.column.type) && arg.column.type !== 'null') {
    throw new InvalidWindowError(fnName, `needs a numeric argument, but it is ${typeToString(arg.column.type)}`, (c.fn as { arg: { op: string; name?: string } }).arg.name);
  }
  const frames = computeFrames(table, L, c, fnName);
  const { n, order, segStart } = L;
  const { lo, hi } = frames;
  const isValid = (row: number): boolean => arg === null || (arg.column.type !== 'null' && (arg.column.valid === null || arg.column.valid[row] === 1));
  if (op === 'min' || op === 'max') {
    const col = arg!.column;
    const cmp = comparatorFor(col, true, false);
    const better = (i: number, j: number): number => (i < 0 ? j : j < 0 ? i : (op === 'max' ? cmp(j, i) > 0 : cmp(j, i) < 0) ? j : i);
    // sparse table of best rows over position ranges of length 2^k
    const levels: Int32Array[] = [new Int32Array(n)];
    for (let p = 0; p < n; p++) levels[0]![p] = isValid(order[p]!) ? order[p]! : -1;
    for (let k = 1; 1 << k <= frames.maxLength; k++) {
      const prev = levels[k - 1]!;
      const cur = new Int32Array(n);
      const half = 1 << (k - 1);
      for (let p = 0; p + (1 << k) <= n; p++) cur[p] = better(prev[p]!, prev[p + half]!);
      levels.push(cur);
    }
    const query = (a: number, b: number): number => {
      const k = 31 - Math.clz32(b - a + 1);
      return better(levels[k]![a]!, levels[k]![b - (1 << k) + 1]!);
    };
    const idx = new Int32Array(n);
    for (let p = 0; p < n; p++) {
      let best = -1;
      for (let r = 0; r < 3; r++) {
        const a = lo[3 * p + r]!;
        const b = hi[3 * p + r]!;
        if (a <= b) best = better(best, query(a, b));
      }
      idx[order[p]!] = best;
    }
    return takeVector(arg!.vector, idx);
  }
  // count / sum / mean: prefix sums restarting at each segment start. P[q] = total over [segStart, q].
  const cnt = new Float64Array(n);
  const tot = new Float64Array(n);
  const vals = arg?.column.values as Float64Array | Int32Array | undefined;
  for (let p = 0; p < n; p++) {
    const first = p === segStart[p];
    const row = order[p]!;
    const ok = isValid(row);
    cnt[p] = (first ? 0 : cnt[p - 1]!) + (ok ? 1 : 0);
    if (op !== 'count') tot[p] = (first ? 0 : tot[p - 1]!) + (ok ? vals![row]! : 0);
  }
  const rangeOf = (P: Float64Array, a: number, b: number): number => P[b]! - (a > segStart[a]! ? P[a - 1]! : 0);
  const outCount = new Float64Array(n);
  const outSum = new Float64Array(n);
  for (let p = 0; p < n; p++) {
    let k = 0;
    let s = 0;
    for (let r = 0; r < 3; r++) {
      const a = lo[3 * p + r]!;
      const b = hi[3 * p + r]!;
      if (a > b) continue;
      k += rangeOf(cnt, a, b);
      if (op !== 'count') s += rangeOf(tot, a, b);
    }
    const row = order[p]!;
    outCount[row] = k;
    outSum[row] = s;
  }
  if (op === 'count') return columnToVector({ type: 'int64', length: n, values: outCount, valid: null });
  const valid = new Uint8Array(n);
  for (let i = 0; i < n; i++) valid[i] = outCount[i]! > 0 ? 1 : 0;
  if (op === 'mean') {
    for (let i = 0; i < n; i++) if (valid[i] === 1) outSum[i] = outSum[i]! / outCount[i]!;
    return columnToVector({ type: 'float64', length: n, values: outSum, valid });
  }
  const t = arg!.column.type;
  return columnToVector({ type: t === 'int32' || t === 'int64' ? 'int64' : 'float64', length: n, values: outSum, valid });
}

function windowColumn(table: arrow.Table, L: Layout, c: WindowColumnSpec): arrow.Vector {
  const fnName = windowFnText(c.fn);
  switch (c.fn.fn) {
    case 'rowNumber':
    case 'rank':
    case 'denseRank':
      return ranking(L, c.fn.fn);
    case 'lag':
    case 'lead':
      return lagLead(table, L, c as WindowColumnSpec & { fn: { fn: 'lag' | 'lead' } }, fnName);
    default:
      return aggregateOverFrames(table, L, c, fnName);
  }
}

/**
 * Adds (or replaces) the window columns, in order (a later column may read an earlier one). Every
 * column's spec must partition by `partitionBy`. The rows come out sorted by partition and by the
 * first column's orderBy.
 */
export function windowTable(table: arrow.Table, partitionBy: readonly string[], columns: readonly WindowColumnSpec[]): arrow.Table {
  if (columns.length === 0) return table;
  for (const c of columns) {
    if (c.spec.partitionBy.join('\u0000') !== partitionBy.join('\u0000')) {
      throw new InvalidWindowError(windowFnText(c.fn), `internal: window column "${c.name}" partitions by (${c.spec.partitionBy.join(', ')}), not (${partitionBy.join(', ')})`);
    }
  }
  const n = table.numRows;
  const groups = partitionBy.length > 0 ? groupIds(keyColumns(table, partitionBy), n).groupOf : new Int32Array(n);
  const first = columns[0]!.spec.orderBy;
  const { order } = orderRows(table, groups, columns[0]!.spec);
  let t = takeTable(table, order);
  const groupOf = Int32Array.from(order, (r) => groups[r]!);
  // Columns ordered alike share one layout; the first order is the table's own after the permutation.
  const layouts = new Map<string, { keys: readonly string[]; layout: Layout }>();
  for (const c of columns) {
    const key = JSON.stringify(c.spec.orderBy);
    let entry = layouts.get(key);
    if (entry === undefined) {
      const presorted = JSON.stringify(first) === key && !columns.slice(0, columns.indexOf(c)).some((p) => first.some((k) => k.column === p.name));
      entry = { keys: c.spec.orderBy.map((k) => k.column), layout: layout(t, groupOf, c.spec, presorted) };
      layouts.set(key, entry);
    }
    t = setColumn(t, c.name, windowColumn(t, entry.layout, c));
    // a column that replaces an order key invalidates the layouts sorted by it
    for (const [k, e] of layouts) if (e.keys.includes(c.name)) layouts.delete(k);
  }
  return t;
}
