/**
 * The rental recommendations job, stage by stage: source (load / generate) → read → prepare
 * (validate, dedup, split) → featurize listings → tune ALS (grid over rank × regParam × maxIter) →
 * train ALS and the neural two-tower model on train + validation → evaluate (ALS, neural, a
 * most-popular baseline, and the cold-start listings) → train the served model on all data →
 * recommend (top-N unrated per user) → write → report.
 *
 * The served model (`JobOptions.serve`, default 'best'): the one of ALS and the neural model with
 * the higher NDCG@10 on the validation split, both fitted on the training rows (the split tuning
 * uses); the test set is only used to report the metrics of both, never to choose.
 *
 * Extension point: `JobHooks.extraModels` returns more Scorers (evaluate.ts) that are evaluated
 * next to the others and appear in the metrics table and the HTML report.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tableFromArrays, TimestampMillisecond, Table, Utf8, vectorFromArray } from 'apache-arrow';
import { fromArrow } from 'shoal/data';
import { ALS, type NeuralRecommenderOptions } from 'shoal/train';
import { csrOf, rankingMetrics, rmse, topKFor, usersOf, type Csr, type RankingMetrics, type Scorer } from './evaluate.js';
import { featurizeListings, LISTING_FEATURE_COLUMNS, type ListingFeatures } from './featurize.js';
import { fitNeural, NEURAL_DEFAULTS } from './neural.js';
import { albanyDataDir } from '../albany-data.js';
import { describeSource, loadCity, loadCityCached, readManifest } from './city.js';
import { generateSynthetic } from './load.js';
import { leaveLastOut, prepareRatings, type Feedback, type Interactions } from './prepare.js';
import { checkInputs, describeTarget, readTable, REQUIRED_COLUMNS, replaceTable, type Target } from './storage.js';
import { float32, int32, int64FromBig } from './tasks.js';

export interface Grid {
  rank: number[];
  regParam: number[];
  maxIter: number[];
}

export interface JobHooks {
  /** More models to evaluate next to ALS, the neural model and the baseline. */
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
  /**
   * A city's Inside Airbnb CSV folder (listings, reviews, calendar optional; city.ts). Embedded
   * default: loaded into Parquet tables cached by the files' content hash (under `dataDir` when
   * given, else examples/rental-recs/data/<folder>-<hash>). PostgreSQL: loaded into the tables first.
   * @default the Albany data in data/airbnb-albany (embedded default only; never when `dataDir` is given)
   */
  input?: string | undefined;
  /** Load the Albany data into PostgreSQL first (= `input` set to the Albany folder). */
  loadAlbany?: boolean;
  feedback?: Feedback | 'auto';
  grid?: Grid;
  /** Implicit confidence scale. @default 20 */
  alpha?: number;
  /** Recommendations per user. @default 5 */
  topN?: number;
  /** Evaluation users at most (evenly sampled beyond). @default 50_000 */
  maxEvalUsers?: number;
  /** The neural model's options (merged over NEURAL_DEFAULTS in neural.ts), or false to skip featurization and the neural model. */
  neural?: NeuralRecommenderOptions | false;
  /**
   * Which model writes the recommendations: the better on validation NDCG@10 ('best': ALS with the
   * tuned values and the neural model, each fitted on the training rows), or the one named.
   * @default 'best'
   */
  serve?: 'best' | 'als' | 'neural';
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

/** Listings with no interaction in the rows the evaluated models were trained on, and how each model ranks them. */
export interface ColdStartReport {
  /** Such listings in the catalogue. */
  items: number;
  /** Test users whose held-out listings include one (they are scored on those listings only). */
  users: number;
  /** Per model, HR@K of those users on their cold held-out listings. */
  hr: Array<{ model: string; hr: number }>;
  /**
   * The neural model's scores of the cold listings for the evaluated users: pairs, spread, distinct
   * values; and where the cold held-out listings rank among each such user's unrated listings
   * (mean percentile, 0 = top; a model blind to them would average 0.5).
   */
  neural?: { pairs: number; std: number; distinct: number; min: number; max: number; heldOutPercentile: number | undefined } | undefined;
}

