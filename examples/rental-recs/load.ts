/**
 * Filling the job's tables: the real Inside Airbnb data of a city (city.ts: CSV → PostgreSQL or Parquet,
 * all through shoal's data layer readers and writers), or the synthetic market at any scale (generated
 * by remote tasks, one per partition of users, written straight from the workers).
 */
import { lit, range, type Dataset } from 'shoal/data';
import { albanyDataDir } from '../albany-data.js';
import { loadCity } from './city.js';
import { applySchema, replaceTable, type Target } from './storage.js';
import { genListingsBatch, genRatingsBatch, genUsersBatch } from './tasks.js';
import { scaleFor } from './world.js';

export interface LoadReport {
  tables: Record<string, number>;
}

/** Loads the Albany data (or the city in `dataDir`) through the generic city loader (city.ts). */
export async function loadAlbany(target: Target, dataDir = albanyDataDir()): Promise<LoadReport> {
  return { tables: (await loadCity(target, dataDir)).tables };
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
  if (target.kind === 'postgres') await applySchema(target.url, target.schema, target.schemaFile);
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
