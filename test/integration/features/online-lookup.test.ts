/**
 * getOnlineFeatures returns exactly the values written, for a batch the size the featurestore bench
 * measures (100 entities × 20 features of every type), from the in-process store and from Redis:
 * the fast path (cached resolutions, rows built key by key, scalar decoding) must stay right, not
 * only fast. Values are written with push(), so no cluster is needed.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromRows } from 'shoal/data';
import { EntityKeyTypeError, FeatureStore, InProcessOnlineStore, RedisOnlineStore, defineEntity, defineFeatureView, type OnlineStore } from 'shoal/features';
import { NO_REDIS, REDIS_URL, redisAvailable, uniquePrefix } from '../../harness/redis.js';

let dir: string;
let hasRedis = false;
const prefix = uniquePrefix('online-lookup');
const stores: FeatureStore[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'shoal-fs-lookup-'));
  hasRedis = await redisAvailable();
});
afterAll(async () => {
  if (hasRedis) {
    const r = new RedisOnlineStore({ url: REDIS_URL, prefix });
    await r.clear();
    await r.close();
  }
  for (const s of stores) await s.close();
  await rm(dir, { recursive: true, force: true });
});

const listing = defineEntity({ name: 'listing', joinKeys: 'listing_id' });
const TYPES = ['float64', 'int64', 'int32', 'utf8', 'bool'] as const;
const FEATURES = Array.from({ length: 20 }, (_, j) => [`f${j}`, TYPES[j % TYPES.length]!] as const);
const N = 300;
const now = Date.now();

/** A value of every kind msgpack spells differently: fractions, negatives, big and small ints, strings, booleans, nulls. */
function valueOf(id: number, j: number): unknown {
  if ((id + j) % 17 === 0) return null;
  switch (TYPES[j % TYPES.length]) {
    case 'float64':
      return (id * (j + 3)) / 7 - 50;
    case 'int64':
      return (j % 2 === 0 ? id : -id - 1) * 1_000_003;
    case 'int32':
      return (id * (j + 1)) % 300 - 150;
    case 'utf8':
      return `l${id}·${j}`;
    default:
      return (id + j) % 3 === 0;
  }
}

const sourceRows = Array.from({ length: N }, (_, id) => ({ listing_id: id, ts: now - 1000 - id, ...Object.fromEntries(FEATURES.map(([f], j) => [f, valueOf(id, j)])) }));
const wideView = (extra: Record<string, 'float64'> = {}, ttlMs = 3_600_000): ReturnType<typeof defineFeatureView> => defineFeatureView({
  name: 'wide', entities: [listing], source: { kind: 'dataset', dataset: fromRows([{ listing_id: 0, ts: 0 }]) }, timestampField: 'ts',
  features: { ...Object.fromEntries(FEATURES), ...extra }, ttlMs,
});
const wide = wideView();

async function storeWith(online: OnlineStore): Promise<FeatureStore> {
  const fs = new FeatureStore({ registry: join(dir, `registry-${stores.length}`), online });
  stores.push(fs);
  await fs.apply([wide]);
  expect(await fs.push('wide', sourceRows)).toBe(N);
  return fs;
}

