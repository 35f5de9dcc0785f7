/**
 * The rental recommendations job, stage by stage: source (load / generate) → read → prepare
 * (validate, dedup, split) → tune (grid over rank × regParam × maxIter) → train → evaluate (ALS and a
 * most-popular baseline) → train on all data → recommend (top-N unrated per user) → write → report.
 *
 * Extension points (other engineers build these; the job runs without them):
 * - featurization: `JobHooks.featurize` receives the prepared interactions and listings before
 *   training (listing/user features for the neural model);
 * - more models: `JobHooks.extraModels` returns Scorers (evaluate.ts) that are evaluated next to ALS
 *   and the baseline and appear in the metrics table and the HTML report.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tableFromArrays, TimestampMillisecond, Table, Utf8, vectorFromArray } from 'apache-arrow';
import { ALS, fromArrow } from 'shoal';
import { csrOf, rankingMetrics, rmse, topKFor, usersOf, type Csr, type RankingMetrics, type Scorer } from './evaluate.js';
import { generateSynthetic, loadAlbany } from './load.js';
import { leaveLastOut, prepareRatings, type Feedback, type Interactions } from './prepare.js';
import { checkInputs, describeTarget, readTable, replaceTable, type Target } from './storage.js';
import { float32, int32, int64FromBig } from './tasks.js';

export interface Grid {
  rank: number[];
  regParam: number[];
  maxIter: number[];
}

export interface JobHooks {
  /** Featurization (out of scope here): sees the prepared data before training. */
  featurize?: (x: Interactions, listings: Table) => Promise<void>;
  /** More models to evaluate next to ALS and the baseline (e.g. the neural model). */
  extraModels?: (x: Interactions, trainRows: Int32Array) => Promise<Scorer[]>;
}

export interface JobOptions {
  /** PostgreSQL URL (else the embedded default: Parquet files). */
  databaseUrl?: string | undefined;
  /** PostgreSQL schema of the tables. @default 'public' */
  pgSchema?: string;
  /** Parquet folder of the embedded default. @default examples/rental-recs/data/<albany | synthetic-N-sSEED> */
  dataDir?: string | undefined;
  /** Folder of the HTML report. @default examples/rental-recs/out */
  outDir?: string | undefined;
  /** Generate ≈N synthetic ratings first (replacing the tables). */
  synthetic?: number | undefined;
  seed?: number;
  /** Load the real Albany data first (automatic in the embedded default when no ratings exist yet). */
  loadAlbany?: boolean;
  feedback?: Feedback | 'auto';
  grid?: Grid;
  /** Implicit confidence scale. @default 20 */
  alpha?: number;
  /** Recommendations per user. @default 5 */
  topN?: number;
  /** Evaluation users at most (evenly sampled beyond). @default 50_000 */
  maxEvalUsers?: number;
  hooks?: JobHooks;
  log?: (line: string) => void;
}

export interface MetricsRow extends RankingMetrics {
  model: string;
  rmse?: number | undefined;
}

export interface GridRow {
  rank: number;
  regParam: number;
  maxIter: number;
  metric: number;
  ms: number;
}

export interface JobResult {
  target: string;
  feedback: Feedback;
  sizes: Record<string, number>;
  stages: Array<{ name: string; ms: number }>;
  grid: GridRow[];
  gridMetric: string;
  best: { rank: number; regParam: number; maxIter: number };
  metrics: MetricsRow[];
  k: number;
  recommendations: { rows: number; users: number; where: string };
  notes: string[];
}

export const K = 10;
const HERE = dirname(fileURLToPath(import.meta.url));
/** The example's source folder (dist/examples/rental-recs → examples/rental-recs). */
export const EXAMPLE_DIR = existsSync(join(HERE, 'schema.sql')) ? HERE : join(HERE, '..', '..', '..', 'examples', 'rental-recs');

export const DEFAULT_GRIDS: Record<Feedback, Grid> = {
  implicit: { rank: [8, 16, 32], regParam: [0.1, 1, 10], maxIter: [10] },
  explicit: { rank: [8, 16], regParam: [0.05, 0.2], maxIter: [5, 10] },
};

