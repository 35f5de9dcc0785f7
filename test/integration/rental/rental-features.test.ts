/**
 * The rental job's user aggregates (examples/rental-recs/feature-views.ts) on the real Albany rows,
 * against a brute-force computation: for every stay (user, t), the user's stays strictly before t,
 * those in the 90 days before t, and the preferred neighbourhood — the most frequent neighbourhood
 * of those stays, ties to the one of the latest stay among the tied (stays are dated by day, so a
 * tie between two neighbourhoods last stayed in on the same day may go to either), plus a row per
 * user the day after their last stay that counts every stay. And the same
 * features at training and serving: the neural model's listing inputs, read through the feature
 * store's point-in-time join, featurize to exactly the matrix the listings table gives; and for stays
 * (user, listing, t) the training set's values equal getOnlineFeatures after materializing up to t.
 */
import type * as arrow from 'apache-arrow';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Dataset } from 'shoal/data';
import { FeatureStore, tableToRows, type FeatureView } from 'shoal/features';
import { TestCluster } from '../../harness/test-cluster.js';
import { albanyDataDir } from '../../../examples/albany-data.js';
import { loadCityCached } from '../../../examples/rental-recs/city.js';
import { listingFeaturesAt, NEURAL_LISTING_FEATURES, RENTAL_FEATURES, rentalFeatureViews, userStats } from '../../../examples/rental-recs/feature-views.js';
import { featurizeListings } from '../../../examples/rental-recs/featurize.js';
import { prepareRatings } from '../../../examples/rental-recs/prepare.js';
import { readTable } from '../../../examples/rental-recs/storage.js';

const DAY = 86_400_000;
let tc: TestCluster;
let listings: Dataset;
let ratings: Dataset;
const dir = mkdtempSync(join(tmpdir(), 'shoal-rental-features-'));

const ms = (v: unknown): number => (v instanceof Date ? v.getTime() : typeof v === 'bigint' ? Number(v) : (v as number));
const id = (v: unknown): string => String(v);
/** A key column read exactly (int64 ids past 2^53 stay bigints; tableToRows gives numbers). */
const exactKeys = (t: arrow.Table, column: string): unknown[] => Array.from({ length: t.numRows }, (_, i) => t.getChild(column)!.get(i) as unknown);

beforeAll(async () => {
  tc = await TestCluster.start({ numWorkers: 1, numCpus: 2 });
  const city = await loadCityCached(albanyDataDir(), { root: dir, tablesDir: join(dir, 'tables') });
  const target = { kind: 'parquet', dir: city.dir } as const;
  listings = readTable(target, 'listings');
  ratings = readTable(target, 'ratings');
}, 300_000);

