/**
 * The platform store: experiments and runs (tracking), artifacts, and — through registry.ts,
 * stored-model.ts and lineage.ts — the model registry, model loading and lineage. One class over
 * the one SQL backend interface, so SQLite and PostgreSQL run the same code; it outlives clusters
 * (see store-location.ts), so a second cluster sees the runs of the first.
 *
 * A run whose owner process died is marked FAILED: each RUNNING run records its owner's host and pid
 * and a heartbeat the owner refreshes every {@link HEARTBEAT_MS}. Opening a store and listing runs
 * sweep them: a run owned on this host by a pid that no longer runs, or whose heartbeat is older
 * than {@link STALE_MS} (any host), is marked FAILED with the reason in `failure`.
 */
import { hostname } from 'node:os';
import { ArtifactStore } from './artifact-store.js';
import { LineageStore, type DatasetDetails, type Lineage, type SnapshotSource } from './lineage.js';
import { parseModelUri } from './model-uri.js';
import { Registry, type SetAliasOptions } from './registry.js';
import { decodeModel, MODEL_FILE, type StoredModel } from './stored-model.js';
import { newId, STALE_MS } from './constants.js';
import { invalidOption, optionRules, pidAlive } from '../core/index.js';
import { ArtifactNotFoundError, ExperimentNotFoundError, RunNotFoundError } from './errors.js';
import { checkArtifactPath, checkName } from './names.js';
import { parseRunFilter } from './run-filter.js';
import { Run, type StartRunOptions } from './run.js';
import type { SqlBackend, SqlExecutor, SqlValue } from './sql/sql-backend.js';
import { migrate } from './sql/migrations.js';
import { isPostgresUrl, resolveStoreLocation, type StoreLocation, type StoreOptions } from './store-location.js';
import type {
  AliasChange, ArtifactEntry, DatasetFile, DatasetVersion, Experiment, MetricPoint, ModelVersion, RegisteredModel, RunComparison, RunDetail, RunInfo, RunInput, RunStatus,
} from './store-types.js';

/** Rows per `IN (...)` list. */
const IN_CHUNK = 500;


/** Options of {@link Store.searchRuns}. */
export interface SearchRunsOptions {
  /** Experiment names to search (default: all). */
  experiments?: readonly string[] | undefined;
  /** A filter expression (run-filter.ts), e.g. `metrics.ndcg > 0.1 and params.rank = '16'`. */
  filter?: string | undefined;
  /** Only children of this run. */
  parentRunId?: string | undefined;
  /** `metrics.<key>`, `params.<key>`, `start_time` or `name`, then `ASC` or `DESC`. @default 'start_time DESC' */
  orderBy?: string | undefined;
  /** @default 1000 */
  limit?: number | undefined;
}

interface RunRow {
  id: string; experiment_id: string; experiment_name: string; name: string; status: RunStatus; start_time: number; end_time: number | null;
  parent_run_id: string | null; code_hash: string | null; git_commit: string | null; failure: string | null; owner_host: string | null; owner_pid: number | null;
}

const RUN_COLUMNS = `r.id, r.experiment_id, e.name AS experiment_name, r.name, r.status, r.start_time, r.end_time, r.parent_run_id, r.code_hash,
  r.git_commit, r.failure, r.owner_host, r.owner_pid`;

export class Store {
  private closed = false;

  /** Registered models, versions, aliases (most of it is also here as methods). */
  readonly registry: Registry;
  /** Dataset versions and lineage queries. */
  readonly lineageStore: LineageStore;

  private constructor(readonly location: StoreLocation, readonly db: SqlBackend, readonly artifacts: ArtifactStore) {
    this.registry = new Registry(this);
    this.lineageStore = new LineageStore(this, this.registry);
  }

  /** Opens (creating and migrating) the store at `options` (see {@link StoreOptions}). */
  static async open(options?: StoreOptions): Promise<Store> {
    const location = resolveStoreLocation(options);
    let db: SqlBackend;
    if (isPostgresUrl(location.url)) {
      const { PostgresBackend } = await import('./sql/postgres-backend.js');
      const pgdb = new PostgresBackend(location.url);
      db = pgdb;
      try {
        await pgdb.connect();
      } catch (err) {
        await db.close().catch(() => undefined);
        throw err;
      }
    } else {
      const { SqliteBackend } = await import('./sql/sqlite-backend.js');
      db = new SqliteBackend(location.url);
    }
    try {
      await migrate(db);
    } catch (err) {
      await db.close().catch(() => undefined);
      throw err;
    }
    const store = new Store(location, db, new ArtifactStore(location.artifactDir));
    await store.markOrphanRuns();
    return store;
  }

