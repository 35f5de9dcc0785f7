/**
 * Streaming queries end to end on the real PostgreSQL: a job (a child process) reads ratings by
 * change data capture, aggregates them per user and day window, and adds the partial counts into a
 * table with its checkpoint in the same transaction. Killed (SIGKILL) inside a batch's transaction
 * and restarted, its counts and sums equal a replay of the ratings table — nothing lost, nothing
 * applied twice. Also: the watermark drops late events; bad query definitions get typed errors.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidOptionError, PostgresUpsertSink, StreamQueryError, dropReplicationSlot, readStream, type StreamRecord, type StreamSource } from 'shoal/data';
import { connectTestPostgres, uniqueTable } from '../../harness/postgres.js';

const JOB = fileURLToPath(new URL('../../fixtures/data/stream-count-job.mjs', import.meta.url));

async function waitFor(what: string, check: () => Promise<boolean>, ms = 120_000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('streaming query: PostgreSQL CDC → windowed counts → PostgreSQL upsert, exactly once', () => {
  let admin: pg.Client | undefined;
  const base = uniqueTable('sq');
  const names = { RATINGS: `${base}_ratings`, COUNTS: `${base}_counts`, CHECKPOINTS: `${base}_ckpt`, SLOT: `${base}_slot`, PUBLICATION: `${base}_pub` };
  let url = '';
  const children: ChildProcess[] = [];
  beforeAll(async () => {
    admin = await connectTestPostgres();
    if (!admin) return;
    const p = admin as unknown as { user: string; host: string; port: number; database: string };
    url = `postgres://${p.user}@${p.host}:${p.port}/${p.database}`;
    await admin.query(`CREATE TABLE ${names.RATINGS} (id serial PRIMARY KEY, user_id int NOT NULL, rating double precision NOT NULL)`);
    await admin.query(`CREATE TABLE ${names.COUNTS} (user_id int NOT NULL, window_start double precision NOT NULL, n bigint NOT NULL, total double precision NOT NULL, PRIMARY KEY (user_id, window_start))`);
  });
  afterAll(async () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    if (!admin) return;
    await dropReplicationSlot(url, names.SLOT, names.PUBLICATION);
    for (const t of [names.RATINGS, names.COUNTS, names.CHECKPOINTS]) await admin.query(`DROP TABLE IF EXISTS ${t}`);
    await admin.end();
  });

  const start = (crashAt?: number): { child: ChildProcess; out: () => string; exited: Promise<{ code: number | null; signal: string | null }> } => {
    const child = spawn(process.execPath, [JOB], { env: { ...process.env, PG_URL: url, ...names, ...(crashAt ? { CRASH_AT_BATCH: String(crashAt) } : {}) }, stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
    return { child, out: () => out, exited };
  };
  const insertBatches = async (from: number, txns: number): Promise<void> => {
    for (let t = 0; t < txns; t++) {
      const values = Array.from({ length: 10 }, (_, i) => `(${(from + t * 10 + i) % 13}, ${1 + ((from + t * 10 + i) % 5)})`).join(', ');
      await admin!.query(`INSERT INTO ${names.RATINGS} (user_id, rating) VALUES ${values}`);
    }
  };
  const slotActive = async (): Promise<boolean> => ((await admin!.query('SELECT active FROM pg_replication_slots WHERE slot_name = $1', [names.SLOT])).rows[0]?.active as boolean | undefined) === true;

  it('killed inside a batch and restarted: counts and sums equal a replay of the ratings', async (ctx) => {
    if (!admin) return ctx.skip();
    const first = start(3);
    await waitFor('the first job to start replicating', slotActive);
    await insertBatches(0, 12); // 120 ratings in 12 transactions; batches of ≤ 20 records
    const crash = await first.exited;
    expect(crash.signal, first.out()).toBe('SIGKILL');
    expect(first.out()).toContain('crashing in batch 3');
    const applied = Number((await admin.query(`SELECT coalesce(sum(n), 0) AS s FROM ${names.COUNTS}`)).rows[0].s);
    expect(applied).toBeLessThan(120); // batch 3 was rolled back with the crash
    await insertBatches(120, 8); // 80 more while the job is down

    const second = start();
    const total = async (): Promise<number> => Number((await admin!.query(`SELECT coalesce(sum(n), 0) AS s FROM ${names.COUNTS}`)).rows[0].s);
    await waitFor('all 200 ratings to be counted', async () => (await total()) >= 200);
    await insertBatches(200, 3);
    await waitFor('the 30 ratings inserted while running', async () => (await total()) >= 230);
    second.child.kill('SIGTERM');
    expect((await second.exited).code, second.out()).toBe(0);

    const replay = (await admin.query(`SELECT user_id, count(*)::bigint AS n, sum(rating) AS total FROM ${names.RATINGS} GROUP BY user_id ORDER BY user_id`)).rows;
    const streamed = (await admin.query(`SELECT user_id, sum(n)::bigint AS n, sum(total) AS total FROM ${names.COUNTS} GROUP BY user_id ORDER BY user_id`)).rows;
    expect(streamed).toEqual(replay);
    expect(await total()).toBe(230);
    const ckpt = (await admin.query(`SELECT query, source FROM ${names.CHECKPOINTS}`)).rows;
    expect(ckpt).toEqual([{ query: 'ratings-per-user', source: `postgres-cdc:${names.SLOT}` }]);
  }, 300_000);
});

/** A source over fixed records (for the watermark and option tests; the real sources are tested above and in stream-sources.test.ts). */
class ArraySource implements StreamSource {
  readonly name = 'array:test';
  private at = 0;
  committed: string | undefined;
  constructor(private readonly records: StreamRecord[]) {}
  async open(after?: string): Promise<void> {
    if (after !== undefined) this.at = Number(after) + 1;
  }
  async poll(max: number): Promise<StreamRecord[]> {
    const out = this.records.slice(this.at, this.at + max);
    this.at += out.length;
    if (out.length === 0) await new Promise((r) => setTimeout(r, 20));
    return out;
  }
  async commit(offset: string): Promise<void> {
    this.committed = offset;
  }
  compareOffsets(a: string, b: string): number {
    return Number(a) - Number(b);
  }
  async close(): Promise<void> {}
}

