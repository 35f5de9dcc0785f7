/**
 * The rental recommendations job as a pipeline (shoal/platform) — what `npm start` runs, and
 * `shoal pipeline run examples/rental-recs/pipeline.ts [--param k=v]`:
 *
 *   ingest → validate → featurize → tune-als ∥ train-neural → evaluate → compare → register
 *
 * Each step calls the job's own stage functions (job.ts: resolveSource, prepareStage, featureStage,
 * tuneStage, neuralStage, evaluateStage) on a worker; they pass each other artifact references in
 * the platform store, never data: the tables the run read (a dataset version of Arrow IPC files),
 * the listing features, the neural fits and the served model (models: JSON + tensors), the
 * evaluation (a JSON file). Small values (the best ALS grid point, the alias decision) are plain
 * outputs. Every step is cached (the orchestrator's rule: code, parameters, inputs' content):
 *
 * - ingest reads an external source, so its key is the source's version, computed before the
 *   lookup: a city's CSV folder (the Albany default) — the sha256 of its files (city.ts
 *   contentHash; the Parquet tables are loaded from them, cached by that hash); a Parquet table
 *   folder (`dataDir`) — the sha256 of the ratings and listings files; PostgreSQL — per table its
 *   row count and an order-free checksum of its rows (`sum(hashtext(row::text))`, one scan), or
 *   with `input` the CSV folder's hash (the load replaces the tables); synthetic data — its size
 *   and seed (the generator is deterministic). New ratings change it; then ingest runs, and each
 *   step downstream runs only if its inputs' content changed.
 * - validate fails the run naming the check: schema, null rates, rating range, row count, and the
 *   change of the ratings' row count against the last run that validated (ctx.previousOutputs()).
 * - compare and register take the candidate (the served model's content, its validation NDCG and
 *   protocol): a candidate is compared with the champion the registry has then and registered once
 *   — a run on unchanged data registers nothing new. The champion rule is tracking.ts's.
 * - The recommendations table is written by evaluate, so a cached evaluate leaves the table its
 *   first run wrote.
 *
 * The steps' code hash covers the step functions only; the code they call (this folder) is in the
 * `version` of every step — the sha256 of the example's source files — so editing the example
 * re-runs its steps. The shoal library's code is not in it (`--no-cache` after upgrading it).
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tableFromIPC, tableToIPC, type Table } from 'apache-arrow';
import { fromArrow } from 'shoal/data';
import { FeatureStore, PlatformFeatureRegistry } from 'shoal/features';
import { checkData, fromParam, fromStep, param, pipeline, step, type DatasetArtifact, type FileArtifact, type ModelArtifact, type PipelineRunResult, type StepContext } from 'shoal/platform';
import { withActiveRun, type Store } from 'shoal/store';
import type { NeuralRecommenderOptions } from 'shoal/train';
import { contentHash, findCityFiles } from './city.js';
import type { ListingFeatures } from './featurize.js';
import { LISTING_FEATURE_COLUMNS } from './featurize.js';
import { readListingInfo } from './listing-info.js';
import {
  DEFAULT_GRIDS, DEFAULT_PATHS, evaluateStage, featureStage, K, listingIdsOf, neuralOptionsOf, neuralStage, prepareStage, resolveSource, SERVE_CHOICES, sourceInput, stageTimer, tuneStage,
  type JobOptions, type JobResult, type NeuralFitResult, type Prepared, type ServeChoice, type SourcePaths, type StageTimer,
} from './job.js';
import { servedModelContents } from './model-store.js';
import { checkInputs, describeTarget, readTable, schemaSqlFile, REQUIRED_COLUMNS, withClient, type Target } from './storage.js';
import { albanyDataDir } from '../albany-data.js';
import { chooseAlias, championOf, logCandidates, registerServed, tableFiles } from './tracking.js';

/** Key prefix of the job's online store in Redis. */
export const REDIS_PREFIX = 'shoal:rental-recs';

