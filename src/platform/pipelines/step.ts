/**
 * Steps: a step is a TypeScript function made a remote function of core (`remote()`), so it runs as
 * a task on the cluster with the resources it asks for. Define steps at the top level of a module
 * (workers import the module to find them by name, like any remote function).
 *
 * On the worker, the function gets its inputs (plain values and artifact references) and a
 * {@link StepContext} that saves outputs as artifacts of the step's run in the platform store and
 * reads the artifacts it was given. The step's code hash — the cache key's code part — is the sha256
 * of the function's own source text (plus `options.version`): editing one step invalidates that step
 * (and what consumes a changed output), not every step of the module. Code the function calls in
 * other functions is not in the hash: bump `version` when that changes.
 */
import { inspect } from 'node:util';
import { optionRules, remote, type RemoteFunction, type TaskOptions } from '../../core/index.js';
import {
  ArtifactCorruptError, ArtifactNotFoundError, openStore, sha256Hex, type ModelContents, type Run, type RunRef, type Store, type StoredModel,
} from '../../store/index.js';
import { StepOutputError } from '../errors.js';
import { captureOutput, StepLogSink } from './step-logs.js';
import {
  canonicalJson, folderDigest, isArtifactRef, parseRunsUri, sha256Text, type ArtifactRef, type DatasetArtifact, type FileArtifact,
  type MetricsArtifact, type ModelArtifact,
} from './artifacts.js';

/** Options of a step (all optional). */
export interface StepOptions {
  /** CPUs the step's task needs. @default 1 */
  numCpus?: number;
  /** Memory the step's task needs, bytes. */
  memory?: number;
  /** Custom resources, e.g. `{ GPU: 1 }`. */
  resources?: Record<string, number>;
  /** Retries after a system failure (worker died, object lost); a step that throws is not retried. @default 3 */
  retries?: number;
  /** Wait before the first retry, doubled for each next one. @default 200 */
  retryBackoffMs?: number;
  /** Cancel the step (failing it, not retried) when it runs longer. @default no limit */
  timeoutMs?: number;
  /** Reuse the outputs of an earlier run with the same code hash, parameters and input content. @default true */
  cache?: boolean;
  /** Added to the code hash: bump it when code the step calls outside its own function changed. @default '' */
  version?: string;
  /**
   * For a step that reads an external source (a PostgreSQL table, a folder): the source's version,
   * computed in the process running the pipeline before the cache lookup and made part of the cache
   * key — e.g. a table's `max(id)` and row count, or a snapshot id — so the step is cached while the
   * source is unchanged and runs again when it changed. Its result must be plain data.
   */
  sourceVersion?: (inputs: any) => unknown;
}

export interface CompiledStepOptions {
  task: TaskOptions;
  retries: number;
  retryBackoffMs: number;
  timeoutMs: number | undefined;
  cache: boolean;
  version: string;
  sourceVersion: ((inputs: Record<string, unknown>) => unknown) | undefined;
}

/** What a step's function gets besides its inputs (on the worker). */
export interface StepContext {
  /** The step's name in the pipeline (`square[2]` for an element of a map). */
  readonly step: string;
  /** The step's own run in the store (a child of the pipeline run). */
  readonly runId: string;
  readonly pipelineRunId: string;
  /** 1 for the first attempt, 2 after one retry, ... */
  readonly attempt: number;
  /** The step's run, for logging metrics, params and tags. */
  run(): Promise<Run>;
  /**
   * The outputs of this step's last successful execution in an earlier run of the same pipeline
   * (run, not cached), or undefined — e.g. the row count a validate step saw last time.
   */
  previousOutputs(): Promise<Record<string, unknown> | undefined>;
  /** Adds a line to the step's log (beside what it writes to stdout/stderr; `shoal pipeline show RUN --logs`). */
  log(...values: unknown[]): void;
  /** Saves one file as output artifact `name`. */
  saveFile(name: string, data: Uint8Array | string): Promise<FileArtifact>;
  /** Saves metrics (also logged as metrics of the step's run). */
  saveMetrics(name: string, metrics: Readonly<Record<string, number>>): Promise<MetricsArtifact>;
  /** Saves a model (JSON + tensors; load it with `store.loadModel(ref.uri)` or `ctx.loadModel(ref)`). */
  saveModel(name: string, model: ModelContents): Promise<ModelArtifact>;
  /** Saves files as a dataset version of the store (named `name`), also artifacts of the step's run. */
  saveDataset(name: string, files: Readonly<Record<string, Uint8Array | string>>, details?: { rowCount?: number; schema?: Record<string, string> }): Promise<DatasetArtifact>;
  /** The bytes of a file artifact, checked against its sha256. */
  readFile(ref: FileArtifact): Promise<Uint8Array>;
  readText(ref: FileArtifact): Promise<string>;
  readMetrics(ref: MetricsArtifact): Promise<Record<string, number>>;
  loadModel(ref: ModelArtifact): Promise<StoredModel>;
  /** The files of a dataset artifact saved by a step, by path. */
  readDataset(ref: DatasetArtifact): Promise<Record<string, Uint8Array>>;
}

