/**
 * The rental-recs job (examples/rental-recs) end to end on a real 2-CPU cluster: against the real
 * PostgreSQL (127.0.0.1:5432, db `test`; skipped locally when unreachable, FAILS when CI is set) and
 * in the embedded default (Parquet), each with a small synthetic dataset; ALS, the neural two-tower
 * model (listing features, trained with the data-parallel Trainer) and most-popular are evaluated;
 * the served model is the better of ALS and the neural model on the validation split; the
 * recommendations — chosen that way, and forced to the neural model — must have one row per (user, rank) for
 * ranks 1..5, no listing the user rated, scores non-increasing by rank; the PostgreSQL table is
 * swapped in atomically. Bad input: a missing table or column (named in the error), an empty ratings
 * table, ratings out of range, and the duplicate policy.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DateDay, Float64, Int64, makeData, makeVector, Table } from 'apache-arrow';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromArrow, readParquet } from 'shoal/data';
import { TestCluster } from '../../harness/test-cluster.js';
import { NO_POSTGRES, skipBecause } from '../../harness/skip.js';
import { runJob, type Grid, type JobResult } from '../../../examples/rental-recs/job.js';
import { onlineFeaturesFor, RENTAL_FEATURES } from '../../../examples/rental-recs/feature-views.js';
import { generateSynthetic, loadAlbany } from '../../../examples/rental-recs/load.js';
import { prepareRatings, RatingsValidationError } from '../../../examples/rental-recs/prepare.js';
import { textReport, writeHtmlReport, writeJsonReport } from '../../../examples/rental-recs/report.js';
import { applySchema, RentalSchemaError } from '../../../examples/rental-recs/storage.js';
import { connectTestPostgres, expectMetricsBeatRandom, expectValidRecommendations, randomRanking, uniqueName, urlOf, type RecRow } from './helpers.js';

const GRID: Grid = { rank: [4, 8], regParam: [0.1], maxIter: [4] };
/** A small, quick neural model (the job's defaults are sized for Albany). */
const NEURAL = { embeddingDim: 8, hiddenUnits: [16], epochs: 2, batchSize: 512 };
const ONE: Grid = { rank: [6], regParam: [0.1], maxIter: [4] };
const quiet = (): void => undefined;

let tc: TestCluster;
let client: pg.Client | undefined;
let url = '';
const schemas: string[] = [];
const dirs: string[] = [];

beforeAll(async () => {
  tc = await TestCluster.start({ numCpus: 2 });
  client = await connectTestPostgres();
  if (client) url = urlOf(client);
}, 60_000);

afterAll(async () => {
  if (client) {
    for (const s of schemas) await client.query(`DROP SCHEMA IF EXISTS ${s} CASCADE`).catch(() => undefined);
    await client.end();
  }
  for (const d of dirs) await rm(d, { recursive: true, force: true });
  await tc?.stop();
});

async function newSchema(prefix = 'rental_it'): Promise<string> {
  const s = uniqueName(prefix);
  schemas.push(s);
  await client!.query(`CREATE SCHEMA ${s}`);
  return s;
}

/** The candidates in the report's order (three simple baselines, then the learned models). */
const CANDIDATE_NAMES = [
  'most popular (recency-weighted)', 'same neighbourhood + popularity', 'item-kNN (co-stays)',
  expect.stringMatching(/^ALS/), expect.stringMatching(/^neural two-tower/), expect.stringMatching(/^hybrid/),
];

/** The selection rule, checked from the report's own figures. */
function expectSelectionRule(result: JobResult): void {
  const simple = result.candidates.filter((c) => c.kind === 'simple');
  const bestSimple = [...simple].sort((a, b) => b.validation.ndcg.mean - a.validation.ndcg.mean)[0]!;
  expect(result.served.bestSimple).toBe(bestSimple.id);
  const beats = result.comparisons.validation.filter((p) => p.b === bestSimple.id && p.diff.lo > 0);
  const learned = result.candidates.filter((c) => c.kind === 'learned').sort((a, b) => b.validation.ndcg.mean - a.validation.ndcg.mean)[0]!;
  if (beats.some((p) => p.a === learned.id)) expect(result.served.id).toBe(learned.id);
  else {
    expect(result.served.id).toBe(bestSimple.id);
    expect(result.served.reason).toMatch(/no learned model beats the best simple baseline with a CI above zero/);
  }
  expect(result.recommendations.model).toBe(result.candidates.find((c) => c.id === result.served.id)!.name);
  for (const c of result.candidates) {
    expect(c.validation.users).toBeGreaterThan(0);
    for (const v of [c.validation.ndcg, c.test!.ndcg, c.test!.hr]) {
      expect(v.lo).toBeLessThanOrEqual(v.mean);
      expect(v.hi).toBeGreaterThanOrEqual(v.mean);
    }
  }
}

