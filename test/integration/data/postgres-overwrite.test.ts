/**
 * writePostgres mode 'overwrite' keeps the table's identity and fails before compute (issue 13):
 * views on the table, GRANTs and COMMENTs survive the swap (it used to DROP and rename: grants and
 * comments were lost and a view made the job fail after all the compute); what would make the publish
 * fail — privileges, a referencing foreign key, columns and types — is named before any compute; the
 * staging tables of killed writers are swept by the next write, those of live writers left alone.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { col, PostgresError, range } from 'shoal/data';
import { TestCluster } from '../../harness/test-cluster.js';
import { failAboveId } from '../../fixtures/data/index.js';
import { connectTestPostgres, uniqueTable } from './helpers.js';

let tc: TestCluster;
let client: pg.Client | undefined;
let url = '';
const drops: string[] = [];

beforeAll(async () => {
  client = await connectTestPostgres();
  if (!client) return;
  url = `postgres://${encodeURIComponent(client.user ?? 'postgres')}@${client.host}:${client.port}/${client.database ?? 'test'}`;
  tc = await TestCluster.start({ numCpus: 2 });
});

afterAll(async () => {
  if (client) {
    for (const sql of drops.reverse()) await client.query(sql).catch(() => undefined);
    await client.end();
  }
  await tc?.stop();
});

const rows = (from: number, n: number) =>
  range(n, { numPartitions: 3 })
    .withColumn('id', col('id').add(from))
    .withColumn('v', col('id').cast('float64').mul(2));

async function table(): Promise<string> {
  const t = uniqueTable('shoal_ow');
  drops.push(`DROP TABLE IF EXISTS ${t} CASCADE`);
  await client!.query(`CREATE TABLE ${t} (id bigint PRIMARY KEY, v double precision)`);
  await client!.query(`INSERT INTO ${t} SELECT g, g * 2 FROM generate_series(0, 9) g`);
  return t;
}

const one = async (sql: string): Promise<Record<string, unknown>> => (await client!.query(sql)).rows[0] as Record<string, unknown>;

describe('writePostgres overwrite', () => {
  it('keeps a view on the table, its GRANTs and its COMMENTs, and the view sees the new rows', async (ctx) => {
    if (!client) return ctx.skip();
    const t = await table();
    const role = `${t}_reader`;
    await client.query(`CREATE ROLE ${role}`);
    drops.unshift(`DROP ROLE IF EXISTS ${role}`);
    await client.query(`CREATE VIEW ${t}_big AS SELECT id FROM ${t} WHERE v > 10`);
    drops.push(`DROP VIEW IF EXISTS ${t}_big`);
    await client.query(`GRANT SELECT ON ${t} TO ${role}`);
    await client.query(`COMMENT ON TABLE ${t} IS 'top-5 per user'`);
    await client.query(`COMMENT ON COLUMN ${t}.v IS 'score'`);
    const oid = (await one(`SELECT '${t}'::regclass::oid AS oid`)).oid;

    expect((await rows(100, 50).writePostgres({ url, table: t, mode: 'overwrite' })).rowsWritten).toBe(50);

    expect(await one(`SELECT count(*)::int AS n, min(id)::int AS lo FROM ${t}`)).toEqual({ n: 50, lo: 100 });
    expect(await one(`SELECT count(*)::int AS n FROM ${t}_big`)).toEqual({ n: 50 });
    expect(await one(`SELECT has_table_privilege('${role}', '${t}', 'SELECT') AS g`)).toEqual({ g: true });
    expect(await one(`SELECT obj_description('${t}'::regclass, 'pg_class') AS c`)).toEqual({ c: 'top-5 per user' });
    expect(await one(`SELECT col_description('${t}'::regclass, 2) AS c`)).toEqual({ c: 'score' });
    expect((await one(`SELECT '${t}'::regclass::oid AS oid`)).oid).toBe(oid);
    const left = await one(`SELECT count(*)::int AS n FROM pg_tables WHERE tablename LIKE '${t.slice(0, 30)}_shoal_stage_%'`);
    expect(left.n).toBe(0);
  });

  it('names a column type PostgreSQL cannot assign, before computing anything (the compute would fail otherwise)', async (ctx) => {
    if (!client) return ctx.skip();
    const t = await table();
    // `v` as text into a double precision column; the compute itself would throw — the check comes first.
    const ds = rows(0, 30).withColumn('v', col('v').cast('utf8')).mapBatches(failAboveId, { args: [-1] });
    const err = (await ds.writePostgres({ url, table: t, mode: 'overwrite' }).catch((e: unknown) => e)) as PostgresError;
    expect(err).toBeInstanceOf(PostgresError);
    expect(err.message).toContain(`cannot overwrite ${t} (checked before computing anything)`);
    expect(err.message).toContain('column "v" is double precision but the dataset sends text');
    expect(err.message).not.toContain('boom');
    expect(await one(`SELECT count(*)::int AS n FROM ${t}`)).toEqual({ n: 10 });
  });

  it('names a missing column, a NOT NULL column the dataset lacks, and a referencing foreign key', async (ctx) => {
    if (!client) return ctx.skip();
    const t = await table();
    await client.query(`ALTER TABLE ${t} ADD COLUMN must text NOT NULL DEFAULT 'x'`);
    await client.query(`ALTER TABLE ${t} ALTER COLUMN must DROP DEFAULT`);
    await client.query(`CREATE TABLE ${t}_child (id bigint REFERENCES ${t} (id))`);
    drops.push(`DROP TABLE IF EXISTS ${t}_child`);
    const err = (await rows(0, 5).withColumn('extra', col('id')).writePostgres({ url, table: t, mode: 'overwrite' }).catch((e: unknown) => e)) as PostgresError;
    expect(err).toBeInstanceOf(PostgresError);
    expect(err.message).toContain('it has no column "extra"');
    expect(err.message).toContain('column "must" is NOT NULL without a default');
    expect(err.message).toMatch(new RegExp(`foreign key \\w+ of ${t}_child refers to it`));
    expect(await one(`SELECT count(*)::int AS n FROM ${t}`)).toEqual({ n: 10 });
  });

  it('names missing privileges before computing anything', async (ctx) => {
    if (!client) return ctx.skip();
    const t = await table();
    const role = `${t}_writer`;
    await client.query(`CREATE ROLE ${role} LOGIN`);
    drops.unshift(`DROP OWNED BY ${role}`, `DROP ROLE IF EXISTS ${role}`);
    await client.query(`GRANT USAGE, CREATE ON SCHEMA public TO ${role}`);
    await client.query(`GRANT SELECT, INSERT ON ${t} TO ${role}`);
    const as = `postgres://${role}@${client.host}:${client.port}/${client.database ?? 'test'}`;
    const err = (await rows(0, 5).writePostgres({ url: as, table: t, mode: 'overwrite' }).catch((e: unknown) => e)) as PostgresError;
    expect(err).toBeInstanceOf(PostgresError);
    expect(err.message).toContain(`role "${role}" lacks TRUNCATE on it`);
    expect(await one(`SELECT count(*)::int AS n FROM ${t}`)).toEqual({ n: 10 });
  });

  it('drops the staging tables killed writers left, and leaves a live writer’s', async (ctx) => {
    if (!client) return ctx.skip();
    const t = await table();
    const dead = `${t.slice(0, 30)}_shoal_stage_4194305_dead`;
    const live = `${t.slice(0, 30)}_shoal_stage_4194306_live`;
    drops.push(`DROP TABLE IF EXISTS ${dead}`, `DROP TABLE IF EXISTS ${live}`);
    await client.query(`CREATE TABLE ${dead} (LIKE ${t})`);
    await client.query(`CREATE TABLE ${live} (LIKE ${t})`);
    // A live writer holds the advisory lock on its staging table's name from its own session.
    const other = new pg.Client({ connectionString: url });
    await other.connect();
    try {
      await other.query(`SELECT pg_advisory_lock(hashtext('shoal_stage:${live}'))`);
      await rows(0, 5).writePostgres({ url, table: t, mode: 'overwrite' });
      const names = (await client.query<{ t: string }>(`SELECT tablename AS t FROM pg_tables WHERE tablename LIKE '${t.slice(0, 30)}_shoal_stage_%'`)).rows.map((r) => r.t);
      expect(names).toEqual([live]);
    } finally {
      await other.end();
    }
  });
});
