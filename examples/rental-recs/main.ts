/**
 * The rental recommendations job (issue 7) — what `npm start` runs:
 *
 *   node dist/examples/rental-recs/main.js [--input DIR] [--synthetic N] [--seed S] [--database-url URL] [--schema S]
 *     [--load DIR | --load-albany] [--data-dir DIR] [--out DIR] [--model best|popular|neighbourhood|knn|als|neural|hybrid] [--no-neural] [--no-cache]
 *     [--serve | --live [--incoming DIR]] [--port 8000] [--host 127.0.0.1] [--replicas 2] [--redis URL]
 *
 * `--model` picks the served model (`--serve MODEL` is the older spelling of it and still works).
 * `--serve` (with no model) keeps the cluster up after the job and serves the model at
 * GET /recommendations/{user_id}?k=5 and POST /recommendations until interrupted (live.ts), with a
 * serving key created at start and printed once. `--live` (alone or with `--serve`) serves ALS
 * (the job's tuned parameters) and applies new ratings as they arrive (live-updates.ts): inserts
 * into PostgreSQL's `ratings`/`listings` by logical replication with DATABASE_URL, else CSV files
 * dropped into `--incoming DIR` (default `<out>/incoming`); SIGHUP retrains it and hot-swaps. The replicas read the user's and the answered
 * listings' features from the job's feature store: Redis with `--redis redis://host:port/db` (or
 * SHOAL_REDIS_URL; keys under the prefix `shoal:rental-recs`), else a copy of its in-process online
 * store (serving-features.ts). The feature definitions are versioned in the platform store the run
 * is tracked in (PlatformFeatureRegistry).
 *
 * The job runs as the pipeline of pipeline.ts (cached steps recorded in the platform store; `--no-cache`
 * runs every step); the report is put together from the run's outputs (rentalResult).
 *
 * Starts a local cluster (or joins SHOAL_ADDRESS), reads ratings from PostgreSQL when DATABASE_URL
 * (or --database-url) is set, otherwise from Parquet files under examples/rental-recs/data/ (the
 * city in --input / SHOAL_DATA_DIR, Albany by default, loaded into them once per content hash), tunes ALS, trains it and the neural two-tower
 * model, chooses the served model on validation, evaluates both against a most-popular baseline on
 * test, writes the top-5 per user and prints a report (+ HTML).
 */
import { join } from 'node:path';
import { init, isMain, shutdown } from 'shoal';
import { FeatureStore, PlatformFeatureRegistry } from 'shoal/features';
import { PipelineRunError, runPipeline, type PipelineRunResult } from 'shoal/platform';
import { createServeKey } from 'shoal/serve';
import { openStore, type Store } from 'shoal/store';
import { buildRentalFeatures } from './feature-views.js';
import { EXAMPLE_DIR, SERVE_CHOICES, type JobOptions, type JobResult, type ServeChoice } from './job.js';
import { exposureDirOf, serveFromRegistry, serveLive } from './live.js';
import type { LiveSourceSpec } from './live-updates.js';
import type { ServedModel } from './served-model.js';
import { servedModelFromStored } from './model-store.js';
import { PIPELINE_MODULE, REDIS_PREFIX, rentalPipeline, rentalResult } from './pipeline.js';
import { servingFeaturesOf, type ServingFeatures } from './serving-features.js';
import { textReport, writeHtmlReport, writeJsonReport } from './report.js';
import { readTable } from './storage.js';
import { EXPERIMENT, MODEL_NAME } from './tracking.js';

export interface MainOptions extends JobOptions {
  outDir: string;
  /** Serve the model after the job (`--serve`); `updates`: apply new ratings as they arrive (`--live`). */
  live?: { host: string; port: number; replicas: number; updates: boolean; incoming?: string | undefined } | undefined;
  /** The feature store's online store (`--redis URL`, SHOAL_REDIS_URL). @default in-process */
  redisUrl?: string | undefined;
  /** Run every step, even those with a cached result (`--no-cache`). */
  noCache?: boolean;
}

export { REDIS_PREFIX };

const isModel = (v: string | undefined): v is ServeChoice => v !== undefined && (SERVE_CHOICES as readonly string[]).includes(v);

