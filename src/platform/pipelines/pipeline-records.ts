/**
 * Pipeline runs and their steps as recorded in the platform store (tables `pipeline_runs` and
 * `pipeline_steps`, store migration 2). A pipeline run has the id of its run in `runs` and each
 * executed step a child run there too, so lineage (inputs → step → outputs) and the run views of the
 * store see them; these tables add the DAG, step states, cache keys and outputs. They outlive the
 * cluster like everything in the store.
 */
import { pipelineRunOutcome, type Store } from '../../store/index.js';
import { PipelineRunNotFoundError } from '../errors.js';
import { readStepLogs, type StepLogLine } from './step-logs.js';

/** A step's state in a run. `reused`: kept from the run this one resumes. */
export type StepState = 'pending' | 'running' | 'succeeded' | 'cached' | 'reused' | 'failed' | 'skipped' | 'not-run';
export type PipelineRunStatus = 'RUNNING' | 'FINISHED' | 'FAILED';

/** One step (or one element of a mapped step: `square[2]`) of a pipeline run. */
export interface StepRecord {
  /** Instance name: the step's name, or `name[i]` for element i of a map. */
  step: string;
  /** The node of the DAG it belongs to. */
  node: string;
  state: StepState;
  /** Its child run in the store (none when cached, reused, skipped or not run). */
  runId: string | null;
  codeHash: string | null;
  cacheKey: string | null;
  cacheHit: boolean;
  /** Cached or reused: the step run whose outputs were taken. */
  cachedFrom: string | null;
  attempts: number;
  startTime: number | null;
  endTime: number | null;
  durationMs: number | null;
  error: string | null;
  outputs: Record<string, unknown> | null;
}

export interface DagNode {
  name: string;
  step: string;
  upstream: string[];
  map: boolean;
  condition: boolean;
}

export interface PipelineRunRecord {
  id: string;
  pipeline: string;
  /** The module the pipeline was loaded from (set by `shoal pipeline run`), for `resume`. */
  module: string | null;
  status: PipelineRunStatus;
  params: Record<string, unknown>;
  options: { noCache: boolean };
  dag: DagNode[];
  resumedFrom: string | null;
  startTime: number;
  endTime: number | null;
  error: string | null;
}

interface RunRow {
  /** Status and failure of the pipeline's run in `runs` (the store marks a run whose owner died FAILED). */
  run_status: string | null; run_failure: string | null;
  id: string; pipeline: string; module: string | null; status: PipelineRunStatus; params_json: string; options_json: string; dag_json: string;
  resumed_from: string | null; start_time: number; end_time: number | null; error: string | null;
}
interface StepRow {
  step: string; node: string; state: StepState; run_id: string | null; code_hash: string | null; cache_key: string | null; cache_hit: number;
  cached_from: string | null; attempts: number; start_time: number | null; end_time: number | null; duration_ms: number | null; error: string | null;
  outputs_json: string | null;
}

/** A RUNNING pipeline run whose run the store found orphaned (its process died) reads as FAILED (the store's rule). */
const runRecord = (r: RunRow): PipelineRunRecord => {
  const { status, error } = pipelineRunOutcome(r);
  return {
    id: r.id, pipeline: r.pipeline, module: r.module, status, params: JSON.parse(r.params_json) as Record<string, unknown>,
    options: JSON.parse(r.options_json) as { noCache: boolean }, dag: JSON.parse(r.dag_json) as DagNode[], resumedFrom: r.resumed_from,
    startTime: r.start_time, endTime: r.end_time, error,
  };
};

const SELECT_RUN = `SELECT p.*, r.status AS run_status, r.failure AS run_failure FROM pipeline_runs p LEFT JOIN runs r ON r.id = p.id`;

const stepRecord = (r: StepRow): StepRecord => ({
  step: r.step, node: r.node, state: r.state, runId: r.run_id, codeHash: r.code_hash, cacheKey: r.cache_key, cacheHit: r.cache_hit === 1,
  cachedFrom: r.cached_from, attempts: r.attempts, startTime: r.start_time, endTime: r.end_time, durationMs: r.duration_ms, error: r.error,
  outputs: r.outputs_json === null ? null : (JSON.parse(r.outputs_json) as Record<string, unknown>),
});

/** Reads and writes the pipeline tables of one store. */
export class PipelineRecords {
  constructor(readonly store: Store) {}

  private get db() {
    return this.store.db;
  }

