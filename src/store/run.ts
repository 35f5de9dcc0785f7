/**
 * A run being logged to. Params, tags, artifacts and inputs are written when called (awaited);
 * metric points are many and small, so `logMetric` only queues the point and a batch is written
 * after the current turn of the event loop (or at {@link MAX_BATCH} points), in one transaction —
 * the way one process reaches the throughput of batched inserts while many runs log at once.
 * `flush()` (and `end()`) resolve once every queued point is stored, and throw if a batch failed.
 *
 * A run handle made by `startRun` owns its run: it refreshes a heartbeat (store.ts says how a dead
 * owner is detected) and ends it. One made by `attachRun` / `openRun(ref)` (a task or actor
 * logging into the driver's run) only logs.
 */
import { hostname } from 'node:os';
import { invalidOption } from '../core/index.js';
import { RunEndedError, RunNotFoundError } from './errors.js';
import { checkArtifactPath, checkKey } from './names.js';
import type { SqlValue } from './sql/sql-backend.js';
import type { StoreLocation } from './store-location.js';
import type { ArtifactEntry, RunInfo, RunStatus } from './store-types.js';
import { HEARTBEAT_MS, newId } from './constants.js';
import type { Store } from './store.js';
import { encodeModel, type ModelContents } from './stored-model.js';

/**
 * Points written per batch at most (a bigger queue is written in several). Large, because with many
 * processes logging into one SQLite file each transaction waits for the write lock.
 */
const MAX_BATCH = 50_000;

/** A queued metric point: run id, key, value, step, time. */
type Point = [string, string, number, number, number];

/** Options of `startRun`. */
export interface StartRunOptions {
  /** Experiment name (made when missing). @default the parent's experiment, else 'default' */
  experiment?: string | undefined;
  /** @default a generated name */
  name?: string | undefined;
  /** The run this one is nested in (a tuning trial in its search). */
  parentRunId?: string | undefined;
  params?: Readonly<Record<string, unknown>> | undefined;
  tags?: Readonly<Record<string, string>> | undefined;
  /** Hash of the code bundle that ran. */
  codeHash?: string | undefined;
  /** Git commit of the code (e.g. from `git rev-parse HEAD`). */
  gitCommit?: string | undefined;
}

/** A run as plain data: passed to a task or actor, which opens the same store and logs into it (`openRun`). */
export interface RunRef {
  runId: string;
  store: StoreLocation;
}

const KNOWN = ['experiment', 'name', 'parentRunId', 'params', 'tags', 'codeHash', 'gitCommit'];

export class Run {
  private queue: Point[] = [];
  private writing: Promise<void> | undefined;
  private scheduled = false;
  private failure: unknown;
  private heartbeat: NodeJS.Timeout | undefined;
  private ended: RunStatus | undefined;

  private constructor(readonly store: Store, readonly id: string, readonly name: string, readonly experimentName: string, readonly owner: boolean) {}

  static async start(store: Store, options: StartRunOptions): Promise<Run> {
    const o = options ?? {};
    for (const k of Object.keys(o)) if (!KNOWN.includes(k)) throw invalidOption(`startRun option '${k}'`, `is not known (known: ${KNOWN.join(', ')})`);
    const parent = o.parentRunId === undefined ? undefined : await store.getRunInfo(o.parentRunId);
    const experiment = await store.experiment(o.experiment ?? parent?.experimentName ?? 'default');
    const id = newId();
    const name = o.name ?? `run-${id.slice(0, 8)}`;
    const now = Date.now();
    await store.db.run(
      `INSERT INTO runs (id, experiment_id, name, status, start_time, parent_run_id, code_hash, git_commit, owner_host, owner_pid, heartbeat_at)
       VALUES (?, ?, ?, 'RUNNING', ?, ?, ?, ?, ?, ?, ?)`,
      [id, experiment.id, name, now, parent?.id ?? null, o.codeHash ?? null, o.gitCommit ?? null, hostname(), process.pid, now],
    );
    const run = new Run(store, id, name, experiment.name, true);
    if (o.params) await run.logParams(o.params);
    if (o.tags) await run.setTags(o.tags);
    run.heartbeat = setInterval(() => void run.beat(), HEARTBEAT_MS).unref();
    return run;
  }

