/**
 * Feature store definitions, the file registry (versions, type changes refused, 0600, corruption) and
 * the embedded online store through push/getOnlineFeatures — none of it needs a cluster or a server.
 */
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromRows } from 'shoal/data';
import {
  BucketizerModel, CorruptedRegistryError, EntityKeyTypeError, FeatureStore, FeatureTypeChangedError, FileFeatureRegistry, InvalidOptionError, PipelineModel,
  RedisOnlineStore, StandardScalerModel, UnknownEntityError, UnknownFeatureError, UnknownFeatureViewError, defineEntity, defineFeatureView, defineOnDemandFeatureView,
} from 'shoal/features';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'shoal-fs-registry-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const listing = defineEntity({ name: 'listing', joinKeys: 'listing_id', keyType: 'int64' });
const user = defineEntity({ name: 'user', joinKeys: ['user_id'], keyType: 'utf8' });
const source = { kind: 'dataset' as const, dataset: fromRows([{ listing_id: 1, ts: 0, price: 10 }]) };
const listingStats = (features: Record<string, 'float64' | 'int64' | 'utf8' | 'bool' | 'int32'> = { price: 'float64', beds: 'int64' }) =>
  defineFeatureView({ name: 'listing_stats', entities: [listing], source, timestampField: 'ts', features, ttlMs: 1000 });

describe('definitions', () => {
  it('refuses bad options with a message naming the option', () => {
    expect(() => defineEntity({ name: 'bad name' })).toThrow(/defineEntity option 'name' must be a name/);
    expect(() => defineEntity({ name: 'u', keyType: 'float' as never })).toThrow(InvalidOptionError);
    expect(() => defineFeatureView({ name: 'v', entities: [], source, timestampField: 'ts', features: { a: 'float64' } })).toThrow(/'entities' must be a non-empty list/);
    expect(() => defineFeatureView({ name: 'v', entities: [listing], source, timestampField: 'ts', features: { a: 'decimal' as never } })).toThrow(/'features.a' must be one of/);
    expect(() => defineFeatureView({ name: 'v', entities: [listing], source, timestampField: 'ts', features: { listing_id: 'int64' } })).toThrow(/must not be a join key/);
    expect(() => defineFeatureView({ name: 'v', entities: [listing], source, timestampField: 'ts', features: { a: 'float64' }, ttlMs: -1 })).toThrow(/'ttlMs'/);
    expect(() => defineFeatureView({ name: 'v', entities: [listing], source: { kind: 'postgres', url: 'postgres://x' }, timestampField: 'ts', features: { a: 'float64' } })).toThrow(/exactly one of table and query/);
    expect(() => defineFeatureView({ name: 'v', entities: [listing], source, timestampField: 'ts', features: { a: 'float64' }, extra: 1 } as never)).toThrow(/'extra' is not an option/);
    expect(listing.joinKeys).toEqual(['listing_id']);
  });
});

describe('store options', () => {
  it('names the option and the rule', async () => {
    expect(() => new RedisOnlineStore({ url: 'http://x' })).toThrow(/RedisOnlineStore option 'url' must be a redis:\/\/host:port\/db URL; got "http:\/\/x"/);
    expect(() => new RedisOnlineStore({ url: 'redis://h:1/x' })).toThrow(/'url' has a database number that is not a non-negative integer/);
    expect(() => new RedisOnlineStore({ prefix: '' })).toThrow(/'prefix' must be a non-empty string/);
    expect(() => new RedisOnlineStore({ commandTimeoutMs: 0 })).toThrow(/'commandTimeoutMs' must be a positive integer; got 0/);
    expect(() => new RedisOnlineStore({ lockTtlMs: 10 })).toThrow(/'lockTtlMs' must be an integer ≥ 100/);
    expect(() => new RedisOnlineStore({ pool: 3 } as never)).toThrow(/'pool' is not an option of RedisOnlineStore/);
    expect(() => new FeatureStore({ numPartitions: 0 })).toThrow(/FeatureStore option 'numPartitions' must be a positive integer/);
    expect(() => new FeatureStore({ lockWaitMs: -1 })).toThrow(/'lockWaitMs' must be a non-negative integer/);
    const fs = new FeatureStore({ registry: join(dir, 'opts') });
    await fs.apply([listingStats()]);
    await expect(fs.materialize(10, 5)).rejects.toThrow(/end must be after start/);
    await expect(fs.materialize(Number.NaN, 5)).rejects.toThrow(/start must be a Date or epoch milliseconds/);
  });
});

