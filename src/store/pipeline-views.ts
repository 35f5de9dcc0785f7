/**
 * Read views of pipeline runs for the REST API and the dashboard: the tables `pipeline_runs` and
 * `pipeline_steps` (migration 2), which platform/pipelines writes (its pipeline-records.ts). The
 * store sits below platform, so it reads the rows here itself; the rule both follow is here: a RUNNING
 * pipeline run whose run in `runs` the store found orphaned (its process died) reads as FAILED with
 * the store's reason (pipelineRunOutcome). A step's input artifacts are the inputs its step run recorded (a cached or
 * reused step: the run it took its outputs from); its output artifacts are the artifact references
 * in its outputs. Columns a newer writer adds to `pipeline_steps` come along under their camelCase
 * name (a `*_json` column parsed), so a reader need not change for them. A step's log is the lines
 * platform/pipelines recorded in `pipeline_step_logs` (migration 3): a run's view counts them per
 * step, and `stepLog` reads them a page at a time.
 */
import { StoreNotFoundError } from './errors.js';
import type { SqlValue } from './sql/sql-backend.js';
import type { Store } from './store.js';
import type { RunInput } from './store-types.js';

/** Rows per `IN (...)` list. */
const IN_CHUNK = 500;

export type PipelineRunStatus = 'RUNNING' | 'FINISHED' | 'FAILED';

/** A node of a pipeline's DAG as recorded with the run. */
export interface PipelineDagNode {
  name: string;
  step: string;
  upstream: string[];
  map: boolean;
  condition: boolean;
}

/** One pipeline run, as listed. */
export interface PipelineRunSummary {
  id: string;
  pipeline: string;
  module: string | null;
  status: PipelineRunStatus;
  params: Record<string, unknown>;
  noCache: boolean;
  resumedFrom: string | null;
  startTime: number;
  endTime: number | null;
  durationMs: number | null;
  error: string | null;
  /** Step instances by state (a mapped step counts its elements, not its own row). */
  stepStates: Record<string, number>;
}

/** An artifact a step's outputs reference (platform/pipelines/artifacts.ts ArtifactRef), with the output it is under. */
export interface StepArtifactView {
  /** The output's path in the step's outputs: `model`, `parts[1]`, `report.file`. */
  output: string;
  artifact: string;
  uri: string;
  sha256: string;
  bytes: number;
  datasetVersion?: string | undefined;
}

/** One step instance (a step, or element `name[i]` of a mapped step) of a pipeline run. */
export interface PipelineStepView {
  step: string;
  node: string;
  state: string;
  runId: string | null;
  codeHash: string | null;
  cacheKey: string | null;
  cacheHit: boolean;
  cachedFrom: string | null;
  attempts: number;
  startTime: number | null;
  endTime: number | null;
  durationMs: number | null;
  error: string | null;
  outputs: Record<string, unknown> | null;
  /** What the step run recorded as its inputs (a cached or reused step: those of the run it took its outputs from). */
  inputs: RunInput[];
  outputArtifacts: StepArtifactView[];
  /** Lines in its log (`stepLog`). */
  logLines: number;
  /** Columns a newer writer added, camelCase. */
  [extra: string]: unknown;
}

/** One pipeline run with its DAG and every step instance. */
export interface PipelineRunView extends PipelineRunSummary {
  dag: PipelineDagNode[];
  steps: PipelineStepView[];
}

/** One line of a step's log. `stream`: stdout, stderr, or `log` (the step's `ctx.log()`). */
export interface StepLogLineView {
  seq: number;
  stream: string;
  line: string;
  ts: number;
}

/** A page of a step's log: lines from `offset` (a line's seq), and the offset to ask for next. */
export interface StepLogPage {
  runId: string;
  step: string;
  lines: StepLogLineView[];
  /** Lines in the log now. */
  total: number;
  next: number;
}

/** A pipeline with runs: how many, and its newest. */
export interface PipelineSummary {
  name: string;
  runs: number;
  lastRunId: string;
  lastStatus: PipelineRunStatus;
  lastStartTime: number;
}

interface RunRow {
  id: string; pipeline: string; module: string | null; status: PipelineRunStatus; params_json: string; options_json: string; dag_json: string;
  resumed_from: string | null; start_time: number; end_time: number | null; error: string | null; run_status: string | null; run_failure: string | null; run_end_time: number | null;
}

