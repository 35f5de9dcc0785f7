/**
 * Every `npm start` is a run in the platform store (`shoal/store`: SQLite under $SHOAL_HOME by
 * default, PostgreSQL when SHOAL_METADATA_URL is set): the job's options as params, the data version
 * it read, each ALS grid trial as a child run (job.ts, through the active run), each candidate's
 * validation and test metrics, the HTML and JSON reports as artifacts, and the served model —
 * registered as a new version of `rental-recs`.
 *
 * The champion rule: a new version becomes `champion` only when it beats the current champion on the
 * same validation protocol — the same data version, the same split cuts, K and evaluated users
 * (their digest is the run's `validation_protocol` tag) — by a higher validation NDCG@K of the served
 * model; or when there is no champion yet. Otherwise it becomes `challenger`: a version evaluated on
 * other data is never compared by its number alone.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { openStore, setActiveRun, type DatasetVersion, type Run, type Store } from 'shoal/store';
import type { JobOptions, JobResult } from './job.js';
import { servedModelContents } from './model-store.js';

export const MODEL_NAME = 'rental-recs';
export const EXPERIMENT = 'rental-recs';

export interface Tracking {
  store: Store;
  run: Run;
  ended?: boolean;
}

/** The commit of the working tree, when it is a git checkout (undefined otherwise). */
function gitCommit(): string | undefined {
  try {
    return execFileSync('git', ['rev-parse', 'HEAD'], { stdio: ['ignore', 'pipe', 'ignore'], timeout: 5_000 }).toString().trim() || undefined;
  } catch {
    return undefined;
  }
}

/** Opens the store and starts this job's run, active for autologging and the grid's child runs. */
export async function startTracking(options: JobOptions & { outDir?: string }): Promise<Tracking> {
  const store = await openStore();
  const params: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(options)) if (v !== undefined && typeof v !== 'function' && k !== 'hooks' && k !== 'log' && k !== 'databaseUrl') params[k] = v;
  if (options.databaseUrl) params.database = 'postgres';
  const run = await store.startRun({ experiment: EXPERIMENT, name: `rental-recs ${new Date().toISOString().slice(0, 19)}`, params, gitCommit: gitCommit() });
  setActiveRun(run);
  return { store, run };
}

/**
 * The files of the tables `ratings` and `listings` under `dir`, each by its sha256 (DVC-style). A
 * table is a link to its current version folder (parquet-versions.ts); a part file's random write
 * suffix is dropped from its recorded name, so the same content is the same data version.
 */
export function tableFiles(dir: string): Array<{ path: string; sha256: string; bytes: number }> {
  const out: Array<{ path: string; sha256: string; bytes: number }> = [];
  for (const table of ['ratings', 'listings']) {
    const root = realpathSync(join(dir, table));
    const walk = (d: string): void => {
      for (const e of readdirSync(d, { withFileTypes: true })) {
        const p = join(d, e.name);
        if (e.isDirectory()) walk(p);
        else if (e.isFile()) {
          const bytes = readFileSync(p);
          const name = relative(root, p).replace(/-[0-9a-f]{8}(\.parquet)$/, '$1');
          out.push({ path: `${table}/${name}`, sha256: createHash('sha256').update(bytes).digest('hex'), bytes: bytes.byteLength });
        }
      }
    };
    walk(root);
  }
  return out;
}

/** Records the data version the job read: the Parquet table files by content, or the PostgreSQL tables at the snapshot the run began with. */
async function logData(t: Tracking, result: JobResult, pgSnapshot: string | undefined): Promise<DatasetVersion> {
  const details = { rowCount: result.sizes.ratings, schema: { user_id: 'int64', listing_id: 'int64', rating: 'float64', rated_at: 'timestamp' }, profile: { ...result.sizes } };
  const d = result.data;
  const version = d.kind === 'parquet' && statSync(d.dir, { throwIfNoEntry: false })?.isDirectory()
    ? await t.store.logDatasetFiles('rental-ratings', tableFiles(d.dir), details)
    : await t.store.logDatasetSnapshot('rental-ratings', {
      database: d.kind === 'postgres' ? d.url : 'unknown', relation: d.kind === 'postgres' ? `${d.schema}.ratings, ${d.schema}.listings` : result.target,
      snapshot: pgSnapshot ?? 'unknown',
    }, details);
  await t.run.logInput(version, { role: 'training' });
  return version;
}