/** This module's file (recorded with each run, for `shoal pipeline resume`). */
export const PIPELINE_MODULE = fileURLToPath(import.meta.url);
const HERE = dirname(PIPELINE_MODULE);

/** sha256 of the example's source files (this folder's .ts / .js): every step's `version` (see the header). */
function exampleCodeVersion(): string {
  const h = createHash('sha256');
  for (const f of readdirSync(HERE).filter((n) => /\.(ts|js|sql)$/.test(n) && !n.endsWith('.d.ts')).sort()) h.update(`${f}\0`).update(readFileSync(join(HERE, f))).update('\0');
  return h.digest('hex').slice(0, 16);
}
const CODE = exampleCodeVersion();

/** Where the data is: the job's source options, as the ingest step gets them. */
export interface SourceParams {
  input: string;
  dataDir: string;
  databaseUrl: string;
  pgSchema: string;
  loadAlbany: boolean;
  synthetic: number;
  seed: number;
  /** The Albany folder and the embedded default's table root, resolved by the driver (job.ts SourcePaths). */
  albanyDir: string;
  dataRoot: string;
  schemaFile: string;
}

const sourceOptions = (s: SourceParams): JobOptions => ({
  input: s.input || undefined, dataDir: s.dataDir || undefined, databaseUrl: s.databaseUrl || undefined, pgSchema: s.pgSchema,
  loadAlbany: s.loadAlbany, synthetic: s.synthetic || undefined, seed: s.seed,
});

const pathsOf = (s: SourceParams): SourcePaths => ({
  albanyDir: () => {
    if (!s.albanyDir) throw new Error('the Albany data folder was not found where the pipeline was started: pass --param albanyDir=DIR (or SHOAL_DATA_DIR), or input / dataDir / databaseUrl / synthetic');
    return s.albanyDir;
  },
  dataRoot: s.dataRoot,
  schemaFile: s.schemaFile || undefined,
});

/** The Albany folder as the driver finds it ('' when it is not there: a worker loading this module from a bundle). */
function foundAlbany(): string {
  try {
    return albanyDataDir();
  } catch {
    return '';
  }
}

/** The version of the source the ingest step would read (see the file header); computed before its cache lookup. */
export async function sourceVersionOf(s: SourceParams): Promise<unknown> {
  const o = sourceOptions(s);
  if (o.synthetic) return { synthetic: o.synthetic, seed: o.seed ?? 42 };
  const input = sourceInput(o, pathsOf(s));
  if (input !== undefined) return { city: await contentHash(findCityFiles(input)) };
  if (o.databaseUrl) {
    const schema = o.pgSchema ?? 'public';
    return withClient(o.databaseUrl, async (c) => {
      const out: Record<string, unknown> = {};
      for (const table of ['ratings', 'listings']) {
        const exists = await c.query<{ r: string | null }>('SELECT to_regclass($1)::text AS r', [`${schema}.${table}`]);
        if (!exists.rows[0]?.r) {
          out[table] = 'missing';
          continue;
        }
        const r = await c.query<{ n: string; h: string }>(`SELECT count(*)::text AS n, coalesce(sum(hashtext(t::text)::bigint), 0)::text AS h FROM ${schema}.${table} t`);
        out[table] = { rows: Number(r.rows[0]!.n), checksum: r.rows[0]!.h };
      }
      return out;
    });
  }
  return { files: tableFiles(o.dataDir!).map((f) => `${f.path}:${f.sha256}`) };
}

/** The report parts a step adds (sizes, notes, its stage timings): read by the driver, not by other steps. */
interface StepReport {
  sizes?: Record<string, number>;
  notes?: string[];
  stages: Array<{ name: string; ms: number }>;
}

const logTo = (ctx: StepContext) => (line: string): void => ctx.log(line.trim());