  static attach(store: Store, info: RunInfo): Run {
    if (info.status !== 'RUNNING') throw new RunEndedError(info.id, info.status);
    return new Run(store, info.id, info.name, info.experimentName, false);
  }

  /** This run as plain data for a task or actor (see {@link RunRef}). */
  ref(): RunRef {
    return { runId: this.id, store: this.store.location };
  }

  private async beat(): Promise<void> {
    await this.store.db.run(`UPDATE runs SET heartbeat_at = ? WHERE id = ? AND status = 'RUNNING'`, [Date.now(), this.id]).catch(() => undefined);
  }

  private live(): void {
    if (this.ended) throw new RunEndedError(this.id, this.ended);
  }

  /** Records params (values as strings; objects as JSON). A key logged again takes the new value. */
  async logParams(params: Readonly<Record<string, unknown>>): Promise<void> {
    this.live();
    const rows = Object.entries(params).map(([k, v]): SqlValue[] => [this.id, checkKey('param', k), typeof v === 'string' ? v : JSON.stringify(v) ?? String(v)]);
    await this.store.db.insertMany('run_params', ['run_id', 'key', 'value'], rows, 'ON CONFLICT (run_id, key) DO UPDATE SET value = excluded.value');
  }

  async logParam(key: string, value: unknown): Promise<void> {
    await this.logParams({ [key]: value });
  }

  async setTags(tags: Readonly<Record<string, string>>): Promise<void> {
    const rows = Object.entries(tags).map(([k, v]): SqlValue[] => [this.id, checkKey('tag', k), String(v)]);
    await this.store.db.insertMany('run_tags', ['run_id', 'key', 'value'], rows, 'ON CONFLICT (run_id, key) DO UPDATE SET value = excluded.value');
  }

  async setTag(key: string, value: string): Promise<void> {
    await this.setTags({ [key]: value });
  }