const SELECT_RUN = `SELECT p.id, p.pipeline, p.module, p.status, p.params_json, p.options_json, p.dag_json, p.resumed_from, p.start_time, p.end_time, p.error,
  r.status AS run_status, r.failure AS run_failure, r.end_time AS run_end_time FROM pipeline_runs p LEFT JOIN runs r ON r.id = p.id`;

const KNOWN_STEP_COLUMNS = new Set([
  'pipeline_run_id', 'step', 'node', 'state', 'run_id', 'code_hash', 'cache_key', 'cache_hit', 'cached_from', 'attempts', 'start_time', 'end_time',
  'duration_ms', 'error', 'outputs_json',
]);

function parseJson<T>(text: string | null | undefined, fallback: T): T {
  if (text === null || text === undefined) return fallback;
  try {
    return JSON.parse(text) as T;
  } catch {
    return fallback;
  }
}

/**
 * A pipeline run's status and error as readers see them: a RUNNING pipeline run whose run in `runs`
 * the store found orphaned (its process died; `runStatus` no longer RUNNING) is FAILED, with the
 * store's reason. The one rule for every reader of `pipeline_runs` (platform/pipelines' records too).
 */
export function pipelineRunOutcome(
  r: { status: PipelineRunStatus; error: string | null; run_status: string | null; run_failure: string | null },
): { status: PipelineRunStatus; error: string | null; orphaned: boolean } {
  const orphaned = r.status === 'RUNNING' && r.run_status !== null && r.run_status !== 'RUNNING';
  return orphaned
    ? { status: 'FAILED', error: `the process running it stopped: ${r.run_failure ?? 'its run ended'}`, orphaned }
    : { status: r.status, error: r.error, orphaned };
}

function summary(r: RunRow, stepStates: Record<string, number>): PipelineRunSummary {
  const { status, error, orphaned } = pipelineRunOutcome(r);
  const endTime = orphaned ? r.end_time ?? r.run_end_time : r.end_time;
  return {
    id: r.id, pipeline: r.pipeline, module: r.module, status, params: parseJson(r.params_json, {}),
    noCache: parseJson<{ noCache?: boolean }>(r.options_json, {}).noCache === true, resumedFrom: r.resumed_from, startTime: r.start_time,
    endTime, durationMs: endTime === null ? null : endTime - r.start_time, stepStates, error,
  };
}

const camel = (s: string): string => s.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());

/** Every artifact reference inside `value`, with where it is. */
function artifactsIn(value: unknown, at: string, out: StepArtifactView[]): StepArtifactView[] {
  if (typeof value !== 'object' || value === null) return out;
  const r = value as Record<string, unknown>;
  if (typeof r.artifact === 'string' && typeof r.uri === 'string' && typeof r.sha256 === 'string' && typeof r.bytes === 'number') {
    out.push({ output: at, artifact: r.artifact, uri: r.uri, sha256: r.sha256, bytes: r.bytes, ...(typeof r.datasetVersion === 'string' ? { datasetVersion: r.datasetVersion } : {}) });
  } else if (Array.isArray(value)) {
    value.forEach((v, i) => artifactsIn(v, `${at}[${i}]`, out));
  } else {
    for (const [k, v] of Object.entries(r)) artifactsIn(v, at ? `${at}.${k}` : k, out);
  }
  return out;
}

/** Step rows by state, a mapped node's own row left out (its elements count). */
function countStates(dag: PipelineDagNode[], steps: Array<{ step: string; node: string; state: string }>): Record<string, number> {
  const maps = new Set(dag.filter((n) => n.map).map((n) => n.name));
  const out: Record<string, number> = {};
  for (const s of steps) {
    if (maps.has(s.node) && s.step === s.node && steps.some((e) => e.node === s.node && e.step !== s.node)) continue;
    out[s.state] = (out[s.state] ?? 0) + 1;
  }
  return out;
}

/** Pipeline runs of `store`: listed, one with its steps, and the pipelines that have runs. */
export class PipelineViews {
  constructor(private readonly store: Store) {}

