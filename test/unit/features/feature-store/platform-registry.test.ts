/**
 * Feature definitions versioned in the platform store (PlatformFeatureRegistry, store migration 4)
 * on SQLite and PostgreSQL: versions and history, an unchanged apply keeping its version, a type
 * change refused without writing, definitions surviving a reopen (and served from there), two
 * processes' stores applying at once getting distinct versions, an unreadable row named.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { fromRows } from 'shoal/data';
import { CorruptedRegistryError, FeatureStore, FeatureTypeChangedError, InProcessOnlineStore, PlatformFeatureRegistry, defineEntity, defineFeatureView } from 'shoal/features';
import { openStore, STORE_SCHEMA_VERSION, type Store } from 'shoal/store';
import { BACKENDS, storeFixture } from '../../store/store-backends.js';

const listing = defineEntity({ name: 'listing', joinKeys: 'listing_id' });
const source = { kind: 'dataset' as const, dataset: fromRows([{ listing_id: 1, ts: 0, price: 10 }]) };
const view = (features: Record<string, 'float64' | 'int64' | 'utf8'>) => defineFeatureView({ name: 'listing_stats', entities: [listing], source, timestampField: 'ts', features });

const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const c of cleanups) await c();
});

describe.each(BACKENDS)('PlatformFeatureRegistry on %s', (backend) => {
  it('versions definitions in the store: history, unchanged applies, type changes refused, kept across a reopen', async () => {
    const fx = await storeFixture(backend, 'fsregistry');
    if (!fx) return;
    const stores: Store[] = [];
    cleanups.push(async () => {
      for (const s of stores) await s.close();
      await fx.cleanup();
    });
    const store = await openStore(fx.options);
    stores.push(store);
    expect(STORE_SCHEMA_VERSION).toBeGreaterThanOrEqual(4);
    const fs = new FeatureStore({ registry: new PlatformFeatureRegistry(store) });
    expect(fs.registry.location).toMatch(/^feature_definitions in the platform store /);
    expect(await fs.apply([view({ price: 'float64' })])).toEqual([
      { kind: 'entity', name: 'listing', version: 1, changed: true }, { kind: 'featureView', name: 'listing_stats', version: 1, changed: true },
    ]);
    expect((await fs.apply([view({ price: 'float64' })]))[1]).toEqual({ kind: 'featureView', name: 'listing_stats', version: 1, changed: false });
    expect((await fs.apply([view({ price: 'float64', beds: 'int64' })]))[1]).toEqual({ kind: 'featureView', name: 'listing_stats', version: 2, changed: true });
    await expect(fs.apply([view({ price: 'utf8' })])).rejects.toThrow(FeatureTypeChangedError);
    await expect(fs.apply([view({ price: 'utf8' })])).rejects.toThrow(/feature "listing_stats:price" is registered as float64 \(version 2\); refusing to change its type to utf8/);

    // Another process's store sees the same definitions (nothing of the refused apply), and serves them.
    const again = await openStore(fx.options);
    stores.push(again);
    const snap = await new PlatformFeatureRegistry(again).snapshot();
    const v = snap.featureViews['listing_stats']!;
    expect(v.version).toBe(2);
    expect(v.spec.features).toEqual([{ name: 'price', type: 'float64' }, { name: 'beds', type: 'int64' }]);
    expect(v.history.map((h) => [h.version, h.spec.features.length])).toEqual([[1, 1]]);
    expect(snap.entities['listing']!.spec).toMatchObject({ name: 'listing', joinKeys: ['listing_id'], keyType: 'int64' });
    const online = new InProcessOnlineStore();
    const writer = new FeatureStore({ registry: new PlatformFeatureRegistry(again), online });
    await writer.apply([view({ price: 'float64', beds: 'int64' })]);
    await writer.push('listing_stats', [{ listing_id: 7, ts: 5, price: 99, beds: 2 }]);
    const serving = FeatureStore.forServing(snap, { online });
    expect(await serving.getOnlineFeatures([{ listing_id: 7 }], ['listing_stats:beds'])).toEqual([{ listing_id: 7, beds: 2 }]);

    // Two stores applying different changes at once: both land, with distinct versions.
    const [a, b] = await Promise.all([
      new PlatformFeatureRegistry(store).apply([{ ...(snap.featureViews['listing_stats']!.spec), description: 'a' }]),
      new PlatformFeatureRegistry(again).apply([{ ...(snap.featureViews['listing_stats']!.spec), description: 'b' }]),
    ]);
    expect([a[0]!.version, b[0]!.version].sort()).toEqual([3, 4]);
    expect((await new PlatformFeatureRegistry(store).snapshot()).featureViews['listing_stats']!.history.map((h) => h.version)).toEqual([1, 2, 3]);

    // A row that is not JSON is named.
    await store.db.run(`INSERT INTO feature_definitions (kind, name, version, spec_json, applied_at) VALUES ('entity', 'broken', 1, '{not json', 0)`);
    await expect(new PlatformFeatureRegistry(store).snapshot()).rejects.toThrow(CorruptedRegistryError);
    await expect(new PlatformFeatureRegistry(store).snapshot()).rejects.toThrow(/entity "broken" version 1 is not JSON/);
  }, 60_000);
});