  /**
   * Queues one point of metric `key` (written with the next batch; see the file header). `step`
   * defaults to 0, `timestamp` to now. A non-finite value is refused.
   */
  logMetric(key: string, value: number, step = 0, timestamp = Date.now()): void {
    this.live();
    checkKey('metric', key);
    if (typeof value !== 'number' || !Number.isFinite(value)) throw invalidOption(`logMetric: metric '${key}'`, `must be a finite number; got ${String(value)}`);
    if (!Number.isInteger(step)) throw invalidOption(`logMetric: step of metric '${key}'`, `must be an integer; got ${String(step)}`);
    this.queue.push([this.id, key, value, step, timestamp]);
    if (this.queue.length >= MAX_BATCH) void this.drain();
    else if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => {
        this.scheduled = false;
        void this.drain();
      });
    }
  }

  /** Queues several metrics at one step. */
  logMetrics(metrics: Readonly<Record<string, number>>, step = 0): void {
    const now = Date.now();
    for (const [k, v] of Object.entries(metrics)) this.logMetric(k, v, step, now);
  }

  private drain(): Promise<void> {
    if (this.writing || this.queue.length === 0) return this.writing ?? Promise.resolve();
    const batch = this.queue;
    this.queue = [];
    this.writing = this.write(batch)
      .catch((err: unknown) => {
        this.failure ??= err;
      })
      .finally(() => {
        this.writing = undefined;
        if (this.queue.length > 0) void this.drain();
      });
    return this.writing;
  }

  private async write(batch: Point[]): Promise<void> {
    // The latest point of each key (highest step, then latest time) goes to latest_metrics.
    const latest = new Map<string, Point>();
    for (const p of batch) {
      const l = latest.get(p[1]);
      if (!l || p[3] > l[3] || (p[3] === l[3] && p[4] >= l[4])) latest.set(p[1], p);
    }
    await this.store.db.transaction(async (tx) => {
      await tx.insertMany('metrics', ['run_id', 'key', 'value', 'step', 'ts'], batch);
      await tx.insertMany('latest_metrics', ['run_id', 'key', 'value', 'step', 'ts'], [...latest.values()],
        `ON CONFLICT (run_id, key) DO UPDATE SET value = excluded.value, step = excluded.step, ts = excluded.ts
         WHERE excluded.step > latest_metrics.step OR (excluded.step = latest_metrics.step AND excluded.ts >= latest_metrics.ts)`);
    });
  }

  /** Resolves once every queued metric point is stored; throws the error of a batch that failed. */
  async flush(): Promise<void> {
    while (this.queue.length > 0 || this.writing) await (this.writing ?? this.drain());
    if (this.failure !== undefined) {
      const err = this.failure;
      this.failure = undefined;
      throw err;
    }
  }

  /** Stores `data` as artifact `path` of this run (content-addressed; see artifact-store.ts). */
  async logArtifact(path: string, data: Uint8Array | string): Promise<ArtifactEntry> {
    const [entry] = await this.logArtifacts({ [path]: data });
    return entry!;
  }

  /** Stores several files as artifacts of this run; their rows are written together, after every blob is in place. */
  async logArtifacts(files: Readonly<Record<string, Uint8Array | string>>): Promise<ArtifactEntry[]> {
    this.live();
    const entries: ArtifactEntry[] = [];
    for (const [path, data] of Object.entries(files)) {
      checkArtifactPath(path);
      const bytes = typeof data === 'string' ? new TextEncoder().encode(data) : data;
      entries.push({ path, sha256: await this.store.artifacts.put(bytes, `runs:/${this.id}/${path}`), bytes: bytes.byteLength });
    }
    await this.store.db.transaction((tx) => this.store.recordArtifacts(tx, this.id, entries));
    return entries;
  }

  /**
   * Stores a model as artifacts under `path` (JSON + binary tensors, see stored-model.ts); register
   * it with `store.registerModel(name, \`runs:/${run.id}/${path}\`)`. Resolves with its URI.
   */
  async logModel(path: string, model: ModelContents): Promise<string> {
    await this.logArtifacts(encodeModel(path, model));
    return `runs:/${this.id}/${path}`;
  }

  /** Records an input of this run: a dataset version id (`logDataset` gives one), a feature pipeline hash, or another run. */
  async logInput(ref: string | { id: string }, options: { kind?: 'dataset' | 'feature-pipeline' | 'run'; role?: string } = {}): Promise<void> {
    const id = typeof ref === 'string' ? ref : ref.id;
    await this.store.db.run(`INSERT INTO run_inputs (run_id, kind, ref, role) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING`, [
      this.id, options.kind ?? 'dataset', id, options.role ?? 'input',
    ]);
  }

  /**
   * Ends the run (owner only): flushes its metrics, then sets its status and end time.
   * `failure` records why a FAILED or KILLED run ended.
   */
  async end(status: Exclude<RunStatus, 'RUNNING'> = 'FINISHED', failure?: string): Promise<void> {
    if (this.ended) return;
    if (this.heartbeat) clearInterval(this.heartbeat);
    try {
      await this.flush();
    } finally {
      this.ended = status;
      if (this.owner) {
        const changed = await this.store.db.run(`UPDATE runs SET status = ?, end_time = ?, failure = ? WHERE id = ?`, [status, Date.now(), failure ?? null, this.id]);
        if (changed === 0) throw new RunNotFoundError(this.id);
      }
    }
  }

  /** Flushes (an attached handle's way to finish; does not end the run). */
  async close(): Promise<void> {
    await this.flush();
    this.ended = 'FINISHED';
  }
}
