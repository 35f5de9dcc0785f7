/**
 * Filling the job's tables: the real Inside Airbnb data of Albany (CSV → PostgreSQL or Parquet, all
 * through shoal's data layer readers and writers), or the synthetic market at any scale (generated
 * by remote tasks, one per partition of users, written straight from the workers).
 */
import { join } from 'node:path';
import { agg, col, lit, range, readCsv, type Dataset } from 'shoal/data';
import { albanyDataDir } from '../albany-data.js';
import { applySchema, replaceTable, type Target } from './storage.js';
import { genListingsBatch, genRatingsBatch, genUsersBatch } from './tasks.js';
import { scaleFor } from './world.js';

/** "$1,250.00" → 1250; empty → null. */
const price = (c: string) => col(c).regexpReplace('[$,]', '').trim().cast('float64');

export interface LoadReport {
  tables: Record<string, number>;
}

/** Loads listings, users (reviewers), ratings (one implicit stay of rating 1 per review) and the calendar. */
export async function loadAlbany(target: Target, dataDir = albanyDataDir()): Promise<LoadReport> {
  if (target.kind === 'postgres') await applySchema(target.url, target.schema);
  // listings.csv has quoted multi-line descriptions and "$1,250.00" prices; the CSV reader handles
  // the quoting, the price becomes numeric here (37 listings have none: NULL).
  const listings = readCsv(join(dataDir, 'listings.csv')).select(
    col('id').cast('int64').alias('id'),
    col('name'),
    col('neighbourhood_cleansed').alias('neighbourhood'),
    col('room_type'),
    price('price').alias('price'),
    col('accommodates').cast('int32').alias('accommodates'),
    col('bedrooms').cast('float64').alias('bedrooms'),
    col('latitude').cast('float64').alias('latitude'),
    col('longitude').cast('float64').alias('longitude'),
    col('amenities'),
    col('host_id').cast('int64').alias('host_id'),
    col('first_review').cast('date').alias('first_seen'),
  );
  // reviews.csv (CRLF line ends): reviewer_id, listing_id, date — each review is a stay.
  const reviews = readCsv(join(dataDir, 'reviews.csv'), { schema: { reviewer_id: 'int64', listing_id: 'int64', date: 'date' } });
  const ratings = reviews.select(col('reviewer_id').alias('user_id'), col('listing_id'), lit(1).cast('float64').alias('rating'), col('date').alias('rated_at'));
  const users = reviews.groupBy('reviewer_id').agg(agg.min('date', 'first_seen')).select(col('reviewer_id').alias('id'), col('first_seen'));
  const calendar = readCsv(join(dataDir, 'calendar.csv.gz'), { gzip: true }).select(
    col('listing_id').cast('int64').alias('listing_id'),
    col('date').cast('date').alias('date'),
    col('available').eq('t').alias('available'),
    price('price').alias('price'),
  );
  const tables: Record<string, number> = {};
  const parts: Array<[string, Dataset, string[]]> = [
    ['listings', listings, ['id']],
    ['users', users, ['id']],
    ['ratings', ratings, []],
    ['calendar', calendar, []],
  ];
  for (const [name, ds, keys] of parts) tables[name] = await replaceTable(target, name, ds, keys.length ? keys : undefined);
  return { tables };
}

/** Partitions of the generator: ~500k ratings each (at least 2, so both cores work). */
export const generatorPartitions = (ratings: number): number => Math.max(2, Math.ceil(ratings / 500_000));

/** The generator's plan for one table: one row per partition carrying the parameters, then a batch function. */
function generated(fn: typeof genRatingsBatch, ratings: number, seed: number, parts: number): Dataset {
  return range(parts, { numPartitions: parts })
    .withColumn('seed', lit(seed))
    .withColumn('ratings', lit(ratings))
    .withColumn('parts', lit(parts))
    .mapBatches(fn)
    .withOptions({ maxTasksInFlight: 4 });
}

export interface SyntheticReport extends LoadReport {
  stageMs: Record<string, number>;
}

/**
 * Generates the synthetic market for ≈`ratings` ratings (deterministic by `seed`) into the target.
 * Explicit star ratings 1–5; ≈12 ratings per user; catalogue ≈ 3·√ratings listings.
 */
export async function generateSynthetic(target: Target, ratings: number, seed = 42): Promise<SyntheticReport> {
  if (!Number.isInteger(ratings) || ratings < 100) throw new Error(`--synthetic needs a number of ratings ≥ 100 (got ${ratings})`);
  if (target.kind === 'postgres') await applySchema(target.url, target.schema);
  const s = scaleFor(ratings);
  const parts = generatorPartitions(ratings);
  const tables: Record<string, number> = {};
  const stageMs: Record<string, number> = {};
  const timed = async (name: string, ds: Dataset, keys?: string[]): Promise<void> => {
    const t0 = performance.now();
    tables[name] = await replaceTable(target, name, ds, keys);
    stageMs[`generate ${name}`] = performance.now() - t0;
  };
  await timed('listings', generated(genListingsBatch, ratings, seed, Math.min(parts, Math.max(1, Math.ceil(s.listings / 50_000)))), ['id']);
  await timed('users', generated(genUsersBatch, ratings, seed, parts), ['id']);
  await timed('ratings', generated(genRatingsBatch, ratings, seed, parts));
  return { tables, stageMs };
}