  /** What the store is, for messages. */
  get description(): string {
    return this.db.description;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.db.close();
  }

  // Experiments ---------------------------------------------------------------------------------

  /** The experiment named `name`, made when missing. */
  async experiment(name: string, description?: string): Promise<Experiment> {
    checkName('experiment name', name);
    const found = await this.findExperiment(name);
    if (found) return found;
    await this.db.run(`INSERT INTO experiments (id, name, description, created_at) VALUES (?, ?, ?, ?) ON CONFLICT (name) DO NOTHING`, [newId(), name, description ?? null, Date.now()]);
    return (await this.findExperiment(name))!;
  }

  private async findExperiment(name: string): Promise<Experiment | undefined> {
    const row = await this.db.get<{ id: string; name: string; description: string | null; created_at: number }>(`SELECT * FROM experiments WHERE name = ?`, [name]);
    return row && { id: row.id, name: row.name, description: row.description, createdAt: row.created_at };
  }

  async listExperiments(): Promise<Experiment[]> {
    const rows = await this.db.all<{ id: string; name: string; description: string | null; created_at: number }>(`SELECT * FROM experiments ORDER BY created_at`);
    return rows.map((r) => ({ id: r.id, name: r.name, description: r.description, createdAt: r.created_at }));
  }

  // Runs ----------------------------------------------------------------------------------------

  /** Starts a run owned by this process (its heartbeat keeps it RUNNING until `end()`). */
  async startRun(options: StartRunOptions = {}): Promise<Run> {
    return Run.start(this, options);
  }

  /**
   * A handle on an existing RUNNING run for logging from another process (a task, an actor): it
   * does not own the run (no heartbeat, `end()` is the owner's), and it logs the same way.
   */
  async attachRun(runId: string): Promise<Run> {
    const info = await this.getRunInfo(runId);
    return Run.attach(this, info);
  }

  async getRunInfo(runId: string): Promise<RunInfo> {
    const row = await this.db.get<RunRow>(`SELECT ${RUN_COLUMNS} FROM runs r JOIN experiments e ON e.id = r.experiment_id WHERE r.id = ?`, [String(runId)]);
    if (!row) throw new RunNotFoundError(String(runId));
    return (await this.hydrate([row]))[0]!;
  }

  /** A run with its params, latest metrics, tags, artifacts, inputs and children. Throws {@link RunNotFoundError}. */
  async getRun(runId: string): Promise<RunDetail> {
    const info = await this.getRunInfo(runId);
    const [artifacts, inputs, children] = await Promise.all([
      this.listArtifacts(runId),
      this.db.all<RunInput>(`SELECT kind, ref, role FROM run_inputs WHERE run_id = ? ORDER BY kind, ref`, [runId]),
      this.db.all<{ id: string }>(`SELECT id FROM runs WHERE parent_run_id = ? ORDER BY start_time, id`, [runId]),
    ]);
    return { ...info, artifacts, inputs, children: children.map((c) => c.id) };
  }

  /**
   * A run id from a full id or a unique prefix of one (4-31 hex digits, as `shoal runs list` prints
   * them); anything else is returned as given (the lookup then names it). Throws InvalidOptionError
   * for an ambiguous prefix.
   */
  async resolveRunId(id: string): Promise<string> {
    if (/^[0-9a-f]{32}$/.test(id) || !/^[0-9a-f]{4,31}$/.test(id)) return id;
    const hits = (await this.db.all<{ id: string }>(`SELECT id FROM runs WHERE id LIKE ? ORDER BY id LIMIT 6`, [`${id}%`])).map((r) => r.id);
    if (hits.length > 1) throw invalidOption(`run id prefix ${id}`, `is ambiguous: it starts ${hits.slice(0, 5).join(', ')}${hits.length > 5 ? ', …' : ''}`);
    return hits[0] ?? id;
  }