/** The ratings and listings tables the ingest step saved. */
async function tablesOf(ctx: StepContext, ref: DatasetArtifact): Promise<{ ratings: Table; listings: Table }> {
  const files = await ctx.readDataset(ref);
  return { ratings: tableFromIPC(files['ratings.arrow']!), listings: tableFromIPC(files['listings.arrow']!) };
}

/** The prepared ratings (deterministic from the tables: each step that needs them prepares them again, in milliseconds). */
async function preparedOf(ctx: StepContext, ref: DatasetArtifact, o: JobOptions, t: StageTimer): Promise<{ p: Prepared; ratings: Table; listings: Table; listingIds: BigInt64Array }> {
  const { ratings, listings } = await tablesOf(ctx, ref);
  const listingIds = listingIdsOf(listings);
  const p = await prepareStage(ratings.select(['user_id', 'listing_id', 'rating', 'rated_at']), listingIds, o, t);
  return { p, ratings, listings, listingIds };
}

/** A timer whose stages are not reported (a step's own re-preparation). */
const quiet = (): StageTimer => stageTimer(() => undefined);

async function listingFeaturesOf(ctx: StepContext, ref: ModelArtifact): Promise<ListingFeatures> {
  const m = await ctx.loadModel(ref);
  const meta = m.meta as Omit<ListingFeatures, 'matrix'>;
  return { ...meta, matrix: m.tensors.matrix as Float32Array };
}

async function neuralFitOf(ctx: StepContext, ref: ModelArtifact): Promise<NeuralFitResult> {
  const m = await ctx.loadModel(ref);
  const meta = m.meta as { name: string; rank: number; loss: number[] };
  const t = m.tensors;
  return {
    scorer: { kind: 'factors', name: meta.name, rank: meta.rank, users: t.users as Float32Array, items: t.items as Float32Array, userValid: t.userValid as Uint8Array, itemValid: t.itemValid as Uint8Array },
    loss: meta.loss,
  };
}

/** JSON that keeps NaN and ±Infinity (the evaluation has them: a metric with no users). */
export const encodeJson = (v: unknown): string => JSON.stringify(v, (_k, x: unknown) => (typeof x === 'number' && !Number.isFinite(x) ? { $number: String(x) } : x));
export const decodeJson = (s: string): unknown =>
  JSON.parse(s, (_k, x: unknown) => (typeof x === 'object' && x !== null && Object.keys(x).length === 1 && typeof (x as { $number?: unknown }).$number === 'string' ? Number((x as { $number: string }).$number) : x));

// ── the steps ──────────────────────────────────────────────────────────────────────────────────

/** Ingest: the source in place (generated / loaded / as it is), then one read of both tables, saved as a dataset version. */
export const ingest = step('ingest', async ({ neural, ...source }: SourceParams & { neural: boolean }, ctx) => {
  const t = stageTimer(logTo(ctx));
  const s = await resolveSource(sourceOptions(source), t, logTo(ctx), pathsOf(source));
  await checkInputs(s.target, neural ? { ...REQUIRED_COLUMNS, listings: LISTING_FEATURE_COLUMNS } : REQUIRED_COLUMNS);
  const [ratings, listings] = await t.timed('read', () => Promise.all([readTable(s.target, 'ratings').toArrow(), readTable(s.target, 'listings').toArrow()]));
  const tables = await ctx.saveDataset('rental-tables', { 'ratings.arrow': tableToIPC(ratings), 'listings.arrow': tableToIPC(listings) }, { rowCount: ratings.numRows });
  const report: StepReport = { sizes: s.sizes, notes: s.notes, stages: t.stages };
  return { tables, target: s.target, source: s.source ?? null, report };
}, { version: CODE, sourceVersion: (source: SourceParams) => sourceVersionOf(source) });

