/**
 * Test oracle: the same generated columns loaded into an Arrow table and into in-memory DuckDB, and
 * row normalization so results from both can be compared.
 */
import * as arrow from 'apache-arrow';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import fc from 'fast-check';
import { expect } from 'vitest';

export type ColType = 'int32' | 'int64' | 'float64' | 'utf8' | 'bool' | 'date' | 'timestamp';

export interface ColSpec {
  readonly name: string;
  readonly type: ColType;
  /** JS values: numbers (dates as epoch days, timestamps as epoch ms), strings, booleans, null. */
  readonly values: readonly unknown[];
}

const SQL_TYPE: Record<ColType, string> = {
  int32: 'INTEGER',
  int64: 'BIGINT',
  float64: 'DOUBLE',
  utf8: 'VARCHAR',
  bool: 'BOOLEAN',
  date: 'DATE',
  timestamp: 'TIMESTAMP',
};

const ARROW_TYPE = (t: ColType): arrow.DataType =>
  ({
    int32: new arrow.Int32(),
    int64: new arrow.Int64(),
    float64: new arrow.Float64(),
    utf8: new arrow.Utf8(),
    bool: new arrow.Bool(),
    date: new arrow.DateDay(),
    timestamp: new arrow.TimestampMillisecond(),
  })[t];

export function toArrow(cols: readonly ColSpec[]): arrow.Table {
  const vectors: Record<string, arrow.Vector> = {};
  for (const c of cols) {
    const vals = c.values.map((v) => (v === null ? null : c.type === 'int64' ? BigInt(v as number) : c.type === 'date' ? (v as number) * 86400000 : v));
    vectors[c.name] = arrow.vectorFromArray(vals, ARROW_TYPE(c.type));
  }
  return new arrow.Table(vectors);
}

function sqlLiteral(t: ColType, v: unknown): string {
  if (v === null) return 'NULL';
  switch (t) {
    case 'utf8':
      return `'${String(v).replace(/'/g, "''")}'`;
    case 'float64':
      return `CAST('${String(v)}' AS DOUBLE)`;
    case 'date':
      return `DATE '${new Date((v as number) * 86400000).toISOString().slice(0, 10)}'`;
    case 'timestamp':
      return `TIMESTAMP '${new Date(v as number).toISOString().replace('T', ' ').replace('Z', '')}'`;
    default:
      return String(v);
  }
}

export class Duck {
  private constructor(
    private readonly instance: DuckDBInstance,
    readonly conn: DuckDBConnection,
  ) {}
  static async open(): Promise<Duck> {
    const instance = await DuckDBInstance.create(':memory:');
    return new Duck(instance, await instance.connect());
  }
  async load(name: string, cols: readonly ColSpec[]): Promise<void> {
    await this.conn.run(`CREATE OR REPLACE TABLE ${name} (${cols.map((c) => `"${c.name}" ${SQL_TYPE[c.type]}`).join(', ')})`);
    const n = cols[0]?.values.length ?? 0;
    const rows: string[] = [];
    for (let i = 0; i < n; i++) rows.push(`(${cols.map((c) => sqlLiteral(c.type, c.values[i])).join(', ')})`);
    for (let i = 0; i < rows.length; i += 500) await this.conn.run(`INSERT INTO ${name} VALUES ${rows.slice(i, i + 500).join(', ')}`);
  }
  async rows(sql: string): Promise<unknown[][]> {
    const r = await this.conn.runAndReadAll(sql);
    return r.getRowsJS().map((row) => row.map(normalize));
  }
  close(): void {
    this.conn.closeSync();
    this.instance.closeSync();
  }
}

/** Numbers (bigints and dates become numbers: dates/timestamps as epoch ms), strings, booleans, null, arrays. */
export function normalize(v: unknown): unknown {
  if (v === null || v === undefined) return null;
  if (typeof v === 'bigint') return Number(v);
  if (v instanceof Date) return v.getTime();
  if (v instanceof arrow.Vector) return Array.from({ length: v.length }, (_, i) => normalize(v.get(i)));
  if (Array.isArray(v)) return v.map(normalize);
  return v;
}

