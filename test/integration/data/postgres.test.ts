/**
 * Dataset ↔ PostgreSQL on the real server (127.0.0.1:5432, database `test`): a 1M-row table read in
 * 8 range partitions from one snapshot equals SELECT * exactly, also while another connection inserts;
 * filters pushed into SQL; writes in append/overwrite/upsert mode checked by count and checksum.
 * Skipped when PostgreSQL is unreachable, failed instead when CI is set.
 */
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agg, col, range, readPostgres, PostgresError } from 'shoal/data';
import { TestCluster, waitFor } from '../../harness/test-cluster.js';
import { NO_POSTGRES, skipBecause } from '../../harness/skip.js';
import { connectTestPostgres, uniqueTable } from './helpers.js';

const N = 1_000_000;
let tc: TestCluster;
let client: pg.Client | undefined;
let url = '';
const big = uniqueTable('shoal_ds_big');
const created: string[] = [];

beforeAll(async () => {
  client = await connectTestPostgres();
  if (!client) return;
  url = `postgres://${encodeURIComponent(client.user ?? 'postgres')}@${client.host}:${client.port}/${client.database ?? 'test'}`;
  tc = await TestCluster.start({ numCpus: 2 });
  created.push(big);
  await client.query(`CREATE TABLE ${big} (id bigint PRIMARY KEY, k integer, v double precision)`);
  await client.query(`INSERT INTO ${big} SELECT g, g % 97, g * 0.5 FROM generate_series(1, ${N}) g`);
  await client.query(`ANALYZE ${big}`);
}, 120_000);

afterAll(async () => {
  if (client) {
    for (const t of created) await client.query(`DROP TABLE IF EXISTS ${t}`).catch(() => undefined);
    await client.end();
  }
  await tc?.stop();
});

const pgRow = async (sql: string): Promise<Record<string, unknown>> => (await client!.query(sql)).rows[0] as Record<string, unknown>;

describe('readPostgres', () => {
  it('reads 1M rows in 8 partitions equal to SELECT * (count, sum, no duplicates)', async (ctx) => {
    if (!client) return skipBecause(ctx, NO_POSTGRES);
    const ds = readPostgres({ url, table: big, partitionColumn: 'id', lowerBound: 1, upperBound: N, numPartitions: 8, fetchSize: 50_000 });
    const [r] = await ds.agg(agg.count(undefined, 'n'), agg.sum('id', 'sid'), agg.sum('v', 'sv'), agg.countDistinct('id', 'did')).take(1);
    const e = await pgRow(`SELECT count(*)::float8 AS n, sum(id)::float8 AS sid, sum(v) AS sv, count(DISTINCT id)::float8 AS did FROM ${big}`);
    expect(Number(r!.n)).toBe(e.n);
    expect(Number(r!.did)).toBe(e.did);
    expect(Number(r!.sid)).toBe(e.sid);
    expect(Number(r!.sv)).toBeCloseTo(e.sv as number, 0);
  }, 120_000);

  it('reads one consistent snapshot while another connection inserts', async (ctx) => {
    if (!client) return skipBecause(ctx, NO_POSTGRES);
    const writer = (await connectTestPostgres())!;
    let pairs = 0;
    let stop = false;
    // Each transaction adds one row to the first partition (negative id) and one to the last (id > N):
    // a consistent read sees both rows of a pair or neither.
    const inserting = (async () => {
      while (!stop) {
        pairs++;
        await writer.query(`INSERT INTO ${big} VALUES (${-pairs}, -1, 0), (${N + pairs}, -1, 0)`);
      }
    })();
    try {
      while (pairs < 20) await new Promise((r) => setTimeout(r, 10));
      const ds = readPostgres({ url, table: big, partitionColumn: 'id', lowerBound: 1, upperBound: N, numPartitions: 8 });
      // `k + 0 = -1` is not pushed into the SQL: every partition scans its whole range, so the read
      // takes long enough for many inserts to commit while it runs.
      const t = await ds.filter(col('k').add(0).eq(-1)).select('id').collect();
      const pairsBefore = pairs;
      const ids = Array.from({ length: t.numRows }, (_, i) => Number(t.getChild('id')!.get(i)));
      const neg = ids.filter((x) => x < 0).length;
      const pos = ids.filter((x) => x > N).length;
      expect(neg).toBe(pos);
      expect(neg).toBeGreaterThanOrEqual(20);
      expect(new Set(ids).size).toBe(ids.length);
      // The read was concurrent with the writer: rows committed after the snapshot are not in it.
      await waitFor('the writer to commit past the read snapshot', () => pairs > neg, 30_000, 10);
      expect(pairsBefore).toBeGreaterThanOrEqual(neg);
    } finally {
      stop = true;
      await inserting;
      await writer.query(`DELETE FROM ${big} WHERE k = -1`);
      await writer.end();
    }
  }, 120_000);

  it('pushes simple filters and the projection into the SQL', async (ctx) => {
    if (!client) return skipBecause(ctx, NO_POSTGRES);
    const ds = readPostgres({ url, table: big, partitionColumn: 'id', lowerBound: 1, upperBound: N, numPartitions: 4 }).filter(col('k').eq(5).and(col('id').lt(500_000))).select('id');
    expect(await ds.explainString()).toMatch(/columns=\[id, k\] pushedFilters=\[\(k = 5\), \(id < 500000\)\]/);
    expect(await ds.count()).toBe(Number((await pgRow(`SELECT count(*) AS n FROM ${big} WHERE k = 5 AND id < 500000`)).n));
    expect(ds.lastExecution().events.join('\n')).toContain('pushed WHERE ("k" = 5) AND ("id" < 500000)');
  }, 60_000);

  it('a query with a syntax error passes PostgreSQL’s message through', async (ctx) => {
    if (!client) return skipBecause(ctx, NO_POSTGRES);
    const err = await readPostgres({ url, query: 'SELEC 1' }).count().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PostgresError);
    expect((err as Error).message).toMatch(/syntax error/);
  });
});