describe('streaming query: watermark and definitions', () => {
  let admin: pg.Client | undefined;
  const table = uniqueTable('sq_windows');
  let url = '';
  beforeAll(async () => {
    admin = await connectTestPostgres();
    if (!admin) return;
    const p = admin as unknown as { user: string; host: string; port: number; database: string };
    url = `postgres://${p.user}@${p.host}:${p.port}/${p.database}`;
    await admin.query(`CREATE TABLE ${table} (listing int NOT NULL, window_start double precision NOT NULL, count bigint NOT NULL, PRIMARY KEY (listing, window_start))`);
  });
  afterAll(async () => {
    if (!admin) return;
    await admin.query(`DROP TABLE IF EXISTS ${table}`);
    await admin.query(`DROP TABLE IF EXISTS ${table}_ckpt`);
    await admin.end();
  });

  it('drops events older than the watermark and counts the rest per window', async (ctx) => {
    if (!admin) return ctx.skip();
    const ev = (i: number, listing: number, t: number): StreamRecord => ({ offset: String(i), id: `e${i}`, kind: 'event', value: { listing, t }, topic: 'views', timestampMs: 0 });
    // Windows of 1000 ms, watermark delay 500 ms. Batch 1 (2 records): t 1000, 2600 → watermark 2100.
    // Batch 2: t 1500 (late: < 2100), 2200, 2900 (kept).
    const source = new ArraySource([ev(0, 1, 1000), ev(1, 1, 2600), ev(2, 1, 1500), ev(3, 2, 2200), ev(4, 1, 2900)]);
    const sink = new PostgresUpsertSink({ connection: url, table, key: ['listing', 'window_start'], onConflict: 'add', checkpointTable: `${table}_ckpt` });
    const batches: number[] = [];
    const q = readStream(source).withWatermark('t', 500).windowedAggregate({ groupBy: ['listing'], windowMs: 1000 })
      .writeStream(sink, { queryName: 'views', maxBatchRecords: 2, triggerMs: 10, onBatch: (b) => batches.push(b.records) });
    await waitFor('all records', async () => source.committed === '4', 60_000);
    await q.stop();
    expect(q.progress.lateDropped).toBe(1);
    const rows = (await admin.query(`SELECT listing, window_start, count FROM ${table} ORDER BY listing, window_start`)).rows;
    expect(rows).toEqual([
      { listing: 1, window_start: 1000, count: '1' },
      { listing: 1, window_start: 2000, count: '2' },
      { listing: 2, window_start: 2000, count: '1' },
    ]);
    const ck = (await admin.query(`SELECT "offset", watermark_ms FROM ${table}_ckpt`)).rows;
    expect(ck).toEqual([{ offset: '4', watermark_ms: 2400 }]);
  }, 120_000);

  it('refuses bad definitions with typed errors', () => {
    const source = new ArraySource([]);
    expect(() => readStream({} as StreamSource)).toThrow(StreamQueryError);
    expect(() => readStream(source).windowedAggregate({ groupBy: ['a'], windowMs: 1000 })).toThrow(/needs withWatermark/);
    expect(() => readStream(source).withWatermark('t', -1)).toThrow(InvalidOptionError);
    expect(() => new PostgresUpsertSink({ connection: url, table: 'x; drop', key: ['a'] })).toThrow(/'table' must be a table or column name/);
    expect(() => new PostgresUpsertSink({ connection: url, table: 't', key: [] })).toThrow(/'key' must be a non-empty array/);
    expect(() => readStream(source).writeStream(new PostgresUpsertSink({ connection: url, table: 't', key: ['a'] }), { queryName: '' })).toThrow(/'queryName' must be a non-empty string/);
  });
});