const ratedKeys = (rows: Array<{ user_id: unknown; listing_id: unknown }>): Set<string> => new Set(rows.map((r) => `${String(r.user_id)}:${String(r.listing_id)}`));

describe('PostgreSQL', () => {
  it('runs the job on synthetic ratings (with duplicates): top-5 per user, unrated, ordered, swapped in atomically', async (ctx) => {
    if (!client) return skipBecause(ctx, NO_POSTGRES);
    const schema = await newSchema();
    const target = { kind: 'postgres', url, schema } as const;
    const gen = await generateSynthetic(target, 6_000, 7);
    expect(gen.tables.ratings).toBeGreaterThan(3_000);
    // Repeat some ratings a day later with 5 stars: the policy keeps the latest.
    const dup = await client.query(`INSERT INTO ${schema}.ratings SELECT user_id, listing_id, 5, rated_at + 1 FROM ${schema}.ratings WHERE user_id % 40 = 0`);
    expect(dup.rowCount).toBeGreaterThan(0);

    // A reader polling during the job sees the old (empty) table or the complete new one, never a part.
    // Every poll must answer: a failed one is kept and fails the test (before, errors were swallowed
    // and a reader that never got an answer passed the check with nothing seen).
    const seen = new Set<number>();
    const pollErrors: string[] = [];
    let polling = true;
    const reader = (await connectTestPostgres())!;
    const countRecs = async (): Promise<void> => {
      const r = await reader.query(`SELECT count(*)::int AS n FROM ${schema}.recommendations`).catch((e: unknown) => (pollErrors.push(String(e)), undefined));
      if (r) seen.add(r.rows[0].n as number);
    };
    await countRecs(); // before the job starts: the old (empty) table
    const poll = (async () => {
      while (polling) {
        await countRecs();
        await new Promise((res) => setTimeout(res, 15));
      }
    })();
    // The neural model data-parallel on both CPUs (two Trainer workers averaging every 4 steps).
    // serve: 'best' (the default): ALS and the neural model fitted on train, the better on validation serves.
    const result = await runJob({ databaseUrl: url, pgSchema: schema, grid: GRID, neural: { ...NEURAL, numWorkers: 2 }, log: quiet, hooks: randomRanking }).finally(() => (polling = false));
    await poll;
    await countRecs(); // after the job: the new table
    await reader.end();
    expect(pollErrors).toEqual([]);

    expect(result.feedback).toBe('explicit');
    expect(result.sizes['duplicates merged']).toBe(dup.rowCount);
    expect(result.grid).toHaveLength(2);
    expect(result.metrics.map((m) => m.model)).toEqual([...CANDIDATE_NAMES, 'random']);
    // Every metric is consistent (NDCG ≤ HR, Recall ≤ HR ≤ 1) and most-popular ranks better than a random order.
    expectMetricsBeatRandom(result.metrics, /^most popular/, 1);
    // The served model is chosen on the validation split by one rule, never on test: the best learned
    // model if it beats the best simple baseline with a 95% CI above zero, else that baseline.
    expectSelectionRule(result);
    expect(result.curves.map((c) => c.name)).toEqual(['neural (train)', 'neural (train+val)', ...(result.served.id === 'neural' ? ['neural (all data)'] : [])]);
    expect(result.notes.join('\n')).toMatch(/neural model: .* trained on the cluster \(2 worker\(s\)\)|recommendations by/);
    for (const m of result.metrics) expect(m.hr).toBeGreaterThanOrEqual(0);
    expect(result.metrics.find((m) => m.model.startsWith('ALS'))!.rmse).toBeGreaterThan(0);
    const ratings = (await client.query(`SELECT user_id::text, listing_id::text FROM ${schema}.ratings`)).rows as Array<{ user_id: string; listing_id: string }>;
    const recs = (await client.query(`SELECT user_id::text, rank, listing_id::text, score FROM ${schema}.recommendations`)).rows as RecRow[];
    expectValidRecommendations(recs, new Set(ratings.map((r) => r.user_id)), ratedKeys(ratings));
    expect(result.recommendations.rows).toBe(recs.length);
    // Only the old (empty) and the complete new table were ever seen, and both were.
    expect([...seen].sort((a, b) => a - b)).toEqual([0, recs.length]);
    const pk = await client.query(
      `SELECT string_agg(k.column_name, ',' ORDER BY k.ordinal_position) AS cols FROM information_schema.table_constraints c
       JOIN information_schema.key_column_usage k ON k.constraint_name = c.constraint_name AND k.table_schema = c.table_schema
       WHERE c.table_schema = $1 AND c.table_name = 'recommendations' AND c.constraint_type = 'PRIMARY KEY'`, [schema]);
    expect(pk.rows[0].cols).toBe('user_id,rank');
  }, 240_000);

  it('loads the real Albany data: exact bigint ids, "$1,379.00" prices, CRLF reviews as stays, the calendar', async (ctx) => {
    if (!client) return skipBecause(ctx, NO_POSTGRES);
    const schema = await newSchema();
    const rep = await loadAlbany({ kind: 'postgres', url, schema });
    expect(rep.tables).toEqual({ listings: 421, users: 21_382, ratings: 25_313, calendar: 153_665 });
    const one = async (sql: string): Promise<Record<string, unknown>> => (await client!.query(sql)).rows[0] as Record<string, unknown>;
    expect(await one(`SELECT price::text, neighbourhood IS NOT NULL AS n FROM ${schema}.listings WHERE id = 621960198566758900`)).toEqual({ price: '1379.00', n: true });
    expect(await one(`SELECT count(*)::int AS c FROM ${schema}.listings WHERE id = 552126406812197546`)).toEqual({ c: 1 });
    expect(await one(`SELECT count(*)::int AS c FROM ${schema}.listings WHERE price IS NULL`)).toEqual({ c: 37 });
    expect(await one(`SELECT min(rating) AS lo, max(rating) AS hi, min(rated_at)::text AS first FROM ${schema}.ratings`)).toEqual({ lo: 1, hi: 1, first: '2014-07-01' });
    expect(await one(`SELECT count(*)::int AS c FROM ${schema}.ratings r LEFT JOIN ${schema}.listings l ON l.id = r.listing_id WHERE l.id IS NULL`)).toEqual({ c: 0 });
    expect(await one(`SELECT count(*)::int AS c FROM ${schema}.listings WHERE amenities::jsonb ? 'Wifi'`)).toMatchObject({ c: expect.any(Number) });
  }, 60_000);

  it('names a missing table', async (ctx) => {
    if (!client) return skipBecause(ctx, NO_POSTGRES);
    const schema = await newSchema();
    await expect(runJob({ databaseUrl: url, pgSchema: schema, grid: ONE, log: quiet })).rejects.toThrow(/table "ratings" is missing/);
    await expect(runJob({ databaseUrl: url, pgSchema: schema, grid: ONE, log: quiet })).rejects.toBeInstanceOf(RentalSchemaError);
  });

  it('names a missing column', async (ctx) => {
    if (!client) return skipBecause(ctx, NO_POSTGRES);
    const schema = await newSchema();
    await client.query(`CREATE TABLE ${schema}.ratings (user_id bigint, listing_id bigint, rating real)`);
    await client.query(`CREATE TABLE ${schema}.listings (id bigint)`);
    const err = await runJob({ databaseUrl: url, pgSchema: schema, grid: ONE, log: quiet }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RentalSchemaError);
    expect((err as RentalSchemaError).message).toMatch(/table "ratings" has no column "rated_at"/);
    expect((err as RentalSchemaError).column).toBe('rated_at');
  });

  it('names a listings column the featurization needs (and runs without it when the neural model is off)', async (ctx) => {
    if (!client) return skipBecause(ctx, NO_POSTGRES);
    const schema = await newSchema();
    await client.query(`CREATE TABLE ${schema}.ratings (user_id bigint, listing_id bigint, rating real, rated_at date)`);
    await client.query(`CREATE TABLE ${schema}.listings (id bigint, neighbourhood text)`);
    const err = await runJob({ databaseUrl: url, pgSchema: schema, grid: ONE, log: quiet }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RentalSchemaError);
    expect((err as RentalSchemaError).message).toMatch(/table "listings" has no column "room_type"/);
    expect((err as RentalSchemaError).column).toBe('room_type');
    await expect(runJob({ databaseUrl: url, pgSchema: schema, grid: ONE, neural: false, log: quiet })).rejects.toThrow(/ratings table is empty/);
  });

  it('rejects an empty ratings table', async (ctx) => {
    if (!client) return skipBecause(ctx, NO_POSTGRES);
    const schema = await newSchema();
    await applySchema(url, schema);
    await expect(runJob({ databaseUrl: url, pgSchema: schema, grid: ONE, log: quiet })).rejects.toThrow(/ratings table is empty/);
  });

  it('rejects ratings out of range, naming the column and an example, and leaves recommendations untouched', async (ctx) => {
    if (!client) return skipBecause(ctx, NO_POSTGRES);
    const schema = await newSchema();
    await applySchema(url, schema);
    // A database not created from schema.sql may lack the CHECK constraint.
    await client.query(`ALTER TABLE ${schema}.ratings DROP CONSTRAINT IF EXISTS ratings_rating_check`);
    await client.query(`INSERT INTO ${schema}.listings (id) VALUES (1), (2), (3)`);
    await client.query(`INSERT INTO ${schema}.ratings VALUES (10, 1, 4, '2024-01-01'), (10, 2, 7, '2024-01-02'), (11, 3, 0, '2024-01-03')`);
    await client.query(`INSERT INTO ${schema}.recommendations VALUES (10, 1, 3, 0.5, 'previous run', now())`);
    const err = await runJob({ databaseUrl: url, pgSchema: schema, grid: ONE, log: quiet }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RatingsValidationError);
    expect((err as RatingsValidationError).column).toBe('rating');
    expect((err as RatingsValidationError).count).toBe(2);
    expect((err as Error).message).toMatch(/2 value\(s\) outside \(0, 5\] \(first: user 10, listing 2, rating 7\)/);
    expect((await client.query(`SELECT model FROM ${schema}.recommendations`)).rows).toEqual([{ model: 'previous run' }]);
  });
});