describe('file registry', () => {
  it('refuses a feature view whose entity it does not hold (UnknownEntityError), and names unknown entities', async () => {
    const reg = new FileFeatureRegistry(join(dir, 'entities'));
    const fs = new FeatureStore({ registry: reg });
    await fs.apply([defineEntity({ name: 'host' })]);
    // The spec of a view over `listing`, taken from another registry, applied without its entity.
    const scratch = new FileFeatureRegistry(join(dir, 'entities-scratch'));
    await new FeatureStore({ registry: scratch }).apply([listingStats()]);
    const viewSpec = (await scratch.snapshot()).featureViews['listing_stats']!.spec;
    const err = await reg.apply([viewSpec]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnknownEntityError);
    expect((err as Error).message).toBe('unknown entity "listing" (defined: host)');
    expect((err as UnknownEntityError).code).toBe('FEATURE_STORE_UNKNOWN_ENTITY');
    expect(Object.keys((await reg.snapshot()).featureViews)).toEqual([]);
    expect(() => fs.catalog.entity('guest')).toThrow('unknown entity "guest" (defined: host)');
    expect(fs.catalog.entity('host').joinKeys).toEqual(['host']);
  });

  it('versions changed definitions, keeps unchanged ones, writes 0600 atomically', async () => {
    const reg = new FileFeatureRegistry(join(dir, 'r1'));
    const fs = new FeatureStore({ registry: reg });
    const first = await fs.apply([listingStats()]);
    expect(first.map((a) => [a.kind, a.name, a.version, a.changed])).toEqual([['entity', 'listing', 1, true], ['featureView', 'listing_stats', 1, true]]);
    const again = await fs.apply([listingStats()]);
    expect(again.every((a) => !a.changed && a.version === 1)).toBe(true);
    const grown = await fs.apply([listingStats({ price: 'float64', beds: 'int64', reviews: 'int64' })]);
    expect(grown.find((a) => a.name === 'listing_stats')).toMatchObject({ version: 2, changed: true });
    const snap = await reg.snapshot();
    expect(snap.featureViews['listing_stats']!.history.map((h) => h.version)).toEqual([1]);
    expect(snap.featureViews['listing_stats']!.spec.source).toEqual({ kind: 'dataset', name: null });
    expect((await stat(reg.location)).mode & 0o777).toBe(0o600);
    expect((await stat(join(dir, 'r1'))).mode & 0o777).toBe(0o700);
    // A second process (a new registry object) reads the same versions.
    expect((await new FileFeatureRegistry(join(dir, 'r1')).snapshot()).featureViews['listing_stats']!.version).toBe(2);
  });

  it('refuses a feature type change under the same name, even after the feature was dropped', async () => {
    const fs = new FeatureStore({ registry: join(dir, 'r2') });
    await fs.apply([listingStats()]);
    const err = await fs.apply([listingStats({ price: 'utf8', beds: 'int64' })]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FeatureTypeChangedError);
    expect((err as FeatureTypeChangedError).message).toMatch(/feature "listing_stats:price" is registered as float64 \(version 1\); refusing to change its type to utf8/);
    await fs.apply([listingStats({ beds: 'int64' })]);
    await expect(fs.apply([listingStats({ beds: 'int64', price: 'bool' })])).rejects.toThrow(FeatureTypeChangedError);
    expect((await new FileFeatureRegistry(join(dir, 'r2')).snapshot()).featureViews['listing_stats']!.version).toBe(2);
  });

  it('reports a corrupted or newer registry file', async () => {
    const reg = new FileFeatureRegistry(join(dir, 'r3'));
    await new FeatureStore({ registry: reg }).apply([listing]);
    await writeFile(reg.location, '{ nope');
    await expect(reg.snapshot()).rejects.toThrow(CorruptedRegistryError);
    const doc = { format: 'shoal-feature-registry', version: 99, entities: {}, featureViews: {}, onDemandFeatureViews: {} };
    await writeFile(reg.location, JSON.stringify(doc));
    await expect(reg.snapshot()).rejects.toThrow(/format version 99 is newer/);
    expect(JSON.parse(await readFile(reg.location, 'utf8'))).toEqual(doc);
  });
});

