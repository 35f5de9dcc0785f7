/**
 * Helpers of the Dataset integration tests: deterministic generated inputs (nulls, skewed keys,
 * unicode, empty partitions), and the data layer's DuckDB and PostgreSQL test oracles re-exported.
 */
import type * as arrow from 'apache-arrow';
import type { ColSpec } from '../../unit/data/helpers/oracle.js';

export { Duck, arrowRows, expectSameRows, toArrow } from '../../unit/data/helpers/oracle.js';
export { connectTestPostgres, uniqueTable } from '../../harness/postgres.js';

const WORDS = ['', 'a', 'A', 'abc', 'émile', 'Ünïcödé', '日本語', '😀 smile', 'ß', 'x,y', 'quote"d', "it's", ' pad '];

/** Park–Miller style generator so every run sees the same data. */
export function rng(seed: number): () => number {
  let s = seed % 2147483647;
  if (s <= 0) s += 2147483646;
  return () => (s = (s * 16807) % 2147483647) / 2147483647;
}

export function genColumns(n: number, seed: number, keyCardinality = 20): ColSpec[] {
  const r = rng(seed);
  const k: (number | null)[] = [];
  const s: (string | null)[] = [];
  const x: (number | null)[] = [];
  const i: (number | null)[] = [];
  for (let j = 0; j < n; j++) {
    const u = r();
    // skew: half the rows share key 1
    k.push(u < 0.05 ? null : u < 0.55 ? 1 : Math.floor(r() * keyCardinality));
    s.push(r() < 0.1 ? null : WORDS[Math.floor(r() * WORDS.length)]!);
    x.push(r() < 0.1 ? null : Math.round((r() * 2000 - 1000) * 100) / 100);
    i.push(r() < 0.1 ? null : Math.floor(r() * 1000) - 500);
  }
  return [
    { name: 'k', type: 'int32', values: k },
    { name: 's', type: 'utf8', values: s },
    { name: 'x', type: 'float64', values: x },
    { name: 'i', type: 'int32', values: i },
  ];
}

/** Splits a table into partitions of uneven sizes, with empty ones among them. */
export function unevenPartitions(t: arrow.Table, cuts: readonly number[]): arrow.Table[] {
  const out: arrow.Table[] = [];
  let at = 0;
  for (const c of [...cuts, t.numRows]) {
    const end = Math.min(t.numRows, Math.max(at, c));
    out.push(t.slice(at, end));
    at = end;
  }
  return out;
}

function rowKey(row: readonly unknown[]): string {
  return JSON.stringify(row.map((v) => (typeof v === 'number' ? Number(v.toPrecision(10)) : v)));
}

/** Rows sorted by a precomputed key (the oracle's comparator stringifies per comparison: too slow for 30k rows). */
export function sortedRows(rows: readonly unknown[][]): unknown[][] {
  return rows
    .map((r) => [rowKey(r), r] as const)
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .map(([, r]) => r);
}