  /** Each pipeline with runs, by name. */
  async pipelines(): Promise<PipelineSummary[]> {
    await this.store.markOrphanRuns();
    const rows = await this.store.db.all<RunRow & { runs: number }>(
      `SELECT q.*, c.runs FROM (${SELECT_RUN}) q JOIN (SELECT pipeline, COUNT(*) AS runs, MAX(start_time) AS last FROM pipeline_runs GROUP BY pipeline) c
       ON c.pipeline = q.pipeline AND c.last = q.start_time ORDER BY q.pipeline, q.id`,
    );
    const out = new Map<string, PipelineSummary>();
    for (const r of rows) {
      if (out.has(r.pipeline)) continue;
      out.set(r.pipeline, { name: r.pipeline, runs: Number(r.runs), lastRunId: r.id, lastStatus: summary(r, {}).status, lastStartTime: r.start_time });
    }
    return [...out.values()];
  }

  /** Runs newest first (of one pipeline when `pipeline` is given), `limit` from `offset`, and how many there are. */
  async listRuns(options: { pipeline?: string | undefined; limit: number; offset: number }): Promise<{ runs: PipelineRunSummary[]; total: number }> {
    await this.store.markOrphanRuns();
    const where = options.pipeline === undefined ? '' : 'WHERE p.pipeline = ?';
    const args: SqlValue[] = options.pipeline === undefined ? [] : [options.pipeline];
    const count = await this.store.db.get<{ n: number }>(`SELECT COUNT(*) AS n FROM pipeline_runs p ${where}`, args);
    const rows = await this.store.db.all<RunRow>(`${SELECT_RUN} ${where} ORDER BY p.start_time DESC, p.id LIMIT ? OFFSET ?`, [...args, options.limit, options.offset]);
    const states = new Map<string, Array<{ step: string; node: string; state: string }>>();
    const ids = rows.map((r) => r.id);
    for (let at = 0; at < ids.length; at += IN_CHUNK) {
      const chunk = ids.slice(at, at + IN_CHUNK);
      const steps = await this.store.db.all<{ pipeline_run_id: string; step: string; node: string; state: string }>(
        `SELECT pipeline_run_id, step, node, state FROM pipeline_steps WHERE pipeline_run_id IN (${chunk.map(() => '?').join(', ')})`, chunk,
      );
      for (const s of steps) {
        const list = states.get(s.pipeline_run_id) ?? [];
        list.push(s);
        states.set(s.pipeline_run_id, list);
      }
    }
    const runs = rows.map((r) => {
      const dag = parseJson<PipelineDagNode[]>(r.dag_json, []);
      return summary(r, countStates(dag, states.get(r.id) ?? []));
    });
    return { runs, total: Number(count?.n ?? 0) };
  }

  /** A pipeline run with its DAG and steps, by id or a unique prefix of at least 6 characters. Throws {@link StoreNotFoundError}. */
  async getRun(id: string): Promise<PipelineRunView> {
    await this.store.markOrphanRuns();
    const row = await this.store.db.get<RunRow>(`${SELECT_RUN} WHERE p.id = ?`, [await this.resolveRun(id)]);
    if (!row) throw new StoreNotFoundError('pipeline run', id);
    const dag = parseJson<PipelineDagNode[]>(row.dag_json, []);
    const stepRows = await this.store.db.all<Record<string, unknown>>(
      `SELECT * FROM pipeline_steps WHERE pipeline_run_id = ? ORDER BY COALESCE(start_time, 0), step`, [row.id],
    );
    const logLines = new Map((await this.store.db.all<{ step: string; n: number }>(
      `SELECT step, COUNT(*) AS n FROM pipeline_step_logs WHERE pipeline_run_id = ? GROUP BY step`, [row.id],
    )).map((l) => [l.step, Number(l.n)]));
    const inputsOf = await this.runInputs(stepRows.map((s) => (s.run_id ?? s.cached_from) as string | null).filter((x): x is string => typeof x === 'string'));
    const steps = stepRows.map((s): PipelineStepView => {
      const outputs = parseJson<Record<string, unknown> | null>(s.outputs_json as string | null, null);
      const source = (s.run_id ?? s.cached_from) as string | null;
      const view: PipelineStepView = {
        step: String(s.step), node: String(s.node), state: String(s.state), runId: (s.run_id as string | null) ?? null, codeHash: (s.code_hash as string | null) ?? null,
        cacheKey: (s.cache_key as string | null) ?? null, cacheHit: Number(s.cache_hit) === 1, cachedFrom: (s.cached_from as string | null) ?? null,
        attempts: Number(s.attempts ?? 0), startTime: s.start_time === null ? null : Number(s.start_time), endTime: s.end_time === null ? null : Number(s.end_time),
        durationMs: s.duration_ms === null ? null : Number(s.duration_ms), error: (s.error as string | null) ?? null, outputs,
        inputs: source ? inputsOf.get(source) ?? [] : [], outputArtifacts: artifactsIn(outputs, '', []), logLines: logLines.get(String(s.step)) ?? 0,
      };
      for (const [k, v] of Object.entries(s)) {
        if (KNOWN_STEP_COLUMNS.has(k)) continue;
        if (k.endsWith('_json')) view[camel(k.slice(0, -5))] = parseJson<unknown>(v as string | null, null);
        else view[camel(k)] = v;
      }
      return view;
    });
    return { ...summary(row, countStates(dag, steps)), dag, steps };
  }

