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
import { fromArrow, type Dataset } from 'shoal/data';
import { activeRun, withActiveRun } from 'shoal/store';
import { ALS, type NeuralRecommenderOptions, type PermutationImportance } from 'shoal/train';
import { FeatureStore } from 'shoal/features';
import { itemKnn, mostPopular, sameNeighbourhood } from './baselines.js';
import { csrOf, perUserMetrics, rankingMetrics, rmse, scoresOf, topKFor, type Csr, type PerUserMetrics, type RankingMetrics, type Scorer } from './evaluate.js';
import { fitHybrid, type HybridFit } from './hybrid.js';
import { readListingInfo, type ListingInfo } from './listing-info.js';
import { evalSet, timeSplit, type SplitOptions, type TimeSplit } from './split.js';
import { bootstrapMean, pairedBootstrap, resampleCounts, type Interval, type Paired } from './stats.js';
import { featurizeListings, LISTING_FEATURE_COLUMNS, type ListingFeatures } from './featurize.js';
import { buildRentalFeatures, listingFeaturesAt, type RentalFeatureSummary } from './feature-views.js';
import { fitNeural, NEURAL_DEFAULTS } from './neural.js';
import { albanyDataDir } from '../albany-data.js';
import { describeSource, loadCity, loadCityCached, readManifest } from './city.js';
import { generateSynthetic } from './load.js';
import { collapse, prepareRatings, type Feedback, type Interactions } from './prepare.js';
import { checkInputs, describeTarget, readTable, REQUIRED_COLUMNS, replaceTable, type Target } from './storage.js';
import { ModelIndex, type ServedModel } from './served-model.js';
import type { Explanation } from './explain.js';
import { snapshotOf } from './snapshot.js';
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
  /**
   * The feature store the job defines its listing and user feature views in, builds its stays'
   * training set from and materializes into (serving reads it). @default in-process online store,
   * registry in examples/rental-recs/out/feature-registry, 2 partitions (the city's tables are small)
   */
  featureStore?: FeatureStore;
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
   * Which model writes the recommendations: 'best' = the selection rule on validation (the best
   * learned model if it beats the best simple baseline with a 95% CI above zero, else that
   * baseline), or a candidate named: popular | neighbourhood | knn | als | neural | hybrid.
   * @default 'best'
   */
  serve?: ServeChoice;
  /** The time split's windows (split.ts). */
  split?: SplitOptions;
  /** Seed of the cold-start simulation's draw of hidden listings. @default 1 */
  coldStartSeed?: number;
  hooks?: JobHooks;
  log?: (line: string) => void;
  /** Keep the served model in the result (`JobResult.model`), for serving it (live.ts). @default false */
  keepModel?: boolean;
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

export const SERVE_CHOICES = ['best', 'popular', 'neighbourhood', 'knn', 'als', 'neural', 'hybrid'] as const;
export type ServeChoice = (typeof SERVE_CHOICES)[number];

/** A candidate of the model selection: fitted on the stays of `h` (all before `cutDay`). */
interface Candidate {
  id: string;
  kind: 'simple' | 'learned';
  fit: (h: Interactions, cutDay: number, label: string) => Promise<Scorer>;
}

/** A metric's mean over users with its 95% bootstrap interval, for HR, NDCG and Recall @K. */
export interface MetricSummary {
  users: number;
  hr: Interval;
  ndcg: Interval;
  recall: Interval;
}

/** One candidate's figures: validation (fitted before the validation cut) and test (fitted before the test cut). */
export interface CandidateReport {
  id: string;
  name: string;
  kind: 'simple' | 'learned';
  validation: MetricSummary;
  test: MetricSummary | undefined;
  fitMs: { validation: number; test?: number };
}

/** The 25%-hidden cold-listing simulation: where the hidden listings users went on to stay in rank. */
export interface ColdStartReport {
  hiddenListings: number;
  share: number;
  /** Test users (with history) who stayed in a hidden listing, and such (user, listing) pairs. */
  users: number;
  pairs: number;
  /** Per model, the mean percentile among the user's unrated listings (0 = top, 0.5 = blind). */
  models: Array<{ id: string; model: string; percentile: Interval }>;
}

/** Share of the warm listings hidden in the cold-start simulation. */
export const COLD_SHARE = 0.25;