afterAll(async () => {
  await tc?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('user_stats on Albany', () => {
  it('equals a brute-force computation for every stay, point-in-time (only stays strictly before it)', async () => {
    const nbhdOf = new Map((await listings.select('id', 'neighbourhood').take(1e9)).map((r) => [id(r.id), (r.neighbourhood as string | null) ?? null]));
    const stays = (await ratings.select('user_id', 'listing_id', 'rated_at').take(1e9)).map((r) => ({ user: id(r.user_id), t: ms(r.rated_at), nbhd: nbhdOf.get(id(r.listing_id)) ?? null }));
    const byUser = new Map<string, typeof stays>();
    for (const s of stays) {
      let l = byUser.get(s.user);
      if (!l) byUser.set(s.user, (l = []));
      l.push(s);
    }
    const got = await (await userStats(listings, ratings)).take(1e9);
    // A row per stay, and one per user the day after their last stay (over all their stays: what serving reads).
    expect(got).toHaveLength(stays.length + byUser.size);
    const lastOf = new Map([...byUser].map(([u, l]) => [u, Math.max(...l.map((s) => s.t))]));
    const after = got.filter((r) => ms(r.rated_at) === lastOf.get(id(r.user_id))! + DAY);
    expect(after).toHaveLength(byUser.size);
    for (const r of after) expect(r.stays).toBe(byUser.get(id(r.user_id))!.length);
    let withPreference = 0;
    let ties = 0;
    for (const r of got) {
      const t = ms(r.rated_at);
      const before = byUser.get(id(r.user_id))!.filter((s) => s.t < t);
      expect(r.stays, `stays of user ${id(r.user_id)} before ${new Date(t).toISOString()}`).toBe(before.length);
      expect(r.stays_90d).toBe(before.filter((s) => s.t >= t - 90 * DAY).length);
      const count = new Map<string, { n: number; last: number }>();
      for (const s of before) if (s.nbhd !== null) count.set(s.nbhd, { n: (count.get(s.nbhd)?.n ?? 0) + 1, last: Math.max(count.get(s.nbhd)?.last ?? -Infinity, s.t) });
      if (count.size === 0) {
        expect(r.preferred_neighbourhood).toBeNull();
        continue;
      }
      const most = Math.max(...[...count.values()].map((c) => c.n));
      const tied = [...count].filter(([, c]) => c.n === most);
      const latest = Math.max(...tied.map(([, c]) => c.last));
      const allowed = tied.filter(([, c]) => c.last === latest).map(([n]) => n);
      if (tied.length > 1) ties++;
      expect(allowed, `preferred neighbourhood of user ${id(r.user_id)} at ${new Date(t).toISOString()}`).toContain(r.preferred_neighbourhood);
      withPreference++;
    }
    // Albany has repeat guests: the rule is exercised, ties included.
    expect(withPreference).toBeGreaterThan(100);
    expect(ties).toBeGreaterThan(0);
  }, 300_000);
});

describe('the same features at training and serving', () => {
  let views: FeatureView[];
  const stores: FeatureStore[] = [];
  /** A fresh in-process store holding the job's views, materialized up to and including `t`. */
  const storeAt = async (t: number): Promise<FeatureStore> => {
    const s = new FeatureStore({ registry: join(dir, `registry-${stores.length}`), numPartitions: 2 });
    stores.push(s);
    await s.apply(views);
    await s.materialize(0, t + 1);
    return s;
  };
  beforeAll(async () => {
    views = await rentalFeatureViews(listings, ratings);
  }, 300_000);
  afterAll(async () => {
    for (const s of stores) await s.close();
  });

  it("the neural model's listing inputs through the point-in-time join featurize exactly as the listings table does, and are what serving reads", async () => {
    const ratingsTable = await ratings.select('user_id', 'listing_id', 'rating', 'rated_at').toArrow();
    const idCol = (await listings.select('id').toArrow()).getChild('id')!.toArray() as ArrayLike<number | bigint>;
    const listingIds = BigInt64Array.from(Array.from(idCol, (v) => BigInt(v)));
    const x = prepareRatings(ratingsTable, listingIds);
    const cut = Math.max(...Array.from(x.day)) * DAY + DAY;
    const store = await storeAt(cut);
    const rows = await listingFeaturesAt(store, listingIds, cut);
    const viaStore = await featurizeListings(rows, x);
    const direct = await featurizeListings(listings, x);
    expect(viaStore.width).toBe(direct.width);
    expect(viaStore.imputed).toBe(direct.imputed);
    expect(Buffer.from(viaStore.matrix.buffer).equals(Buffer.from(direct.matrix.buffer)), 'the same feature matrix').toBe(true);
    // What the trainer read equals what serving reads at that time.
    const seenTable = await rows.toArrow();
    const seen = tableToRows(seenTable);
    const served = await store.getOnlineFeatures(exactKeys(seenTable, 'id').map((k) => ({ listing_id: k })), NEURAL_LISTING_FEATURES.map((f) => `listing_features:${f}`), { nowMs: cut });
    expect(seen.length).toBe(listingIds.length);
    seen.forEach((r, i) => {
      for (const f of NEURAL_LISTING_FEATURES) expect(served[i]![f], `listing ${String(r.id)} ${f}`).toEqual(r[f]);
    });
  }, 300_000);

  it('for stays (user, listing, t), the training set equals getOnlineFeatures after materializing up to t', async () => {
    const stays = (await ratings.select('user_id', 'listing_id', 'rated_at').take(1e9)).map((r) => ({ user_id: r.user_id, listing_id: r.listing_id, t: ms(r.rated_at) }));
    const days = [...new Set(stays.map((s) => s.t))].sort((a, b) => a - b);
    let compared = 0;
    let withHistory = 0;
    for (const q of [0.5, 0.8, 1]) {
      const t = days[Math.min(days.length - 1, Math.floor(q * (days.length - 1)))]!;
      const entityRows = stays.filter((s) => s.t === t).map((s) => ({ user_id: s.user_id, listing_id: s.listing_id, event_timestamp: t }));
      const store = await storeAt(t);
      const table = await (await store.getHistoricalFeatures(entityRows, RENTAL_FEATURES)).toArrow();
      const trained = tableToRows(table);
      const [users, listingKeys] = [exactKeys(table, 'user_id'), exactKeys(table, 'listing_id')];
      const served = await store.getOnlineFeatures(trained.map((_, i) => ({ user_id: users[i], listing_id: listingKeys[i] })), RENTAL_FEATURES, { nowMs: t });
      const names = RENTAL_FEATURES.map((f) => f.split(':')[1]!);
      trained.forEach((r, i) => {
        for (const f of names) expect(served[i]![f], `user ${String(r.user_id)} listing ${String(r.listing_id)} at ${new Date(t).toISOString()}: ${f}`).toEqual(r[f]);
        if ((r.stays as number) > 0) withHistory++;
      });
      compared += trained.length;
    }
    expect(compared).toBeGreaterThan(10);
    expect(withHistory).toBeGreaterThan(0);
  }, 600_000);
});