  /**
   * Two runs side by side, as `shoal runs compare` and the REST API show them: each run (ids or
   * unique prefixes) and the history of every metric both logged. Throws {@link RunNotFoundError}.
   */
  async compareRuns(a: string, b: string): Promise<RunComparison> {
    const ra = await this.getRun(await this.resolveRunId(a));
    const rb = await this.getRun(await this.resolveRunId(b));
    const histories: RunComparison['histories'] = {};
    for (const k of Object.keys(ra.metrics).filter((k) => k in rb.metrics).sort()) {
      histories[k] = { a: await this.getMetricHistory(ra.id, k), b: await this.getMetricHistory(rb.id, k) };
    }
    return { a: ra, b: rb, histories };
  }

  /** Every point logged for `key` in run `runId`, by step then time. */
  async getMetricHistory(runId: string, key: string): Promise<MetricPoint[]> {
    await this.getRunInfo(runId);
    const rows = await this.db.all<{ value: number; step: number; ts: number }>(`SELECT value, step, ts FROM metrics WHERE run_id = ? AND key = ? ORDER BY step, ts, seq`, [runId, key]);
    return rows.map((r) => ({ key, value: r.value, step: r.step, timestamp: r.ts }));
  }

  /** Runs matching `options`, with params, latest metrics and tags. Throws FilterSyntaxError for a bad filter. */
  async searchRuns(options: SearchRunsOptions = {}): Promise<RunInfo[]> {
    const matches = parseRunFilter(options.filter ?? '');
    await this.markOrphanRuns();
    const where: string[] = [];
    const params: SqlValue[] = [];
    if (options.experiments?.length) {
      for (const name of options.experiments) if (!(await this.findExperiment(name))) throw new ExperimentNotFoundError(name);
      where.push(`e.name IN (${options.experiments.map(() => '?').join(', ')})`);
      params.push(...options.experiments);
    }
    if (options.parentRunId !== undefined) {
      where.push('r.parent_run_id = ?');
      params.push(options.parentRunId);
    }
    const rows = await this.db.all<RunRow>(`SELECT ${RUN_COLUMNS} FROM runs r JOIN experiments e ON e.id = r.experiment_id ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY r.start_time DESC, r.id`, params);
    const runs = (await this.hydrate(rows)).filter(matches);
    runs.sort(orderRuns(options.orderBy ?? 'start_time DESC'));
    return runs.slice(0, options.limit ?? 1000);
  }

  /** Adds params, latest metrics and tags to run rows. */
  private async hydrate(rows: RunRow[]): Promise<RunInfo[]> {
    const byId = new Map<string, RunInfo>();
    for (const r of rows) {
      byId.set(r.id, {
        id: r.id, experimentId: r.experiment_id, experimentName: r.experiment_name, name: r.name, status: r.status, startTime: r.start_time,
        endTime: r.end_time, parentRunId: r.parent_run_id, codeHash: r.code_hash, gitCommit: r.git_commit, failure: r.failure,
        ownerHost: r.owner_host, ownerPid: r.owner_pid, params: {}, metrics: {}, tags: {},
      });
    }
    const ids = [...byId.keys()];
    for (let at = 0; at < ids.length; at += IN_CHUNK) {
      const chunk = ids.slice(at, at + IN_CHUNK);
      const list = chunk.map(() => '?').join(', ');
      const [ps, ms, ts] = await Promise.all([
        this.db.all<{ run_id: string; key: string; value: string }>(`SELECT run_id, key, value FROM run_params WHERE run_id IN (${list})`, chunk),
        this.db.all<{ run_id: string; key: string; value: number }>(`SELECT run_id, key, value FROM latest_metrics WHERE run_id IN (${list})`, chunk),
        this.db.all<{ run_id: string; key: string; value: string }>(`SELECT run_id, key, value FROM run_tags WHERE run_id IN (${list})`, chunk),
      ]);
      for (const p of ps) byId.get(p.run_id)!.params[p.key] = p.value;
      for (const m of ms) byId.get(m.run_id)!.metrics[m.key] = m.value;
      for (const t of ts) byId.get(t.run_id)!.tags[t.key] = t.value;
    }
    return [...byId.values()];
  }