export interface JobResult {
  target: string;
  /** Where the data came from: the input folder and the sha256 of its files (undefined: a table folder read as it is, without a manifest). */
  source: { dir: string; hash: string | undefined; format: string } | undefined;
  feedback: Feedback;
  sizes: Record<string, number>;
  stages: Array<{ name: string; ms: number }>;
  grid: GridRow[];
  gridMetric: string;
  best: { rank: number; regParam: number; maxIter: number };
  metrics: MetricsRow[];
  /**
   * How the served model was chosen: the validation metrics of the candidates (fitted on the
   * training rows) when `serve` is 'best' and there is a validation split, and the reason.
   */
  selection: { validation: MetricsRow[]; reason: string };
  k: number;
  recommendations: { rows: number; users: number; where: string; model: string };
  /** Training loss per epoch of each neural fit. */
  curves: Array<{ name: string; loss: number[] }>;
  coldStart: ColdStartReport | undefined;
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
  // A real city's folder is decided by its content hash (city.ts), once the input is hashed.
  return { kind: 'parquet', dir: o.dataDir ?? join(EXAMPLE_DIR, 'data', o.synthetic ? `synthetic-${o.synthetic}-s${o.seed ?? 42}` : 'pending') };
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
  let target = targetFor(o);
  const stages: JobResult['stages'] = [];
  const notes: string[] = [];
  const sizes: Record<string, number> = {};
  const timed = async <T>(name: string, fn: () => Promise<T>): Promise<T> => {
    const t0 = performance.now();
    const v = await fn();
    const ms = performance.now() - t0;
    stages.push({ name, ms });
    log(`  ${name.padEnd(26)} ${(ms / 1000).toFixed(2).padStart(8)} s`);
    return v;
  };
  let source: JobResult['source'];

  // 1. Source.
  const input = o.input ?? (o.loadAlbany || (target.kind === 'parquet' && o.dataDir === undefined && !o.synthetic) ? albanyDataDir() : undefined);
  if (o.synthetic) {
    log(`rental-recs: data in ${describeTarget(target)}`);
    const t = target;
    const rep = await timed(`generate ${o.synthetic.toLocaleString('en-US')} ratings`, () => generateSynthetic(t, o.synthetic!, o.seed ?? 42));
    for (const [k, n] of Object.entries(rep.tables)) sizes[`${k} (generated)`] = n;
    source = { dir: `synthetic (${o.synthetic} ratings, seed ${o.seed ?? 42})`, hash: undefined, format: 'synthetic' };
  } else if (input !== undefined && target.kind === 'postgres') {
    const t = target;
    const rep = await timed('load city CSV', () => loadCity(t, input));
    for (const [k, n] of Object.entries(rep.tables)) sizes[`${k} (loaded)`] = n;
    source = { dir: rep.files.dir, hash: rep.hash, format: rep.files.format };
  } else if (input !== undefined) {
    // The embedded default: the city's tables, cached by the input files' content hash; a load is
    // written aside and renamed into place (city.ts), so no run reads another city's or a half-loaded table.
    const cached = await timed('load city CSV (cached by hash)', () => loadCityCached(input, { root: join(EXAMPLE_DIR, 'data'), tablesDir: o.dataDir }));
    target = { kind: 'parquet', dir: cached.dir };
    if (cached.loaded) for (const [k, n] of Object.entries(cached.manifest.tables)) sizes[`${k} (loaded)`] = n;
    source = { dir: cached.manifest.dir, hash: cached.manifest.hash, format: cached.manifest.format };
    if (cached.manifest.missingColumns.length) notes.push(`listing columns this city lacks (NULL): ${cached.manifest.missingColumns.join(', ')}`);
    if (!cached.manifest.calendar) notes.push('no calendar file: every listing is taken as available');
  } else if (target.kind === 'parquet') {
    // A folder the caller names (dataDir) without an input is read as it is: a missing table there is an error.
    const m = readManifest(target.dir);
    if (m) source = { dir: m.dir, hash: m.hash, format: m.format };
  }
  log(`rental-recs: data ${source ? describeSource(source) : ''} in ${describeTarget(target)}`);

  // 2. Read.
  const neuralOptions = o.neural === false ? undefined : { ...NEURAL_DEFAULTS, ...o.neural };
  await checkInputs(target, neuralOptions ? { ...REQUIRED_COLUMNS, listings: LISTING_FEATURE_COLUMNS } : REQUIRED_COLUMNS);
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
  let listing: ListingFeatures | undefined;
  if (neuralOptions) {
    listing = await timed('featurize listings', () => featurizeListings(readTable(target, 'listings'), x));
    sizes['listing features'] = listing.width;
    if (listing.imputed) notes.push(`${listing.imputed} rated listing(s) have no listings row: the neural model gives them the catalogue's mean features`);
  } else notes.push('neural model skipped (options.neural is false)');