/** Validate: data checks on both tables; a failed check fails the run with the check named (DataCheckError). */
export const validate = step('validate', async ({ tables, maxRowChange }: { tables: DatasetArtifact; maxRowChange: number }, ctx) => {
  const { ratings, listings } = await tablesOf(ctx, tables);
  const previous = (await ctx.previousOutputs())?.ratings as number | undefined;
  const r = checkData('ratings', ratings, {
    columns: { user_id: 'int', listing_id: 'int', rating: 'number', rated_at: 'timestamp' },
    maxNullRate: { user_id: 0, listing_id: 0, rating: 0, rated_at: 0 },
    ranges: { rating: { min: 0, max: 5 } },
    rowCount: { min: 1, previous, maxChange: maxRowChange },
  });
  const l = checkData('listings', listings, { columns: { id: 'int' }, maxNullRate: { id: 0 }, rowCount: { min: 1 } });
  for (const c of [...r, ...l]) ctx.log(`passed: ${c.check} (${c.found})`);
  return { ratings: ratings.numRows, listings: listings.numRows };
}, { version: CODE });

interface PrepareParams {
  feedback: 'auto' | 'implicit' | 'explicit';
  maxEvalUsers: number;
}

/** Featurize: the feature store's views built and materialized (Redis when `redisUrl`), the neural model's listing features. */
export const featurize = step('featurize', async (
  { tables, feedback, maxEvalUsers, neural, redisUrl }: PrepareParams & { tables: DatasetArtifact; neural: boolean; redisUrl: string; validated: number },
  ctx,
) => {
  const t = stageTimer(logTo(ctx));
  const { p, ratings, listings, listingIds } = await preparedOf(ctx, tables, { feedback, maxEvalUsers }, quiet());
  const run = await ctx.run();
  const fs = new FeatureStore({
    registry: new PlatformFeatureRegistry(run.store), numPartitions: 2,
    ...(redisUrl ? { online: { redis: { url: redisUrl, prefix: REDIS_PREFIX } } } : {}),
  });
  try {
    const f = await featureStage(fs, () => fromArrow(listings), () => fromArrow(ratings), listingIds, p, neuralOptionsOf({ neural: neural ? undefined : false }), t);
    const listing = f.listing
      ? await ctx.saveModel('listing-features', {
        flavor: 'rental-recs.listing-features', meta: { width: f.listing.width, imputed: f.listing.imputed, parts: f.listing.parts, absent: f.listing.absent }, tensors: { matrix: f.listing.matrix },
      })
      : null;
    const report: StepReport = { sizes: f.sizes, notes: f.notes, stages: t.stages };
    return { listing, features: f.features ?? null, report };
  } finally {
    await fs.close();
  }
}, { version: CODE });

/** Tune ALS: the grid on train → validation, each trial a child run of the step's run. An empty grid list takes the feedback's default. */
export const tuneAls = step('tune-als', async (
  { tables, feedback, maxEvalUsers, rank, regParam, maxIter, alpha }: PrepareParams & { tables: DatasetArtifact; rank: number[]; regParam: number[]; maxIter: number[]; alpha: number; validated: number },
  ctx,
) => {
  const t = stageTimer(logTo(ctx));
  const { p } = await preparedOf(ctx, tables, { feedback, maxEvalUsers }, quiet());
  const d = DEFAULT_GRIDS[p.x.feedback];
  const grid = { rank: rank.length ? rank : d.rank, regParam: regParam.length ? regParam : d.regParam, maxIter: maxIter.length ? maxIter : d.maxIter };
  const r = await withActiveRun(await ctx.run(), () => tuneStage(p, grid, alpha, t));
  const report: StepReport & { grid: JobResult['grid']; gridMetric: string } = { notes: r.notes, stages: t.stages, grid: r.grid, gridMetric: r.gridMetric };
  return { best: r.best, report };
}, { version: CODE });

