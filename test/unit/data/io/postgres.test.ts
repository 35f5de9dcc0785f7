import * as arrow from 'apache-arrow';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PostgresError, col, concatTables, pgPartitionQueries, project, sortTable } from '../../../../src/data/index.js';
import { exportSnapshot } from '../../../../src/data/io/pg-snapshot.js';
import { readPostgresPartition } from '../../../../src/data/io/pg-reader.js';
import { writePostgresTable } from '../../../../src/data/io/pg-writer.js';
import { arrowRows, toArrow } from '../helpers/oracle.js';
import { connectTestPostgres, uniqueTable } from '../../../harness/postgres.js';

const client = await connectTestPostgres();
const clients: pg.Client[] = [];
const tables: string[] = [];

async function extraClient(): Promise<pg.Client> {
  const c = (await connectTestPostgres())!;
  clients.push(c);
  return c;
}

describe.skipIf(client === undefined)('PostgreSQL I/O', () => {
  const db = client!;
  beforeAll(async () => {
    await db.query('SELECT 1');
  });
  afterAll(async () => {
    for (const t of tables) await db.query(`DROP TABLE IF EXISTS "${t}"`);
    await Promise.all(clients.map((c) => c.end()));
    await db.end();
  });

  it('partition queries cover every row exactly once, including NULL and out-of-bound keys', async () => {
    const t = uniqueTable('shoal_part');
    tables.push(t);
    await db.query(`CREATE TABLE "${t}" (id serial PRIMARY KEY, k bigint, v text)`);
    await db.query(`INSERT INTO "${t}" (k, v) SELECT CASE WHEN g % 17 = 0 THEN NULL ELSE (g * 7919) % 1000 - 100 END, 'v' || g FROM generate_series(1, 3000) g`);
    for (const n of [1, 3, 8]) {
      const queries = pgPartitionQueries({ table: t, partitionColumn: 'k', lowerBound: 0, upperBound: 800, numPartitions: n });
      // One client runs one read at a time (each read is a transaction on that connection).
      const parts: arrow.Table[] = [];
      for (const q of queries) parts.push(await readPostgresPartition(db, q, { fetchSize: 500 }));
      const ids = parts.flatMap((p) => arrowRows(p).map((r) => r[0] as number));
      expect(ids.length).toBe(3000);
      expect(new Set(ids).size).toBe(3000);
    }
  });

  it('range partitions on an indexed column are index scans, not scans of the whole table', async () => {
    const t = uniqueTable('shoal_part_idx');
    tables.push(t);
    await db.query(`CREATE TABLE "${t}" AS SELECT g::bigint AS id, 'v' || g AS v FROM generate_series(1, 200000) g`);
    await db.query(`ALTER TABLE "${t}" ADD PRIMARY KEY (id)`);
    await db.query(`ANALYZE "${t}"`);
    const queries = pgPartitionQueries({ table: t, partitionColumn: 'id', lowerBound: 1, upperBound: 200001, numPartitions: 4 });
    expect(queries).toHaveLength(4);
    for (const q of queries) {
      const plan = (await db.query({ text: `EXPLAIN ${q}`, rowMode: 'array' })).rows.map((r: unknown[]) => String(r[0])).join('\n');
      expect(plan, q).toMatch(/Index Scan|Index Only Scan|Bitmap Index Scan/);
      expect(plan, q).not.toMatch(/Seq Scan/);
    }
  });

  it('write then read round-trips types, nulls, escaping and arrays (count and checksum)', async () => {
    const name = uniqueTable('shoal_rt');
    tables.push(name);
    const n = 3000;
    const base = toArrow([
      { name: 'id', type: 'int32', values: Array.from({ length: n }, (_, i) => i) },
      { name: 'big', type: 'int64', values: Array.from({ length: n }, (_, i) => (i % 9 === 0 ? null : i * 1_000_000_007)) },
      { name: 'x', type: 'float64', values: Array.from({ length: n }, (_, i) => (i % 10 === 0 ? null : i / 7)) },
      {
        name: 's',
        type: 'utf8',
        values: Array.from({ length: n }, (_, i) => (i % 11 === 0 ? null : i % 11 === 1 ? '' : `v${i},"q"\\ \n\t 日本 😀 ${i}`)),
      },
      { name: 'b', type: 'bool', values: Array.from({ length: n }, (_, i) => (i % 5 === 0 ? null : i % 2 === 0)) },
      { name: 'd', type: 'date', values: Array.from({ length: n }, (_, i) => (i % 6 === 0 ? null : 18000 + i)) },
      { name: 'ts', type: 'timestamp', values: Array.from({ length: n }, (_, i) => (i % 8 === 0 ? null : 1.7e12 + i * 1234)) },
    ]);
    const table = project(base, [col('id'), col('big'), col('x'), col('s'), col('b'), col('d'), col('ts'), col('s').split(',').alias('parts')]);
    await writePostgresTable(db, table, { table: name, mode: 'overwrite' });
    const [{ count, checksum }] = (await db.query(`SELECT count(*)::int AS count, sum(coalesce(big, 0) + coalesce(length(s), 0) + coalesce(array_length(parts, 1), 0))::text AS checksum FROM "${name}"`)).rows as [
      { count: number; checksum: string },
    ];
    expect(count).toBe(n);
    const rows = arrowRows(table);
    const expected = rows.reduce((s, r) => s + BigInt((r[1] as number | null) ?? 0) + BigInt(r[3] === null ? 0 : [...(r[3] as string)].length) + BigInt(r[7] === null ? 0 : (r[7] as unknown[]).length), 0n);
    expect(checksum).toBe(String(expected));
    const back = sortTable(await readPostgresPartition(db, `SELECT * FROM "${name}"`, { fetchSize: 700 }), [{ column: 'id' }]);
    expect(back.schema.fields.map((f) => `${f.name}:${String(f.type)}`)).toEqual([
      'id:Int32',
      'big:Int64',
      'x:Float64',
      's:Utf8',
      'b:Bool',
      'd:Date32<DAY>',
      'ts:Timestamp<MILLISECOND>',
      'parts:List<Utf8>',
    ]);
    expect(arrowRows(back)).toEqual(rows);
    // overwrite replaces, append adds
    await writePostgresTable(db, table.slice(0, 10), { table: name, mode: 'overwrite' });
    await writePostgresTable(db, table.slice(10, 15), { table: name, mode: 'append' });
    expect((await db.query(`SELECT count(*)::int AS c FROM "${name}"`)).rows[0].c).toBe(15);
  });

  it('writes and reads tables and columns whose names need quoting (quotes, dots, semicolons) without injection', async () => {
    const name = `${uniqueTable('shoal_q')}"; DROP TABLE x; --`;
    tables.push(name.replace(/"/g, '""'));
    const evilCol = 'v"); DROP TABLE y; --';
    const table = toArrow([
      { name: 'a.b', type: 'int32', values: [1, 2, 3] },
      { name: evilCol, type: 'utf8', values: ['x', null, "it's"] },
    ]);
    await writePostgresTable(db, table, { table: name, mode: 'upsert', keyColumns: ['a.b'] });
    await writePostgresTable(db, table, { table: name, mode: 'upsert', keyColumns: ['a.b'] });
    const queries = pgPartitionQueries({ table: name, columns: ['a.b', evilCol], partitionColumn: 'a.b', lowerBound: 1, upperBound: 3, numPartitions: 2 });
    const parts: arrow.Table[] = [];
    for (const q of queries) parts.push(await readPostgresPartition(db, q));
    const back = sortTable(concatTables(parts), [{ column: 'a.b' }]);
    expect(back.schema.fields.map((f) => f.name)).toEqual(['a.b', evilCol]);
    expect(arrowRows(back)).toEqual([
      [1, 'x'],
      [2, null],
      [3, "it's"],
    ]);
  });

  it('upsert inserts new keys and updates existing ones (last duplicate wins)', async () => {
    const name = uniqueTable('shoal_up');
    tables.push(name);
    const first = toArrow([
      { name: 'id', type: 'int64', values: [1, 2, 3] },
      { name: 'v', type: 'utf8', values: ['a', 'b', 'c'] },
    ]);
    await writePostgresTable(db, first, { table: name, mode: 'upsert', keyColumns: ['id'] });
    const second = toArrow([
      { name: 'id', type: 'int64', values: [3, 4, 4] },
      { name: 'v', type: 'utf8', values: ['C', 'd', 'D'] },
    ]);
    await writePostgresTable(db, second, { table: name, mode: 'upsert', keyColumns: ['id'] });
    const back = await readPostgresPartition(db, `SELECT id, v FROM "${name}" ORDER BY id`, 2);
    expect(arrowRows(back)).toEqual([
      [1, 'a'],
      [2, 'b'],
      [3, 'C'],
      [4, 'D'],
    ]);
  });

  it('partitions read under an exported snapshot do not see later commits', async () => {
    const name = uniqueTable('shoal_snap');
    tables.push(name);
    await db.query(`CREATE TABLE "${name}" (id int)`);
    await db.query(`INSERT INTO "${name}" SELECT g FROM generate_series(1, 100) g`);
    const exporter = await extraClient();
    const reader = await extraClient();
    const snap = await exportSnapshot(exporter);
    try {
      await db.query(`INSERT INTO "${name}" SELECT g FROM generate_series(101, 150) g`);
      const queries = pgPartitionQueries({ table: name, partitionColumn: 'id', lowerBound: 1, upperBound: 150, numPartitions: 3 });
      const parts: arrow.Table[] = [];
      for (const q of queries) parts.push(await readPostgresPartition(reader, q, { snapshot: snap.snapshotId }));
      expect(concatTables(parts).numRows).toBe(100);
      const fresh = await readPostgresPartition(reader, `SELECT * FROM "${name}"`);
      expect(fresh.numRows).toBe(150);
    } finally {
      await snap.release();
    }
  });

  it('reports SQL errors with the statement, and reads int8 as Float64 on request', async () => {
    const err = await readPostgresPartition(db, 'SELECT * FROM no_such_table_shoal').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PostgresError);
    expect((err as Error).message).toMatch(/no_such_table_shoal/);
    const t = await readPostgresPartition(db, `SELECT 9007199254740993::int8 AS a, 1.5::numeric AS n, ARRAY[1,NULL,3]::int4[] AS arr, 'NaN'::float8 AS nan, NULL::text AS z`, {
      int8As: 'float64',
    });
    expect(t.schema.fields.map((f) => String(f.type))).toEqual(['Float64', 'Float64', 'List<Int32>', 'Float64', 'Utf8']);
    expect(arrowRows(t)).toEqual([[9007199254740992, 1.5, [1, null, 3], NaN, null]]);
    const exact = await readPostgresPartition(db, 'SELECT 9007199254740993::int8 AS a');
    expect(exact.getChild('a')!.get(0)).toBe(9007199254740993n);
  });
});