  // 4. Tune on train → validation.
  const grid = o.grid ?? DEFAULT_GRIDS[x.feedback];
  const gridRows: GridRow[] = [];
  const gridMetric = x.feedback === 'implicit' ? `NDCG@${K}` : 'RMSE';
  const maxEval = o.maxEvalUsers ?? 50_000;
  const valUsers = usersOf(x, split.validation, maxEval);
  const trainSeen = csrOf(x, split.train, numUsers);
  const valHeld = csrOf(x, split.validation, numUsers);
  let best = { rank: grid.rank[0]!, regParam: grid.regParam[0]!, maxIter: grid.maxIter[0]! };
  /** ALS with the best values, fitted on the training rows (a candidate of the model selection). */
  let alsOnTrain: Scorer | undefined;
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
          alsOnTrain = s;
        }
      }
    });
  }

  // 5. Choose the served model on validation: ALS (tuned values) and the neural model, both fitted on
  //    the training rows, ranked by validation NDCG@K. The test set plays no part in the choice.
  const serve = o.serve ?? 'best';
  if (serve === 'neural' && !neuralOptions) throw new Error("options.serve is 'neural' but the neural model is switched off (options.neural is false)");
  const curves: JobResult['curves'] = [];
  const selection: JobResult['selection'] = { validation: [], reason: '' };
  let serveNeural = serve === 'neural';
  if (serve !== 'best') selection.reason = `options.serve is '${serve}'`;
  else if (!neuralOptions || !listing) selection.reason = 'ALS is the only model (the neural model is off)';
  else if (split.validation.length === 0) selection.reason = 'no validation split (every user has fewer than 3 dates): ALS served by default';
  else {
    const als = alsOnTrain ?? (await timed('train ALS (train)', () => fitALS(x, split.train, numUsers, best, alpha)));
    const nn = await timed('train neural (train)', () => fitNeural(x, split.train, numUsers, listing!, neuralOptions));
    curves.push({ name: 'neural (train)', loss: nn.stats.lossHistory });
    selection.validation = await timed('select on validation', async () => {
      const pop: Scorer = { kind: 'popularity', name: 'most popular', popularity: popularity(x, split.train) };
      const rows: MetricsRow[] = [];
      for (const m of [als, nn.scorer, pop]) rows.push({ model: m.name, ...(await rankingMetrics(m, valUsers, trainSeen, valHeld, numItems, K)) });
      return rows;
    });
    const [a, n] = selection.validation;
    serveNeural = n!.ndcg > a!.ndcg;
    selection.reason = `validation NDCG@${K}: ${serveNeural ? 'neural' : 'ALS'} ${(serveNeural ? n! : a!).ndcg.toFixed(4)} vs ${serveNeural ? 'ALS' : 'neural'} ${(serveNeural ? a! : n!).ndcg.toFixed(4)} (${valUsers.length} validation users, both fitted on the training rows)`;
  }

  // 6. Train on train + validation, evaluate on test against the baseline (reported, not used to choose).
  const fitRows = concatRows(split.train, split.validation);
  const evalModel = await timed('train ALS (train+val)', () => fitALS(x, fitRows, numUsers, best, alpha));
  let evalNeural: Scorer | undefined;
  if (neuralOptions && listing) {
    const fit = await timed('train neural (train+val)', () => fitNeural(x, fitRows, numUsers, listing!, neuralOptions));
    evalNeural = fit.scorer;
    curves.push({ name: 'neural (train+val)', loss: fit.stats.lossHistory });
    notes.push(`neural model: ${fit.stats.trainingRows.toLocaleString('en-US')} training rows (${neuralOptions.negatives} sampled negatives per stay), ${fit.stats.numFeatures} listing features, ` +
      `trained on ${fit.stats.mode === 'cluster' ? `the cluster (${neuralOptions.numWorkers} worker(s))` : 'the driver'} in ${(fit.stats.trainMs / 1000).toFixed(1)} s (${fit.stats.samplesPerSec.toFixed(0)} samples/s)`);
  }
  let coldStart: ColdStartReport | undefined;
  const metrics = await timed('evaluate', async () => {
    const seen = csrOf(x, fitRows, numUsers);
    const held = csrOf(x, split.test, numUsers);
    const users = usersOf(x, split.test, maxEval);
    if (users.length < usersOf(x, split.test).length) notes.push(`evaluated on ${users.length} of ${usersOf(x, split.test).length} test users (evenly sampled)`);
    const pop: Scorer = { kind: 'popularity', name: 'most popular', popularity: popularity(x, fitRows) };
    const models: Scorer[] = [evalModel, ...(evalNeural ? [evalNeural] : []), pop, ...(o.hooks?.extraModels ? await o.hooks.extraModels(x, fitRows) : [])];
    const rows: MetricsRow[] = [];
    const means = itemMeans(x, fitRows);
    for (const m of models) {
      const r = await rankingMetrics(m, users, seen, held, numItems, K);
      rows.push({ model: m.name, ...r, ...(x.feedback === 'explicit' ? { rmse: rmse(m, x, split.test, means.means, means.global).rmse } : {}) });
    }
    coldStart = await coldStartReport(x, fitRows, split.test, numUsers, models, evalNeural, users, seen);
    return rows;
  });

  // 7. Train the served model on everything, recommend top-N unrated listings per user, write atomically.
  const useNeural = serveNeural && neuralOptions !== undefined && listing !== undefined;
  const allRows = Int32Array.from({ length: x.user.length }, (_, i) => i);
  const final: Scorer = useNeural
    ? await timed('train neural (all data)', async () => {
      const fit = await fitNeural(x, allRows, numUsers, listing!, neuralOptions!);
      curves.push({ name: 'neural (all data)', loss: fit.stats.lossHistory });
      return fit.scorer;
    })
    : await timed('train ALS (all data)', () => fitALS(x, allRows, numUsers, best, alpha));
  notes.push(`recommendations by ${final.name}: ${selection.reason}`);
  const recs = await timed('recommend', async () => {
    const users = Int32Array.from({ length: numUsers }, (_, u) => u);
    const top = await topKFor(final, users, csrOf(x, allRows, numUsers), numItems, topN);
    return recommendationsTable(x, top.indices, top.scores, topN, final.name);
  });
  const where = target.kind === 'postgres' ? `table ${target.schema}.recommendations` : join(target.dir, 'recommendations');
  const written = await timed('write', () => replaceTable(target, 'recommendations', fromArrow(recs, { numPartitions: Math.max(1, Math.min(8, Math.ceil(recs.numRows / 250_000))) }), ['user_id', 'rank']));
  return {
    target: describeTarget(target), source, feedback: x.feedback, sizes, stages, grid: gridRows, gridMetric, best, metrics, selection, k: K,
    recommendations: { rows: written, users: numUsers, where, model: final.name }, curves, coldStart, notes,
  };
}