/** What travels to the step's task. */
export interface StepTaskInput {
  step: string;
  inputs: Record<string, unknown>;
  run: RunRef;
  pipelineRunId: string;
  attempt: number;
}

/** A step: the remote function and what the orchestrator needs to know of it. */
export interface Step<I extends object = Record<string, unknown>, O extends object = Record<string, unknown>> {
  readonly kind: 'pipeline-step';
  readonly name: string;
  /** sha256 of the function's source and `options.version`. */
  readonly codeHash: string;
  readonly options: CompiledStepOptions;
  readonly task: RemoteFunction<[StepTaskInput], Record<string, unknown>>;
  /** Phantom: inputs and outputs, for typing a pipeline's wiring. */
  readonly __io?: { inputs: I; outputs: O };
}

export const STEP_NAME = /^[A-Za-z_][A-Za-z0-9_.-]*$/;

const KNOWN = ['numCpus', 'memory', 'resources', 'retries', 'retryBackoffMs', 'timeoutMs', 'cache', 'version', 'sourceVersion'];

export function compileStepOptions(name: string, options: StepOptions | undefined): CompiledStepOptions {
  const r = optionRules(`step '${name}'`);
  const o = r.object(options);
  r.knownKeys(o, KNOWN);
  const version = o.version ?? '';
  if (typeof version !== 'string') r.fail('version', 'must be a string', version);
  return {
    task: {
      ...(o.numCpus === undefined ? {} : { numCpus: r.number('numCpus', o.numCpus, 1, { min: 0 }) }),
      ...(o.memory === undefined ? {} : { memory: r.positive('memory', o.memory, 0) }),
      ...(o.resources === undefined ? {} : { resources: o.resources }),
      maxRetries: 0,
    },
    retries: r.int('retries', o.retries, 3, { min: 0 }),
    retryBackoffMs: r.number('retryBackoffMs', o.retryBackoffMs, 200, { min: 0 }),
    timeoutMs: o.timeoutMs === undefined ? undefined : r.positive('timeoutMs', o.timeoutMs, 0),
    cache: r.bool('cache', o.cache, true),
    version,
    sourceVersion: r.fn('sourceVersion', o.sourceVersion),
  };
}

/**
 * Defines a step. Call it at the top level of a module, like `remote()`.
 *
 * @example
 * export const count = step('count', async ({ data }: { data: FileArtifact }, ctx) => {
 *   const lines = (await ctx.readText(data)).split('\n').length;
 *   return { lines, report: await ctx.saveMetrics('report', { lines }) };
 * }, { numCpus: 1, timeoutMs: 60_000 });
 */