function targetFor(o: JobOptions): Target {
  if (o.databaseUrl) return { kind: 'postgres', url: o.databaseUrl, schema: o.pgSchema ?? 'public' };
  const name = o.synthetic ? `synthetic-${o.synthetic}-s${o.seed ?? 42}` : 'albany';
  return { kind: 'parquet', dir: o.dataDir ?? join(EXAMPLE_DIR, 'data', name) };
}

/** Factors of a fitted model laid out by dense user index and catalogue index. */
async function fitALS(x: Interactions, rows: Int32Array, numUsers: number, p: { rank: number; regParam: number; maxIter: number }, alpha: number): Promise<Scorer> {
  const table = tableFromArrays({
    user: Int32Array.from(rows, (r) => x.user[r]!),
    item: Int32Array.from(rows, (r) => x.item[r]!),
    rating: Float32Array.from(rows, (r) => x.rating[r]!),
  });
  const blocks = Math.max(1, Math.min(8, Math.ceil(rows.length / 200_000) * 2));
  const model = await new ALS({
    rank: p.rank, regParam: p.regParam, maxIter: p.maxIter, implicitPrefs: x.feedback === 'implicit', alpha, seed: 1,
    numUserBlocks: blocks, numItemBlocks: blocks,
  }).fit(table);
  const r = p.rank;
  const numItems = x.catalogue.length;
  const users = new Float32Array(numUsers * r);
  const items = new Float32Array(numItems * r);
  const userValid = new Uint8Array(numUsers);
  const itemValid = new Uint8Array(numItems);
  const um = model.userFactorMatrix;
  um.ids.forEach((id, k) => {
    users.set(um.factors.subarray(k * r, (k + 1) * r), id * r);
    userValid[id] = 1;
  });
  const im = model.itemFactorMatrix;
  im.ids.forEach((id, k) => {
    items.set(im.factors.subarray(k * r, (k + 1) * r), id * r);
    itemValid[id] = 1;
  });
  return { kind: 'factors', name: `ALS (rank ${p.rank}, λ ${p.regParam}, ${p.maxIter} iter)`, rank: r, users, items, userValid, itemValid };
}

function popularity(x: Interactions, rows: Int32Array): Float32Array {
  const pop = new Float32Array(x.catalogue.length);
  for (const r of rows) pop[x.item[r]!]! += 1;
  return pop;
}

function itemMeans(x: Interactions, rows: Int32Array): { means: Float32Array; global: number } {
  const sum = new Float64Array(x.catalogue.length);
  const cnt = new Float64Array(x.catalogue.length);
  let g = 0;
  for (const r of rows) {
    sum[x.item[r]!]! += x.rating[r]!;
    cnt[x.item[r]!]! += 1;
    g += x.rating[r]!;
  }
  return { means: Float32Array.from(sum, (s, i) => (cnt[i] ? s / cnt[i]! : NaN)), global: rows.length ? g / rows.length : 0 };
}