/**
 * Listings with no interaction in `fitRows` ("cold"): how each model ranks them for the test users
 * who went on to stay in one (HR@K on the cold held-out listings only; ALS cannot score them), and
 * whether the neural model's scores for them vary across users (not a constant or NaN).
 */
async function coldStartReport(
  x: Interactions, fitRows: Int32Array, testRows: Int32Array, numUsers: number, models: Scorer[], neural: Scorer | undefined, evalUsers: Int32Array, seen: Csr,
): Promise<ColdStartReport> {
  const numItems = x.catalogue.length;
  const warm = new Uint8Array(numItems);
  for (const r of fitRows) warm[x.item[r]!] = 1;
  const items = numItems - warm.reduce((s, w) => s + w, 0);
  const coldTest = testRows.filter((r) => !warm[x.item[r]!]);
  const users = usersOf(x, coldTest);
  const held = csrOf(x, coldTest, numUsers);
  const hr: ColdStartReport['hr'] = [];
  if (users.length) for (const m of models) hr.push({ model: m.name, hr: (await rankingMetrics(m, users, seen, held, numItems, K)).hr });
  let neuralStats: ColdStartReport['neural'];
  if (neural?.kind === 'factors' && items > 0) {
    const r = neural.rank;
    const sample = evalUsers.length > 2000 ? evalUsers.filter((_, j) => j % Math.ceil(evalUsers.length / 2000) === 0) : evalUsers;
    const values = new Set<number>();
    let n = 0;
    let sum = 0;
    let sq = 0;
    let min = Infinity;
    let max = -Infinity;
    for (const u of sample) {
      for (let i = 0; i < numItems; i++) {
        if (warm[i]) continue;
        let s = 0;
        for (let f = 0; f < r; f++) s += neural.users[u * r + f]! * neural.items[i * r + f]!;
        s = Math.fround(s);
        values.add(s);
        n++;
        sum += s;
        sq += s * s;
        min = Math.min(min, s);
        max = Math.max(max, s);
      }
    }
    const mean = sum / Math.max(1, n);
    const score = (u: number, i: number): number => {
      let s = 0;
      for (let f = 0; f < r; f++) s += neural.users[u * r + f]! * neural.items[i * r + f]!;
      return s;
    };
    let pct = 0;
    let heldPairs = 0;
    for (const u of users) {
      const rated = new Set(seen.idx.subarray(seen.ptr[u]!, seen.ptr[u + 1]!));
      const candidates = Array.from({ length: numItems }, (_, i) => i).filter((i) => !rated.has(i));
      for (const i of held.idx.subarray(held.ptr[u]!, held.ptr[u + 1]!)) {
        const s = score(u, i);
        pct += candidates.filter((j) => j !== i && score(u, j) > s).length / Math.max(1, candidates.length - 1);
        heldPairs++;
      }
    }
    neuralStats = {
      pairs: n, std: Math.sqrt(Math.max(0, sq / Math.max(1, n) - mean * mean)), distinct: values.size, min, max,
      heldOutPercentile: heldPairs ? pct / heldPairs : undefined,
    };
  }
  return { items, users: users.length, hr, neural: neuralStats };
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