export interface JobResult {
  target: string;
  /** Where the tables were read from (for the data version the run records). */
  data: Target;
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
  /** The cut dates (ISO days) and window shares of the time split. */
  split: { validationCut: string; testCut: string; lastDay: string; testFraction: number; validationFraction: number };
  candidates: CandidateReport[];
  served: { id: string; name: string; reason: string; bestSimple: string };
  /** Paired bootstrap comparisons of NDCG@K: on validation each learned model against the best simple baseline; on test every candidate against it. */
  comparisons: { validation: Paired[]; test: Paired[] };
  /** Test-window stays of users with history that were in a listing of that history (not ranking targets). */
  repeats: { warmUsers: number; windowStays: number; repeatStays: number; repeatUsers: number; repeatOfLast: number };
  /** Users with test-window stays and no history, served by popularity. */
  coldUsers: MetricSummary & { model: string };
  hybridWeights: Array<{ feature: string; weight: number }>;
  /** The hybrid's global feature importance: permutation importance (AUC drop) on the validation window's pairs, fitted on train. */
  hybridImportance: PermutationImportance | null;
  /** Sample explanations of the served model's recommendations (explain.ts): the first users with a history. */
  explanations: SampleExplanation[];
  /** The served model as plain data, when `options.keepModel`. */
  model?: ServedModel | undefined;
  /**
   * The feature store holding the job's views, materialized up to the job's read (getOnlineFeatures
   * for serving); undefined when the neural model is off and no store was given (options.featureStore).
   */
  featureStore: FeatureStore | undefined;
  features: RentalFeatureSummary | undefined;
}

export const K = 10;
const HERE = dirname(fileURLToPath(import.meta.url));
/** The example's source folder (dist/examples/rental-recs → examples/rental-recs). */
export const EXAMPLE_DIR = existsSync(join(HERE, 'schema.sql')) ? HERE : join(HERE, '..', '..', '..', 'examples', 'rental-recs');

export const DEFAULT_GRIDS: Record<Feedback, Grid> = {
  implicit: { rank: [8, 16, 32], regParam: [0.1, 1, 10], maxIter: [10] },
  explicit: { rank: [8, 16], regParam: [0.05, 0.2], maxIter: [5, 10] },
};

/**
 * Where the source's files are by default: the Albany folder and the root of the embedded default's
 * table folders. Found from this module's place in the repository, unless given — a pipeline step
 * runs from a bundle of the module on a worker, so the driver resolves them and passes them in.
 */
export interface SourcePaths {
  albanyDir: () => string;
  dataRoot: string;
  /** schema.sql, for PostgreSQL tables a load creates. @default the one beside storage.ts */
  schemaFile?: string | undefined;
}

export const DEFAULT_PATHS: SourcePaths = { albanyDir: albanyDataDir, dataRoot: join(EXAMPLE_DIR, 'data') };

function targetFor(o: JobOptions, paths: SourcePaths): Target {
  if (o.databaseUrl) return { kind: 'postgres', url: o.databaseUrl, schema: o.pgSchema ?? 'public', ...(paths.schemaFile ? { schemaFile: paths.schemaFile } : {}) };
  // A real city's folder is decided by its content hash (city.ts), once the input is hashed.
  return { kind: 'parquet', dir: o.dataDir ?? join(paths.dataRoot, o.synthetic ? `synthetic-${o.synthetic}-s${o.seed ?? 42}` : 'pending') };
}

