/**
 * The materialization kernel: per entity key, the row with the latest event time in [startMs, endMs).
 * Among rows with the same latest time the one created last wins (the view's created-time column),
 * then the one later in the partition — the same rule as the as-of join of the historical
 * retrieval, so the online store serves what a training set would hold.
 */
import type * as arrow from 'apache-arrow';
import { takeTable } from '../../data/index.js';
import { readMillis, vectorOf } from '../columns.js';
import { keyStrings } from './key-strings.js';
import type { LatestSpec } from '../kernel-payload.js';

export function latestKernel(table: arrow.Table, spec: LatestSpec): arrow.Table {
  const ts = readMillis(vectorOf(table, spec.timestamp));
  const keys = spec.keys.map((k) => keyStrings(vectorOf(table, k)));
  const cts = spec.created ? readMillis(vectorOf(table, spec.created)) : null;
  const created = (i: number): number => (cts === null || Number.isNaN(cts[i]!) ? -Infinity : cts[i]!);
  const best = new Map<string, number>();
  for (let i = 0; i < table.numRows; i++) {
    const t = ts[i]!;
    if (Number.isNaN(t) || t < spec.startMs || t >= spec.endMs) continue;
    let k: string;
    if (keys.length === 1) {
      const v = keys[0]![i];
      if (v === null || v === undefined) continue;
      k = v;
    } else {
      const vs = keys.map((c) => c[i]);
      if (vs.some((v) => v === null)) continue;
      k = JSON.stringify(vs);
    }
    const j = best.get(k);
    if (j === undefined || ts[j]! < t || (ts[j] === t && created(j) <= created(i))) best.set(k, i);
  }
  return takeTable(table, Int32Array.from([...best.values()].sort((a, b) => a - b)));
}
