/**
 * Entity aggregates over trailing time windows, without leakage: for each row, only the events of the
 * same key with a timestamp **strictly before** the row's own are used (events at the same instant,
 * including the row itself, are excluded). Distributed as a hash repartition by key followed by a
 * per-partition kernel that sorts each key's events by time and answers every row with binary
 * searches over prefix sums. Output row order is by partition, not the input order.
 */
import * as arrow from 'apache-arrow';
import type { Dataset } from '../data/index.js';
import { float64Vector, readMillis, readNumbers, readStrings, setColumns, vectorOf } from './columns.js';
import { mapWithPayload } from './distributed.js';
import { invalidOption } from './errors.js';
import { checkColumns } from './fit-stats.js';
import type { TrailingWindowSpec } from './kernel-payload.js';
import { columnList } from './options.js';

const DAY_MS = 86_400_000;

export interface TrailingWindowOptions {
  /** Entity key column(s), e.g. 'listing_id'. */
  readonly key: string | readonly string[];
  /** Event time column (date, timestamp or ISO string). */
  readonly timestamp: string;
  /** Window lengths in days; each adds `count_${days}d` (events in [t − days, t)). @default [30, 90, 365] */
  readonly windows?: readonly number[];
  /**
   * Value aggregates: each adds `${as}` over all earlier events ("so far") and `${as}_${days}d` per
   * window. Null values are ignored; a mean over no values is null.
   *
   * `mode` (of a string, numeric or bool column; its values as strings) adds only `${as}`, a utf8
   * column: the most frequent value among the earlier events (null when none has a value). Ties go to
   * the value of the latest of the tied values' most recent events; events at the same instant count
   * in partition order (the later row is the more recent).
   */
  readonly aggs?: readonly { readonly column: string; readonly op: 'mean' | 'sum' | 'count' | 'mode'; readonly as?: string }[];
  /** Partitions of the shuffle by key. @default 8 */
  readonly numPartitions?: number;
}

/** Adds leakage-free trailing-window aggregates per entity to every row of `dataset`. */
export async function trailingWindowFeatures(dataset: Dataset, options: TrailingWindowOptions): Promise<Dataset> {
  const stage = 'trailingWindowFeatures';
  const key = columnList(stage, 'key', options.key);
  const windows = options.windows ?? [30, 90, 365];
  if (windows.some((w) => !(w > 0))) throw invalidOption('options.windows', 'must be positive numbers of days', { stage });
  const aggs = (options.aggs ?? []).map((a) => ({ column: a.column, op: a.op, as: a.as ?? `${a.op}_${a.column}` }));
  await checkColumns(dataset, key, stage, ['numeric', 'string', 'bool', 'date', 'timestamp']);
  await checkColumns(dataset, [options.timestamp], stage, ['date', 'timestamp', 'string', 'numeric']);
  for (const a of aggs) if (!['mean', 'sum', 'count', 'mode'].includes(a.op)) throw invalidOption(`options.aggs (${a.column})`, `op must be one of mean, sum, count, mode; got ${String(a.op)}`, { stage });
  await checkColumns(dataset, aggs.filter((a) => a.op !== 'mode').map((a) => a.column), stage, ['numeric', 'bool']);
  await checkColumns(dataset, aggs.filter((a) => a.op === 'mode').map((a) => a.column), stage, ['string', 'numeric', 'bool']);
  const spec: TrailingWindowSpec = { key, timestamp: options.timestamp, windowsMs: windows.map((d) => ({ name: `${d}d`, ms: d * DAY_MS })), aggs };
  return mapWithPayload(dataset.repartition(options.numPartitions ?? 8, ...key), { kind: 'trailing', spec });
}