export function parseArgs(argv: string[]): MainOptions {
  let live: { host?: string; port?: number; replicas?: number; on: boolean; updates?: boolean; incoming?: string } = { on: false };
  const o: MainOptions = {
    databaseUrl: process.env.DATABASE_URL || undefined, outDir: join(EXAMPLE_DIR, 'out'), input: process.env.SHOAL_DATA_DIR || undefined,
    redisUrl: process.env.SHOAL_REDIS_URL || undefined,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const [flag, inline] = a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
    const value = (): string => {
      const v = inline ?? argv[++i];
      if (v === undefined) throw new Error(`${flag} needs a value`);
      return v;
    };
    const count = (s: string): number => {
      const m = /^(\d+(?:\.\d+)?)([kKmM]?)$/.exec(s);
      if (!m) throw new Error(`${flag} needs a number like 10000, 500k or 10m (got ${s})`);
      return Math.round(Number(m[1]) * (m[2]?.toLowerCase() === 'm' ? 1e6 : m[2]?.toLowerCase() === 'k' ? 1e3 : 1));
    };
    if (flag === '--synthetic') o.synthetic = count(value());
    else if (flag === '--seed') o.seed = Number(value());
    else if (flag === '--database-url') o.databaseUrl = value();
    else if (flag === '--schema') o.pgSchema = value();
    else if (flag === '--load-albany') o.loadAlbany = true;
    else if (flag === '--input' || flag === '--load') o.input = value();
    else if (flag === '--data-dir') o.dataDir = value();
    else if (flag === '--out') o.outDir = value();
    else if (flag === '--model' || (flag === '--serve' && (inline !== undefined || isModel(argv[i + 1])))) {
      const v = value();
      if (!isModel(v)) throw new Error(`${flag} must be one of ${SERVE_CHOICES.join(', ')} (got ${v})`);
      o.serve = v;
    } else if (flag === '--serve' && inline === undefined) live.on = true;
    else if (flag === '--live' && inline === undefined) live = { ...live, on: true, updates: true };
    else if (flag === '--incoming') live = { ...live, incoming: value() };
    else if (flag === '--port') live = { ...live, port: integer(value(), flag, 0, 65_535) };
    else if (flag === '--host') live = { ...live, host: value() };
    else if (flag === '--replicas') live = { ...live, replicas: integer(value(), flag, 1, 64) };
    else if (flag === '--no-neural' && inline === undefined) o.neural = false;
    else if (flag === '--no-cache' && inline === undefined) o.noCache = true;
    else if (flag === '--redis') {
      const v = value();
      if (!/^redis:\/\/[^/\s]+(\/\d+)?$/.test(v)) throw new Error(`--redis needs a URL like redis://127.0.0.1:6379/0 (got ${v})`);
      o.redisUrl = v;
    }
    else throw new Error(`unknown option ${a} (options: --synthetic N, --seed S, --database-url URL, --schema S, --input DIR, --load DIR, --load-albany, --data-dir DIR, --out DIR, --model best|popular|neighbourhood|knn|als|neural|hybrid, --no-neural, --no-cache, --serve | --live [--incoming DIR], --port N, --host H, --replicas N, --redis URL)`);
  }
  if (!live.on && (live.port !== undefined || live.host !== undefined || live.replicas !== undefined)) throw new Error('--port, --host and --replicas go with --serve or --live');
  if (live.incoming !== undefined && !live.updates) throw new Error('--incoming goes with --live');
  if (live.updates && o.serve !== undefined && o.serve !== 'als') throw new Error(`--live serves ALS (the model new ratings are folded into); it cannot serve --model ${o.serve}`);
  if (live.on) {
    o.live = { host: live.host ?? '127.0.0.1', port: live.port ?? 8000, replicas: live.replicas ?? 2, updates: live.updates === true, incoming: live.incoming };
    o.keepModel = true;
  }
  return o;
}

function integer(s: string, flag: string, min: number, max: number): number {
  const n = Number(s);
  if (!/^\d+$/.test(s) || n < min || n > max) throw new Error(`${flag} needs an integer from ${min} to ${max} (got ${s})`);
  return n;
}

