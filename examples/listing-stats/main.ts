/**
 * The README's main job (until the data and training layers land): statistics over the real
 * Inside Airbnb listings, reviews and calendar of Albany, NY, computed on a shoal cluster with
 * remote functions (parse and summarize chunks), objects (typed columns and the zipped calendar
 * travel as objects, refs chained between tasks) and an actor (merges partial results).
 *
 *   npm start                       # local cluster, data from ../shared/data/airbnb-albany
 *   SHOAL_ADDRESS=host:port npm start   # on a running cluster
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { get, init, isMain, put, shutdown, type ObjectRef } from 'shoal';
import { readCsv } from 'shoal/data';
import { albanyDataDir } from '../albany-data.js';
import { calendarStats, parsePrice, parseReviews, ReviewAggregatorActor, reviewStats } from './stats-tasks.js';

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];


const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? (s[(s.length - 1) >> 1]! + s[s.length >> 1]!) / 2 : NaN;
};

function table(title: string, header: string[], rows: (string | number)[][]): void {
  const cells = [header, ...rows.map((r) => r.map(String))];
  const widths = header.map((_, i) => Math.max(...cells.map((r) => r[i]!.length)));
  console.log(`\n${title}`);
  cells.forEach((r, k) => {
    console.log('  ' + r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  '));
    if (k === 0) console.log('  ' + widths.map((w) => '-'.repeat(w)).join('  '));
  });
}

export async function main(): Promise<void> {
  const dataDir = albanyDataDir();
  const started = performance.now();
  const cluster = await init();
  console.log(`shoal cluster at ${cluster.address}${cluster.dir ? ` (local; logs in ${cluster.dir}/logs)` : ''}`);

  // Reviews: split into chunks; parse → summarize as a chain of tasks; merge in an actor.
  const reviewLines = readFileSync(join(dataDir, 'reviews.csv'), 'utf8').split('\n').slice(1);
  const chunks = 8;
  const per = Math.ceil(reviewLines.length / chunks);
  const aggregator = ReviewAggregatorActor.remote();
  const merges: ObjectRef<number>[] = [];
  for (let i = 0; i < chunks; i++) {
    const columns = parseReviews.remote(reviewLines.slice(i * per, (i + 1) * per).join('\n'));
    merges.push(aggregator.merge.remote(reviewStats.remote(columns)));
  }

  // Calendar: the zipped file travels as one object; a task unzips and summarizes it.
  const calendarRef = put(new Uint8Array(readFileSync(join(dataDir, 'calendar.csv.gz'))));
  const calendar = calendarStats.remote(calendarRef);

  // Listings: read with the data layer (quoted multi-line fields), joined with the actor's counts.
  const listingTable = await readCsv(join(dataDir, 'listings.csv'))
    .select('id', 'name', 'room_type', 'neighbourhood_cleansed', 'price')
    .collect();
  const listings = listingTable.toArray().map((r) => {
    const row = r.toJSON() as Record<string, unknown>;
    return Object.fromEntries(Object.entries(row).map(([k, v]) => [k, v === null || v === undefined ? '' : String(v)])) as Record<string, string>;
  });
  await get(merges);
  const [reviews, top, cal] = await Promise.all([get(aggregator.summary.remote()), get(aggregator.topListings.remote(5)), get(calendar)]);

  console.log(`\n${listings.length} listings, ${reviews.rows} reviews (${reviews.chunks} chunks merged by an actor), ${cal.rows} calendar nights`);
  const byRoom = new Map<string, number[]>();
  for (const l of listings) {
    const p = parsePrice(l.price ?? '');
    if (p === undefined) continue;
    byRoom.set(l.room_type!, [...(byRoom.get(l.room_type!) ?? []), p]);
  }
  const missingPrice = listings.filter((l) => parsePrice(l.price ?? '') === undefined).length;
  table(`Nightly price by room type (${missingPrice} listings have no price)`, ['room type', 'listings', 'median $'],
    [...byRoom].sort((a, b) => b[1].length - a[1].length).map(([k, v]) => [k, v.length, median(v).toFixed(0)]));

  const hood = new Map<string, { listings: number; reviews: number }>();
  for (const l of listings) {
    const h = hood.get(l.neighbourhood_cleansed!) ?? { listings: 0, reviews: 0 };
    h.listings++;
    h.reviews += reviews.perListing[l.id!] ?? 0;
    hood.set(l.neighbourhood_cleansed!, h);
  }
  table('Neighbourhoods by reviews', ['neighbourhood', 'listings', 'reviews'],
    [...hood].sort((a, b) => b[1].reviews - a[1].reviews).slice(0, 6).map(([k, v]) => [k, v.listings, v.reviews]));

  const years = Object.keys(reviews.perYear).sort();
  table('Reviews per year (stays)', ['year', 'reviews'], years.map((y) => [y, reviews.perYear[y]!]));

  table('Seasonality: reviews by month of stay, and next year\'s calendar', ['month', 'reviews', 'avail %', 'mean $/night'],
    MONTHS.map((m, i) => [m, reviews.perMonth[i]!, ((100 * cal.available[i]!) / Math.max(1, cal.nights[i]!)).toFixed(1),
      cal.priced[i] ? (cal.priceSum[i]! / cal.priced[i]!).toFixed(0) : '-']));

  const names = new Map(listings.map((l) => [l.id!, l.name ?? '']));
  table('Most reviewed listings', ['listing', 'reviews'], top.map(([id, n]) => [`${id} ${(names.get(id) ?? '').slice(0, 40)}`, n]));

  console.log(`\ndone in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  await shutdown();
}

if (isMain(import.meta)) {
  main().catch(async (err) => {
    console.error(err);
    await shutdown();
    process.exit(1);
  });
}
