/**
 * The live rental model reading the feature store (examples/rental-recs/serving-features.ts) over
 * real HTTP: the job's views materialized in-process (each replica gets a copy) and into the real
 * Redis (replicas read it per request, so a value pushed after deploying is served), the answered
 * listings' attributes and the user's aggregates equal to `getOnlineFeatures` of the job's store, a
 * user only the feature store knows getting the popular listings of their preferred neighbourhood,
 * and an unreachable Redis giving the model's answer with `features.unavailable` — a 200, not a hang.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FeatureStore, RedisOnlineStore } from 'shoal/features';
import { createServeKey, type Serve } from 'shoal/serve';
import { TestCluster } from '../../harness/test-cluster.js';
import { REDIS_URL, redisAvailable, uniquePrefix } from '../../harness/redis.js';
import { call } from '../../fixtures/serve/http-client.js';
import { albanyDataDir } from '../../../examples/albany-data.js';
import { runJob } from '../../../examples/rental-recs/job.js';
import { serveModel } from '../../../examples/rental-recs/live.js';
import { parseArgs } from '../../../examples/rental-recs/main.js';
import type { ServedModel } from '../../../examples/rental-recs/served-model.js';
import { SERVED_LISTING_FEATURES, SERVED_USER_FEATURES, SERVING_REDIS, servingFeaturesOf } from '../../../examples/rental-recs/serving-features.js';

const hasRedis = await redisAvailable();
const dir = mkdtempSync(join(tmpdir(), 'shoal-rental-live-features-'));
const prefix = uniquePrefix('rental-live-features');
let tc: TestCluster;
let model: ServedModel;
let job: FeatureStore;
let redis: FeatureStore;
let key: string;
const serves: Serve[] = [];
const url: Record<'inProcess' | 'redis' | 'down', string> = { inProcess: '', redis: '', down: '' };

/** A port nothing listens on (taken, then released). */
async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

beforeAll(async () => {
  if (!hasRedis) return;
  tc = await TestCluster.start({ numWorkers: 1, numCpus: 2 });
  job = new FeatureStore({ registry: join(dir, 'registry'), numPartitions: 2 });
  const result = await runJob({
    input: albanyDataDir(), dataDir: join(dir, 'tables'), neural: false, serve: 'als', keepModel: true, featureStore: job,
    grid: { rank: [8], regParam: [0.1], maxIter: [4] }, log: () => undefined,
  });
  model = result.model!;
  // The same views materialized into the real Redis.
  redis = new FeatureStore({ registry: join(dir, 'registry-redis'), numPartitions: 2, online: { redis: { url: REDIS_URL, prefix } } });
  await redis.apply([...job.catalog.views.values()]);
  await redis.materialize(0, Date.now());
  const keysFile = join(dir, 'keys.json');
  key = createServeKey({ file: keysFile });
  const base = { port: 0, numReplicas: 1, clusterTokenFile: tc.cluster.head.tokenFile, serveKeysFile: keysFile, flushIntervalMs: 100 };
  const start = async (name: keyof typeof url, features: Awaited<ReturnType<typeof servingFeaturesOf>>): Promise<void> => {
    const { serve } = await serveModel(model, { ...base, exposureDir: join(dir, `exposures-${name}`), features });
    serves.push(serve);
    url[name] = `${serve.url}/recommendations`;
  };
  const inProcess = await servingFeaturesOf(job);
  await start('inProcess', inProcess);
  await start('redis', await servingFeaturesOf(redis));
  await start('down', { snapshot: inProcess.snapshot, online: { redis: { url: `redis://127.0.0.1:${await closedPort()}/0`, prefix, ...SERVING_REDIS } } });
}, 600_000);