/** The pipeline's parameters for these options (see pipeline.ts). */
export function pipelineParams(o: MainOptions): Record<string, unknown> {
  return {
    input: o.input ?? '', dataDir: o.dataDir ?? '', databaseUrl: o.databaseUrl ?? '', pgSchema: o.pgSchema ?? 'public', loadAlbany: o.loadAlbany ?? false,
    synthetic: o.synthetic ?? 0, seed: o.seed ?? 42, feedback: o.feedback ?? 'auto', neural: o.neural !== false, serve: o.serve ?? 'best',
    ...(o.grid ? { rank: o.grid.rank, regParam: o.grid.regParam, maxIter: o.grid.maxIter } : {}),
    ...(o.alpha !== undefined ? { alpha: o.alpha } : {}), ...(o.topN !== undefined ? { topN: o.topN } : {}),
    ...(o.maxEvalUsers !== undefined ? { maxEvalUsers: o.maxEvalUsers } : {}), redisUrl: o.redisUrl ?? '',
  };
}

/**
 * Serves `models:/rental-recs@champion` (the champion may be an earlier version: the rule in
 * tracking.ts) until SIGINT / SIGTERM, with the features of the tables the run read, built into a
 * feature store here (Redis when `--redis`, else in-process).
 */
async function serveUntilInterrupted(store: Store, result: JobResult, o: MainOptions, tokenFile: string | undefined, version: number | undefined): Promise<void> {
  const live = o.live!;
  const featureStore = new FeatureStore({
    registry: new PlatformFeatureRegistry(store), numPartitions: 2,
    ...(o.redisUrl ? { online: { redis: { url: o.redisUrl, prefix: REDIS_PREFIX } } } : {}),
  });
  try {
    await buildRentalFeatures(featureStore, readTable(result.data, 'listings'), readTable(result.data, 'ratings'));
    const features = await servingFeaturesOf(featureStore);
    if (live.updates) {
      // This run's served model: the catalogue, neighbourhoods and fallback the live ALS model keeps.
      const base = servedModelFromStored(await store.loadModel(`models:/${MODEL_NAME}/${version}`));
      await serveLiveUntilInterrupted(result, base, features, live, tokenFile, o.outDir);
      return;
    }
    const key = createServeKey({ name: 'rental-recs' });
    const uri = `models:/${MODEL_NAME}@champion`;
    const { serve, exposure, model } = await serveFromRegistry(uri, { host: live.host, port: live.port, numReplicas: live.replicas, clusterTokenFile: tokenFile, exposureDir: exposureDirOf(o.outDir), features });
    console.log(`serving ${uri} (registry version ${model.label}), ${live.replicas} replicas, at ${serve.url}/recommendations`);
    console.log(`features: the ${featureStore.online.target} online store`);
    console.log(`serving key (shown once): ${key}`);
    const user = servedModelFromStored(await store.loadModel(uri)).userIds[0] ?? '42';
    console.log(`  curl -H "Authorization: Bearer ${key}" '${serve.url}/recommendations/${user}?k=5'`);
    console.log(`exposure log: ${exposure.dir}; Ctrl-C stops`);
    await new Promise<void>((resolve) => {
      process.once('SIGINT', () => resolve());
      process.once('SIGTERM', () => resolve());
    });
    await serve.shutdown();
    console.log(`stopped; exposure log: ${exposure.written} answers written to ${exposure.dir}`);
  } finally {
    await featureStore.close();
  }
}

/**
 * `--live`: serves ALS fitted at the start and applies new ratings as they arrive (live-updates.ts)
 * until SIGINT / SIGTERM; SIGHUP retrains and hot-swaps.
 */