  /**
   * Lines of step `step`'s log in pipeline run `id` (id or prefix, as {@link getRun}) with seq ≥
   * `offset`, at most `limit`. Throws {@link StoreNotFoundError} for an unknown run or a step it has not.
   */
  async stepLog(id: string, step: string, offset: number, limit: number): Promise<StepLogPage> {
    const run = await this.resolveRun(id);
    const known = await this.store.db.get<{ step: string }>(`SELECT step FROM pipeline_steps WHERE pipeline_run_id = ? AND step = ?`, [run, step]);
    if (!known) throw new StoreNotFoundError('pipeline step', step, `pipeline run ${run} has no step of this name`);
    const rows = await this.store.db.all<StepLogLineView>(
      `SELECT seq, stream, line, ts FROM pipeline_step_logs WHERE pipeline_run_id = ? AND step = ? AND seq >= ? ORDER BY seq LIMIT ?`, [run, step, offset, limit],
    );
    const total = await this.store.db.get<{ n: number }>(`SELECT COUNT(*) AS n FROM pipeline_step_logs WHERE pipeline_run_id = ? AND step = ?`, [run, step]);
    const lines = rows.map((r) => ({ seq: Number(r.seq), stream: r.stream, line: r.line, ts: Number(r.ts) }));
    return { runId: run, step, lines, total: Number(total?.n ?? 0), next: lines.length ? lines[lines.length - 1]!.seq + 1 : offset };
  }

  /** The id of the pipeline run `id` names (itself or a unique prefix of ≥ 6 characters). */
  private async resolveRun(id: string): Promise<string> {
    const row = await this.store.db.get<{ id: string }>(`SELECT id FROM pipeline_runs WHERE id = ?`, [id]);
    if (row) return row.id;
    if (/^[0-9a-zA-Z_-]{6,}$/.test(id)) {
      const rows = await this.store.db.all<{ id: string }>(`SELECT id FROM pipeline_runs WHERE id LIKE ? ORDER BY id LIMIT 2`, [`${id}%`]);
      if (rows.length === 1) return rows[0]!.id;
    }
    throw new StoreNotFoundError('pipeline run', id, 'no pipeline run has this id (or a unique prefix of at least 6 characters)');
  }

  private async runInputs(runIds: string[]): Promise<Map<string, RunInput[]>> {
    const ids = [...new Set(runIds)];
    const out = new Map<string, RunInput[]>();
    for (let at = 0; at < ids.length; at += IN_CHUNK) {
      const chunk = ids.slice(at, at + IN_CHUNK);
      const rows = await this.store.db.all<RunInput & { run_id: string }>(
        `SELECT run_id, kind, ref, role FROM run_inputs WHERE run_id IN (${chunk.map(() => '?').join(', ')}) ORDER BY run_id, role, kind, ref`, chunk,
      );
      for (const r of rows) {
        const list = out.get(r.run_id) ?? [];
        list.push({ kind: r.kind, ref: r.ref, role: r.role });
        out.set(r.run_id, list);
      }
    }
    return out;
  }
}