describe('embedded default (Parquet)', () => {
  it('writes top-5 per user to Parquet with the same properties, and a self-contained HTML report', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'rental-recs-'));
    dirs.push(dir);
    const result = await runJob({ dataDir: dir, synthetic: 6_000, seed: 3, grid: ONE, neural: NEURAL, serve: 'neural', log: quiet, hooks: randomRanking });
    expect(result.target).toMatch(/Parquet/);
    // The neural model was trained (its loss curve falls), evaluated beside ALS and most-popular, and wrote the recommendations.
    expect(result.metrics.map((m) => m.model)).toEqual([...CANDIDATE_NAMES, 'random']);
    // Every metric is consistent (NDCG ≤ HR, Recall ≤ HR ≤ 1) and most-popular ranks better than a random order.
    expectMetricsBeatRandom(result.metrics, /^most popular/, 1);
    expect(result.metrics.find((m) => m.model === 'most popular (recency-weighted)')!.ndcg).toBeGreaterThan(0);
    expect(result.recommendations.model).toMatch(/^neural two-tower/);
    expect(result.curves.map((c) => c.name)).toEqual(['neural (train)', 'neural (train+val)', 'neural (all data)']);
    for (const c of result.curves) expect(c.loss.at(-1)!).toBeLessThan(c.loss[0]!);
    expect(result.sizes['listing features']).toBeGreaterThan(10);
    // The feature store: a point-in-time training set of every stay, and the views materialized for serving.
    expect(result.features!.trainingRows).toBe(result.sizes.ratings);
    expect(result.features!.materialized['user_stats']).toBe(result.sizes.users);
    const servedRows = await onlineFeaturesFor(result.featureStore!, 1, [1, 2]);
    expect(servedRows.map((r) => [r['user_id'], r['listing_id']])).toEqual([[1, 1], [1, 2]]);
    expect(Object.keys(servedRows[0]!)).toEqual(['user_id', 'listing_id', ...RENTAL_FEATURES.map((f) => f.split(':')[1])]);
    // Cold start: a quarter of the listings hidden; every cheap model's percentile is reported with an interval.
    expect(result.coldStart!.hiddenListings).toBeGreaterThan(0);
    expect(result.coldStart!.models.map((m) => m.id)).toEqual(['popular', 'neighbourhood', 'knn', 'hybrid']);
    for (const m of result.coldStart!.models) expect(m.percentile.mean).toBeGreaterThanOrEqual(0);
    const ratings = await readParquet(join(dir, 'ratings')).select('user_id', 'listing_id').toArrow();
    const recs = await readParquet(join(dir, 'recommendations')).toArrow();
    const rows = (t: Table, cols: string[]): Array<Record<string, unknown>> =>
      Array.from({ length: t.numRows }, (_, i) => Object.fromEntries(cols.map((c) => [c, t.getChild(c)!.get(i)])));
    const ratingRows = rows(ratings, ['user_id', 'listing_id']) as Array<{ user_id: bigint; listing_id: bigint }>;
    expectValidRecommendations(rows(recs, ['user_id', 'rank', 'listing_id', 'score']) as unknown as RecRow[], new Set(ratingRows.map((r) => String(r.user_id))), ratedKeys(ratingRows));

    const html = await readFile(writeHtmlReport(result, dir), 'utf8');
    expect(html).toContain('<svg');
    expect(html).not.toMatch(/(src|href)=["']?https?:/);
    expect(html).toContain('NDCG@10');
    expect(html).toContain('aria-label="training curves"');
    expect(html).toContain('Cold start');
    expect(html).toContain('Model selection (validation)');
    expect(result.selection.reason).toBe("options.serve is 'neural'");
    const json = JSON.parse(await readFile(writeJsonReport(result, dir), 'utf8')) as Record<string, unknown>;
    expect(json).toMatchObject({ schema: 'shoal.rental-recs.report/1', served: { id: 'neural' }, k: 10 });
    expect((json.candidates as unknown[]).length).toBe(6);
    expect(textReport(result)).toMatch(/most popular/);
    expect(textReport(result)).toMatch(/Served: neural two-tower .* — options.serve is 'neural'/);
  }, 300_000);

  it('is deterministic by seed', async () => {
    const a = await mkdtemp(join(tmpdir(), 'rental-gen-'));
    const b = await mkdtemp(join(tmpdir(), 'rental-gen-'));
    dirs.push(a, b);
    await generateSynthetic({ kind: 'parquet', dir: a }, 3_000, 11);
    await generateSynthetic({ kind: 'parquet', dir: b }, 3_000, 11);
    const ta = await readParquet(join(a, 'ratings')).toArrow();
    const tb = await readParquet(join(b, 'ratings')).toArrow();
    expect(ta.numRows).toBe(tb.numRows);
    for (const c of ['user_id', 'listing_id', 'rating', 'rated_at']) expect(Array.from(ta.getChild(c)!.toArray() as ArrayLike<unknown>)).toEqual(Array.from(tb.getChild(c)!.toArray() as ArrayLike<unknown>));
  });
});