describe('writePostgres', () => {
  const source = (from: number, n: number, scale: number) =>
    range(n, { numPartitions: 4 })
      .withColumn('id', col('id').add(from))
      .withColumn('v', col('id').cast('float64').mul(scale))
      .withColumn('name', col('id').cast('utf8'));

  const check = async (table: string): Promise<{ n: number; sid: number; sv: number }> => {
    const r = await pgRow(`SELECT count(*)::float8 AS n, coalesce(sum(id), 0)::float8 AS sid, coalesce(sum(v), 0) AS sv FROM ${table}`);
    return { n: r.n as number, sid: r.sid as number, sv: r.sv as number };
  };

  it('append, overwrite and upsert round trip (count and checksum)', async (ctx) => {
    if (!client) return skipBecause(ctx, NO_POSTGRES);
    const table = uniqueTable('shoal_ds_write');
    created.push(table);
    expect((await source(0, 10_000, 1).writePostgres({ url, table })).rowsWritten).toBe(10_000);
    expect(await check(table)).toEqual({ n: 10_000, sid: 49_995_000, sv: 49_995_000 });
    await source(10_000, 5_000, 1).writePostgres({ url, table, mode: 'append' });
    expect(await check(table)).toEqual({ n: 15_000, sid: 112_492_500, sv: 112_492_500 });
    await source(0, 1_000, 2).writePostgres({ url, table, mode: 'overwrite' });
    expect(await check(table)).toEqual({ n: 1_000, sid: 499_500, sv: 999_000 });
    // no staging table is left behind
    const left = await pgRow(`SELECT count(*)::int AS n FROM pg_tables WHERE tablename LIKE '${table.slice(0, 30)}_shoal_stage_%'`);
    expect(left.n).toBe(0);

    const up = uniqueTable('shoal_ds_upsert');
    created.push(up);
    await source(0, 1_000, 1).writePostgres({ url, table: up, mode: 'upsert', keyColumns: ['id'] });
    await source(500, 1_000, 3).writePostgres({ url, table: up, mode: 'upsert', keyColumns: ['id'] });
    // ids 0..1499; v = id for 0..499, 3·id for 500..1499
    let sv = 0;
    for (let i = 0; i < 1500; i++) sv += i < 500 ? i : 3 * i;
    expect(await check(up)).toEqual({ n: 1_500, sid: 1_124_250, sv });
  }, 60_000);

  it('a failing write leaves the target untouched', async (ctx) => {
    if (!client) return skipBecause(ctx, NO_POSTGRES);
    const table = uniqueTable('shoal_ds_fail');
    created.push(table);
    await source(0, 100, 1).writePostgres({ url, table });
    // The target's constraint rejects the new rows when the staged rows are published.
    await client!.query(`ALTER TABLE ${table} ADD CONSTRAINT ${table}_pos CHECK (v < 150)`);
    await expect(source(100, 100, 1).writePostgres({ url, table, mode: 'append' })).rejects.toBeInstanceOf(PostgresError);
    expect(await check(table)).toEqual({ n: 100, sid: 4950, sv: 4950 });
  }, 60_000);
});