const concatRows = (...parts: Int32Array[]): Int32Array => {
  const out = new Int32Array(parts.reduce((s, p) => s + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
};

export async function runJob(o: JobOptions = {}): Promise<JobResult> {
  const log = o.log ?? ((l: string) => console.log(l));
  const topN = o.topN ?? 5;
  const alpha = o.alpha ?? 20;
  const target = targetFor(o);
  const stages: JobResult['stages'] = [];
  const notes: string[] = [];
  const sizes: Record<string, number> = {};
  const timed = async <T>(name: string, fn: () => Promise<T>): Promise<T> => {
    const t0 = performance.now();
    const v = await fn();
    const ms = performance.now() - t0;
    stages.push({ name, ms });
    log(`  ${name.padEnd(22)} ${(ms / 1000).toFixed(2).padStart(8)} s`);
    return v;
  };
  log(`rental-recs: data in ${describeTarget(target)}`);

  // 1. Source.
  if (o.synthetic) {
    const rep = await timed(`generate ${o.synthetic.toLocaleString('en-US')} ratings`, () => generateSynthetic(target, o.synthetic!, o.seed ?? 42));
    for (const [t, n] of Object.entries(rep.tables)) sizes[`${t} (generated)`] = n;
  } else if (o.loadAlbany || (target.kind === 'parquet' && !existsSync(join(target.dir, 'ratings')))) {
    const rep = await timed('load Albany CSV', () => loadAlbany(target));
    for (const [t, n] of Object.entries(rep.tables)) sizes[`${t} (loaded)`] = n;
  }

  // 2. Read.
  await checkInputs(target);
  const { ratingsTable, listingIds } = await timed('read', async () => {
    const [ratingsTable, listingsTable] = await Promise.all([
      readTable(target, 'ratings').select('user_id', 'listing_id', 'rating', 'rated_at').toArrow(),
      readTable(target, 'listings').select('id').toArrow(),
    ]);
    const ids = listingsTable.getChild('id')!.toArray() as ArrayLike<number | bigint>;
    const listingIds = ids instanceof BigInt64Array ? ids : BigInt64Array.from(Array.from(ids, (v) => BigInt(v)));
    return { ratingsTable, listingIds };
  });
  sizes.ratings = ratingsTable.numRows;
  sizes.listings = listingIds.length;

  // 3. Prepare.
  const x = await timed('validate + split', async () => prepareRatings(ratingsTable, listingIds, o.feedback ?? 'auto'));
  const split = leaveLastOut(x);
  const numUsers = x.userIds.length;
  const numItems = x.catalogue.length;
  Object.assign(sizes, {
    users: numUsers, catalogue: numItems, 'distinct (user, listing)': x.user.length, 'duplicates merged': x.duplicatesRemoved,
    train: split.train.length, validation: split.validation.length, test: split.test.length,
  });
  if (x.unknownListings) notes.push(`${x.unknownListings} rated listing(s) are missing from the listings table (kept in the catalogue)`);
  if (x.feedback === 'implicit') notes.push('implicit feedback: repeated stays of a (user, listing) are summed into the rating (ALS confidence 1 + α·stays)');
  else notes.push('explicit ratings: of repeated (user, listing) ratings the latest is kept');
  if (o.hooks?.featurize) await timed('featurize (hook)', () => o.hooks!.featurize!(x, ratingsTable));
  else notes.push('featurization and the neural model are not part of this version (JobHooks.featurize / extraModels are the extension points)');

  // 4. Tune on train → validation.
  const grid = o.grid ?? DEFAULT_GRIDS[x.feedback];
  const gridRows: GridRow[] = [];
  const gridMetric = x.feedback === 'implicit' ? `NDCG@${K}` : 'RMSE';
  const maxEval = o.maxEvalUsers ?? 50_000;
  const valUsers = usersOf(x, split.validation, maxEval);
  const trainSeen = csrOf(x, split.train, numUsers);
  const valHeld = csrOf(x, split.validation, numUsers);
  let best = { rank: grid.rank[0]!, regParam: grid.regParam[0]!, maxIter: grid.maxIter[0]! };
  if (split.validation.length === 0 || grid.rank.length * grid.regParam.length * grid.maxIter.length === 1) {
    notes.push(split.validation.length === 0 ? 'no validation users (every user has fewer than 3 dates): grid search skipped, first grid values used' : 'grid has one point');
  } else {
    await timed(`tune (${grid.rank.length * grid.regParam.length * grid.maxIter.length} fits)`, async () => {
      let bestMetric = NaN;
      for (const rank of grid.rank) for (const regParam of grid.regParam) for (const maxIter of grid.maxIter) {
        const t0 = performance.now();
        const s = await fitALS(x, split.train, numUsers, { rank, regParam, maxIter }, alpha);
        const metric = x.feedback === 'implicit'
          ? (await rankingMetrics(s, valUsers, trainSeen, valHeld, numItems, K)).ndcg
          : rmse(s, x, split.validation).rmse;
        gridRows.push({ rank, regParam, maxIter, metric, ms: performance.now() - t0 });
        const better = x.feedback === 'implicit' ? metric > bestMetric : metric < bestMetric;
        if (Number.isNaN(bestMetric) || better) {
          bestMetric = metric;
          best = { rank, regParam, maxIter };
        }
      }
    });
  }

  // 5. Train on train + validation, evaluate on test against the baseline.
  const fitRows = concatRows(split.train, split.validation);
  const evalModel = await timed('train (train+val)', () => fitALS(x, fitRows, numUsers, best, alpha));
  const metrics = await timed('evaluate', async () => {
    const seen = csrOf(x, fitRows, numUsers);
    const held = csrOf(x, split.test, numUsers);
    const users = usersOf(x, split.test, maxEval);
    if (users.length < usersOf(x, split.test).length) notes.push(`evaluated on ${users.length} of ${usersOf(x, split.test).length} test users (evenly sampled)`);
    const pop: Scorer = { kind: 'popularity', name: 'most popular', popularity: popularity(x, fitRows) };
    const models: Scorer[] = [evalModel, pop, ...(o.hooks?.extraModels ? await o.hooks.extraModels(x, fitRows) : [])];
    const rows: MetricsRow[] = [];
    const means = itemMeans(x, fitRows);
    for (const m of models) {
      const r = await rankingMetrics(m, users, seen, held, numItems, K);
      rows.push({ model: m.name, ...r, ...(x.feedback === 'explicit' ? { rmse: rmse(m, x, split.test, means.means, means.global).rmse } : {}) });
    }
    return rows;
  });

  // 6. Train on everything, recommend top-N unrated listings per user, write atomically.
  const allRows = Int32Array.from({ length: x.user.length }, (_, i) => i);
  const final = await timed('train (all data)', () => fitALS(x, allRows, numUsers, best, alpha));
  const recs = await timed('recommend', async () => {
    const users = Int32Array.from({ length: numUsers }, (_, u) => u);
    const top = await topKFor(final, users, csrOf(x, allRows, numUsers), numItems, topN);
    return recommendationsTable(x, top.indices, top.scores, topN, final.name);
  });
  const where = target.kind === 'postgres' ? `table ${target.schema}.recommendations` : join(target.dir, 'recommendations');
  const written = await timed('write', () => replaceTable(target, 'recommendations', fromArrow(recs, { numPartitions: Math.max(1, Math.min(8, Math.ceil(recs.numRows / 250_000))) }), ['user_id', 'rank']));
  return {
    target: describeTarget(target), feedback: x.feedback, sizes, stages, grid: gridRows, gridMetric, best, metrics, k: K,
    recommendations: { rows: written, users: numUsers, where }, notes,
  };
}

function recommendationsTable(x: Interactions, indices: Int32Array, scores: Float32Array, k: number, model: string): Table {
  const n = indices.length;
  const user = new BigInt64Array(n);
  const rank = new Int32Array(n);
  const listing = new BigInt64Array(n);
  const score = new Float32Array(n);
  let m = 0;
  for (let j = 0; j < n; j++) {
    if (indices[j]! < 0) continue;
    user[m] = BigInt(x.userIds[Math.floor(j / k)]!);
    rank[m] = (j % k) + 1;
    listing[m] = x.catalogue[indices[j]!]!;
    score[m] = scores[j]!;
    m++;
  }
  const now = new Date();
  return new Table({
    user_id: int64FromBig(user.slice(0, m)),
    rank: int32(rank.slice(0, m)),
    listing_id: int64FromBig(listing.slice(0, m)),
    score: float32(score.slice(0, m)),
    model: vectorFromArray(Array.from({ length: m }, () => model), new Utf8()),
    created_at: vectorFromArray(Array.from({ length: m }, () => now), new TimestampMillisecond('UTC')),
  });
}

export type { Csr };