function lowerBound(a: Float64Array, lo: number, hi: number, x: number): number {
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (a[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The kernel (also usable on one table in a plain process). */
export function trailingWindowKernel(table: arrow.Table, spec: TrailingWindowSpec): arrow.Table {
  const n = table.numRows;
  const keyCols = spec.key.map((k) => readStrings(vectorOf(table, k)));
  const ts = readMillis(vectorOf(table, spec.timestamp));
  const numeric = spec.aggs.filter((a) => a.op !== 'mode');
  const modes = spec.aggs.filter((a) => a.op === 'mode');
  const vals = numeric.map((a) => readNumbers(vectorOf(table, a.column)));
  const modeVals = modes.map((a) => readStrings(vectorOf(table, a.column)));
  const modeOut = modes.map(() => new Array<string | null>(n).fill(null));
  const groups = new Map<string, number[]>();
  for (let i = 0; i < n; i++) {
    const k = JSON.stringify(keyCols.map((c) => c[i]));
    let g = groups.get(k);
    if (g === undefined) groups.set(k, (g = []));
    g.push(i);
  }
  const outs: [string, Float64Array, Uint8Array][] = [];
  const add = (name: string): [Float64Array, Uint8Array] => {
    const v = new Float64Array(n);
    const ok = new Uint8Array(n).fill(1);
    outs.push([name, v, ok]);
    return [v, ok];
  };
  const counts = spec.windowsMs.map((w) => add(`count_${w.name}`));
  const aggOut = numeric.map((a) => ({ all: add(a.as), win: spec.windowsMs.map((w) => add(`${a.as}_${w.name}`)) }));
  for (const rows of groups.values()) {
    const order = rows.filter((i) => !Number.isNaN(ts[i]!)).sort((a, b) => ts[a]! - ts[b]!);
    const m = order.length;
    const t = Float64Array.from(order, (i) => ts[i]!);
    // prefix sums per agg: sums of values and counts of non-null values over sorted events
    const pre = vals.map(({ values, valid }) => {
      const s = new Float64Array(m + 1);
      const c = new Float64Array(m + 1);
      order.forEach((i, j) => {
        s[j + 1] = s[j]! + (valid[i] === 1 && !Number.isNaN(values[i]) ? values[i]! : 0);
        c[j + 1] = c[j]! + (valid[i] === 1 && !Number.isNaN(values[i]) ? 1 : 0);
      });
      return { s, c };
    });
    for (const i of rows) {
      const ti = ts[i]!;
      if (Number.isNaN(ti)) {
        for (const [, , ok] of outs) ok[i] = 0;
        continue;
      }
      const before = lowerBound(t, 0, m, ti);
      const starts = spec.windowsMs.map((w) => lowerBound(t, 0, before, ti - w.ms));
      counts.forEach(([v], w) => (v[i] = before - starts[w]!));
      numeric.forEach((a, k) => {
        const { s, c } = pre[k]!;
        const put = ([v, ok]: [Float64Array, Uint8Array], from: number): void => {
          const cnt = c[before]! - c[from]!;
          const sum = s[before]! - s[from]!;
          if (a.op === 'count') v[i] = cnt;
          else if (a.op === 'sum') v[i] = sum;
          else if (cnt === 0) ok[i] = 0;
          else v[i] = sum / cnt;
        };
        put(aggOut[k]!.all, 0);
        aggOut[k]!.win.forEach((o, w) => put(o, starts[w]!));
      });
    }
    modeVals.forEach((values, k) => runningMode(order, ts, values, modeOut[k]!));
  }
  return setColumns(table, [
    ...outs.map(([name, v, ok]) => [name, float64Vector(v, ok)] as const),
    ...modes.map((a, k) => [a.as, arrow.vectorFromArray(modeOut[k]!, new arrow.Utf8())] as const),
  ]);
}

/**
 * For every row of one key, the most frequent value among the key's events strictly before it:
 * events are added in time order (`order`); a value reaching the best count takes the lead, since
 * its latest event is then the most recent of the tied ones.
 */
function runningMode(order: readonly number[], ts: Float64Array, values: readonly (string | null)[], out: (string | null)[]): void {
  const counts = new Map<string, number>();
  let best: string | null = null;
  let bestCount = 0;
  let next = 0;
  for (const i of order) {
    while (next < order.length && ts[order[next]!]! < ts[i]!) {
      const v = values[order[next++]!];
      if (v == null) continue;
      const c = (counts.get(v) ?? 0) + 1;
      counts.set(v, c);
      if (c >= bestCount) {
        best = v;
        bestCount = c;
      }
    }
    out[i] = best;
  }
}
