/**
 * The feature store on a real cluster: point-in-time-correct training sets on small hand-checked data
 * (equal timestamps, TTL boundaries, on-demand features), materialization to the embedded store and to
 * Redis (written by the partitions on the workers), incremental runs with late rows, the
 * materialization lock, TTL expiry in Redis, Redis down, and PostgreSQL and Parquet sources.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Registry } from 'prom-client';
import { Redis } from 'ioredis';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromRows, type Dataset } from 'shoal/data';
import {
  FeatureStore, InProcessOnlineStore, MaterializationLockedError, OnlineStoreUnavailableError, PipelineModel, RedisOnlineStore, StandardScalerModel,
  EntityKeyTypeError, ColumnTypeError, registerFreshnessGauge, defineEntity, defineFeatureView, defineOnDemandFeatureView, tableToRows, type FeatureView,
  FeatureSourceError, InvalidOptionError, PlatformFeatureRegistry, trailingWindowFeatures,
} from 'shoal/features';
import { openStore } from 'shoal/store';
import { TestCluster } from '../../harness/test-cluster.js';
import { connectTestPostgres, uniqueTable } from '../../harness/postgres.js';
import { NO_REDIS, REDIS_URL, redisAvailable, uniquePrefix } from '../../harness/redis.js';
import { NO_POSTGRES, skipBecause } from '../../harness/skip.js';

const BIN = resolve(import.meta.dirname, '../../../bin/shoal.js');
let tc: TestCluster;
let dir: string;
let hasRedis = false;
const prefix = uniquePrefix('feature-store');
const stores: FeatureStore[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'shoal-fs-it-'));
  hasRedis = await redisAvailable();
  tc = await TestCluster.start({ numCpus: 2 });
}, 60_000);

afterAll(async () => {
  if (hasRedis) await new RedisOnlineStore({ url: REDIS_URL, prefix }).clear();
  for (const s of stores) await s.close();
  await rm(dir, { recursive: true, force: true });
  await tc?.stop();
});

const S = 1000;
const base = Math.floor(Date.now() / S) * S - 600 * S; // ten minutes ago: values within the TTL are still served now
const HOUR = 3600 * S;
const listing = defineEntity({ name: 'listing', joinKeys: 'listing_id' });
const user = defineEntity({ name: 'user', joinKeys: 'user_id', keyType: 'utf8' });
const priceRows = [
  { listing_id: 1, ts: base + 100 * S, price: 10 },
  { listing_id: 1, ts: base + 200 * S, price: 20 },
  { listing_id: 1, ts: base + 300 * S, price: 30 },
  { listing_id: 2, ts: base + 150 * S, price: 50 },
];
const prices = (rows: readonly Record<string, unknown>[] = priceRows): FeatureView =>
  defineFeatureView({
    name: 'prices', entities: [listing], source: { kind: 'dataset', dataset: fromRows(rows, { numPartitions: 2 }) }, timestampField: 'ts',
    features: { price: 'float64' }, ttlMs: HOUR, allowedLatenessMs: 50 * S,
  });
const users = defineFeatureView({
  name: 'users', entities: [user], source: { kind: 'dataset', dataset: fromRows([{ user_id: 'a', at: base, stays: 3 }, { user_id: 'a', at: base + 250 * S, stays: 4 }]) },
  timestampField: 'at', features: { stays: 'int64' },
});
const pricing = defineOnDemandFeatureView({
  name: 'pricing', sources: ['prices:price'], pipeline: new PipelineModel([new StandardScalerModel(['price'], ['price_z'], Float64Array.of(20), Float64Array.of(10), true, true)]),
  features: { price_z: 'float64' },
});

const sorted = async (ds: Dataset): Promise<Record<string, unknown>[]> =>
  tableToRows(await ds.toArrow()).sort((a, b) => (a['listing_id'] as number) - (b['listing_id'] as number) || (a['event_timestamp'] as number) - (b['event_timestamp'] as number));

function newStore(online?: FeatureStore['online']): FeatureStore {
  const s = new FeatureStore({ registry: join(dir, 'registry'), numPartitions: 3, ...(online ? { online } : {}) });
  stores.push(s);
  return s;
}

describe('getHistoricalFeatures', () => {
  it('is point-in-time correct: equal timestamps included, later values never, TTL inclusive', async () => {
    const fs = newStore();
    await fs.apply([prices(), users, pricing]);
    const entities = [
      { listing_id: 1, user_id: 'a', event_timestamp: base + 50 * S }, // before any value
      { listing_id: 1, user_id: 'a', event_timestamp: base + 100 * S }, // equal to the first value's time
      { listing_id: 1, user_id: 'a', event_timestamp: base + 250 * S }, // between: the value of 200, not of 300; user value of 250 (equal)
      { listing_id: 1, user_id: 'b', event_timestamp: base + 300 * S },
      { listing_id: 2, user_id: 'a', event_timestamp: base + 150 * S + HOUR }, // exactly TTL old: kept
      { listing_id: 2, user_id: 'a', event_timestamp: base + 150 * S + HOUR + 1 }, // 1 ms past the TTL: null
      { listing_id: 3, user_id: 'a', event_timestamp: base + 300 * S }, // unknown listing
    ];
    const ds = await fs.getHistoricalFeatures(entities, ['prices:price', 'users:stays', 'pricing:price_z']);
    expect(await sorted(ds)).toEqual([
      { ...entities[0], price: null, stays: 3, price_z: null },
      { ...entities[1], price: 10, stays: 3, price_z: -1 },
      { ...entities[2], price: 20, stays: 4, price_z: 0 },
      { ...entities[3], price: 30, stays: null, price_z: 1 },
      { ...entities[4], price: 50, stays: 4, price_z: 3 },
      { ...entities[5], price: null, stays: 4, price_z: null },
      { ...entities[6], price: null, stays: 4, price_z: null },
    ]);
  });

  it('breaks ties of equal event times by the created timestamp, in training sets and online (regression: partition order decided)', async () => {
    // Listing 1 has two rows at the same event time; the correction (created later) comes first in the source.
    const rows = [
      { listing_id: 1, ts: base + 100 * S, created: base + 500 * S, price: 11 },
      { listing_id: 1, ts: base + 100 * S, created: base + 400 * S, price: 10 },
      { listing_id: 2, ts: base + 100 * S, created: base + 400 * S, price: 20 },
    ];
    const corrected = defineFeatureView({
      name: 'corrected', entities: [listing], source: { kind: 'dataset', dataset: fromRows(rows, { numPartitions: 1 }) }, timestampField: 'ts',
      createdTimestampField: 'created', features: { price: 'float64' },
    });
    expect(() => defineFeatureView({ name: 'v', entities: [listing], source: { kind: 'dataset', dataset: fromRows(rows) }, timestampField: 'ts', createdTimestampField: 'ts', features: { price: 'float64' } }))
      .toThrow(/'createdTimestampField' must be another column than timestampField/);
    const fs = newStore(new InProcessOnlineStore());
    await fs.apply([corrected]);
    const hist = await sorted(await fs.getHistoricalFeatures([{ listing_id: 1, event_timestamp: base + 200 * S }, { listing_id: 2, event_timestamp: base + 200 * S }], ['corrected:price']));
    expect(hist.map((r) => r['price'])).toEqual([11, 20]);
    await fs.materialize(base, base + 300 * S);
    expect((await fs.getOnlineFeatures([{ listing_id: 1 }, { listing_id: 2 }], ['corrected:price'])).map((r) => r['price'])).toEqual([11, 20]);
  });

  it('refuses entity rows whose join key has the wrong type or is missing', async () => {
    const fs = newStore();
    await fs.apply([prices(), users]);
    await expect(fs.getHistoricalFeatures([{ listing_id: '1', event_timestamp: base }], ['prices:price'])).rejects.toThrow(EntityKeyTypeError);
    await expect(fs.getHistoricalFeatures([{ user_id: 'a', event_timestamp: base }], ['prices:price'])).rejects.toThrow(/join key "listing_id" must be an integer .*got no such column/);
    await expect(fs.getHistoricalFeatures([{ listing_id: 1, t: base }], ['prices:price'])).rejects.toThrow(/timestampField/);
    const wrong = defineFeatureView({ name: 'wrong', entities: [listing], source: { kind: 'dataset', dataset: fromRows([{ listing_id: 1, ts: 0, price: 'high' }]) }, timestampField: 'ts', features: { price: 'float64' } });
    await fs.apply([wrong]);
    await expect(fs.getHistoricalFeatures([{ listing_id: 1, event_timestamp: base }], ['wrong:price'])).rejects.toThrow(ColumnTypeError);
  });
});

describe('materialization to the embedded store', () => {
  it('writes the latest value per entity, moves the high-water mark, picks up late rows within the allowed lateness only', async () => {
    const fs = newStore(new InProcessOnlineStore());
    await fs.apply([prices(), pricing]);
    const read = async (): Promise<unknown[]> => (await fs.getOnlineFeatures([{ listing_id: 1 }, { listing_id: 2 }, { listing_id: 3 }], ['prices:price'])).map((r) => r['price']);
    const [first] = await fs.materialize(base, base + 250 * S);
    expect(first).toMatchObject({ view: 'prices', rows: 2 });
    expect(await read()).toEqual([20, 50, null]);
    expect(await fs.highWaterMarks()).toEqual({ prices: base + 250 * S });
    await fs.materializeIncremental(base + 400 * S);
    expect(await read()).toEqual([30, 50, null]);
    // Late rows: listing 2 at 360 s is within the 50 s lateness of the 400 s mark; listing 3 at 100 s is not.
    await fs.apply([prices([...priceRows, { listing_id: 2, ts: base + 360 * S, price: 55 }, { listing_id: 3, ts: base + 100 * S, price: 70 }])]);
    await fs.materializeIncremental(base + 500 * S);
    expect(await read()).toEqual([30, 55, null]);
    await fs.materialize(base, base + 500 * S);
    expect(await read()).toEqual([30, 55, 70]);
    // On-demand features online run the same fitted kernel as the training set above.
    expect((await fs.getOnlineFeatures([{ listing_id: 1 }], ['pricing:price_z']))[0]).toEqual({ listing_id: 1, price_z: 1 });
  });

  it('keeps integer entity keys past 2^53 exact (listing ids exceed it)', async () => {
    const fs = newStore(new InProcessOnlineStore());
    const big = defineFeatureView({
      name: 'big_ids', entities: [listing], timestampField: 'ts', features: { price: 'float64' },
      source: { kind: 'dataset', dataset: fromRows([{ listing_id: 9007199254740993n, ts: base, price: 1 }, { listing_id: 9007199254740992n, ts: base, price: 2 }]) },
    });
    await fs.apply([big]);
    expect((await fs.materialize(base, base + S))[0]!.rows).toBe(2);
    const rows = await fs.getOnlineFeatures([{ listing_id: 9007199254740993n }, { listing_id: 9007199254740992n }], ['big_ids:price']);
    expect(rows.map((r) => r['price'])).toEqual([1, 2]);
  });

  it('lets one materialization of a view wait for the other, or fail clearly when told not to wait', async () => {
    const online = new InProcessOnlineStore();
    const fs = newStore(online);
    await fs.apply([prices()]);
    const quick = new FeatureStore({ registry: join(dir, 'registry'), online, lockWaitMs: 0 });
    await quick.apply([prices()]);
    const order: string[] = [];
    const running = fs.materialize(base, base + 400 * S).then((r) => (order.push('first'), r));
    await expect(quick.materialize(base, base + 400 * S)).rejects.toThrow(/feature view "prices" is being materialized by another process; waited \d+ ms/);
    const [[waited]] = await Promise.all([fs.materialize(base, base + 250 * S).then((r) => (order.push('second'), r)), running]);
    expect(order).toEqual(['first', 'second']);
    expect(waited!.rows).toBe(2);
  });
});

describe('materialization to Redis', () => {
  it('writes from the partitions on the workers; the online values equal the training set at the same time', async (ctx) => {
    if (!hasRedis) return skipBecause(ctx, NO_REDIS);
    const fs = newStore(new RedisOnlineStore({ url: REDIS_URL, prefix }));
    await fs.apply([prices(), users]);
    const end = Date.now();
    const results = await fs.materialize(base, end);
    expect(results.map((r) => [r.view, r.rows])).toEqual([['prices', 2], ['users', 1]]);
    const entities = [{ listing_id: 1, user_id: 'a' }, { listing_id: 2, user_id: 'zz' }, { listing_id: 9, user_id: 'a' }];
    const online = await fs.getOnlineFeatures(entities, ['prices:price', 'users:stays']);
    expect(online).toEqual([{ ...entities[0], price: 30, stays: 4 }, { ...entities[1], price: 50, stays: null }, { ...entities[2], price: null, stays: 4 }]);
    const offline = await sorted(await fs.getHistoricalFeatures(entities.map((e) => ({ ...e, event_timestamp: end })), ['prices:price', 'users:stays']));
    expect(offline.map(({ event_timestamp: _, ...r }) => r)).toEqual(online);
    expect(await fs.highWaterMarks()).toEqual({ prices: end, users: end });
    // Regression: materializing an older range again wrote its older values over the newer ones.
    await fs.materialize(base, base + 250 * S, { views: ['prices'] });
    expect((await fs.getOnlineFeatures([{ listing_id: 1 }], ['prices:price']))[0]!['price']).toBe(30);
    expect(await fs.highWaterMarks()).toEqual({ prices: end, users: end });
  });

  it('never interleaves two materializations of one view (the Redis lock), and fails clearly without waiting', async (ctx) => {
    if (!hasRedis) return skipBecause(ctx, NO_REDIS);
    const p = `${prefix}:lock`;
    const N = 3000;
    // Every entity has a value at t=1 s (v = 1) and at t=2 s (v = 2): a run to 1.5 s writes only 1s, a run to 3 s only 2s;
    // whichever runs second, no entity ends with the older value (writes never replace newer values).
    const rows = Array.from({ length: 2 * N }, (_, i) => ({ listing_id: i % N, ts: base + (i < N ? 1 : 2) * S, v: i < N ? 1 : 2 }));
    const view = defineFeatureView({ name: 'bulk', entities: [listing], source: { kind: 'dataset', dataset: fromRows(rows, { numPartitions: 4 }) }, timestampField: 'ts', features: { v: 'float64' } });
    const a = newStore(new RedisOnlineStore({ url: REDIS_URL, prefix: p }));
    const b = newStore(new RedisOnlineStore({ url: REDIS_URL, prefix: p }));
    const c = new FeatureStore({ registry: join(dir, 'registry'), online: { redis: { url: REDIS_URL, prefix: p } }, lockWaitMs: 0 });
    stores.push(c);
    for (const s of [a, b, c]) await s.apply([view]);
    // A holder that is not a FeatureStore (another process, say) holds the view's lock: a store that may not wait fails at once.
    const raw = new Redis(REDIS_URL);
    try {
      expect(await raw.set(`${p}:lock:bulk`, 'someone-else', 'PX', 60_000, 'NX')).toBe('OK');
      await expect(c.materialize(base, base + 3 * S)).rejects.toThrow(MaterializationLockedError);
      await raw.del(`${p}:lock:bulk`);
    } finally {
      raw.disconnect();
    }
    const finished: string[] = [];
    const runA = a.materialize(base, base + 3 * S).then(() => finished.push('two'));
    const runB = b.materialize(base, base + 1.5 * S).then(() => finished.push('one'));
    await Promise.all([runA, runB]);
    const values = (await a.getOnlineFeatures(Array.from({ length: N }, (_, i) => ({ listing_id: i })), ['bulk:v'])).map((r) => r['v']);
    expect(finished.sort()).toEqual(['one', 'two']);
    expect(values.filter((v) => v !== 2)).toEqual([]);
  });

  it('expires values past the TTL in Redis', async (ctx) => {
    if (!hasRedis) return skipBecause(ctx, NO_REDIS);
    const fs = newStore(new RedisOnlineStore({ url: REDIS_URL, prefix }));
    const short = defineFeatureView({ name: 'short', entities: [listing], source: { kind: 'dataset', dataset: fromRows(priceRows) }, timestampField: 'ts', features: { price: 'float64' }, ttlMs: 2 * S });
    await fs.apply([short]);
    const now = Date.now();
    // 3 s of life left when pushed: enough for the checks below even on a loaded machine.
    await fs.push('short', [{ listing_id: 1, ts: now - 2 * S + 3000, price: 1 }, { listing_id: 2, ts: now - 3 * S, price: 2 }]);
    const raw = new Redis(REDIS_URL);
    try {
      const key = `${prefix}:v:short:1`;
      const pttl = await raw.pttl(key);
      expect(pttl).toBeGreaterThan(0);
      expect(pttl).toBeLessThanOrEqual(3000);
      expect(await raw.exists(`${prefix}:v:short:2`)).toBe(0); // already expired when pushed: never written
      expect((await fs.getOnlineFeatures([{ listing_id: 1 }], ['short:price']))[0]!['price']).toBe(1);
      await new Promise((r) => setTimeout(r, pttl + 50));
      expect(await raw.exists(key)).toBe(0);
      expect((await fs.getOnlineFeatures([{ listing_id: 1 }], ['short:price']))[0]!['price']).toBeNull();
    } finally {
      raw.disconnect();
    }
  });

  it('fails fast with OnlineStoreUnavailableError when Redis is down, and serves nulls with the fallback', async () => {
    // A port nobody listens on, and a server on loopback that accepts connections and never answers
    // (a hung Redis): both fail with the typed error — a hang would end this test at its timeout.
    const silent = createServer(() => undefined);
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const silentPort = (silent.address() as AddressInfo).port;
    try {
      for (const url of ['redis://127.0.0.1:1/0', `redis://127.0.0.1:${silentPort}/0`]) {
        const fs = newStore(new RedisOnlineStore({ url, prefix, connectTimeoutMs: 300, commandTimeoutMs: 300, operationTimeoutMs: 1000 }));
        await fs.apply([prices()]);
        const err = await fs.getOnlineFeatures([{ listing_id: 1 }], ['prices:price']).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(OnlineStoreUnavailableError);
        expect((err as Error).message).toMatch(/^online store redis .* is unavailable \(read\)/);
        const seen: Error[] = [];
        const rows = await fs.getOnlineFeatures([{ listing_id: 1 }], ['prices:price'], { fallback: 'nulls', onUnavailable: (e) => seen.push(e) });
        expect(rows).toEqual([{ listing_id: 1, price: null }]);
        expect(seen).toHaveLength(1);
        await expect(fs.materialize(base, base + S)).rejects.toThrow(OnlineStoreUnavailableError);
      }
    } finally {
      silent.close();
    }
  });
});

describe('training/serving skew and freshness', () => {
  const shoal = (args: string[]): Promise<{ code: number; stdout: string; stderr: string }> =>
    new Promise((resolve) => {
      // The platform store is the one under SHOAL_HOME (an outer SHOAL_METADATA_URL is not this test's).
      const env = { ...process.env, SHOAL_HOME: dir, SHOAL_TOKEN_FILE: tc.headInfo.tokenFile, SHOAL_METADATA_URL: '' };
      execFile(process.execPath, [BIN, ...args, '--address', tc.headInfo.address], { env, timeout: 60_000 }, (err, stdout, stderr) => {
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
      });
    });

  it('`check-skew --platform-store` reads the definitions from the platform store', async () => {
    const platform = await openStore({ url: join(dir, 'store', 'store.db'), artifactDir: join(dir, 'store', 'artifacts') });
    try {
      await new FeatureStore({ registry: new PlatformFeatureRegistry(platform) }).apply([users]);
    } finally {
      await platform.close();
    }
    const r = await shoal(['features', 'check-skew', 'nope', '--platform-store']);
    expect(r.stderr).toMatch(/^error: unknown feature view "nope" \(defined: users\)/);
    expect(r.code).toBe(1);
    const both = await shoal(['features', 'check-skew', 'users', '--platform-store', '--registry', dir]);
    expect(both.stderr).toMatch(/--registry and --platform-store name two registries; give one/);
  });

  it('compares entities by their exact keys past 2^53 (regression: sample keys were read as plain numbers)', async () => {
    const fs = newStore(new InProcessOnlineStore());
    const big = defineFeatureView({
      name: 'big_skew', entities: [listing], timestampField: 'ts', features: { price: 'float64' },
      source: { kind: 'dataset', dataset: fromRows([{ listing_id: 9007199254740993n, ts: base, price: 1 }, { listing_id: 9007199254740992n, ts: base, price: 2 }]) },
    });
    await fs.apply([big]);
    await fs.materialize(base, base + S);
    const clean = await fs.checkSkew('big_skew', { atMs: base + 2 * S });
    expect(clean).toMatchObject({ entities: 2, identical: true });
    await fs.push('big_skew', [{ listing_id: 9007199254740993n, ts: base + S, price: 7 }]);
    const report = await fs.checkSkew('big_skew', { atMs: base + 2 * S });
    expect(report.mismatches).toEqual([{ entity: { listing_id: 9007199254740993n }, feature: 'price', historical: 1, online: 7 }]);
  });

  it('finds none after materialization and names the value that differs when the online store disagrees (API and `shoal features check-skew`)', async (ctx) => {
    if (!hasRedis) return skipBecause(ctx, NO_REDIS);
    const p = `${prefix}:skew`;
    const parquetDir = join(dir, 'skew-parquet');
    await fromRows(priceRows, { numPartitions: 2 }).writeParquet(parquetDir);
    const registry = join(dir, 'skew-registry');
    const fs = new FeatureStore({ registry, online: { redis: { url: REDIS_URL, prefix: p } } });
    stores.push(fs);
    const view = defineFeatureView({ name: 'skewed', entities: [listing], source: { kind: 'parquet', paths: parquetDir }, timestampField: 'ts', features: { price: 'float64' } });
    await fs.apply([view, prices()]);
    const end = Date.now();
    await fs.materialize(base, end, { views: ['skewed'] });
    expect(await fs.checkSkew('skewed', { sample: 1000 })).toMatchObject({ view: 'skewed', entities: 2, identical: true, mismatches: [], highWaterMarkMs: end });
    const cli = ['features', 'check-skew', 'skewed', '--sample', '1000', '--registry', registry, '--redis', REDIS_URL, '--prefix', p];
    const good = await shoal(cli);
    expect(good.stderr).toBe('');
    expect(good.stdout).toMatch(/^view skewed at .* \(materialized up to .*\): 2 entities × 1 features: identical\n$/);
    expect(good.code).toBe(0);

    await fs.push('skewed', [{ listing_id: 2, ts: base + 400 * S, price: 51 }]); // not what the source says
    expect((await fs.checkSkew('skewed')).mismatches).toEqual([{ entity: { listing_id: 2 }, feature: 'price', historical: 50, online: 51 }]);
    const bad = await shoal(cli);
    expect(bad.stdout).toMatch(/1 values differ\n.*ENTITY.*\n.*\{"listing_id":2\}\s+price\s+50\s+51/);
    expect(bad.code).toBe(1);
    const unusable = await shoal(['features', 'check-skew', 'prices', '--registry', registry]);
    expect(unusable.stderr).toMatch(/^error: feature view "prices": its source is an in-memory Dataset/);
    expect(unusable.code).toBe(1);

    const metrics = new Registry();
    registerFreshnessGauge(fs, metrics);
    const text = await metrics.metrics();
    const m = /shoal_feature_view_freshness_seconds\{view="skewed"\} ([\d.]+)/.exec(text);
    expect(Number(m?.[1])).toBeGreaterThanOrEqual(0);
    expect(Number(m?.[1])).toBeLessThan((Date.now() - end) / 1000 + 1);
    expect(text).not.toMatch(/view="prices"/); // never materialized: no sample
  }, 120_000);
});

describe('offline sources', () => {
  it('reads a feature view from PostgreSQL and from Parquet files', async (ctx) => {
    const client: pg.Client | undefined = await connectTestPostgres();
    if (!client) return skipBecause(ctx, NO_POSTGRES);
    const table = uniqueTable('fs_prices');
    try {
      await client.query(`CREATE TABLE ${table} (listing_id bigint, ts timestamptz, price double precision)`);
      for (const r of priceRows) await client.query(`INSERT INTO ${table} VALUES ($1, to_timestamp($2 / 1000.0), $3)`, [r.listing_id, r.ts, r.price]);
      const url = `postgres://${encodeURIComponent(client.user ?? 'postgres')}@${client.host}:${client.port}/${client.database ?? 'test'}`;
      const parquetDir = join(dir, 'prices-parquet');
      await fromRows(priceRows, { numPartitions: 2 }).writeParquet(parquetDir);
      const fs = newStore();
      const pgView = defineFeatureView({ name: 'pg_prices', entities: [listing], source: { kind: 'postgres', url, table }, timestampField: 'ts', features: { price: 'float64' } });
      const pqView = defineFeatureView({ name: 'pq_prices', entities: [listing], source: { kind: 'parquet', paths: parquetDir }, timestampField: 'ts', features: { price: 'float64' } });
      await fs.apply([pgView, pqView]);
      for (const v of ['pg_prices', 'pq_prices']) {
        const rows = await sorted(await fs.getHistoricalFeatures([{ listing_id: 1, event_timestamp: base + 250 * S }, { listing_id: 2, event_timestamp: base }], [`${v}:price`]));
        expect(rows.map((r) => r['price'])).toEqual([20, null]);
      }
    } finally {
      await client.query(`DROP TABLE IF EXISTS ${table}`).catch(() => undefined);
      await client.end();
    }
  });
});

describe('FeatureStore.forServing', () => {
  it('serves every view of a snapshot from a copy of an in-process store; offline use and apply fail saying why', async () => {
    const defining = new FeatureStore({ registry: join(dir, 'registry-serving'), numPartitions: 2 });
    stores.push(defining);
    await defining.apply([prices(), users]);
    await defining.materialize(0, base + 1000 * S);
    const serving = FeatureStore.forServing(await defining.registry.snapshot(), { online: new InProcessOnlineStore((defining.online as InProcessOnlineStore).dump()) });
    stores.push(serving);
    const rows = [{ listing_id: 1, user_id: 'a' }, { listing_id: 2, user_id: 'zz' }];
    const refs = ['prices:price', 'users:stays'];
    expect(await serving.getOnlineFeatures(rows, refs)).toEqual(await defining.getOnlineFeatures(rows, refs));
    expect(await serving.getOnlineFeatures(rows, refs)).toEqual([{ listing_id: 1, user_id: 'a', price: 30, stays: 4 }, { listing_id: 2, user_id: 'zz', price: 50, stays: null }]);
    expect(await serving.highWaterMarks()).toEqual({ prices: base + 1000 * S, users: base + 1000 * S });
    const offline = /feature view "prices": served online only here: its source is an in-memory Dataset/;
    await expect(serving.materialize(0, base + 2000 * S, { views: ['prices'] })).rejects.toThrow(FeatureSourceError);
    await expect(serving.materialize(0, base + 2000 * S, { views: ['prices'] })).rejects.toThrow(offline);
    await expect(serving.getHistoricalFeatures([{ listing_id: 1, event_timestamp: base + 500 * S }], ['prices:price'])).rejects.toThrow(offline);
    await expect(serving.apply([prices()])).rejects.toThrow(InvalidOptionError);
    await expect(serving.getOnlineFeatures(rows, ['pricing:price_z'])).rejects.toThrow(/unknown feature view "pricing"/);
  });

  it("trailingWindowFeatures refuses an unknown op, naming the ops", async () => {
    await expect(trailingWindowFeatures(fromRows([{ k: 1, t: 0, v: 'a' }]), { key: 'k', timestamp: 't', aggs: [{ column: 'v', op: 'median' as 'mode' }] }))
      .rejects.toThrow(/op must be one of mean, sum, count, mode; got median/);
  });
});