async function serveLiveUntilInterrupted(result: JobResult, base: ServedModel, features: ServingFeatures, live: NonNullable<MainOptions['live']>, tokenFile: string | undefined, outDir: string): Promise<void> {
  const key = createServeKey({ name: 'rental-recs live' });
  const data = result.data;
  const incoming = live.incoming ?? join(outDir, 'incoming');
  const source: LiveSourceSpec = data.kind === 'postgres' ? { kind: 'postgres', url: data.url, schema: data.schema } : { kind: 'folder', dir: incoming, tables: data };
  console.log(`live: fitting ALS (rank ${result.best.rank}, λ ${result.best.regParam}, ${result.best.maxIter} iter) on the ratings at the start…`);
  const { serve, exposure, live: job } = await serveLive({
    host: live.host, port: live.port, numReplicas: live.replicas, clusterTokenFile: tokenFile, exposureDir: exposureDirOf(outDir), features,
    base, feedback: result.feedback, als: result.best, source,
    onBatch: (b) => console.log(`live: ${b.records} change(s) → ${b.users} user(s) refit${b.listings ? `, ${b.listings} new listing(s)` : ''} on every replica in ${b.ms.toFixed(1)} ms (held ${b.stats.held}, rejected ${Object.values(b.stats.rejected).reduce((a, c) => a + c, 0)})`),
  });
  void job.finished.then(() => {
    if (job.error) console.error(`live: new ratings are no longer applied (the model keeps serving): ${job.error.message}`);
  });
  const user = job.model.userIds[0] ?? '42';
  console.log(`serving ${job.stats.version} (ALS, live), ${live.replicas} replicas, at ${serve.url}/recommendations`);
  console.log(data.kind === 'postgres'
    ? `new ratings: INSERT INTO ${data.schema}.ratings (user_id, listing_id, rating, rated_at) … (logical replication; listings too)`
    : `new ratings: drop a CSV file (user_id,listing_id,rating) into ${incoming} (write it under another name, then rename it to *.csv)`);
  console.log(`serving key (shown once): ${key}`);
  console.log(`  curl -H "Authorization: Bearer ${key}" '${serve.url}/recommendations/${user}?k=5'`);
  console.log(`retrain + hot swap: kill -HUP ${process.pid}; Ctrl-C stops`);
  const onHup = (): void => {
    console.log('live: retraining on every rating so far…');
    job.retrain().then(
      (r) => console.log(`live: now serving ${job.stats.version}; ${r.users} user(s) and ${r.listings} listing(s) that changed during the retrain folded in again`),
      (err: unknown) => console.error(`live: retrain failed, the model before keeps serving: ${String(err)}`),
    );
  };
  process.on('SIGHUP', onHup);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
  process.off('SIGHUP', onHup);
  await job.stop();
  await serve.shutdown();
  const s = job.stats;
  console.log(`stopped; live: ${s.applied} rating(s) applied in ${s.batches} batch(es), ${s.held} held, rejected ${JSON.stringify(s.rejected)}, ${s.retrains} retrain(s); exposure log: ${exposure.written} answers in ${exposure.dir}`);
}

/**
 * Runs the job's pipeline (pipeline.ts) on the cluster, recorded in the platform store (SQLite under
 * $SHOAL_HOME unless SHOAL_METADATA_URL is set), then prints and writes the report from its outputs.
 */
export async function main(argv = process.argv.slice(2)): Promise<void> {
  const options = parseArgs(argv);
  const cluster = await init();
  console.log(`shoal cluster at ${cluster.address}`);
  const store = await openStore();
  try {
    const t0 = performance.now();
    let run: PipelineRunResult;
    try {
      run = await runPipeline(rentalPipeline, { store, params: pipelineParams(options), experiment: EXPERIMENT, module: PIPELINE_MODULE, noCache: options.noCache ?? false });
    } catch (err) {
      if (err instanceof PipelineRunError) console.error(`look at it: shoal pipeline show ${err.runId} --logs`);
      throw err;
    }
    const wall = performance.now() - t0;
    const { result, registered } = await rentalResult(store, run);
    const html = writeHtmlReport(result, options.outDir);
    const json = writeJsonReport(result, options.outDir);
    console.log(textReport(result, html));
    console.log(`JSON report: ${json}`);
    const count = (st: string): number => run.steps.filter((s) => s.state === st).length;
    console.log(`\npipeline run ${run.runId} in ${store.description}: ${run.steps.length} steps, ${count('succeeded')} ran, ${count('cached')} cached (${(wall / 1000).toFixed(1)} s)`);
    console.log(`${MODEL_NAME} version ${registered.version} is '${registered.alias}' (${registered.reason})`);
    console.log(`look at it: shoal pipeline show ${run.runId} · shoal models show ${MODEL_NAME} · shoal lineage models:/${MODEL_NAME}/${registered.version}`);
    if (options.live) await serveUntilInterrupted(store, result, options, cluster.tokenFile, registered.version);
  } finally {
    await store.close();
    await shutdown();
  }
}

if (isMain(import.meta)) {
  main().catch((err: unknown) => {
    console.error(err instanceof Error ? `${err.name}: ${err.message}` : err);
    process.exit(1);
  });
}