export function step<I extends object, O extends object | void>(
  name: string,
  fn: (inputs: I, ctx: StepContext) => O | Promise<O>,
  options?: StepOptions,
): Step<I, O extends object ? O : Record<string, never>> {
  const r = optionRules('step()');
  if (typeof name !== 'string' || !STEP_NAME.test(name)) r.fail('name', 'must start with a letter or _ and hold only letters, digits, _, . and -', name);
  if (typeof fn !== 'function') r.fail('fn', 'must be a function', fn);
  const compiled = compileStepOptions(name, options);
  const codeHash = sha256Text(`${fn.toString()}\0${compiled.version}`);
  const task = remote(
    async function pipelineStep(input: StepTaskInput): Promise<Record<string, unknown>> {
      const logs = new StepLogSink(() => storeFor(input.run), input.pipelineRunId, input.step, input.attempt);
      const ctx = new WorkerStepContext(input, logs);
      try {
        const out = await captureOutput(logs, () => fn(input.inputs as I, ctx));
        return checkOutputs(input.step, out);
      } catch (err) {
        logs.log(`step failed: ${err instanceof Error ? (err.stack ?? `${err.name}: ${err.message}`) : String(err)}`);
        throw err;
      } finally {
        // The log is best effort: a store that cannot take it must not fail a step that succeeded.
        await logs.close().catch((e: unknown) => process.stderr.write(`step '${input.step}': its log was not saved: ${(e as Error).message}\n`));
        await ctx.close();
      }
    },
    { ...compiled.task, name },
  );
  return { kind: 'pipeline-step', name, codeHash, options: compiled, task };
}

export function isStep(v: unknown): v is Step {
  return typeof v === 'object' && v !== null && (v as { kind?: unknown }).kind === 'pipeline-step';
}

/** A step's return value as stored: a plain object of JSON-able outputs (undefined → no outputs). */
function checkOutputs(step: string, out: unknown): Record<string, unknown> {
  if (out === undefined || out === null) return {};
  if (typeof out !== 'object' || Array.isArray(out) || Object.getPrototypeOf(out) !== Object.prototype) {
    throw new StepOutputError(step, `must return a plain object of named outputs (or nothing); it returned ${Array.isArray(out) ? 'an array' : typeof out}`);
  }
  try {
    canonicalJson(out, 'output');
  } catch (err) {
    throw new StepOutputError(step, `${(err as Error).message}`);
  }
  return out as Record<string, unknown>;
}

/** One store per location per thread: steps of the same run share it. */
const stores = new Map<string, Promise<Store>>();

function storeFor(ref: RunRef): Promise<Store> {
  const key = `${ref.store.url}\0${ref.store.artifactDir}`;
  let s = stores.get(key);
  if (!s) {
    s = openStore({ url: ref.store.url, artifactDir: ref.store.artifactDir });
    s.catch(() => stores.delete(key));
    stores.set(key, s);
  }
  return s;
}

class WorkerStepContext implements StepContext {
  private handle: Promise<Run> | undefined;
  readonly step: string;
  readonly runId: string;
  readonly pipelineRunId: string;
  readonly attempt: number;

  constructor(
    private readonly input: StepTaskInput,
    private readonly logs: StepLogSink,
  ) {
    this.step = input.step;
    this.runId = input.run.runId;
    this.pipelineRunId = input.pipelineRunId;
    this.attempt = input.attempt;
  }

  async previousOutputs(): Promise<Record<string, unknown> | undefined> {
    const store = await storeFor(this.input.run);
    const row = await store.db.get<{ outputs_json: string }>(
      `SELECT s.outputs_json FROM pipeline_steps s JOIN pipeline_runs p ON p.id = s.pipeline_run_id
       WHERE p.pipeline = (SELECT pipeline FROM pipeline_runs WHERE id = ?) AND s.pipeline_run_id <> ? AND s.step = ? AND s.state = 'succeeded'
         AND s.outputs_json IS NOT NULL ORDER BY s.end_time DESC LIMIT 1`,
      [this.pipelineRunId, this.pipelineRunId, this.step],
    );
    return row ? (JSON.parse(row.outputs_json) as Record<string, unknown>) : undefined;
  }

  log(...values: unknown[]): void {
    this.logs.log(values.map((v) => (typeof v === 'string' ? v : inspect(v, { depth: 4, breakLength: Infinity }))).join(' '));
  }

  run(): Promise<Run> {
    this.handle ??= storeFor(this.input.run).then((s) => s.attachRun(this.input.run.runId));
    return this.handle;
  }

  async close(): Promise<void> {
    if (this.handle) await (await this.handle).flush();
  }

