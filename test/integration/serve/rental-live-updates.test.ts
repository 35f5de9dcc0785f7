/**
 * The rental job live (issue 18; examples/rental-recs/live-updates.ts), on the real PostgreSQL
 * (wal_level = logical) and real HTTP: the job on a small synthetic market in its own schema, then
 * `serveLive` — a rating inserted with SQL refits that user on every replica and the next answer
 * is scored with the new vector (checked against a fold-in replay of the user's ratings read back
 * from the table); a new user gets the model's answer; a rating for a listing that does not exist
 * is held until the listing is inserted; a retrain hot-swaps the model and ratings inserted while
 * it ran are all folded in on top of it. Then the embedded default's watched folder of CSV files.
 */
import { mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServeKey, type Serve } from 'shoal/serve';
import { FoldInSolver } from 'shoal/train';
import { TestCluster } from '../../harness/test-cluster.js';
import { call } from '../../fixtures/serve/http-client.js';
import { runJob, type JobResult } from '../../../examples/rental-recs/job.js';
import { serveLive } from '../../../examples/rental-recs/live.js';
import type { LiveUpdates } from '../../../examples/rental-recs/live-updates.js';
import { parseArgs } from '../../../examples/rental-recs/main.js';

const url = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const schema = `live_${process.pid}`;
const dir = mkdtempSync(join(tmpdir(), 'shoal-rental-live-updates-'));
let tc: TestCluster;
let db: pg.Client;
let result: JobResult;
let key: string;
const keysFile = join(dir, 'keys.json');