/** The CSV folder the source is loaded from, if any: `input`, else Albany for the embedded default (or with `loadAlbany`). */
export function sourceInput(o: JobOptions, paths: SourcePaths = DEFAULT_PATHS): string | undefined {
  return o.input ?? (o.loadAlbany || (!o.databaseUrl && o.dataDir === undefined && !o.synthetic) ? paths.albanyDir() : undefined);
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
  return {
    kind: 'factors', name: `ALS (rank ${p.rank}, λ ${p.regParam}, ${p.maxIter} iter)`, rank: r, users, items, userValid, itemValid,
    explain: { kind: 'als', regParam: p.regParam, alpha, implicitPrefs: x.feedback === 'implicit' },
  };
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

/** Times the stages of a job (or of a pipeline step): each is logged and kept, in order. */
export interface StageTimer {
  readonly stages: Array<{ name: string; ms: number }>;
  timed<T>(name: string, fn: () => Promise<T>): Promise<T>;
}

export function stageTimer(log: (line: string) => void): StageTimer {
  const stages: StageTimer['stages'] = [];
  return {
    stages,
    async timed<T>(name: string, fn: () => Promise<T>): Promise<T> {
      const t0 = performance.now();
      const v = await fn();
      const ms = performance.now() - t0;
      stages.push({ name, ms });
      log(`  ${name.padEnd(26)} ${(ms / 1000).toFixed(2).padStart(8)} s`);
      return v;
    },
  };
}

/** What a stage adds to the report besides its own result: sizes and notes. */
export interface StageNotes {
  sizes: Record<string, number>;
  notes: string[];
}

/** Where the job's tables are once its source is in place, and where they came from. */
export interface SourceResult extends StageNotes {
  target: Target;
  source: JobResult['source'];
}

/**
 * Stage 1, the source: generates the synthetic tables, loads a city's CSVs (into PostgreSQL, or into
 * Parquet tables cached by the files' content hash), or takes a table folder as it is.
 */
export async function resolveSource(o: JobOptions, t: StageTimer, log: (line: string) => void, paths: SourcePaths = DEFAULT_PATHS): Promise<SourceResult> {
  let target = targetFor(o, paths);
  const sizes: Record<string, number> = {};
  const notes: string[] = [];
  let source: JobResult['source'];
  const input = sourceInput(o, paths);
  if (o.synthetic) {
    log(`rental-recs: data in ${describeTarget(target)}`);
    const tg = target;
    const rep = await t.timed(`generate ${o.synthetic.toLocaleString('en-US')} ratings`, () => generateSynthetic(tg, o.synthetic!, o.seed ?? 42));
    for (const [k, n] of Object.entries(rep.tables)) sizes[`${k} (generated)`] = n;
    source = { dir: `synthetic (${o.synthetic} ratings, seed ${o.seed ?? 42})`, hash: undefined, format: 'synthetic' };
  } else if (input !== undefined && target.kind === 'postgres') {
    const tg = target;
    const rep = await t.timed('load city CSV', () => loadCity(tg, input));
    for (const [k, n] of Object.entries(rep.tables)) sizes[`${k} (loaded)`] = n;
    source = { dir: rep.files.dir, hash: rep.hash, format: rep.files.format };
  } else if (input !== undefined) {
    // The embedded default: the city's tables, cached by the input files' content hash; a load is
    // written aside and renamed into place (city.ts), so no run reads another city's or a half-loaded table.
    const cached = await t.timed('load city CSV (cached by hash)', () => loadCityCached(input, { root: paths.dataRoot, tablesDir: o.dataDir }));
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
  return { target, source, sizes, notes };
}

/** The neural model's options (NEURAL_DEFAULTS under the job's), or undefined when it is off. */
export const neuralOptionsOf = (o: Pick<JobOptions, 'neural'>): NeuralRecommenderOptions | undefined => (o.neural === false ? undefined : { ...NEURAL_DEFAULTS, ...o.neural });

/** The listings table's ids as int64 (the catalogue the ratings are checked against). */
export function listingIdsOf(listings: Table): BigInt64Array {
  const ids = listings.getChild('id')!.toArray() as ArrayLike<number | bigint>;
  return ids instanceof BigInt64Array ? ids : BigInt64Array.from(Array.from(ids, (v) => BigInt(v)));
}

/** The ratings after validation, duplicates merged and split by time, with the evaluation sets and users. */
export interface Prepared extends StageNotes {
  x: Interactions;
  split: TimeSplit;
  numUsers: number;
  numItems: number;
  valSet: ReturnType<typeof evalSet>;
  testSet: ReturnType<typeof evalSet>;
  splitInfo: JobResult['split'];
  /** At most `maxEvalUsers`, evenly sampled. */
  sample: (u: Int32Array) => Int32Array;
  valUsers: Int32Array;
  testUsers: Int32Array;
}

/** Stage 3, prepare: validate, merge duplicates, split by time (deterministic: the same tables give the same result). */
export async function prepareStage(ratingsTable: Table, listingIds: BigInt64Array, o: JobOptions, t: StageTimer): Promise<Prepared> {
  const sizes: Record<string, number> = { ratings: ratingsTable.numRows, listings: listingIds.length };
  const notes: string[] = [];
  const x = await t.timed('validate + split', async () => prepareRatings(ratingsTable, listingIds, o.feedback ?? 'auto'));
  const split = timeSplit(x, o.split);
  const numUsers = x.userIds.length;
  const numItems = x.catalogue.length;
  const valSet = evalSet(x, split.train, split.validationEvents);
  const testSet = evalSet(x, split.fit, split.testEvents);
  Object.assign(sizes, {
    users: numUsers, catalogue: numItems, 'distinct (user, listing)': x.user.length, 'duplicates merged': x.duplicatesRemoved,
    'train stays (before the validation cut)': split.train.eventRows.length, 'validation window stays': split.validationEvents.length, 'test window stays': split.testEvents.length,
    'validation users (history + discovery)': valSet.users.length, 'test users (history + discovery)': testSet.users.length, 'test cold users (no history)': testSet.coldUsers.length,
  });
  if (x.unknownListings) notes.push(`${x.unknownListings} rated listing(s) are missing from the listings table (kept in the catalogue)`);
  if (x.feedback === 'implicit') notes.push('implicit feedback: repeated stays of a (user, listing) are summed into the rating (ALS confidence 1 + α·stays)');
  else notes.push('explicit ratings: of repeated (user, listing) ratings the latest is kept');
  const splitInfo: JobResult['split'] = {
    validationCut: isoDay(split.validationCut), testCut: isoDay(split.testCut), lastDay: isoDay(split.lastDay),
    testFraction: o.split?.testFraction ?? 0.2, validationFraction: o.split?.validationFraction ?? 0.2,
  };
  const maxEval = o.maxEvalUsers ?? 50_000;
  const sample = (u: Int32Array): Int32Array => (u.length <= maxEval ? u : Int32Array.from({ length: maxEval }, (_, j) => u[Math.floor((j * u.length) / maxEval)]!));
  const testUsers = sample(testSet.users);
  if (testUsers.length < testSet.users.length) notes.push(`evaluated on ${testUsers.length} of ${testSet.users.length} test users (evenly sampled)`);
  return { x, split, numUsers, numItems, valSet, testSet, splitInfo, sample, valUsers: sample(valSet.users), testUsers, sizes, notes };
}

/**
 * The featurize stage: the feature store's views built and materialized (when there is a store),
 * and the neural model's listing inputs — the store's point-in-time join of the listings at the end
 * of the data, featurized (when the neural model is on).
 */
export async function featureStage(
  featureStore: FeatureStore | undefined, listings: () => Dataset, ratings: () => Dataset, listingIds: BigInt64Array, p: Prepared,
  neuralOptions: NeuralRecommenderOptions | undefined, t: StageTimer,
): Promise<StageNotes & { features: RentalFeatureSummary | undefined; listing: ListingFeatures | undefined }> {
  const sizes: Record<string, number> = {};
  const notes: string[] = [];
  let features: RentalFeatureSummary | undefined;
  if (featureStore) {
    const f = await t.timed('feature store', () => buildRentalFeatures(featureStore, listings(), ratings()));
    features = f;
    sizes['feature store training rows (stays)'] = f.trainingRows;
    notes.push(
      `feature store: point-in-time training set of ${f.trainingRows} stays (listing price known for ${(100 * f.priceKnown).toFixed(1)}%, earlier stays of the user for ${(100 * f.userHistoryKnown).toFixed(1)}%); ` +
        `materialized ${Object.entries(f.materialized).map(([v, n]) => `${n} ${v}`).join(', ')} into the ${featureStore.online.target} online store`,
    );
  }
  let listing: ListingFeatures | undefined;
  if (neuralOptions && featureStore) {
    const rows = await listingFeaturesAt(featureStore, listingIds, (p.split.lastDay + 1) * 86_400_000);
    listing = await t.timed('featurize listings', () => featurizeListings(rows, p.x));
    sizes['listing features'] = listing.width;
    if (listing.imputed) notes.push(`${listing.imputed} rated listing(s) have no listings row: the neural model gives them the catalogue's mean features`);
    if (listing.absent.length) notes.push(`listing columns the neural model leaves out (NULL in every listing): ${listing.absent.join(', ')}`);
  } else notes.push('neural model skipped (options.neural is false)');
  return { sizes, notes, features, listing };
}

/** What tuning ALS found. */
export interface TuneResult {
  grid: GridRow[];
  gridMetric: string;
  best: { rank: number; regParam: number; maxIter: number };
  notes: string[];
}

/** Stage 4, tune ALS on train → validation (each trial a child run of the active run, when there is one). */
export async function tuneStage(p: Prepared, grid: Grid, alpha: number, t: StageTimer): Promise<TuneResult> {
  const { x, split, valSet, valUsers, numUsers, numItems } = p;
  const gridRows: GridRow[] = [];
  const gridMetric = x.feedback === 'implicit' ? `NDCG@${K}` : 'RMSE';
  const notes: string[] = [];
  const trainAll = allRows(split.train);
  const valHistoryRows = valSet.seen;
  let best = { rank: grid.rank[0]!, regParam: grid.regParam[0]!, maxIter: grid.maxIter[0]! };
  if (valUsers.length === 0 || grid.rank.length * grid.regParam.length * grid.maxIter.length === 1) {
    notes.push(valUsers.length === 0 ? 'no validation users (no stay in the validation window by a user with history): grid search skipped, first grid values used' : 'grid has one point');
  } else {
    await t.timed(`tune ALS (${grid.rank.length * grid.regParam.length * grid.maxIter.length} fits)`, async () => {
      let bestMetric = NaN;
      const valRows = eventsAsRows(x, split.validationEvents, split.train);
      for (const rank of grid.rank) for (const regParam of grid.regParam) for (const maxIter of grid.maxIter) {
        const t0 = performance.now();
        // With a run active (main.ts, or the pipeline's tune step), each trial is a child run of it.
        const parent = activeRun();
        const trial = parent ? await parent.store.startRun({ parentRunId: parent.id, name: `als rank=${rank} reg=${regParam} iter=${maxIter}`, params: { rank, regParam, maxIter } }) : undefined;
        let metric: number;
        try {
          const s = await withActiveRun(trial, () => fitALS(split.train, trainAll, numUsers, { rank, regParam, maxIter }, alpha));
          metric = x.feedback === 'implicit'
            ? (await rankingMetrics(s, valUsers, valHistoryRows, valSet.held, numItems, K)).ndcg
            : rmse(s, valRows.x, valRows.rows).rmse;
        } catch (err) {
          await trial?.end('FAILED', String(err));
          throw err;
        }
        trial?.logMetric(x.feedback === 'implicit' ? `val.ndcg_at_${K}` : 'val.rmse', metric);
        await trial?.end();
        gridRows.push({ rank, regParam, maxIter, metric, ms: performance.now() - t0 });
        const better = x.feedback === 'implicit' ? metric > bestMetric : metric < bestMetric;
        if (Number.isNaN(bestMetric) || better) {
          bestMetric = metric;
          best = { rank, regParam, maxIter };
        }
      }
    });
  }
  return { grid: gridRows, gridMetric, best, notes };
}

/** A neural fit done ahead (the pipeline's train-neural step): its scorer and training loss per epoch. */
export interface NeuralFitResult {
  scorer: Extract<Scorer, { kind: 'factors' }>;
  loss: number[];
}

/** The fits of the neural model evaluation needs: on the training rows (validation) and on train + validation (test). */
export const NEURAL_FIT_LABELS = ['train', 'train+val'] as const;

/** The train-neural stage: the neural model fitted on the training rows and on train + validation. */
export async function neuralStage(p: Prepared, listing: ListingFeatures, neuralOptions: NeuralRecommenderOptions, t: StageTimer): Promise<Record<(typeof NEURAL_FIT_LABELS)[number], NeuralFitResult>> {
  return t.timed('train neural (train, train+val)', async () => {
    const fits = {} as Record<(typeof NEURAL_FIT_LABELS)[number], NeuralFitResult>;
    for (const [label, h] of [['train', p.split.train], ['train+val', p.split.fit]] as const) {
      const fit = await fitNeural(h, allRows(h), p.numUsers, listing, neuralOptions);
      fits[label] = { scorer: fit.scorer, loss: fit.stats.lossHistory };
    }
    return fits;
  });
}

/** What the evaluate stage needs beyond the prepared data. */
export interface EvaluateInputs {
  target: Target;
  info: ListingInfo;
  best: TuneResult['best'];
  listing: ListingFeatures | undefined;
  neuralOptions: NeuralRecommenderOptions | undefined;
  /** Neural fits done ahead, by label (the others are fitted here). */
  neuralFits?: Partial<Record<string, NeuralFitResult>> | undefined;
}

/** What the evaluate stage adds to the result. */
export type EvaluateResult = Pick<JobResult, 'metrics' | 'selection' | 'recommendations' | 'curves' | 'coldStart' | 'candidates' | 'served' | 'comparisons' | 'repeats' | 'coldUsers' | 'hybridWeights' | 'hybridImportance' | 'explanations' | 'model'> & { notes: string[] };

/**
 * Stages 5–8, evaluate: the candidates fitted and validated (the one selection rule), tested,
 * the cold users and listings, the served model fitted on all the stays, its top-N per user
 * written to the target (and kept as a ServedModel when `keepModel`).
 */
export async function evaluateStage(p: Prepared, e: EvaluateInputs, o: JobOptions, t: StageTimer, sourceHash: string | undefined): Promise<EvaluateResult> {
  const { x, split, valSet, testSet, valUsers, testUsers, numUsers, numItems, sample } = p;
  const { info, best, listing, neuralOptions, target } = e;
  const alpha = o.alpha ?? 20;
  const topN = o.topN ?? 5;
  const notes: string[] = [];

  // 5. The candidates: three simple baselines, ALS, the neural model, the learned hybrid.
  const curves: JobResult['curves'] = [];
  let hybridWeights: HybridFit['weights'] = [];
  let hybridImportance: PermutationImportance | null = null;
  const candidates: Candidate[] = [
    { id: 'popular', kind: 'simple', fit: async (h, cut) => mostPopular(h, cut) },
    { id: 'neighbourhood', kind: 'simple', fit: async (h, cut) => sameNeighbourhood(h, cut, info) },
    { id: 'knn', kind: 'simple', fit: async (h, cut) => itemKnn(h, cut) },
    { id: 'als', kind: 'learned', fit: async (h) => fitALS(h, allRows(h), numUsers, best, alpha) },
    ...(neuralOptions && listing ? [{
      id: 'neural', kind: 'learned' as const, fit: async (h: Interactions, _cut: number, label: string) => {
        let fit = e.neuralFits?.[label];
        if (!fit) {
          const f = await fitNeural(h, allRows(h), numUsers, listing, neuralOptions);
          fit = { scorer: f.scorer, loss: f.stats.lossHistory };
        }
        curves.push({ name: `neural (${label})`, loss: fit.loss });
        return fit.scorer;
      },
    }] : []),
    {
      id: 'hybrid', kind: 'learned', fit: async (h, cut) => {
        // Fitted to be chosen (on train): its feature importance on the validation window.
        const fit = fitHybrid(h, cut, info, 1, h === split.train ? split.validationEvents : undefined);
        hybridWeights = fit.weights;
        if (fit.importance) hybridImportance = fit.importance;
        return fit.scorer;
      },
    },
  ];
  const extra = o.hooks?.extraModels;
  const serve = o.serve ?? 'best';
  if (serve !== 'best' && !candidates.some((c) => c.id === serve)) {
    throw new Error(`options.serve is '${serve}' but the candidates are ${candidates.map((c) => c.id).join(', ')}${serve === 'neural' ? ' (the neural model is switched off: options.neural is false)' : ''}`);
  }

  // 6. Validation (fitted on the stays before the validation cut): the one selection rule.
  const rows: CandidateReport[] = [];
  const valPer = new Map<string, Float64Array>();
  await t.timed('fit + validate candidates', async () => {
    for (const c of candidates) {
      const t0 = performance.now();
      const s = await c.fit(split.train, split.validationCut, 'train');
      const per = await perUserMetrics(s, valUsers, valSet.seen, valSet.held, numItems, K);
      valPer.set(c.id, per.ndcg);
      rows.push({ id: c.id, name: s.name, kind: c.kind, validation: summarise(per), test: undefined, fitMs: { validation: performance.now() - t0 } });
    }
  });
  const simple = rows.filter((r) => r.kind === 'simple');
  const learned = rows.filter((r) => r.kind === 'learned');
  const byVal = (a: CandidateReport, b: CandidateReport): number => b.validation.ndcg.mean - a.validation.ndcg.mean;
  const bestSimple = [...simple].sort(byVal)[0]!;
  const bestLearned = [...learned].sort(byVal)[0];
  const valResamples = resampleCounts(valUsers.length);
  const validationPairs: Paired[] = learned.map((l) => pairedBootstrap(l.id, valPer.get(l.id)!, bestSimple.id, valPer.get(bestSimple.id)!, valResamples));
  let servedId: string;
  let reason: string;
  if (serve !== 'best') {
    servedId = serve;
    reason = `options.serve is '${serve}'`;
  } else if (valUsers.length === 0) {
    servedId = 'popular';
    reason = 'no validation users: the most-popular baseline is served';
  } else {
    const pair = bestLearned ? validationPairs.find((p) => p.a === bestLearned.id)! : undefined;
    if (bestLearned && pair && pair.diff.lo > 0) {
      servedId = bestLearned.id;
      reason = `the best learned model (${bestLearned.name}) beats the best simple baseline (${bestSimple.name}) on validation NDCG@${K} by ${f4(pair.diff.mean)} (95% CI ${f4(pair.diff.lo)} to ${f4(pair.diff.hi)}, above zero; ${valUsers.length} users)`;
    } else {
      servedId = bestSimple.id;
      reason = bestLearned && pair
        ? `no learned model beats the best simple baseline with a CI above zero: the best, ${bestLearned.name}, differs from ${bestSimple.name} by ${f4(pair.diff.mean)} NDCG@${K} (95% CI ${f4(pair.diff.lo)} to ${f4(pair.diff.hi)}; ${valUsers.length} validation users) — the baseline is served`
        : 'no learned model: the best simple baseline is served';
    }
  }

  // 7. Test (fitted on the stays before the test cut): reported, never used to choose.
  const testPer = new Map<string, Float64Array>();
  const testScorers = new Map<string, Scorer>();
  const testResamples = resampleCounts(testUsers.length);
  await t.timed('fit + test candidates', async () => {
    for (const c of candidates) {
      const t0 = performance.now();
      const s = await c.fit(split.fit, split.testCut, 'train+val');
      testScorers.set(c.id, s);
      const per = await perUserMetrics(s, testUsers, testSet.seen, testSet.held, numItems, K);
      testPer.set(c.id, per.ndcg);
      const row = rows.find((r) => r.id === c.id)!;
      row.test = summarise(per, testResamples);
      row.fitMs.test = performance.now() - t0;
    }
  });
  const testPairs: Paired[] = rows.filter((r) => r.id !== bestSimple.id).map((r) => pairedBootstrap(r.id, testPer.get(r.id)!, bestSimple.id, testPer.get(bestSimple.id)!, testResamples));
  const metrics: MetricsRow[] = rows.map((r) => ({ model: r.name, users: r.test!.users, hr: r.test!.hr.mean, ndcg: r.test!.ndcg.mean, recall: r.test!.recall.mean }));
  if (extra) {
    for (const s of await extra(split.fit, allRows(split.fit))) {
      const m = await rankingMetrics(s, testUsers, testSet.seen, testSet.held, numItems, K);
      metrics.push({ model: s.name, ...m });
    }
  }
  if (x.feedback === 'explicit') {
    const testRows = eventsAsRows(x, split.testEvents, split.fit);
    const means = itemMeans(split.fit, allRows(split.fit));
    metrics.forEach((m, k) => {
      const s = testScorers.get(rows[k]?.id ?? '');
      // RMSE only for models that score every test pair (a ranking-only model, e.g. one that rules out
      // other neighbourhoods with -Infinity, predicts no rating and has none).
      const e = s ? rmse(s, testRows.x, testRows.rows, means.means, means.global).rmse : Number.NaN;
      if (Number.isFinite(e)) m.rmse = e;
    });
  }

  // Cold users (no stay before the test cut): the path they are served by, popularity.
  const coldUsers = await t.timed('cold users + cold listings', async () => {
    const pop = testScorers.get('popular')!;
    const empty: Csr = { ptr: new Int32Array(numUsers + 1), idx: new Int32Array(0) };
    const cu = sample(testSet.coldUsers);
    const per = await perUserMetrics(pop, cu, empty, testSet.coldHeld, numItems, K);
    return { model: pop.name, ...summarise(per) };
  });
  const coldStart = await coldStartSimulation(x, split, candidates.filter((c) => c.id !== 'neural' && c.id !== 'als'), o.coldStartSeed ?? 1);

  // 8. The served model on all the stays; top-N unrated listings per user, written atomically.
  const served = candidates.find((c) => c.id === servedId)!;
  const allX = collapse(x, Int32Array.from({ length: x.events.day.length }, (_, i) => i));
  const final = await t.timed(`train ${served.id} (all data)`, () => served.fit(allX, split.lastDay + 1, 'all data'));
  notes.push(`recommendations by ${final.name}: ${reason}`);
  const allSeen = csrOf(allX, allRows(allX), numUsers);
  const recs = await t.timed('recommend', async () => {
    const users = Int32Array.from({ length: numUsers }, (_, u) => u);
    const top = await topKFor(final, users, allSeen, numItems, topN);
    return recommendationsTable(x, top.indices, top.scores, topN, final.name);
  });
  const where = target.kind === 'postgres' ? `table ${target.schema}.recommendations` : join(target.dir, 'recommendations');
  const written = await t.timed('write', () => replaceTable(target, 'recommendations', fromArrow(recs, { numPartitions: Math.max(1, Math.min(8, Math.ceil(recs.numRows / 250_000))) }), ['user_id', 'rank']));
  const snapshot = snapshotOf({ id: servedId, scorer: final, x, all: allX, seen: allSeen, info, cutDay: split.lastDay + 1, version: `${servedId}-${(sourceHash ?? `${Date.now()}`).slice(0, 8)}` });
  const selectionRows: MetricsRow[] = rows.map((r) => ({ model: r.name, users: r.validation.users, hr: r.validation.hr.mean, ndcg: r.validation.ndcg.mean, recall: r.validation.recall.mean }));
  return {
    metrics, selection: { validation: selectionRows, reason }, recommendations: { rows: written, users: numUsers, where, model: final.name }, curves, coldStart,
    candidates: rows, served: { id: servedId, name: final.name, reason, bestSimple: bestSimple.id },
    comparisons: { validation: validationPairs, test: testPairs },
    repeats: { warmUsers: testSet.warmUsers, windowStays: testSet.windowStays, repeatStays: testSet.repeatStays, repeatUsers: testSet.repeatUsers, repeatOfLast: testSet.repeatOfLast },
    coldUsers, hybridWeights, hybridImportance, notes, explanations: sampleExplanations(snapshot, EXPLAINED_USERS),
    model: o.keepModel ? snapshot : undefined,
  };
}

/** Users whose explained recommendations the report shows. */
const EXPLAINED_USERS = 3;

export interface SampleExplanation {
  user: string;
  items: Array<{ listing: string; score: number; explanation: Explanation | undefined }>;
}

/** The served model's explained top 3 for the first `n` users with a history. */
function sampleExplanations(m: ServedModel, n: number): SampleExplanation[] {
  const index = new ModelIndex(m);
  const out: SampleExplanation[] = [];
  for (let u = 0; u < m.userIds.length && out.length < n; u++) {
    if (m.seen.ptr[u + 1]! - m.seen.ptr[u]! < 2) continue;
    const a = index.recommend({ user: m.userIds[u]!, k: 3, nbhd: -1, context: [], unknownContext: 0, explain: true });
    out.push({ user: m.userIds[u]!, items: a.items.map((i) => ({ listing: i.id, score: i.score, explanation: i.explanation })) });
  }
  return out;
}

export async function runJob(o: JobOptions = {}): Promise<JobResult> {
  const log = o.log ?? ((l: string) => console.log(l));
  const t = stageTimer(log);

  // 1. Source.
  const { target, source, ...fromSource } = await resolveSource(o, t, log);

  // 2. Read.
  const neuralOptions = neuralOptionsOf(o);
  await checkInputs(target, neuralOptions ? { ...REQUIRED_COLUMNS, listings: LISTING_FEATURE_COLUMNS } : REQUIRED_COLUMNS);
  const { ratingsTable, listingIds } = await t.timed('read', async () => {
    const [ratingsTable, listingsTable] = await Promise.all([
      readTable(target, 'ratings').select('user_id', 'listing_id', 'rating', 'rated_at').toArrow(),
      readTable(target, 'listings').select('id').toArrow(),
    ]);
    return { ratingsTable, listingIds: listingIdsOf(listingsTable) };
  });

  // 3. Prepare: validate, merge duplicates, split by time; the listings' content; the feature store and the listing features.
  const p = await prepareStage(ratingsTable, listingIds, o, t);
  const info = await t.timed('read listing content', () => readListingInfo(readTable(target, 'listings'), p.x.catalogue));
  // A store given by the caller is filled even without the neural model (serving reads it).
  const featureStore = o.featureStore ?? (neuralOptions ? new FeatureStore({ registry: join(EXAMPLE_DIR, 'out', 'feature-registry'), numPartitions: 2 }) : undefined);
  const f = await featureStage(featureStore, () => readTable(target, 'listings'), () => readTable(target, 'ratings'), listingIds, p, neuralOptions, t);

  // 4. Tune ALS on train → validation.
  const tune = await tuneStage(p, o.grid ?? DEFAULT_GRIDS[p.x.feedback], o.alpha ?? 20, t);

  // 5–8. Candidates, validation, test, the served model and its recommendations (the neural model fitted as a candidate).
  const ev = await evaluateStage(p, { target, info, best: tune.best, listing: f.listing, neuralOptions }, o, t, source?.hash);
  return {
    target: describeTarget(target), data: target, source, feedback: p.x.feedback, sizes: { ...fromSource.sizes, ...p.sizes, ...f.sizes }, stages: t.stages,
    grid: tune.grid, gridMetric: tune.gridMetric, best: tune.best, k: K, split: p.splitInfo,
    ...ev, notes: [...fromSource.notes, ...p.notes, ...f.notes, ...tune.notes, ...ev.notes],
    featureStore, features: f.features,
  };
}

const isoDay = (d: number): string => new Date(d * 86_400_000).toISOString().slice(0, 10);
const f4 = (v: number): string => (Number.isFinite(v) ? v.toFixed(4) : '-');
const allRows = (h: Interactions): Int32Array => Int32Array.from({ length: h.user.length }, (_, i) => i);

/** Window events laid out as rows of a collapsed Interactions (for RMSE of explicit ratings). */
function eventsAsRows(x: Interactions, events: Int32Array, _history: Interactions): { x: Interactions; rows: Int32Array } {
  const w = collapse(x, events);
  return { x: w, rows: allRows(w) };
}

/** HR, NDCG and Recall with their 95% bootstrap intervals. */
function summarise(per: PerUserMetrics, resamples: Uint16Array[] = resampleCounts(per.users.length)): MetricSummary {
  return { users: per.users.length, hr: bootstrapMean(per.hr, resamples), ndcg: bootstrapMean(per.ndcg, resamples), recall: bootstrapMean(per.recall, resamples) };
}

/**
 * Cold listings, simulated: a quarter of the listings with stays before the test cut (a seeded
 * draw) are hidden from every fit; each model is fitted without them, and for each test user who
 * went on to stay in a hidden listing, the percentile of that listing among the user's unrated
 * listings (0 = top, 0.5 = blind; ties count half).
 */
async function coldStartSimulation(x: Interactions, split: TimeSplit, models: Candidate[], seed: number): Promise<ColdStartReport> {
  const numItems = x.catalogue.length;
  const warm = new Uint8Array(numItems);
  for (const i of split.fit.item) warm[i] = 1;
  const warmIds = Array.from({ length: numItems }, (_, i) => i).filter((i) => warm[i]);
  let a = seed >>> 0;
  const r = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  for (let i = warmIds.length - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [warmIds[i], warmIds[j]] = [warmIds[j]!, warmIds[i]!];
  }
  const hidden = new Uint8Array(numItems);
  for (const i of warmIds.slice(0, Math.round(warmIds.length * COLD_SHARE))) hidden[i] = 1;
  const h = collapse(x, split.fit.eventRows.filter((e) => !hidden[x.events.item[e]!]));
  const set = evalSet(x, h, split.testEvents.filter((e) => hidden[x.events.item[e]!]));
  const pairs: Array<[number, number]> = [];
  for (const u of set.users) for (let p = set.held.ptr[u]!; p < set.held.ptr[u + 1]!; p++) pairs.push([u, set.held.idx[p]!]);
  const report: ColdStartReport = { hiddenListings: warmIds.length ? Math.round(warmIds.length * COLD_SHARE) : 0, share: COLD_SHARE, users: set.users.length, pairs: pairs.length, models: [] };
  if (pairs.length === 0) return report;
  for (const c of models) {
    const s = await c.fit(h, split.testCut, 'cold-start simulation');
    const scores = scoresOf(s, set.users, numItems);
    const at = new Map<number, number>();
    set.users.forEach((u, j) => at.set(u, j));
    const per = new Float64Array(pairs.length);
    pairs.forEach(([u, i], k) => {
      const row = scores.subarray(at.get(u)! * numItems, (at.get(u)! + 1) * numItems);
      const rated = new Set(set.seen.idx.subarray(set.seen.ptr[u]!, set.seen.ptr[u + 1]!));
      const si = row[i]!;
      let above = 0;
      let ties = 0;
      let n = 0;
      for (let j = 0; j < numItems; j++) {
        if (j === i || rated.has(j)) continue;
        n++;
        if (row[j]! > si) above++;
        else if (row[j] === si) ties++;
      }
      per[k] = n ? (above + ties / 2) / n : 0.5;
    });
    report.models.push({ id: c.id, model: s.name, percentile: bootstrapMean(per) });
  }
  return report;
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