  private async save(name: string, files: Readonly<Record<string, Uint8Array | string>>): Promise<{ uri: string; entries: Array<{ path: string; sha256: string; bytes: number }> }> {
    if (!STEP_NAME.test(name)) optionRules(`step '${this.step}'`).fail('artifact name', 'must start with a letter or _ and hold only letters, digits, _, . and -', name);
    const run = await this.run();
    const prefix = `outputs/${name}`;
    const entries = await run.logArtifacts(Object.fromEntries(Object.entries(files).map(([p, d]) => [p === '' ? prefix : `${prefix}/${p}`, d])));
    return { uri: `runs:/${run.id}/${prefix}`, entries };
  }

  async saveFile(name: string, data: Uint8Array | string): Promise<FileArtifact> {
    const { uri, entries } = await this.save(name, { '': data });
    const e = entries[0]!;
    return { artifact: 'file', uri, sha256: e.sha256, bytes: e.bytes };
  }

  async saveMetrics(name: string, metrics: Readonly<Record<string, number>>): Promise<MetricsArtifact> {
    const run = await this.run();
    run.logMetrics(metrics);
    const { uri, entries } = await this.save(name, { '': canonicalJson(metrics, `metrics '${name}'`) });
    const e = entries[0]!;
    return { artifact: 'metrics', uri, sha256: e.sha256, bytes: e.bytes };
  }

  async saveModel(name: string, model: ModelContents): Promise<ModelArtifact> {
    const run = await this.run();
    const uri = await run.logModel(`outputs/${name}`, model);
    const entries = (await run.store.listArtifacts(run.id, `outputs/${name}`)).map((e) => ({ ...e, path: e.path.slice(`outputs/${name}/`.length) }));
    return { artifact: 'model', uri, sha256: folderDigest(entries), bytes: entries.reduce((n, e) => n + e.bytes, 0) };
  }

  async saveDataset(name: string, files: Readonly<Record<string, Uint8Array | string>>, details: { rowCount?: number; schema?: Record<string, string> } = {}): Promise<DatasetArtifact> {
    const { uri, entries } = await this.save(name, files);
    const rel = entries.map((e) => ({ ...e, path: e.path.slice(`outputs/${name}/`.length) }));
    const run = await this.run();
    const version = await run.store.logDatasetFiles(name, rel, details);
    return { artifact: 'dataset', uri, sha256: folderDigest(rel), bytes: rel.reduce((n, e) => n + e.bytes, 0), datasetVersion: version.id };
  }

  private async readChecked(ref: ArtifactRef, path?: string): Promise<Uint8Array> {
    if (!isArtifactRef(ref)) optionRules(`step '${this.step}'`).fail('artifact', 'must be an artifact reference', ref);
    const where = parseRunsUri(ref.uri);
    if (!where) throw new ArtifactNotFoundError(ref.uri);
    const store = await storeFor(this.input.run);
    const full = path === undefined ? where.path : `${where.path}/${path}`;
    const bytes = await store.readArtifact(where.runId, full);
    if (path === undefined && sha256Hex(bytes) !== ref.sha256) throw new ArtifactCorruptError(ref.uri, `its content is not the version the reference names (sha256 ${ref.sha256.slice(0, 12)}…)`);
    return bytes;
  }

  readFile(ref: FileArtifact): Promise<Uint8Array> {
    return this.readChecked(ref);
  }

  async readText(ref: FileArtifact): Promise<string> {
    return new TextDecoder().decode(await this.readChecked(ref));
  }

  async readMetrics(ref: MetricsArtifact): Promise<Record<string, number>> {
    return JSON.parse(new TextDecoder().decode(await this.readChecked(ref))) as Record<string, number>;
  }

  async loadModel(ref: ModelArtifact): Promise<StoredModel> {
    const store = await storeFor(this.input.run);
    return store.loadModel(ref.uri);
  }

  async readDataset(ref: DatasetArtifact): Promise<Record<string, Uint8Array>> {
    const where = parseRunsUri(ref.uri);
    if (!where) throw new ArtifactNotFoundError(ref.uri);
    const store = await storeFor(this.input.run);
    const entries = await store.listArtifacts(where.runId, where.path);
    const out: Record<string, Uint8Array> = {};
    for (const e of entries) out[e.path.slice(where.path.length + 1)] = await store.readArtifact(where.runId, e.path);
    return out;
  }
}