/** Train neural: the two-tower model on the training rows and on train + validation (evaluation's fits), in parallel with tune-als. */
export const trainNeural = step('train-neural', async (
  { tables, feedback, maxEvalUsers, neural, listing }: PrepareParams & { tables: DatasetArtifact; neural: boolean; listing: ModelArtifact | null },
  ctx,
) => {
  const t = stageTimer(logTo(ctx));
  if (!neural || !listing) return { fits: null, report: { stages: [] } satisfies StepReport };
  const { p } = await preparedOf(ctx, tables, { feedback, maxEvalUsers }, quiet());
  const fits = await neuralStage(p, await listingFeaturesOf(ctx, listing), neuralOptionsOf({}) as NeuralRecommenderOptions, t);
  const saved: Record<string, ModelArtifact> = {};
  for (const [label, f] of Object.entries(fits)) {
    const { users, items, userValid, itemValid } = f.scorer;
    saved[label] = await ctx.saveModel(`neural-${label.replace('+', '-')}`, {
      flavor: 'rental-recs.factors', meta: { name: f.scorer.name, rank: f.scorer.rank, loss: f.loss }, tensors: { users, items, userValid, itemValid },
    });
  }
  return { fits: saved, report: { stages: t.stages } satisfies StepReport };
}, { version: CODE });

/** Evaluate: candidates validated (the selection rule) and tested, the served model fitted on all stays, its top-N written; the served model saved. */
export const evaluate = step('evaluate', async (
  { tables, target, source, listing, neuralFits, best, feedback, maxEvalUsers, serve, topN, alpha, neural }: PrepareParams & {
    tables: DatasetArtifact; target: Target; source: JobResult['source'] | null; listing: ModelArtifact | null; neuralFits: Record<string, ModelArtifact> | null;
    best: JobResult['best']; serve: ServeChoice; topN: number; alpha: number; neural: boolean;
  },
  ctx,
) => {
  const t = stageTimer(logTo(ctx));
  const o: JobOptions = { feedback, maxEvalUsers, serve, topN, alpha, keepModel: true, ...(neural ? {} : { neural: false }) };
  const { p, listings } = await preparedOf(ctx, tables, o, t);
  const info = await t.timed('read listing content', () => readListingInfo(fromArrow(listings), p.x.catalogue));
  const fits: Record<string, NeuralFitResult> = {};
  for (const [label, ref] of Object.entries(neuralFits ?? {})) fits[label] = await neuralFitOf(ctx, ref);
  const ev = await evaluateStage(p, {
    target, info, best, listing: listing ? await listingFeaturesOf(ctx, listing) : undefined, neuralOptions: neuralOptionsOf(o), neuralFits: fits,
  }, o, t, source?.hash);
  const { model, ...rest } = ev;
  const evaluation: Evaluation = { ...rest, feedback: p.x.feedback, split: p.splitInfo, k: K, sizes: p.sizes, prepareNotes: p.notes, stages: t.stages };
  // The metrics and tags the champion rule reads (tracking.ts) go on this run: it logged the model the registry points to.
  const candidate = await logCandidates(await ctx.run(), evaluation, tables.datasetVersion ?? tables.sha256);
  return {
    evaluation: await ctx.saveFile('evaluation.json', encodeJson(evaluation)),
    model: await ctx.saveModel('model', servedModelContents(model!)),
    served: { id: ev.served.id, name: ev.served.name, reason: ev.served.reason },
    candidate,
  };
}, { version: CODE });

/** What evaluate saves: its part of the job's result. */
type Evaluation = Omit<Awaited<ReturnType<typeof evaluateStage>>, 'model'> & Pick<JobResult, 'feedback' | 'split' | 'k' | 'sizes' | 'stages'> & { prepareNotes: string[] };

/** Compare with the champion: the champion rule (tracking.ts chooseAlias) on the registry as it is now. */
export const compare = step('compare', async ({ candidate }: { candidate: { ndcg: number; protocol: string }; model: ModelArtifact }, ctx) => {
  const champion = await championOf((await ctx.run()).store);
  const decision = chooseAlias(candidate, champion);
  ctx.log(`${decision.alias}: ${decision.reason}`);
  return { alias: decision.alias, reason: decision.reason, champion: champion?.version ?? null };
}, { version: CODE });