afterAll(async () => {
  for (const s of serves) await s.shutdown();
  if (redis) {
    await (redis.online as RedisOnlineStore).clear();
    await redis.close();
  }
  await tc?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const knownUser = (): string => model.userIds[model.userIds.findIndex((_, i) => model.seen.ptr[i + 1]! - model.seen.ptr[i]! >= 2)]!;

// Without Redis this skips locally (redisAvailable() fails the file under CI).
describe.skipIf(!hasRedis)('the live rental model reads the feature store', () => {
  it.each(['inProcess', 'redis'] as const)("answers with the listings' and the user's stored features (%s online store)", async (which) => {
    const user = knownUser();
    const r = await call(`${url[which]}/${user}?k=6`, { key });
    expect(r.status).toBe(200);
    const items = r.body.items as { id: string; listing: Record<string, unknown> | null }[];
    expect(items).toHaveLength(6);
    const stored = await job.getOnlineFeatures(items.map((i) => ({ listing_id: BigInt(i.id) })), SERVED_LISTING_FEATURES.map((f) => `listing_features:${f}`));
    items.forEach((it, j) => {
      expect(it.listing, `listing ${it.id}`).toEqual(Object.fromEntries(SERVED_LISTING_FEATURES.map((f) => [f, stored[j]![f]])));
      expect(typeof it.listing!.price).toBe('number');
    });
    const u = (await job.getOnlineFeatures([{ user_id: BigInt(user) }], SERVED_USER_FEATURES.map((f) => `user_stats:${f}`)))[0]!;
    expect(r.body.features).toEqual({ user: Object.fromEntries(SERVED_USER_FEATURES.map((f) => [f, u[f]])) });
    expect(u.stays).toBeGreaterThanOrEqual(1);
  });

  it('the same answer from either online store', async () => {
    const user = knownUser();
    const [a, b] = await Promise.all([call(`${url.inProcess}/${user}?k=5`, { key }), call(`${url.redis}/${user}?k=5`, { key })]);
    expect(b.body.items).toEqual(a.body.items);
    expect(b.body.features).toEqual(a.body.features);
  });

  it('a user only the feature store knows (pushed to Redis after deploying) gets the popular listings of their preferred neighbourhood', async () => {
    const nb = model.nbhd[model.popularity.indexOf(Math.max(...model.popularity))]!;
    const name = model.nbhdNames[nb]!;
    await redis.push('user_stats', [{ user_id: 987_654_321, rated_at: Date.now(), stays: 4, stays_90d: 2, preferred_neighbourhood: name }]);
    const r = await call(`${url.redis}/987654321?k=4`, { key });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ neighbourhood: name, fallback: { by: 'popular in preferred neighbourhood', reason: expect.stringMatching(/^unknown user 987654321; the feature store knows/) } });
    expect(r.body.features).toEqual({ user: { stays: 4, stays_90d: 2, preferred_neighbourhood: name } });
    const ids = (r.body.items as { id: string }[]).map((i) => i.id);
    expect(ids).toHaveLength(4);
    for (const id of ids) expect(model.nbhd[model.listingIds.indexOf(id)]).toBe(nb);
    // The in-process copy was taken before the push: there the user is simply unknown.
    const p = await call(`${url.inProcess}/987654321?k=4`, { key });
    expect(p.body).toMatchObject({ fallback: { by: 'popular', reason: 'unknown user 987654321' }, features: { user: null } });
  });

  it("Redis unreachable: the model's answer with features.unavailable (200, no listing attributes), request after request", async () => {
    const user = knownUser();
    const model = await call(`${url.inProcess}/${user}?k=5`, { key });
    for (let i = 0; i < 3; i++) {
      const r = await call(`${url.down}/${user}?k=5`, { key });
      expect(r.status).toBe(200);
      expect(r.body.features.unavailable).toMatch(/^online store redis 127\.0\.0\.1:\d+\/0 \(prefix .*\) is unavailable \(read\)/);
      expect(r.body.items.map((x: { id: string }) => x.id)).toEqual(model.body.items.map((x: { id: string }) => x.id));
      for (const it of r.body.items) expect(it.listing).toBeNull();
    }
    const anon = await call(`${url.down}/no-such-user?k=3`, { key });
    expect(anon).toMatchObject({ status: 200, body: { fallback: { by: 'popular' } } });
  });

  it('--redis / SHOAL_REDIS_URL choose the online store; a bad URL is refused', () => {
    expect(parseArgs(['--redis', 'redis://127.0.0.1:6379/2']).redisUrl).toBe('redis://127.0.0.1:6379/2');
    expect(() => parseArgs(['--redis', 'http://x'])).toThrow(/--redis needs a URL like redis:\/\/127\.0\.0\.1:6379\/0 \(got http:\/\/x\)/);
  });
});