export function arrowRows(t: arrow.Table): unknown[][] {
  const cols = t.schema.fields.map((_, i) => t.getChildAt(i)!);
  const out: unknown[][] = [];
  for (let r = 0; r < t.numRows; r++) out.push(cols.map((c) => normalize(c.get(r))));
  return out;
}

function sortKey(row: unknown[]): string {
  return JSON.stringify(row.map((v) => (typeof v === 'number' ? Number(v.toPrecision(10)) : v)));
}

function close(a: unknown, b: unknown): boolean {
  if (typeof a === 'number' && typeof b === 'number') {
    if (Number.isNaN(a) && Number.isNaN(b)) return true;
    if (a === b) return true;
    return Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a), Math.abs(b));
  }
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => close(x, b[i]));
  return a === b;
}

/** Asserts both row sets are equal (as multisets unless `ordered`), with float tolerance. */
export function expectSameRows(actual: unknown[][], expected: unknown[][], ordered = false): void {
  const a = ordered ? actual : [...actual].sort((x, y) => (sortKey(x) < sortKey(y) ? -1 : sortKey(x) > sortKey(y) ? 1 : 0));
  const e = ordered ? expected : [...expected].sort((x, y) => (sortKey(x) < sortKey(y) ? -1 : sortKey(x) > sortKey(y) ? 1 : 0));
  expect(a.length).toBe(e.length);
  for (let i = 0; i < a.length; i++) {
    if (!a[i]!.every((v, j) => close(v, e[i]![j]))) expect(a[i]).toEqual(e[i]);
  }
}

const WORDS = ['', 'a', 'A', 'b', 'abc', 'Abc', 'zebra', 'émile', 'Ünïcödé', '日本語', '😀 smile', 'ß', 'x,y', 'quote"d', "it's", ' pad ', '\uffff', 'a b c'];

/** Arbitrary of a table with skewed nullable int key `k`, unicode `s`, float `x`, int `i`, date `d`, bool `b`, int64 `l`, timestamp `ts`. */
export function tableArb(maxRows = 60): fc.Arbitrary<ColSpec[]> {
  const nullable = <T>(a: fc.Arbitrary<T>): fc.Arbitrary<T | null> => fc.option(a, { freq: 5, nil: null });
  const row = fc.record({
    k: nullable(fc.oneof({ weight: 5, arbitrary: fc.constant(1) }, { weight: 3, arbitrary: fc.integer({ min: -3, max: 8 }) })),
    s: nullable(fc.constantFrom(...WORDS)),
    x: nullable(fc.oneof(fc.double({ min: -1000, max: 1000, noNaN: true, noDefaultInfinity: true }).map((v) => Math.round(v * 1000) / 1000), fc.constant(0), fc.constant(-0.5))),
    i: nullable(fc.integer({ min: -1000, max: 1000 })),
    d: nullable(fc.integer({ min: -800, max: 20000 })),
    b: nullable(fc.boolean()),
    l: nullable(fc.oneof(fc.integer({ min: -5, max: 5 }), fc.integer({ min: -(2 ** 50), max: 2 ** 50 }))),
    ts: nullable(fc.integer({ min: -1e11, max: 4e12 })),
  });
  return fc.array(row, { minLength: 0, maxLength: maxRows }).map((rows) => [
    { name: 'k', type: 'int32', values: rows.map((r) => r.k) },
    { name: 's', type: 'utf8', values: rows.map((r) => r.s) },
    { name: 'x', type: 'float64', values: rows.map((r) => (Object.is(r.x, -0) ? 0 : r.x)) },
    { name: 'i', type: 'int32', values: rows.map((r) => r.i) },
    { name: 'd', type: 'date', values: rows.map((r) => r.d) },
    { name: 'b', type: 'bool', values: rows.map((r) => r.b) },
    { name: 'l', type: 'int64', values: rows.map((r) => r.l) },
    { name: 'ts', type: 'timestamp', values: rows.map((r) => r.ts) },
  ]);
}