  /** Marks FAILED every RUNNING run whose owner is gone (see the file header); resolves with their ids. */
  async markOrphanRuns(now = Date.now()): Promise<string[]> {
    const running = await this.db.all<{ id: string; owner_host: string | null; owner_pid: number | null; heartbeat_at: number | null }>(
      `SELECT id, owner_host, owner_pid, heartbeat_at FROM runs WHERE status = 'RUNNING'`,
    );
    const host = hostname();
    const dead: Array<{ id: string; why: string; at: number }> = [];
    for (const r of running) {
      if (r.owner_host === host && r.owner_pid !== null && !pidAlive(r.owner_pid)) {
        dead.push({ id: r.id, why: `its owner process ${r.owner_pid} on ${host} exited without ending the run`, at: r.heartbeat_at ?? now });
      } else if (r.heartbeat_at !== null && now - r.heartbeat_at > STALE_MS) {
        dead.push({ id: r.id, why: `its owner ${r.owner_pid ?? '?'} on ${r.owner_host ?? '?'} sent no heartbeat for ${Math.round((now - r.heartbeat_at) / 1000)} s`, at: r.heartbeat_at });
      }
    }
    for (const d of dead) {
      await this.db.run(`UPDATE runs SET status = 'FAILED', end_time = ?, failure = ? WHERE id = ? AND status = 'RUNNING'`, [d.at, d.why, d.id]);
    }
    return dead.map((d) => d.id);
  }

  // Registry, models, lineage (see registry.ts, stored-model.ts, lineage.ts) --------------------

  /**
   * Registers the model a run logged (`runs:/<id>/<path>`) as a new version of `name` (made when
   * missing), like `mlflow.register_model`. Resolves with the version.
   */
  registerModel(name: string, source: string, options?: { description?: string | undefined; tags?: Readonly<Record<string, string>> | undefined }): Promise<ModelVersion> {
    return this.registry.createVersion(name, source, options);
  }
  getModel(name: string): Promise<RegisteredModel> {
    return this.registry.getModel(name);
  }
  listModels(): Promise<RegisteredModel[]> {
    return this.registry.listModels();
  }
  getModelVersion(name: string, version: number): Promise<ModelVersion> {
    return this.registry.getVersion(name, version);
  }
  listModelVersions(name: string): Promise<ModelVersion[]> {
    return this.registry.listVersions(name);
  }
  /** Points `alias` of `name` at `version`, atomically, recorded in its history; resolves with the version it pointed at before. */
  setAlias(name: string, alias: string, version: number, options?: SetAliasOptions): Promise<number | null> {
    return this.registry.setAlias(name, alias, version, options);
  }
  aliasHistory(name: string, alias?: string): Promise<AliasChange[]> {
    return this.registry.aliasHistory(name, alias);
  }

  /** The run and artifact path a model URI names (resolving an alias or version). */
  async resolveModelUri(uri: string): Promise<{ runId: string; path: string; version: ModelVersion | null }> {
    const u = parseModelUri(uri);
    if (u.kind === 'run') return { runId: u.runId, path: u.path, version: null };
    const version = await this.registry.getVersion(u.name, u.kind === 'version' ? u.version : await this.registry.resolveAlias(u.name, u.alias));
    const src = parseModelUri(version.source);
    if (src.kind !== 'run') throw new ArtifactNotFoundError(version.source);
    return { runId: src.runId, path: src.path, version };
  }

  /**
   * Loads a model by URI (`models:/name@alias`, `models:/name/7`, `runs:/<id>/model`): its JSON and
   * tensors, every file verified; no code of the model runs. Throws the typed not-found errors,
   * ArtifactCorruptError, or ModelFormatInvalidError.
   */
  async loadModel(uri: string): Promise<StoredModel> {
    const { runId, path } = await this.resolveModelUri(uri);
    // One query for the model's folder; each file is then read and verified.
    const files = new Map((await this.listArtifacts(runId, path)).map((e) => [e.path, e]));
    if (!files.has(`${path}/${MODEL_FILE}`)) {
      await this.getRunInfo(runId);
      throw new ArtifactNotFoundError(`runs:/${runId}/${path} (no ${MODEL_FILE}: not a model)`);
    }
    return decodeModel(uri, runId, path, (file) => {
      const e = files.get(`${path}/${file}`);
      if (!e) throw new ArtifactNotFoundError(`runs:/${runId}/${path}/${file}`);
      return this.artifacts.get(e.sha256, e.bytes, `runs:/${runId}/${e.path}`);
    });
  }