describe('embedded default (Parquet): bad input', () => {
  /** A Parquet folder holding the given tables (written through shoal's data layer). */
  async function parquetDir(tables: Record<string, Table>): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), 'rental-bad-'));
    dirs.push(dir);
    for (const [name, t] of Object.entries(tables)) await fromArrow(t).writeParquet(join(dir, name));
    return dir;
  }
  const ratingsOf = (rows: Array<[number, number, number, string]>): Table =>
    new Table({
      user_id: makeVector(makeData({ type: new Int64(), length: rows.length, data: BigInt64Array.from(rows, (r) => BigInt(r[0])) })),
      listing_id: makeVector(makeData({ type: new Int64(), length: rows.length, data: BigInt64Array.from(rows, (r) => BigInt(r[1])) })),
      rating: makeVector(makeData({ type: new Float64(), length: rows.length, data: Float64Array.from(rows, (r) => r[2]) })),
      rated_at: makeVector(makeData({ type: new DateDay(), length: rows.length, data: Int32Array.from(rows, (r) => Date.parse(r[3]) / 86_400_000) })),
    });
  const listingsOf = (ids: number[]): Table => new Table({ id: makeVector(makeData({ type: new Int64(), length: ids.length, data: BigInt64Array.from(ids, BigInt) })) });

  it('names a missing table (a data folder given is never filled with the Albany data)', async () => {
    const dir = await parquetDir({ listings: listingsOf([1, 2]) });
    const err = await runJob({ dataDir: dir, grid: ONE, neural: false, log: quiet }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RentalSchemaError);
    expect((err as RentalSchemaError).table).toBe('ratings');
    expect((err as Error).message).toMatch(/table "ratings" is missing in .*rental-bad-/);
  });

  it('names a missing column', async () => {
    const full = ratingsOf([[1, 1, 4, '2024-01-01']]);
    const dir = await parquetDir({ listings: listingsOf([1]), ratings: full.select(['user_id', 'listing_id', 'rating']) });
    const err = await runJob({ dataDir: dir, grid: ONE, neural: false, log: quiet }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RentalSchemaError);
    expect((err as RentalSchemaError).column).toBe('rated_at');
    expect((err as Error).message).toMatch(/table "ratings" has no column "rated_at" .*\(it has: user_id, listing_id, rating\)/);
  });

  it('rejects an empty ratings table', async () => {
    const dir = await parquetDir({ listings: listingsOf([1]), ratings: ratingsOf([]) });
    const err = await runJob({ dataDir: dir, grid: ONE, neural: false, log: quiet }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RatingsValidationError);
    expect((err as Error).message).toMatch(/ratings table is empty/);
  });

  it('rejects ratings out of range, naming the column and an example, and leaves the recommendations untouched', async () => {
    const previous = new Table({ user_id: makeVector(BigInt64Array.of(10n)), rank: makeVector(Int32Array.of(1)), listing_id: makeVector(BigInt64Array.of(3n)) });
    const dir = await parquetDir({
      listings: listingsOf([1, 2, 3]),
      ratings: ratingsOf([[10, 1, 4, '2024-01-01'], [10, 2, 5.5, '2024-01-02'], [11, 3, -1, '2024-01-03'], [11, 1, 3, '2024-01-04']]),
      recommendations: previous,
    });
    const err = await runJob({ dataDir: dir, grid: ONE, neural: false, log: quiet }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RatingsValidationError);
    expect((err as RatingsValidationError).column).toBe('rating');
    expect((err as RatingsValidationError).count).toBe(2);
    expect((err as Error).message).toMatch(/2 value\(s\) outside \(0, 5\] \(first: user 10, listing 2, rating 5.5\)/);
    const recs = await readParquet(join(dir, 'recommendations')).toArrow();
    expect(recs.numRows).toBe(1);
    expect(recs.getChild('listing_id')!.get(0)).toBe(3n);
  });

  it('merges duplicate ratings by the documented policy (the latest wins) and never recommends a rated listing', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'rental-dup-'));
    dirs.push(dir);
    await generateSynthetic({ kind: 'parquet', dir }, 3_000, 5);
    // Re-rate every 10th rating a day later: one duplicate each, which the job must merge.
    const base = await readParquet(join(dir, 'ratings')).toArrow();
    const rows: Array<[number, number, number, string]> = [];
    for (let i = 0; i < base.numRows; i++) {
      const day = base.getChild('rated_at')!.get(i) as Date | number;
      const iso = (ms: number): string => new Date(ms).toISOString().slice(0, 10);
      const ms = day instanceof Date ? day.getTime() : Number(day);
      rows.push([Number(base.getChild('user_id')!.get(i)), Number(base.getChild('listing_id')!.get(i)), Number(base.getChild('rating')!.get(i)), iso(ms)]);
      if (i % 10 === 0) rows.push([rows.at(-1)![0], rows.at(-1)![1], 1, iso(ms + 86_400_000)]);
    }
    await rm(join(dir, 'ratings'), { recursive: true });
    await fromArrow(ratingsOf(rows)).writeParquet(join(dir, 'ratings'));
    const result = await runJob({ dataDir: dir, grid: ONE, neural: false, log: quiet });
    expect(result.sizes.ratings).toBe(rows.length);
    expect(result.sizes['duplicates merged']).toBe(Math.ceil(base.numRows / 10));
    expect(result.notes.join('\n')).toMatch(/the latest is kept/);
    const recs = await readParquet(join(dir, 'recommendations')).toArrow();
    const recRows = Array.from({ length: recs.numRows }, (_, i) => ({ user_id: recs.getChild('user_id')!.get(i), rank: recs.getChild('rank')!.get(i), listing_id: recs.getChild('listing_id')!.get(i), score: recs.getChild('score')!.get(i) })) as RecRow[];
    const rated = rows.map((r) => ({ user_id: r[0], listing_id: r[1] }));
    expectValidRecommendations(recRows, new Set(rated.map((r) => String(r.user_id))), ratedKeys(rated));
  }, 60_000);
});

