/**
 * The binary COPY reader against the real server: every mapped type (with nulls, infinities, NaN,
 * multi-dimensional arrays, odd names) equals what the server itself says through the text protocol;
 * the decoder gives the same table whatever the chunk boundaries; bad streams, SQL errors during the
 * COPY and abandoned reads give typed errors and leave the connection usable.
 */
import * as arrow from 'apache-arrow';
import { afterAll, describe, expect, it } from 'vitest';
import { PostgresError } from '../../../../src/data/index.js';
import { BinaryCopyDecoder } from '../../../../src/data/io/pg-binary-copy.js';
import { copyOut } from '../../../../src/data/io/pg-copy-out.js';
import { readPostgresBatches, readPostgresPartition } from '../../../../src/data/io/pg-reader.js';
import { pgColumnRead } from '../../../../src/data/io/pg-types.js';
import { arrowRows } from '../helpers/oracle.js';
import { connectTestPostgres } from '../../../harness/postgres.js';

const client = await connectTestPostgres();

const N = 5000;
/** Every type the reader maps, NULL in some rows; row 7 holds the infinities and NaN. */
const TYPED = `
  SELECT g AS id,
    CASE WHEN g % 11 = 0 THEN NULL ELSE (g % 30000 - 15000)::int2 END AS i2,
    CASE WHEN g % 13 = 0 THEN NULL ELSE (g * 7919 - 20000000)::int4 END AS i4,
    CASE WHEN g % 17 = 0 THEN NULL ELSE (g::int8 * 3037000493 - 9000000000000000000) END AS i8,
    (g + 16384)::oid AS o,
    CASE WHEN g % 19 = 0 THEN NULL ELSE (g / 7.0)::float4 END AS f4,
    CASE WHEN g = 7 THEN 'NaN'::float8 WHEN g = 8 THEN '-Infinity'::float8 WHEN g % 23 = 0 THEN NULL ELSE g * 1e-3 + 1e15 / g END AS f8,
    CASE WHEN g = 7 THEN 'NaN'::numeric WHEN g % 29 = 0 THEN NULL ELSE (g * 12345.6789012345678 - 1e6)::numeric END AS n,
    CASE WHEN g % 5 = 0 THEN NULL WHEN g % 5 = 1 THEN '' ELSE 'v' || g || ',"q"\\ 日本 😀' END AS t,
    ('c' || g % 100)::varchar(10) AS vc,
    ('b' || g % 7)::char(4) AS bp,
    CASE WHEN g % 31 = 0 THEN NULL ELSE g % 2 = 0 END AS b,
    CASE WHEN g = 7 THEN 'infinity'::date WHEN g = 8 THEN '-infinity'::date WHEN g % 37 = 0 THEN NULL ELSE date '1900-01-01' + g * 17 END AS d,
    CASE WHEN g = 7 THEN 'infinity'::timestamp WHEN g % 41 = 0 THEN NULL ELSE timestamp '1899-12-31 23:59:59.999' + g * interval '1 day 00:00:01.0005' END AS ts,
    CASE WHEN g = 8 THEN '-infinity'::timestamptz WHEN g % 43 = 0 THEN NULL ELSE timestamptz '2024-03-10 01:30:00.123456+05:30' - g * interval '17 hours 0.000777 seconds' END AS tz,
    json_build_object('g', g, 's', 'x"y') AS js,
    jsonb_build_object('g', g, 'a', json_build_array(1, 'two')) AS jb,
    md5(g::text)::uuid AS u,
    (g || ' days')::interval AS iv,
    CASE WHEN g % 9 = 0 THEN NULL WHEN g % 9 = 1 THEN '{}'::int4[] ELSE ARRAY[g, NULL, -g]::int4[] END AS a4,
    ARRAY[g::int8 * 1000000007, NULL] AS a8,
    ARRAY['a,b', NULL, '"q"', 'g' || g] AS at,
    ARRAY[g / 3.0, NULL]::numeric[] AS an,
    ARRAY[g % 2 = 0, NULL] AS ab,
    ARRAY[date '2000-01-01' + g, NULL] AS ad,
    ARRAY[timestamp '2000-01-01' + g * interval '1 second', NULL] AS ats,
    ARRAY[[g, g + 1], [g + 2, NULL]]::int4[] AS m2
  FROM generate_series(1, ${N}) g`;