  /** Records a dataset version made of files (by content hash); the same files give the same version. */
  logDatasetFiles(name: string, files: readonly DatasetFile[], details?: DatasetDetails): Promise<DatasetVersion> {
    return this.lineageStore.logFiles(name, files, details);
  }
  /** Records a PostgreSQL read at a snapshot as a dataset version. */
  logDatasetSnapshot(name: string, source: SnapshotSource, details?: DatasetDetails): Promise<DatasetVersion> {
    return this.lineageStore.logSnapshot(name, source, details);
  }
  getDatasetVersion(id: string): Promise<DatasetVersion> {
    return this.lineageStore.getDataset(id);
  }
  /** Which data, code, params and parent runs are behind a model version or run. */
  lineage(uri: string): Promise<Lineage> {
    return this.lineageStore.lineage(uri);
  }
  /** Which runs and model versions used dataset version `id`. */
  datasetUsage(id: string): Promise<{ dataset: DatasetVersion; runs: RunInfo[]; modelVersions: ModelVersion[] }> {
    return this.lineageStore.usage(id);
  }

  // Artifacts -----------------------------------------------------------------------------------

  async listArtifacts(runId: string, prefix = ''): Promise<ArtifactEntry[]> {
    const rows = await this.db.all<ArtifactEntry>(`SELECT path, sha256, bytes FROM run_artifacts WHERE run_id = ? ORDER BY path`, [runId]);
    return prefix === '' ? rows : rows.filter((r) => r.path === prefix || r.path.startsWith(`${prefix}/`));
  }

  /** The bytes of artifact `path` of run `runId`, verified. Throws StoreNotFoundError or ArtifactCorruptError (naming `runs:/<id>/<path>`). */
  async readArtifact(runId: string, path: string): Promise<Uint8Array> {
    checkArtifactPath(path);
    const row = await this.db.get<ArtifactEntry>(`SELECT path, sha256, bytes FROM run_artifacts WHERE run_id = ? AND path = ?`, [runId, path]);
    if (!row) {
      await this.getRunInfo(runId);
      throw new ArtifactNotFoundError(`runs:/${runId}/${path}`);
    }
    return this.artifacts.get(row.sha256, row.bytes, `runs:/${runId}/${path}`);
  }

  /** Records `entries` (blobs already stored) as artifacts of `runId`, in one transaction. */
  async recordArtifacts(tx: SqlExecutor, runId: string, entries: readonly ArtifactEntry[]): Promise<void> {
    const now = Date.now();
    await tx.insertMany('run_artifacts', ['run_id', 'path', 'sha256', 'bytes', 'created_at'], entries.map((e) => [runId, e.path, e.sha256, e.bytes, now]),
      'ON CONFLICT (run_id, path) DO UPDATE SET sha256 = excluded.sha256, bytes = excluded.bytes, created_at = excluded.created_at');
  }
}

function orderRuns(orderBy: string): (a: RunInfo, b: RunInfo) => number {
  const m = /^\s*(metrics|params|tags)\.(\S+)\s*(asc|desc)?\s*$|^\s*(start_time|end_time|name)\s*(asc|desc)?\s*$/i.exec(orderBy);
  if (!m) return optionRules('searchRuns').fail('orderBy', "must be 'metrics.<key>', 'params.<key>', 'tags.<key>', 'start_time', 'end_time' or 'name', then ASC or DESC", orderBy);
  const desc = (m[3] ?? m[5] ?? 'asc').toLowerCase() === 'desc';
  const get = (r: RunInfo): string | number | null | undefined =>
    m[1] ? (r[m[1].toLowerCase() as 'metrics' | 'params' | 'tags'] as Record<string, string | number>)[m[2]!] : m[4] === 'name' ? r.name : m[4] === 'end_time' ? r.endTime : r.startTime;
  return (a, b) => {
    const x = get(a);
    const y = get(b);
    // Runs without the value go last either way.
    if (x === undefined || x === null) return y === undefined || y === null ? 0 : 1;
    if (y === undefined || y === null) return -1;
    const c = x < y ? -1 : x > y ? 1 : 0;
    return desc ? -c : c;
  };
}