  async insertRun(r: PipelineRunRecord): Promise<void> {
    await this.db.run(
      `INSERT INTO pipeline_runs (id, pipeline, module, status, params_json, options_json, dag_json, resumed_from, start_time, end_time, error) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      [r.id, r.pipeline, r.module, r.status, JSON.stringify(r.params), JSON.stringify(r.options), JSON.stringify(r.dag), r.resumedFrom, r.startTime, r.endTime, r.error],
    );
  }

  async endRun(id: string, status: PipelineRunStatus, error: string | null): Promise<void> {
    await this.db.run(`UPDATE pipeline_runs SET status = ?, end_time = ?, error = ? WHERE id = ?`, [status, Date.now(), error, id]);
  }

  /** Writes (inserts or replaces) the record of one step of run `runId`. */
  async putStep(runId: string, s: StepRecord): Promise<void> {
    await this.db.run(
      `INSERT INTO pipeline_steps (pipeline_run_id, step, node, state, run_id, code_hash, cache_key, cache_hit, cached_from, attempts, start_time, end_time, duration_ms, error, outputs_json)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (pipeline_run_id, step) DO UPDATE SET node = excluded.node, state = excluded.state, run_id = excluded.run_id, code_hash = excluded.code_hash,
         cache_key = excluded.cache_key, cache_hit = excluded.cache_hit, cached_from = excluded.cached_from, attempts = excluded.attempts,
         start_time = excluded.start_time, end_time = excluded.end_time, duration_ms = excluded.duration_ms, error = excluded.error, outputs_json = excluded.outputs_json`,
      [
        runId, s.step, s.node, s.state, s.runId, s.codeHash, s.cacheKey, s.cacheHit ? 1 : 0, s.cachedFrom, s.attempts, s.startTime, s.endTime, s.durationMs, s.error,
        s.outputs === null ? null : JSON.stringify(s.outputs),
      ],
    );
  }

  /** The newest successful execution of a step with this cache key: its outputs and run. */
  async cacheLookup(cacheKey: string): Promise<{ runId: string; outputs: Record<string, unknown> } | undefined> {
    const row = await this.db.get<{ run_id: string; outputs_json: string }>(
      `SELECT run_id, outputs_json FROM pipeline_steps WHERE cache_key = ? AND state = 'succeeded' AND run_id IS NOT NULL ORDER BY end_time DESC LIMIT 1`,
      [cacheKey],
    );
    return row && { runId: row.run_id, outputs: JSON.parse(row.outputs_json) as Record<string, unknown> };
  }

  /** A pipeline run by id (a unique prefix of at least 6 characters works too). Throws {@link PipelineRunNotFoundError}. */
  async getRun(id: string): Promise<PipelineRunRecord> {
    await this.store.markOrphanRuns();
    let row = await this.db.get<RunRow>(`${SELECT_RUN} WHERE p.id = ?`, [id]);
    if (!row && id.length >= 6) {
      const rows = await this.db.all<RunRow>(`${SELECT_RUN} WHERE p.id LIKE ? LIMIT 2`, [`${id.replace(/[%_]/g, '')}%`]);
      if (rows.length === 1) row = rows[0];
    }
    if (!row) throw new PipelineRunNotFoundError(id);
    return runRecord(row);
  }

  async getSteps(runId: string): Promise<StepRecord[]> {
    const rows = await this.db.all<StepRow>(`SELECT * FROM pipeline_steps WHERE pipeline_run_id = ? ORDER BY COALESCE(start_time, 0), step`, [runId]);
    return rows.map(stepRecord);
  }

  /** The log lines of a run's steps (one step's when `step` is given); see step-logs.ts. */
  getLogs(runId: string, step?: string): Promise<StepLogLine[]> {
    return readStepLogs(this.store, runId, step);
  }

  async listRuns(options: { pipeline?: string | undefined; limit?: number | undefined } = {}): Promise<PipelineRunRecord[]> {
    await this.store.markOrphanRuns();
    const rows = options.pipeline
      ? await this.db.all<RunRow>(`${SELECT_RUN} WHERE p.pipeline = ? ORDER BY p.start_time DESC LIMIT ?`, [options.pipeline, options.limit ?? 50])
      : await this.db.all<RunRow>(`${SELECT_RUN} ORDER BY p.start_time DESC LIMIT ?`, [options.limit ?? 50]);
    return rows.map(runRecord);
  }
}