describe('online features with the embedded store', () => {
  const scaler = new PipelineModel([new StandardScalerModel(['price'], ['price_z'], Float64Array.of(100), Float64Array.of(50), true, true), new BucketizerModel('nights', 'nights_bucket', [0, 3, 7, Infinity], 'keep')]);
  const odfv = defineOnDemandFeatureView({ name: 'pricing', sources: ['listing_stats:price'], request: { nights: 'float64' }, pipeline: scaler, features: { price_z: 'float64', nights_bucket: 'float64' } });
  const userStats = defineFeatureView({ name: 'user_stats', entities: [user], source, timestampField: 'ts', features: { stays: 'int64', hood: 'utf8' } });

  it('serves pushed values, nulls for unknown or expired entities, on-demand features through the pipeline', async () => {
    const fs = new FeatureStore({ registry: join(dir, 'r4') });
    await fs.apply([listingStats(), userStats, odfv]);
    const now = Date.now();
    expect(await fs.push('listing_stats', [
      { listing_id: 1, ts: now - 10, price: 150, beds: 2 },
      { listing_id: 1, ts: now - 20, price: 999, beds: 9 }, // older than the row above: not the latest
      { listing_id: 2, ts: now - 5000, price: 80, beds: 1 }, // already past the 1 s TTL
    ])).toBe(2);
    await fs.push('user_stats', [{ user_id: 'u1', ts: now, stays: 4, hood: 'Pine Hills' }]);
    const rows = await fs.getOnlineFeatures(
      [{ listing_id: 1, user_id: 'u1', nights: 4 }, { listing_id: 2, user_id: 'nobody', nights: 1 }],
      ['listing_stats:price', 'listing_stats:beds', 'user_stats:hood', 'pricing:price_z', 'pricing:nights_bucket'],
      { nowMs: now },
    );
    expect(rows).toEqual([
      { listing_id: 1, user_id: 'u1', nights: 4, price: 150, beds: 2, hood: 'Pine Hills', price_z: 1, nights_bucket: 1 },
      { listing_id: 2, user_id: 'nobody', nights: 1, price: null, beds: null, hood: null, price_z: null, nights_bucket: 0 },
    ]);
    // The same value is no longer served once the TTL has passed.
    expect((await fs.getOnlineFeatures([{ listing_id: 1 }], ['listing_stats:price'], { nowMs: now - 10 + 1000 }))[0]!['price']).toBeNull();
  });

  it('names unknown views and features with what exists, and wrong key types', async () => {
    const fs = new FeatureStore({ registry: join(dir, 'r5') });
    await fs.apply([listingStats(), userStats, odfv]);
    const unknownView = await fs.getOnlineFeatures([{ listing_id: 1 }], ['listings:price']).catch((e: unknown) => e);
    expect(unknownView).toBeInstanceOf(UnknownFeatureViewError);
    expect((unknownView as Error).message).toBe('unknown feature view "listings" (defined: listing_stats, pricing, user_stats)');
    await expect(fs.getOnlineFeatures([{ listing_id: 1 }], ['listing_stats:rent'])).rejects.toThrow('feature view "listing_stats" has no feature "rent" (its features: price, beds)');
    await expect(fs.getOnlineFeatures([{ listing_id: 1 }], ['pricing:nope'])).rejects.toThrow(UnknownFeatureError);
    await expect(fs.getOnlineFeatures([{ listing_id: 1 }], ['listing_stats'])).rejects.toThrow(/"view:feature" references/);
    const badKey = await fs.getOnlineFeatures([{ listing_id: '1' }], ['listing_stats:price']).catch((e: unknown) => e);
    expect(badKey).toBeInstanceOf(EntityKeyTypeError);
    expect((badKey as Error).message).toBe('getOnlineFeatures entity row 0: join key "listing_id" must be an integer (entity key type int64); got string "1"');
    await expect(fs.getOnlineFeatures([{ listing_id: 1.5 }], ['listing_stats:price'])).rejects.toThrow(/got the non-integer 1.5/);
    await expect(fs.getOnlineFeatures([{ user_id: 7 }], ['user_stats:hood'])).rejects.toThrow(/"user_id" must be a string/);
    await expect(fs.push('listing_stats', [{ ts: 1, price: 1 }])).rejects.toThrow(/push\("listing_stats"\) row 0: join key "listing_id" must be an integer .* got nothing/);
    await expect(fs.push('nope', [])).rejects.toThrow(UnknownFeatureViewError);
  });
});
