/**
 * The generic Inside Airbnb loader (examples/rental-recs/city.ts) on a real cluster: the detailed
 * format (Albany: "$70.00" prices, amenities, a calendar) and the summary one (Beijing: plain prices,
 * `neighbourhood`, unicode names, no calendar; the neural featurization leaves out what it lacks),
 * a city missing optional columns, the errors of a
 * missing file or required column, the content-hash cache (one city's tables never read for
 * another), and a load killed halfway (the previous tables stay readable).
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readParquet } from 'shoal/data';
import { TestCluster } from '../../harness/test-cluster.js';
import { repoCityDir } from '../../../examples/albany-data.js';
import { CityInputError, contentHash, findCityFiles, loadCityCached, readManifest } from '../../../examples/rental-recs/city.js';
import { featurizeListings } from '../../../examples/rental-recs/featurize.js';
import { prepareRatings } from '../../../examples/rental-recs/prepare.js';

const ALBANY = repoCityDir('airbnb-albany');
const BEIJING = repoCityDir('airbnb-beijing');
let tc: TestCluster;
const dirs: string[] = [];
const tmp = async (p: string): Promise<string> => {
  const d = await mkdtemp(join(tmpdir(), p));
  dirs.push(d);
  return d;
};

beforeAll(async () => {
  tc = await TestCluster.start({ numCpus: 2 });
}, 60_000);
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
  await tc?.stop();
});

const column = async (dir: string, table: string, c: string): Promise<unknown[]> => {
  const t = await readParquet(join(dir, table)).select(c).toArrow();
  return Array.from({ length: t.numRows }, (_, i) => t.getChild(c)!.get(i) as unknown);
};

describe('one loader for any Inside Airbnb city', () => {
  it('detailed format (Albany): "$1,379.00" prices, wards, amenities, the calendar', async () => {
    const root = await tmp('city-root-');
    const r = await loadCityCached(ALBANY, { root });
    expect(r.loaded).toBe(true);
    expect(r.manifest).toMatchObject({ format: 'detailed', calendar: true, tables: { listings: 421, ratings: 25_313, users: 21_382 } });
    expect(r.manifest.missingColumns).toEqual([]);
    const ids = await column(r.dir, 'listings', 'id');
    const prices = await column(r.dir, 'listings', 'price');
    expect(prices[ids.indexOf(2992450n)]).toBe(70);
    expect(prices.filter((p) => p === null)).toHaveLength(37);
    expect(Math.max(...(prices.filter((p) => p !== null) as number[]))).toBeGreaterThan(1000); // "$1,379.00" style
    expect(new Set(await column(r.dir, 'listings', 'neighbourhood')).has('THIRD WARD')).toBe(true);
    expect(existsSync(join(r.dir, 'calendar'))).toBe(true);
  }, 180_000);

  it('summary format (Beijing): plain prices, `neighbourhood`, unicode names, no calendar', async () => {
    const root = await tmp('city-root-');
    const r = await loadCityCached(BEIJING, { root });
    expect(r.manifest).toMatchObject({ format: 'summary', calendar: false, tables: { listings: 6_296, ratings: 20_774, users: 19_203 } });
    expect(r.manifest.missingColumns).toEqual(expect.arrayContaining(['amenities', 'bedrooms', 'accommodates', 'description']));
    const ids = await column(r.dir, 'listings', 'id');
    const i = ids.indexOf(2797791n);
    expect((await column(r.dir, 'listings', 'price'))[i]).toBe(1914);
    expect((await column(r.dir, 'listings', 'neighbourhood'))[i]).toBe('怀柔区 / Huairou');
    expect((await column(r.dir, 'listings', 'amenities'))[i]).toBeNull();
    expect(existsSync(join(r.dir, 'calendar'))).toBe(false);
    // The neural model's featurization leaves out the columns this format lacks (NULL in every listing) instead of failing on them.
    const ratings = await readParquet(join(r.dir, 'ratings')).select('user_id', 'listing_id', 'rating', 'rated_at').toArrow();
    const x = prepareRatings(ratings, BigInt64Array.from(ids as bigint[]));
    const f = await featurizeListings(readParquet(join(r.dir, 'listings')), x);
    expect(f.absent).toEqual(['accommodates', 'bedrooms', 'amenities']);
    expect(Object.keys(f.parts)).toEqual(['log_price, latitude, longitude (3)', 'room type', 'ward']);
    expect(f.matrix.length).toBe(x.catalogue.length * f.width);
  }, 120_000);

  it('a city missing optional columns loads them as NULL; currency signs of any kind are removed', async () => {
    const input = await tmp('city-min-');
    await writeFile(join(input, 'listings.csv'), 'id,room_type,price,latitude,longitude\n1,Private room,"€1,200.50",1.5,2.5\n2,Entire home/apt,¥300,1.6,2.6\n3,Private room,,1.7,2.7\n');
    await writeFile(join(input, 'reviews.csv'), 'listing_id,id,date,reviewer_id\n1,10,2020-01-01,100\n2,11,2020-02-01,100\n1,12,2020-03-01,101\n');
    const r = await loadCityCached(input, { root: await tmp('city-root-') });
    expect(r.manifest.missingColumns).toEqual(expect.arrayContaining(['name', 'neighbourhood', 'amenities', 'host_id', 'first_seen']));
    expect(await column(r.dir, 'listings', 'price')).toEqual([1200.5, 300, null]);
    expect(await column(r.dir, 'listings', 'neighbourhood')).toEqual([null, null, null]);
    expect((await column(r.dir, 'ratings', 'user_id')).map(Number)).toEqual([100, 100, 101]);
  });

  it('names a missing file and a missing required column (the summary reviews.csv has no reviewer)', async () => {
    const input = await tmp('city-bad-');
    await writeFile(join(input, 'listings.csv'), 'id,name\n1,a\n');
    const noReviews = await Promise.resolve().then(() => findCityFiles(input)).catch((e: unknown) => e);
    expect(noReviews).toBeInstanceOf(CityInputError);
    expect(noReviews).toMatchObject({ code: 'CITY_FILE_MISSING', message: expect.stringMatching(/has no reviews file \(looked for reviews\.csv\.gz, reviews\.csv; it has: listings\.csv\)/) });
    await writeFile(join(input, 'reviews.csv'), 'listing_id,date\n1,2020-01-01\n');
    const err = await loadCityCached(input, { root: await tmp('city-root-') }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CityInputError);
    expect(err).toMatchObject({ code: 'CITY_COLUMN_MISSING', column: 'reviewer_id', message: expect.stringMatching(/reviews\.csv has no column "reviewer_id" \(the summary reviews\.csv has no reviewer/) });
  });

  it('a cache of one city is never read for another: the tables are keyed by the input files\' content hash', async () => {
    const root = await tmp('city-root-');
    const a = await loadCityCached(ALBANY, { root });
    const b = await loadCityCached(BEIJING, { root });
    expect(b.dir).not.toBe(a.dir);
    expect(b.loaded).toBe(true);
    expect((await loadCityCached(ALBANY, { root })).loaded).toBe(false);
    // Same folder name, other content (the case that silently ran on Albany): a new hash, a new load.
    const copy = await tmp('city-copy-');
    const named = join(copy, 'airbnb-albany');
    await cp(ALBANY, named, { recursive: true });
    expect(await contentHash(findCityFiles(named))).toBe(a.manifest.hash);
    await cp(join(BEIJING, 'listings.csv'), join(named, 'listings.csv'));
    await cp(join(BEIJING, 'reviews.csv'), join(named, 'reviews.csv'));
    const c = await loadCityCached(named, { root });
    expect(c.loaded).toBe(true);
    expect(c.dir).not.toBe(a.dir);
    expect(c.manifest.tables.ratings).toBe(20_774);
    // One tables folder given for both: it is replaced, never read as the other city.
    const shared = join(await tmp('city-shared-'), 'tables');
    await loadCityCached(ALBANY, { root, tablesDir: shared });
    const again = await loadCityCached(BEIJING, { root, tablesDir: shared });
    expect(again.loaded).toBe(true);
    expect(readManifest(shared)!.hash).toBe(b.manifest.hash);
    expect((await readParquet(join(shared, 'ratings')).count())).toBe(20_774);
  }, 120_000);

  it('a load killed halfway leaves the previous tables readable (written aside, renamed into place)', async () => {
    const shared = join(await tmp('city-kill-'), 'tables');
    const before = await loadCityCached(ALBANY, { root: shared, tablesDir: shared });
    const fixture = fileURLToPath(new URL('../../fixtures/rental/load-city.ts', import.meta.url));
    const child = spawn(process.execPath, ['--import', 'tsx', fixture, BEIJING, shared], { detached: true, stdio: 'ignore' });
    const parent = join(shared, '..');
    const staging = (): string | undefined => readdirSync(parent).find((n) => n.startsWith('tables.staging-'));
    let exited = false;
    child.on('exit', () => (exited = true));
    // Kill (the whole process group: the driver and the cluster it started) once the staging folder holds a table.
    await expect.poll(() => {
      const s = staging();
      return exited || (s !== undefined && existsSync(join(parent, s, 'listings')));
    }, { timeout: 90_000, interval: 20 }).toBe(true);
    expect(exited, 'the load was killed before it finished').toBe(false);
    process.kill(-child.pid!, 'SIGKILL');
    await expect.poll(() => exited, { timeout: 10_000 }).toBe(true);
    expect(readManifest(shared)!.hash).toBe(before.manifest.hash);
    expect(await readParquet(join(shared, 'ratings')).count()).toBe(25_313);
    expect(await readParquet(join(shared, 'listings')).count()).toBe(421);
    // The next load of the other city completes and replaces them.
    const after = await loadCityCached(BEIJING, { root: shared, tablesDir: shared });
    expect(after.loaded).toBe(true);
    expect(await readParquet(join(shared, 'ratings')).count()).toBe(20_774);
  }, 150_000);
});