/** Register: the served model as a new version of `rental-recs`, with the alias compare decided. */
export const register = step('register', async (
  { model, decision, served }: { model: ModelArtifact; decision: { alias: 'champion' | 'challenger'; reason: string; champion: number | null }; served: { name: string; reason: string } },
  ctx,
) => {
  const run = await ctx.run();
  const version = await registerServed(run.store, model.uri, `${served.name}: ${served.reason}`, decision, decision.champion ?? undefined);
  await run.setTags({ alias: decision.alias, model_version: String(version) });
  ctx.log(`registered version ${version} as ${decision.alias}`);
  return { version, alias: decision.alias, reason: decision.reason };
}, { version: CODE });

const SOURCE = ['input', 'dataDir', 'databaseUrl', 'pgSchema', 'loadAlbany', 'synthetic', 'seed', 'albanyDir', 'dataRoot', 'schemaFile'] as const;
const prepareInputs = { tables: fromStep('ingest', 'tables'), feedback: fromParam('feedback'), maxEvalUsers: fromParam('maxEvalUsers') };

export const rentalPipeline = pipeline('rental-recs', {
  description: 'the rental recommendations job: ingest → validate → featurize → tune ALS ∥ train neural → evaluate → compare → register',
  params: {
    input: param.string({ default: '', description: "a city's Inside Airbnb CSV folder ('' = Albany for the embedded default)" }),
    dataDir: param.string({ default: '', description: 'Parquet table folder of the embedded default (read as it is when no input is given)' }),
    databaseUrl: param.string({ default: '', description: 'PostgreSQL URL (else the embedded default: Parquet files)' }),
    pgSchema: param.string({ default: 'public' }),
    loadAlbany: param.boolean({ default: false, description: 'load the Albany data into PostgreSQL first' }),
    synthetic: param.int({ default: 0, min: 0, description: 'generate ≈N synthetic ratings first (0: none)' }),
    seed: param.int({ default: 42 }),
    albanyDir: param.string({ default: foundAlbany(), description: 'the Albany CSV folder (default: data/airbnb-albany of this checkout, or SHOAL_DATA_DIR)' }),
    dataRoot: param.string({ default: DEFAULT_PATHS.dataRoot, description: "where the embedded default's table folders go (examples/rental-recs/data)" }),
    schemaFile: param.string({ default: schemaSqlFile() ?? '', description: 'schema.sql, for the PostgreSQL tables a load creates' }),
    feedback: param.string({ default: 'auto', choices: ['auto', 'implicit', 'explicit'] }),
    neural: param.boolean({ default: true, description: 'featurize and train the neural model' }),
    serve: param.string({ default: 'best', choices: SERVE_CHOICES, description: 'the served model (best = the selection rule on validation)' }),
    rank: param.list<number>({ of: 'int', default: [], description: "ALS grid ranks ([] = the feedback's default)" }),
    regParam: param.list<number>({ of: 'number', default: [] }),
    maxIter: param.list<number>({ of: 'int', default: [] }),
    alpha: param.number({ default: 20, min: 0 }),
    topN: param.int({ default: 5, min: 1 }),
    maxEvalUsers: param.int({ default: 50_000, min: 1 }),
    maxRowChange: param.number({ default: 0.5, min: 0, description: "validate: the largest change of the ratings' row count against the last run (0.5 = ±50 %)" }),
    redisUrl: param.string({ default: '', description: 'Redis online store of the feature store (else in-process)' }),
  },
  steps: [
    { step: ingest, inputs: { ...Object.fromEntries(SOURCE.map((k) => [k, fromParam(k)])), neural: fromParam('neural') } },
    { step: validate, inputs: { tables: fromStep('ingest', 'tables'), maxRowChange: fromParam('maxRowChange') } },
    { step: featurize, inputs: { ...prepareInputs, neural: fromParam('neural'), redisUrl: fromParam('redisUrl'), validated: fromStep('validate', 'ratings') } },
    {
      step: tuneAls, inputs: {
        ...prepareInputs, rank: fromParam('rank'), regParam: fromParam('regParam'), maxIter: fromParam('maxIter'), alpha: fromParam('alpha'), validated: fromStep('validate', 'ratings'),
      },
    },
    { step: trainNeural, inputs: { ...prepareInputs, neural: fromParam('neural'), listing: fromStep('featurize', 'listing') } },
    {
      step: evaluate, inputs: {
        ...prepareInputs, target: fromStep('ingest', 'target'), source: fromStep('ingest', 'source'), listing: fromStep('featurize', 'listing'),
        neuralFits: fromStep('train-neural', 'fits'), best: fromStep('tune-als', 'best'), serve: fromParam('serve'), topN: fromParam('topN'), alpha: fromParam('alpha'),
        neural: fromParam('neural'),
      },
    },
    { step: compare, inputs: { candidate: fromStep('evaluate', 'candidate'), model: fromStep('evaluate', 'model') } },
    { step: register, inputs: { model: fromStep('evaluate', 'model'), decision: fromStep('compare'), served: fromStep('evaluate', 'served') } },
  ],
});