/** Waits for `cond` (polled), failing with `what` after 30 s. */
async function until(what: string, cond: () => boolean | Promise<boolean>): Promise<void> {
  const end = Date.now() + 30_000;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

beforeAll(async () => {
  tc = await TestCluster.start({ numWorkers: 1, numCpus: 2 });
  db = new pg.Client({ connectionString: url });
  await db.connect();
  await db.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  result = await runJob({
    databaseUrl: url, pgSchema: schema, synthetic: 2_000, seed: 5, neural: false, serve: 'als', keepModel: true,
    grid: { rank: [6], regParam: [0.1], maxIter: [5] }, log: () => undefined,
  });
  key = createServeKey({ file: keysFile });
}, 300_000);

afterAll(async () => {
  await db?.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => undefined);
  await db?.query(`DROP PUBLICATION IF EXISTS rental_live_${schema}`).catch(() => undefined);
  await db?.end();
  await tc?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** The user's ratings as the table has them, by the job's policy (explicit: the latest per listing). */
async function historyOf(user: string): Promise<Map<string, number>> {
  const r = await db.query<{ listing_id: string; rating: number }>(`SELECT listing_id::text AS listing_id, rating FROM ${schema}.ratings WHERE user_id = $1 ORDER BY rated_at`, [user]);
  const h = new Map<string, number>();
  for (const row of r.rows) h.set(row.listing_id, Number(row.rating));
  return h;
}

/** The user's vector replayed: a fold-in of their ratings against the live model's item vectors now. */
async function replay(live: LiveUpdates, user: string): Promise<Float32Array> {
  const h = await historyOf(user);
  const rows: number[] = [];
  const vals: number[] = [];
  for (const [l, v] of h) {
    const i = live.model.listing(l);
    if (i !== undefined && live.model.itemFactors(l)) {
      rows.push(i);
      vals.push(v);
    }
  }
  return new FoldInSolver(live.model.itemMatrix(), live.model.params!).solve(Int32Array.from(rows), Float32Array.from(vals));
}

const dot = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  let s = 0;
  for (let f = 0; f < a.length; f++) s += a[f]! * b[f]!;
  return s;
};

type ReplicaState = { seq: number; user: { factors: number[]; seen: string[] } | null };
const replicaStates = (serve: Serve, user: string): Promise<ReplicaState[]> => serve.controller.handle('recommendations').broadcast<ReplicaState>('userState', user);

/** Users whose (user, listing) pairs are unique in the table (their replay has no same-day tie). */
async function plainUsers(n: number): Promise<string[]> {
  const r = await db.query<{ user_id: string }>(
    `SELECT user_id::text AS user_id FROM ${schema}.ratings GROUP BY user_id HAVING count(*) = count(DISTINCT listing_id) AND count(*) >= 3 ORDER BY user_id LIMIT ${n}`,
  );
  return r.rows.map((x) => x.user_id);
}

async function unratedListing(user: string): Promise<string> {
  const r = await db.query<{ id: string }>(
    `SELECT l.id::text AS id FROM ${schema}.listings l WHERE EXISTS (SELECT 1 FROM ${schema}.ratings r WHERE r.listing_id = l.id)
       AND NOT EXISTS (SELECT 1 FROM ${schema}.ratings r WHERE r.listing_id = l.id AND r.user_id = $1) ORDER BY l.id LIMIT 1`, [user]);
  return r.rows[0]!.id;
}

const insertRating = (user: string, listing: string, rating = 5): Promise<unknown> =>
  db.query(`INSERT INTO ${schema}.ratings (user_id, listing_id, rating, rated_at) VALUES ($1, $2, $3, current_date + 365)`, [user, listing, rating]);

describe('npm start -- --live with DATABASE_URL: ratings by logical replication', () => {
  let serve: Serve;
  let live: LiveUpdates;
  let base: string;

  beforeAll(async () => {
    ({ serve, live } = await serveLive({
      port: 0, clusterTokenFile: tc.cluster.head.tokenFile, serveKeysFile: keysFile, exposureDir: join(dir, 'exposures-pg'), flushIntervalMs: 100,
      base: result.model!, feedback: result.feedback, als: result.best, source: { kind: 'postgres', url, schema, slot: `${schema}_slot` },
    }));
    base = `${serve.url}/recommendations`;
  }, 120_000);

  afterAll(async () => {
    await live?.stop();
    await serve?.shutdown();
  });

  it('applies an inserted rating: the user is refit on every replica and the next answer is scored with the new vector', async () => {
    const [user] = await plainUsers(1);
    const listing = await unratedListing(user!);
    const before = await call(`${base}/${user}?k=5`, { key });
    expect(before.status).toBe(200);
    expect(before.body.fallback).toBeNull();
    await insertRating(user!, listing);
    await until('the rating on every replica', async () => (await replicaStates(serve, user!)).every((s) => s.user?.seen.includes(listing)));
    const expected = await replay(live, user!);
    for (const s of await replicaStates(serve, user!)) {
      s.user!.factors.forEach((f, k) => expect(f).toBeCloseTo(expected[k]!, 4));
    }
    const after = await call(`${base}/${user}?k=5`, { key });
    expect(after.status).toBe(200);
    const items = after.body.items as Array<{ id: string; score: number }>;
    expect(items.map((i) => i.id)).not.toContain(listing);
    for (const it of items) expect(it.score).toBeCloseTo(dot(expected, live.model.itemFactors(it.id)!), 4);
    expect(items).not.toEqual(before.body.items);
  });

  it('folds a new user in from their first rating: the model answers them instead of the fallback', async () => {
    const user = '990000001';
    expect((await call(`${base}/${user}?k=3`, { key })).body.fallback).toMatchObject({ reason: `unknown user ${user}` });
    const listing = await unratedListing(user);
    await insertRating(user, listing, 4);
    await until('the new user on every replica', async () => (await replicaStates(serve, user)).every((s) => s.user !== null));
    const r = await call(`${base}/${user}?k=3`, { key });
    expect(r.body.fallback).toBeNull();
    expect(r.body.items).toHaveLength(3);
    const expected = await replay(live, user);
    for (const it of r.body.items as Array<{ id: string; score: number }>) expect(it.score).toBeCloseTo(dot(expected, live.model.itemFactors(it.id)!), 4);
  });

  it('holds a rating for a listing that does not exist until the listing is inserted, then folds the listing in', async () => {
    const [, user] = await plainUsers(2);
    const listing = '880000001';
    const held0 = live.stats.held;
    const released0 = live.stats.released;
    await insertRating(user!, listing, 5);
    await until('the rating held', () => live.stats.held === held0 + 1);
    expect((await replicaStates(serve, user!))[0]!.user!.seen).not.toContain(listing);
    await db.query(`INSERT INTO ${schema}.listings (id, neighbourhood) VALUES ($1, 'Brand new ward')`, [listing]);
    await until('the held rating released', () => live.stats.released === released0 + 1 && live.stats.held === held0);
    await until('the listing on every replica', async () => (await replicaStates(serve, user!)).every((s) => s.user?.seen.includes(listing)));
    expect(live.model.itemFactors(listing)).toBeDefined();
    // The new listing is in every replica's catalogue with its neighbourhood (a new one).
    const r = await call(`${base}/nobody?k=1&neighbourhood=${encodeURIComponent('Brand new ward')}`, { key });
    expect(r.status).toBe(200);
    expect(r.body.items.map((i: { id: string }) => i.id)).toEqual([listing]);
  });

  it('retrains and hot-swaps; ratings inserted while it ran are all folded in on top of the new model', async () => {
    const users = await plainUsers(8);
    const during = users.slice(2, 8);
    const inserted: Array<[string, string]> = [];
    const version0 = live.stats.version;
    const r = await live.retrain({
      afterFit: async () => {
        // The fit is done and not yet swapped in: these land in the old model, then must be re-applied.
        for (const u of during) {
          const l = await unratedListing(u);
          await insertRating(u, l, 3);
          inserted.push([u, l]);
        }
        await until('the ratings applied to the model being replaced', async () => {
          const states = await Promise.all(during.map((u) => replicaStates(serve, u)));
          return states.every((ss, k) => ss.every((s) => s.user?.seen.includes(inserted[k]![1])));
        });
      },
    });
    expect(r.users).toBeGreaterThanOrEqual(during.length);
    expect(live.stats.version).not.toBe(version0);
    const answer = await call(`${base}/${during[0]}?k=5`, { key });
    expect(answer.headers['x-shoal-version']).toBe(live.stats.version);
    for (const [u, l] of inserted) {
      const expected = await replay(live, u);
      for (const s of await replicaStates(serve, u)) {
        expect(s.user!.seen).toContain(l);
        s.user!.factors.forEach((f, k) => expect(f).toBeCloseTo(expected[k]!, 4));
      }
    }
    // And the loop goes on on the new replicas.
    const u = users[0]!;
    const l = await unratedListing(u);
    await insertRating(u, l, 2);
    await until('a rating after the swap', async () => (await replicaStates(serve, u)).every((s) => s.user?.seen.includes(l)));
    expect(live.error).toBeUndefined();
  });
});

describe('npm start -- --live on the embedded default: a watched folder of CSV files', () => {
  let serve: Serve;
  let live: LiveUpdates;
  const incoming = join(dir, 'incoming');

  beforeAll(async () => {
    mkdirSync(incoming, { recursive: true });
    ({ serve, live } = await serveLive({
      port: 0, clusterTokenFile: tc.cluster.head.tokenFile, serveKeysFile: keysFile, exposureDir: join(dir, 'exposures-folder'), flushIntervalMs: 100,
      base: result.model!, feedback: result.feedback, als: result.best, source: { kind: 'folder', dir: incoming, tables: result.data },
    }));
  }, 120_000);

  afterAll(async () => {
    await live?.stop();
    await serve?.shutdown();
  });

  const drop = (name: string, text: string): void => {
    writeFileSync(join(incoming, `${name}.tmp`), text);
    renameSync(join(incoming, `${name}.tmp`), join(incoming, `${name}.csv`));
  };

  it('applies the rows of a dropped file, counts a malformed one, and moves the file to applied/', async () => {
    const [user] = await plainUsers(1);
    const listing = await unratedListing(user!);
    const rejected0 = Object.values(live.stats.rejected).reduce((a, b) => a + b, 0);
    drop('0001-ratings', `user_id,listing_id,rating\n${user},${listing},4\n${user},${listing},seven\n`);
    await until('the rating on every replica', async () => (await replicaStates(serve, user!)).every((s) => s.user?.seen.includes(listing)));
    await until('the file moved', () => existsSync(join(incoming, 'applied', '0001-ratings.csv')));
    expect(live.stats.rejected['rating is not in (0, 5]']).toBe(1);
    expect(Object.values(live.stats.rejected).reduce((a, b) => a + b, 0)).toBe(rejected0 + 1);
    const r = await call(`${serve.url}/recommendations/${user}?k=3`, { key });
    expect(r.body.fallback).toBeNull();
    expect(r.body.items.map((i: { id: string }) => i.id)).not.toContain(listing);
  });

  it('holds a rating for a listing no file has declared until a listings file brings it', async () => {
    const [, user] = await plainUsers(2);
    drop('0002-ratings', `user_id,listing_id,rating\n${user},770000001,5\n`);
    await until('the rating held', () => live.stats.held === 1);
    drop('0003-listings', 'id,neighbourhood\n770000001,Riverside\n');
    await until('the listing on every replica', async () => (await replicaStates(serve, user!)).every((s) => s.user?.seen.includes('770000001')));
    expect(live.stats.held).toBe(0);
  });
});

describe('npm start flags', () => {
  it('--serve serves; --live (alone or with --serve) serves and applies new ratings; --incoming goes with --live', () => {
    expect(parseArgs(['--serve'])).toMatchObject({ live: { port: 8000, updates: false } });
    expect(parseArgs(['--live'])).toMatchObject({ live: { port: 8000, updates: true } });
    expect(parseArgs(['--serve', '--live', '--incoming', '/tmp/in'])).toMatchObject({ live: { updates: true, incoming: '/tmp/in' } });
    expect(() => parseArgs(['--serve', '--incoming', '/tmp/in'])).toThrow(/--incoming goes with --live/);
    expect(() => parseArgs(['--live', '--model', 'knn'])).toThrow(/--live serves ALS/);
    expect(parseArgs(['--live', '--model', 'als'])).toMatchObject({ serve: 'als', live: { updates: true } });
  });
});