/** The same values as the server prints them, converted to the reader's conventions. */
const ORACLE = `
  SELECT id, i2, i4, i8::text AS i8, o::text AS o, f4::float8 AS f4, f8, n::float8 AS n, t, vc, bp, b,
    CASE WHEN isfinite(d) THEN d - date '1970-01-01' END AS d,
    CASE WHEN isfinite(ts) THEN floor(extract(epoch FROM ts) * 1000)::text END AS ts,
    CASE WHEN isfinite(tz) THEN floor(extract(epoch FROM tz) * 1000)::text END AS tz,
    js::text AS js, jb::text AS jb, u::text AS u, iv::text AS iv,
    a4, a8::text[] AS a8, at, an::float8[] AS an, ab, ARRAY(SELECT x - date '1970-01-01' FROM unnest(ad) x) AS ad,
    ARRAY(SELECT floor(extract(epoch FROM x) * 1000)::float8 FROM unnest(ats) x) AS ats,
    ARRAY(SELECT x FROM unnest(m2) x) AS m2
  FROM (${TYPED}) typed ORDER BY id`;

const big = (s: string | null): bigint | null => (s === null ? null : BigInt(s));

describe.skipIf(client === undefined)('binary COPY reader', () => {
  const db = client!;
  afterAll(async () => {
    await db.end();
  });

  it('reads every mapped type, with nulls and infinities, equal to the server’s own values', async () => {
    const t = await readPostgresPartition(db, `${TYPED} ORDER BY g`, { fetchSize: 777 });
    expect(t.batches.map((b) => b.numRows)).toEqual([...Array<number>(6).fill(777), N - 6 * 777]);
    expect(t.schema.fields.map((f) => `${f.name}:${String(f.type)}`)).toEqual([
      'id:Int32',
      'i2:Int32',
      'i4:Int32',
      'i8:Int64',
      'o:Int64',
      'f4:Float64',
      'f8:Float64',
      'n:Float64',
      't:Utf8',
      'vc:Utf8',
      'bp:Utf8',
      'b:Bool',
      'd:Date32<DAY>',
      'ts:Timestamp<MILLISECOND>',
      'tz:Timestamp<MILLISECOND>',
      'js:Utf8',
      'jb:Utf8',
      'u:Utf8',
      'iv:Utf8',
      'a4:List<Int32>',
      'a8:List<Int64>',
      'at:List<Utf8>',
      'an:List<Float64>',
      'ab:List<Bool>',
      'ad:List<Date32<DAY>>',
      'ats:List<Timestamp<MILLISECOND>>',
      'm2:List<Int32>',
    ]);
    await db.query("SET TimeZone = 'UTC'");
    const oracle = (await db.query({ text: ORACLE, rowMode: 'array' })).rows as unknown[][];
    const col = (name: string) => t.getChild(name)!;
    const list = (name: string, i: number): unknown[] | null => {
      const v = col(name).get(i) as arrow.Vector | null;
      return v === null ? null : [...v];
    };
    // Arrow JS returns dates as epoch milliseconds.
    const dayMs = (days: unknown): number | null => (days === null ? null : (days as number) * 86_400_000);
    for (let i = 0; i < N; i++) {
      const e = oracle[i]!;
      const got = [
        col('id').get(i),
        col('i2').get(i),
        col('i4').get(i),
        col('i8').get(i),
        col('o').get(i),
        col('f4').get(i),
        col('f8').get(i),
        col('n').get(i),
        col('t').get(i),
        col('vc').get(i),
        col('bp').get(i),
        col('b').get(i),
        col('d').get(i),
        col('ts').get(i),
        col('tz').get(i),
        col('js').get(i),
        col('jb').get(i),
        col('u').get(i),
        col('iv').get(i),
        list('a4', i),
        list('a8', i),
        list('at', i),
        list('an', i),
        list('ab', i),
        list('ad', i),
        list('ats', i),
        list('m2', i),
      ];
      const want = [
        e[0],
        e[1],
        e[2],
        big(e[3] as string | null),
        big(e[4] as string | null),
        e[5],
        e[6],
        e[7],
        e[8],
        e[9],
        e[10],
        e[11],
        dayMs(e[12]),
        e[13] === null ? null : Number(e[13]),
        e[14] === null ? null : Number(e[14]),
        e[15],
        e[16],
        e[17],
        e[18],
        e[19],
        (e[20] as (string | null)[]).map(big),
        e[21],
        e[22],
        e[23],
        (e[24] as unknown[]).map(dayMs),
        e[25],
        e[26],
      ];
      expect(got, `row ${i + 1}`).toEqual(want);
    }
  });

  it('decodes the same table whatever the chunk boundaries, and rejects malformed streams', async () => {
    const sql = `SELECT g, 'x' || repeat('é', g % 50) AS s, ARRAY[g, NULL] AS a, NULL::int8 AS z FROM generate_series(1, 700) g`;
    const fields = (await db.query({ text: `${sql} LIMIT 0`, rowMode: 'array' })).fields;
    const reads = fields.map((f) => pgColumnRead(f.dataTypeID, 'int64'));
    const bytes: Uint8Array[] = [];
    for await (const chunk of db.query(copyOut(`COPY (${sql}) TO STDOUT (FORMAT binary)`))) bytes.push(new Uint8Array(chunk as Uint8Array));
    const all = new Uint8Array(bytes.reduce((s, b) => s + b.length, 0));
    bytes.reduce((at, b) => (all.set(b, at), at + b.length), 0);
    const decode = (sizes: (i: number) => number, data = all): arrow.Table => {
      const d = new BinaryCopyDecoder(
        fields.map((f) => f.name),
        reads,
        256,
        sql,
      );
      const batches: arrow.RecordBatch[] = [];
      for (let at = 0, i = 0; at < data.length; i++) {
        const n = Math.max(1, sizes(i));
        batches.push(...d.push(data.slice(at, at + n)));
        at += n;
      }
      batches.push(d.end());
      return new arrow.Table(batches);
    };
    const whole = arrowRows(decode(() => all.length));
    expect(whole).toHaveLength(700);
    expect(whole[9]).toEqual([10, `x${'é'.repeat(10)}`, [10, null], null]);
    expect(arrowRows(decode(() => 1))).toEqual(whole);
    let seed = 7;
    expect(arrowRows(decode(() => (seed = (seed * 48271) % 2147483647) % 97))).toEqual(whole);

    expect(() => decode(() => all.length, all.subarray(0, all.length - 40))).toThrow(/malformed binary COPY data after \d+ rows: the stream ended inside a tuple/);
    const bad = all.slice();
    bad[0] = 0x51;
    expect(() => decode(() => all.length, bad)).toThrow(PostgresError);
    expect(() => decode(() => all.length, bad)).toThrow(/bad file signature/);
  });

  it('names duplicate result columns as PostgreSQL does, and keeps the types of an empty result', async () => {
    const t = await readPostgresPartition(db, `SELECT g AS a, g::text AS a, g::numeric AS "we""ird" FROM generate_series(1, 3) g`);
    expect(t.schema.fields.map((f) => f.name)).toEqual(['a', 'a', 'we"ird']);
    expect(arrowRows(t)).toEqual([
      [1, '1', 1],
      [2, '2', 2],
      [3, '3', 3],
    ]);
    const empty = await readPostgresPartition(db, `SELECT 1::int8 AS x, 'a'::text AS y, ARRAY[1.5]::numeric[] AS z WHERE false;`);
    expect(empty.numRows).toBe(0);
    expect(empty.schema.fields.map((f) => String(f.type))).toEqual(['Int64', 'Utf8', 'List<Float64>']);
  });

  it('an error during the COPY is PostgreSQL’s message, and the connection stays usable', async () => {
    const err = await readPostgresPartition(db, 'SELECT 1 / (g - 30000) AS x FROM generate_series(1, 40000) g', { fetchSize: 1000 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PostgresError);
    expect((err as Error).message).toMatch(/division by zero/);
    expect((err as PostgresError).sql).toContain('generate_series(1, 40000)');
    expect((await db.query('SELECT 41 + 1 AS v')).rows[0].v).toBe(42);
  });

  it('stopping a batch stream early drains the COPY and leaves the connection usable', async () => {
    let seen = 0;
    for await (const b of readPostgresBatches(db, 'SELECT g FROM generate_series(1, 200000) g', { fetchSize: 1000 })) {
      seen += b.numRows;
      break;
    }
    expect(seen).toBe(1000);
    expect((await db.query('SELECT 41 + 1 AS v')).rows[0].v).toBe(42);
    const t = await readPostgresPartition(db, 'SELECT g FROM generate_series(1, 5) g');
    expect(arrowRows(t)).toEqual([[1], [2], [3], [4], [5]]);
  });

  it('rejects bad options with the option named', async () => {
    await expect(readPostgresPartition(db, 'SELECT 1', { fetchSize: 0 })).rejects.toThrow(/options\.fetchSize must be a positive integer; got 0/);
    await expect(readPostgresPartition(db, 'SELECT 1', { snapshot: "x'; DROP TABLE y; --" })).rejects.toThrow(/options\.snapshot must be a snapshot id/);
  });
});