export default rentalPipeline;

/** What the register step returns. */
export interface Registered {
  version: number;
  alias: 'champion' | 'challenger';
  reason: string;
}

async function readRunsArtifact(store: Store, ref: FileArtifact | ModelArtifact): Promise<Uint8Array> {
  const m = /^runs:\/([^/]+)\/(.+)$/.exec(ref.uri);
  if (!m) throw new Error(`${ref.uri} is not an artifact of a step run`);
  return store.readArtifact(m[1]!, m[2]!);
}

/**
 * The job's result (what job.ts's runJob returns, without the feature store and the model object)
 * put together from a finished run's step outputs, in the process that ran it: report.ts prints
 * and writes it as it does for runJob. Stage timings are each step's own, from the run that
 * computed it (a cached step's are its first run's).
 */
export async function rentalResult(store: Store, run: Pick<PipelineRunResult, 'outputs'>): Promise<{ result: JobResult; registered: Registered; model: ModelArtifact }> {
  const out = run.outputs as Record<string, Record<string, unknown>>;
  const ingestOut = out.ingest as { target: Target; source: JobResult['source'] | null; report: StepReport };
  const feat = out.featurize as { features: JobResult['features'] | null; report: StepReport };
  const tune = out['tune-als'] as { best: JobResult['best']; report: StepReport & { grid: JobResult['grid']; gridMetric: string } };
  const neural = out['train-neural'] as { report: StepReport };
  const ev = out.evaluate as { evaluation: FileArtifact; model: ModelArtifact };
  const e = decodeJson(new TextDecoder().decode(await readRunsArtifact(store, ev.evaluation))) as Evaluation;
  const { prepareNotes, sizes, stages, notes, ...rest } = e;
  const result: JobResult = {
    ...rest,
    target: describeTarget(ingestOut.target), data: ingestOut.target, source: ingestOut.source ?? undefined,
    sizes: { ...ingestOut.report.sizes, ...sizes, ...feat.report.sizes },
    stages: [...ingestOut.report.stages, ...feat.report.stages, ...tune.report.stages, ...neural.report.stages, ...stages],
    grid: tune.report.grid, gridMetric: tune.report.gridMetric, best: tune.best,
    notes: [...(ingestOut.report.notes ?? []), ...prepareNotes, ...(feat.report.notes ?? []), ...(tune.report.notes ?? []), ...notes],
    featureStore: undefined, features: feat.features ?? undefined, model: undefined,
  };
  return { result, registered: out.register as unknown as Registered, model: ev.model };
}