/** The snapshot PostgreSQL is at (`pg_current_snapshot()`), taken as the run begins: the tables the job reads are at it or later. */
export async function snapshotNow(url: string): Promise<string | undefined> {
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
  try {
    await client.connect();
    return (await client.query<{ s: string }>('SELECT pg_current_snapshot()::text AS s')).rows[0]?.s;
  } catch {
    return undefined;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** The digest that says two runs validated the same way (see the file header). */
export function validationProtocol(result: Pick<JobResult, 'candidates' | 'served' | 'split' | 'k'>, dataVersion: string): string {
  const served = result.candidates.find((c) => c.id === result.served.id);
  const key = { data: dataVersion, split: result.split, k: result.k, users: served?.validation.users ?? 0, metric: `ndcg@${result.k}` };
  return createHash('sha256').update(JSON.stringify(key)).digest('hex').slice(0, 16);
}

/** The alias decision (see the file header). */
export function chooseAlias(
  candidate: { ndcg: number; protocol: string },
  champion: { version: number; ndcg: number | undefined; protocol: string | undefined } | undefined,
): { alias: 'champion' | 'challenger'; reason: string } {
  if (!champion) return { alias: 'champion', reason: 'no champion yet' };
  if (champion.protocol !== candidate.protocol || champion.ndcg === undefined) {
    return { alias: 'challenger', reason: `champion v${champion.version} was validated on another protocol (${champion.protocol ?? 'none'} ≠ ${candidate.protocol}): not comparable, the champion stays` };
  }
  if (candidate.ndcg > champion.ndcg) return { alias: 'champion', reason: `validation NDCG ${candidate.ndcg.toFixed(4)} > champion v${champion.version}'s ${champion.ndcg.toFixed(4)} on the same protocol ${candidate.protocol}` };
  return { alias: 'challenger', reason: `validation NDCG ${candidate.ndcg.toFixed(4)} ≤ champion v${champion.version}'s ${champion.ndcg.toFixed(4)} on the same protocol ${candidate.protocol}` };
}

/** What the run ended with: the registered version and the alias it got. */
export interface TrackedOutcome {
  runId: string;
  dataVersion: string;
  version: number;
  alias: 'champion' | 'challenger';
  reason: string;
}

/** The current champion of `rental-recs`: its version, validation NDCG and protocol (from the run that logged it), or undefined. */
export async function championOf(store: Store): Promise<Parameters<typeof chooseAlias>[1]> {
  let current: number | undefined;
  try {
    current = (await store.getModel(MODEL_NAME)).aliases.champion;
  } catch {
    current = undefined;
  }
  if (current === undefined) return undefined;
  const cv = await store.getModelVersion(MODEL_NAME, current);
  const cr = cv.runId ? await store.getRunInfo(cv.runId) : undefined;
  return { version: current, ndcg: cr?.metrics['val.ndcg'], protocol: cr?.tags.validation_protocol };
}

/**
 * Logs each candidate's validation and test metrics on `run`, the served model's as `val.ndcg` /
 * `test.ndcg`, and the tags the champion rule reads; returns the served model's validation NDCG and the protocol.
 */
export async function logCandidates(
  run: Run, result: Pick<JobResult, 'candidates' | 'served' | 'split' | 'k'>, dataVersion: string,
): Promise<{ ndcg: number; protocol: string }> {
  for (const c of result.candidates) {
    for (const m of ['ndcg', 'hr', 'recall'] as const) {
      run.logMetric(`val.${c.id}.${m}`, c.validation[m].mean);
      if (c.test) run.logMetric(`test.${c.id}.${m}`, c.test[m].mean);
    }
  }
  const served = result.candidates.find((c) => c.id === result.served.id)!;
  const protocol = validationProtocol(result, dataVersion);
  run.logMetrics({ 'val.ndcg': served.validation.ndcg.mean, ...(served.test ? { 'test.ndcg': served.test.ndcg.mean } : {}) });
  await run.setTags({ served: result.served.id, validation_protocol: protocol, data_version: dataVersion });
  return { ndcg: served.validation.ndcg.mean, protocol };
}

/** Registers `modelUri` as a new version and moves the alias `decision` names (only if the champion is still `champion`). */
export async function registerServed(
  store: Store, modelUri: string, description: string, decision: { alias: 'champion' | 'challenger'; reason: string }, champion: number | undefined,
): Promise<number> {
  const v = await store.registerModel(MODEL_NAME, modelUri, { description });
  // ifCurrent: if another job moved the champion meanwhile, this move fails instead of overwriting it.
  await store.setAlias(MODEL_NAME, decision.alias, v.version, { reason: decision.reason, ifCurrent: decision.alias === 'champion' ? champion ?? null : undefined });
  return v.version;
}

/** Logs the result, registers the served model, moves `champion` or `challenger`, ends the run. */
export async function finishTracking(t: Tracking, result: JobResult, reports: { html: string; json: string }, pgSnapshot?: string): Promise<TrackedOutcome> {
  const { store, run } = t;
  const data = await logData(t, result, pgSnapshot);
  const candidate = await logCandidates(run, result, data.id);
  await run.logArtifacts({ 'report.html': readFileSync(reports.html), 'report.json': readFileSync(reports.json) });
  if (!result.model) throw new Error('the job kept no model (options.keepModel must be true when tracking)');
  const uri = await run.logModel('model', servedModelContents(result.model));
  await run.flush();
  const champion = await championOf(store);
  const decision = chooseAlias(candidate, champion);
  const version = await registerServed(store, uri, `${result.served.name}: ${result.served.reason}`, decision, champion?.version);
  await run.setTags({ alias: decision.alias, model_version: String(version) });
  return { runId: run.id, dataVersion: data.id, version, alias: decision.alias, reason: decision.reason };
}

/** Ends the run (FAILED with the error when the job threw) and closes the store. */
export async function endTracking(t: Tracking, error?: unknown): Promise<void> {
  setActiveRun(undefined);
  if (t.ended) return;
  t.ended = true;
  try {
    await t.run.end(error === undefined ? 'FINISHED' : 'FAILED', error === undefined ? undefined : String((error as Error)?.message ?? error));
  } finally {
    await t.store.close();
  }
}