describe('duplicate policy (prepareRatings)', () => {
  const table = (rows: Array<[number, number, number, string]>): Table =>
    new Table({
      user_id: makeVector(makeData({ type: new Int64(), length: rows.length, data: BigInt64Array.from(rows, (r) => BigInt(r[0])) })),
      listing_id: makeVector(makeData({ type: new Int64(), length: rows.length, data: BigInt64Array.from(rows, (r) => BigInt(r[1])) })),
      rating: makeVector(makeData({ type: new Float64(), length: rows.length, data: Float64Array.from(rows, (r) => r[2]) })),
      rated_at: makeVector(makeData({ type: new DateDay(), length: rows.length, data: Int32Array.from(rows, (r) => Date.parse(r[3]) / 86_400_000) })),
    });

  it('explicit ratings: keeps the latest; on the same day the higher', () => {
    const x = prepareRatings(table([[1, 10, 2, '2024-03-01'], [1, 10, 5, '2024-01-01'], [1, 11, 3, '2024-02-01'], [1, 11, 4, '2024-02-01'], [2, 10, 1, '2024-01-05']]), BigInt64Array.of(10n, 11n));
    expect(x.feedback).toBe('explicit');
    expect(x.duplicatesRemoved).toBe(2);
    const got = Array.from(x.user, (u, i) => [x.userIds[u], Number(x.catalogue[x.item[i]!]), x.rating[i]]);
    expect(got).toEqual([[1, 10, 2], [1, 11, 4], [2, 10, 1]]);
  });

  it('implicit stays: one row per pair, rating = number of stays, date = the latest; bigint listing ids stay exact', () => {
    const big = 1_234_567_890_123_456_789n;
    const t = table([[1, 10, 1, '2024-01-01'], [1, 10, 1, '2024-05-01'], [2, 10, 1, '2024-01-01']]);
    const ids = t.getChild('listing_id')!.toArray() as BigInt64Array;
    ids[2] = big;
    const x = prepareRatings(t, BigInt64Array.of(10n, big));
    expect(x.feedback).toBe('implicit');
    expect(Array.from(x.rating)).toEqual([2, 1]);
    expect(x.day[0]).toBe(Date.parse('2024-05-01') / 86_400_000);
    expect(x.catalogue[x.item[1]!]).toBe(big);
  });

  it('NULLs are named', () => {
    const t = table([[1, 10, 1, '2024-01-01']]);
    const withNull = new Table({ ...Object.fromEntries(t.schema.fields.map((f) => [f.name, t.getChild(f.name)!])), rating: makeVector(makeData({ type: new Float64(), length: 1, nullCount: 1, nullBitmap: new Uint8Array([0]), data: new Float64Array(1) })) });
    expect(() => prepareRatings(withNull, BigInt64Array.of(10n))).toThrow(/ratings\.rating has 1 NULL/);
  });
});