async function checkBatch(fs: FeatureStore): Promise<void> {
  // 100 entities in scrambled order, with a repeat, an unknown one and a field of the caller's own.
  const ids = Array.from({ length: 98 }, (_, i) => (i * 37 + 11) % N);
  ids.push(ids[3]!, N + 5);
  const entityRows = ids.map((id, i) => ({ listing_id: id, request_no: i }));
  const before = JSON.stringify(entityRows);
  const refs = FEATURES.map(([f]) => `wide:${f}`);
  for (let call = 0; call < 3; call++) {
    // The same references again (a cached resolution), then a subset in another order.
    const asked = call < 2 ? refs : [refs[7]!, refs[2]!, refs[19]!];
    const rows = await fs.getOnlineFeatures(entityRows, asked);
    expect(rows).toHaveLength(ids.length);
    rows.forEach((row, i) => {
      const id = ids[i]!;
      const expected: Record<string, unknown> = { listing_id: id, request_no: i };
      for (const ref of asked) {
        const j = Number(ref.slice('wide:f'.length));
        expected[`f${j}`] = id < N ? valueOf(id, j) : null;
      }
      expect(row).toStrictEqual(expected);
    });
  }
  expect(JSON.stringify(entityRows)).toBe(before);
  const bad = await fs.getOnlineFeatures([{ listing_id: 1 }, { listing_id: 2.5 }], refs).catch((e: unknown) => e);
  expect(bad).toBeInstanceOf(EntityKeyTypeError);
  expect((bad as Error).message).toBe('getOnlineFeatures entity row 1: join key "listing_id" must be an integer (entity key type int64); got the non-integer 2.5');
}

async function checkReapply(fs: FeatureStore): Promise<void> {
  // A lookup after apply() of a changed view uses the new definition, not a cached resolution of the old one.
  expect(await fs.getOnlineFeatures([{ listing_id: 2 }], ['wide:f1'], { nowMs: now + 20_000 })).toStrictEqual([{ listing_id: 2, f1: valueOf(2, 1) }]);
  await fs.apply([wideView({ extra: 'float64' })]);
  await fs.push('wide', [{ ...sourceRows[1]!, ts: now, extra: 2.25 }]);
  expect(await fs.getOnlineFeatures([{ listing_id: 1 }], ['wide:f0', 'wide:extra'])).toStrictEqual([{ listing_id: 1, f0: valueOf(1, 0), extra: 2.25 }]);
  // The same references as before, now under a 10 s TTL: listing 2's value (written at now − 1 s) is served only until now + 9 s.
  await fs.apply([wideView({ extra: 'float64' }, 10_000)]);
  expect(await fs.getOnlineFeatures([{ listing_id: 2 }], ['wide:f1'], { nowMs: now + 20_000 })).toStrictEqual([{ listing_id: 2, f1: null }]);
}

/** Regression (issue 16): a write of older values (push, or materialize over an older range) replaced newer ones. */
async function checkNeverOlder(online: OnlineStore): Promise<void> {
  const info = { name: 'olders', features: ['a', 'b'], ttlMs: null };
  await online.write(info, [{ key: '1', eventTs: now, values: [10, 'new'] }, { key: '2', eventTs: now - 5, values: [20, 'x'] }], now);
  await online.write(info, [{ key: '1', eventTs: now - 1, values: [9, 'old'] }, { key: '2', eventTs: now - 5, values: [21, 'same time'] }, { key: '3', eventTs: 0, values: [30, 'first'] }], now);
  const [got] = await online.read([{ view: info, keys: ['1', '2', '3'], features: ['b', 'a'] }], now);
  expect(got).toEqual([['new', 10], ['same time', 21], ['first', 30]]);
}

describe('writes never replace newer values', () => {
  it('in the in-process store', async () => {
    await checkNeverOlder(new InProcessOnlineStore());
  });
  it('in Redis', async (ctx) => {
    if (!hasRedis) return ctx.skip(NO_REDIS);
    const r = new RedisOnlineStore({ url: REDIS_URL, prefix: `${prefix}:older` });
    try {
      await checkNeverOlder(r);
    } finally {
      await r.clear();
      await r.close();
    }
  });
});

describe('getOnlineFeatures of 100 entities × 20 features', () => {
  it('returns exactly the written values from the in-process store', async () => {
    const fs = await storeWith(new InProcessOnlineStore());
    await checkBatch(fs);
    await checkReapply(fs);
  });

  it('returns exactly the written values from Redis', async (ctx) => {
    if (!hasRedis) return ctx.skip(NO_REDIS);
    const fs = await storeWith(new RedisOnlineStore({ url: REDIS_URL, prefix }));
    await checkBatch(fs);
    await checkReapply(fs);
  });
});
