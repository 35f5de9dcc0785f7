/**
 * Running a pipeline: each step is submitted as a task as soon as the steps it takes inputs from
 * are done, so independent steps run in parallel (the cluster's scheduler places them). This process
 * — the driver — only orchestrates: inputs are artifact references and small values, never data.
 *
 * Caching is on by default: a step's cache key is the sha256 of its code hash, and the content
 * versions of its inputs (parameters are inputs; artifacts count by sha256, not by which run made
 * them). A hit takes the outputs of the newest successful execution with that key, without running.
 * So a changed parameter, input or step function invalidates that step, and what is downstream only
 * if the step's outputs then differ.
 *
 * Retries: a step's task is submitted with core retries off; a system failure (its worker died, an
 * object was lost, the connection to the head failed) is retried here, up to `retries` times, after
 * a backoff doubled each time; an exception the step's own code threw is not. A step past its
 * `timeoutMs` is cancelled and fails (not retried). A failed step fails the run naming it: the steps
 * downstream of it do not run, independent ones still do, and every finished step keeps its outputs
 * — `resumePipeline` starts a new run that reuses them and runs only the failed and downstream steps.
 */
import {
  cancel, ConnectionError, get, GetTimeoutError, ObjectLostError, TaskError, WorkerDiedError, type ObjectRef,
} from '../../core/index.js';
import { openStore, type Run, type Store, type StoreOptions } from '../../store/index.js';
import { PipelineModuleError, PipelineRunError, StepOutputError, StepTimeoutError } from '../errors.js';
import { artifactsIn, canonicalJson, contentVersion, isArtifactRef, parseRunsUri, sha256Text, type MetricsArtifact } from './artifacts.js';
import { dagOf, type ConditionContext, type InputSource, type Pipeline, type PipelineNode } from './definition.js';
import { compileParams } from './params.js';
import { PipelineRecords, type PipelineRunRecord, type StepRecord, type StepState } from './pipeline-records.js';

/** Options of {@link runPipeline}. */
export interface RunPipelineOptions {
  /** Parameter values (validated against the pipeline's parameters). */
  params?: Readonly<Record<string, unknown>>;
  /** Run every step, even those with a cached result. @default false */
  noCache?: boolean;
  /** An open platform store to record into (left open). @default the store `storeOptions` opens */
  store?: Store;
  /** Where the store is, when `store` is not given. @default `openStore()`'s default */
  storeOptions?: StoreOptions;
  /** The experiment the run is recorded under. @default 'pipelines' */
  experiment?: string;
  /** The module the pipeline came from, recorded for `shoal pipeline resume`. */
  module?: string;
  /** The schedule or trigger that started the run (tag `shoal.pipeline.trigger`). */
  trigger?: string;
}

/** What a finished run resolves with. */
export interface PipelineRunResult {
  runId: string;
  pipeline: string;
  status: 'FINISHED';
  /** Every step instance, in the order they finished. */
  steps: StepRecord[];
  /** Outputs by step (a mapped step: the list of its elements' outputs); skipped steps have none. */
  outputs: Record<string, unknown>;
}

/** Outputs of a finished node: an object, or for a map the list of its elements' objects. */
type NodeResult = { state: 'done'; outputs: Record<string, unknown> | Array<Record<string, unknown>> } | { state: 'skipped' | 'failed' | 'not-run' };

/** Internal: what a resumed run may take over from the run it resumes. */
interface ResumeFrom {
  runId: string;
  steps: Map<string, StepRecord>;
}

const RETRYABLE = (err: unknown): boolean => err instanceof WorkerDiedError || err instanceof ObjectLostError || err instanceof ConnectionError;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Runs `pipeline` on the connected cluster (call `init()` first), recording the run and its steps in
 * the platform store. Resolves when every step is done; rejects with {@link PipelineRunError}
 * (its `runId` and `step`) when a step failed.
 */
export async function runPipeline(pipeline: Pipeline, options: RunPipelineOptions = {}): Promise<PipelineRunResult> {
  const params = compileParams(pipeline.name, pipeline.params as Record<string, never>, options.params ?? {});
  return execute(pipeline, params, options, undefined);
}

/**
 * Resumes pipeline run `runId` (which must be a run of `pipeline`) as a new run with the same
 * parameters: steps that succeeded there (run, cached or themselves reused) are reused as they
 * were; the failed steps, the ones downstream of them and any not run are run (or taken from the
 * cache when their key hits).
 */
export async function resumePipeline(pipeline: Pipeline, runId: string, options: Omit<RunPipelineOptions, 'params'> = {}): Promise<PipelineRunResult> {
  return withStore(options, async (store) => {
    const records = new PipelineRecords(store);
    const old = await records.getRun(runId);
    if (old.pipeline !== pipeline.name) {
      throw new PipelineModuleError(options.module ?? pipeline.name, `run ${old.id} is a run of pipeline '${old.pipeline}', not of '${pipeline.name}'`);
    }
    const steps = new Map((await records.getSteps(old.id)).map((s) => [s.step, s]));
    const params = compileParams(pipeline.name, pipeline.params as Record<string, never>, old.params);
    return execute(pipeline, params, { ...options, store, module: options.module ?? old.module ?? undefined, noCache: options.noCache ?? old.options.noCache }, { runId: old.id, steps });
  });
}

async function withStore<T>(options: RunPipelineOptions, fn: (store: Store) => Promise<T>): Promise<T> {
  if (options.store) return fn(options.store);
  const store = await openStore(options.storeOptions);
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

function execute(pipeline: Pipeline, params: Record<string, unknown>, options: RunPipelineOptions, resume: ResumeFrom | undefined): Promise<PipelineRunResult> {
  return withStore(options, async (store) => {
    const records = new PipelineRecords(store);
    const run = await store.startRun({
      experiment: options.experiment ?? 'pipelines', name: pipeline.name, params,
      tags: {
        'shoal.pipeline': pipeline.name, ...(resume ? { 'shoal.pipeline.resumed_from': resume.runId } : {}),
        ...(options.trigger ? { 'shoal.pipeline.trigger': options.trigger } : {}),
      },
    });
    const record: PipelineRunRecord = {
      id: run.id, pipeline: pipeline.name, module: options.module ?? null, status: 'RUNNING', params, options: { noCache: options.noCache ?? false },
      dag: dagOf(pipeline), resumedFrom: resume?.runId ?? null, startTime: Date.now(), endTime: null, error: null,
    };
    await records.insertRun(record);
    const exec = new Execution(pipeline, params, options.noCache ?? false, store, records, run, resume);
    let failure: PipelineRunError | undefined;
    try {
      await exec.runAll();
      const failed = exec.failed();
      if (failed.length) {
        const first = failed[0]!;
        failure = new PipelineRunError(pipeline.name, run.id, first.step, failed.map((s) => s.step), first.error ?? 'failed');
      }
    } catch (err) {
      failure = new PipelineRunError(pipeline.name, run.id, '(orchestrator)', [], (err as Error).message, { cause: err });
    }
    await records.endRun(run.id, failure ? 'FAILED' : 'FINISHED', failure?.message ?? null);
    await run.end(failure ? 'FAILED' : 'FINISHED', failure?.message);
    if (failure) throw failure;
    return { runId: run.id, pipeline: pipeline.name, status: 'FINISHED', steps: exec.finished, outputs: exec.outputs() };
  });
}

/** One run's execution: a promise per node, each awaiting its upstream. */
class Execution {
  private readonly results = new Map<string, Promise<NodeResult>>();
  private readonly settled = new Map<string, NodeResult>();
  readonly finished: StepRecord[] = [];
  private readonly conditionCtx: ConditionContext;

  constructor(
    private readonly pipeline: Pipeline,
    private readonly params: Record<string, unknown>,
    private readonly noCache: boolean,
    private readonly store: Store,
    private readonly records: PipelineRecords,
    private readonly run: Run,
    private readonly resume: ResumeFrom | undefined,
  ) {
    this.conditionCtx = {
      params,
      readMetrics: async (ref: MetricsArtifact) => {
        const where = parseRunsUri(ref.uri);
        if (!where) throw new StepOutputError('(condition)', `${ref.uri} is not an artifact of a step run`);
        return JSON.parse(new TextDecoder().decode(await store.readArtifact(where.runId, where.path))) as Record<string, number>;
      },
    };
  }

  async runAll(): Promise<void> {
    for (const n of this.pipeline.nodes) {
      await this.put(blank(n.name, n.name, 'pending'));
    }
    for (const n of this.pipeline.nodes) {
      const p = this.runNode(n).then((r) => {
        this.settled.set(n.name, r);
        return r;
      });
      this.results.set(n.name, p);
    }
    await Promise.all(this.results.values());
  }

  failed(): StepRecord[] {
    return this.finished.filter((s) => s.state === 'failed');
  }

  outputs(): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const [n, r] of this.settled) if (r.state === 'done') out[n] = r.outputs;
    return out;
  }

  private async put(s: StepRecord): Promise<void> {
    await this.records.putStep(this.run.id, s);
  }

  private async finish(s: StepRecord): Promise<void> {
    await this.put(s);
    this.finished.push(s);
  }

  private async runNode(node: PipelineNode): Promise<NodeResult> {
    const ups = await Promise.all(node.upstream.map((u) => this.results.get(u)!));
    if (ups.some((u) => u.state === 'failed' || u.state === 'not-run')) {
      const why = node.upstream.filter((_, i) => ups[i]!.state === 'failed' || ups[i]!.state === 'not-run');
      await this.finish({ ...blank(node.name, node.name, 'not-run'), error: `upstream step${why.length > 1 ? 's' : ''} ${why.map((w) => `'${w}'`).join(', ')} did not succeed` });
      return { state: 'not-run' };
    }
    if (ups.some((u) => u.state === 'skipped')) {
      await this.finish({ ...blank(node.name, node.name, 'skipped'), error: 'an upstream step was skipped' });
      return { state: 'skipped' };
    }
    try {
      if (node.map === undefined) {
        const inputs = this.resolveInputs(node, undefined);
        if (node.when) {
          const holds = await node.when(inputs, this.conditionCtx);
          if (!holds) {
            await this.finish({ ...blank(node.name, node.name, 'skipped'), error: 'its condition did not hold' });
            return { state: 'skipped' };
          }
        }
        const out = await this.runInstance(node, node.name, inputs);
        return out ? { state: 'done', outputs: out } : { state: 'failed' };
      }
      const list = this.resolve(node, node.map, undefined, 'map');
      if (!Array.isArray(list)) throw new StepOutputError(node.name, `its map source is not a list (got ${typeof list})`);
      // The node's own row stands for the whole map: pending → running → its elements' outcome.
      await this.put({ ...blank(node.name, node.name, 'running'), startTime: Date.now() });
      const outs = await Promise.all(list.map((item, i) => this.runInstance(node, `${node.name}[${i}]`, this.resolveInputs(node, { item }))));
      const ok = outs.every((o) => o !== undefined);
      await this.put({ ...blank(node.name, node.name, ok ? 'succeeded' : 'failed'), attempts: list.length, error: ok ? null : `${outs.filter((o) => !o).length} of ${list.length} elements failed` });
      return ok ? { state: 'done', outputs: outs as Array<Record<string, unknown>> } : { state: 'failed' };
    } catch (err) {
      // Wiring errors found while resolving inputs (an output the upstream did not return, a map over a non-list).
      await this.finish({ ...blank(node.name, node.name, 'failed'), endTime: Date.now(), error: (err as Error).message });
      return { state: 'failed' };
    }
  }

  private resolveInputs(node: PipelineNode, map: { item: unknown } | undefined): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const [k, src] of Object.entries(node.inputs)) out[k] = this.resolve(node, src, map, `input '${k}'`);
    return out;
  }

  private resolve(node: PipelineNode, src: InputSource, map: { item: unknown } | undefined, where: string): unknown {
    switch (src.from) {
      case 'param':
        return this.params[src.name];
      case 'value':
        return src.value;
      case 'item':
        return map?.item;
      case 'step': {
        const r = this.settled.get(src.step);
        if (!r || r.state !== 'done') throw new StepOutputError(node.name, `${where} needs step '${src.step}', which has no outputs`);
        if (src.output === undefined) return r.outputs;
        const pick = (o: Record<string, unknown>): unknown => {
          if (!(src.output! in o)) {
            throw new StepOutputError(node.name, `${where} names output '${src.output}' of step '${src.step}', which it did not return (it returned: ${Object.keys(o).join(', ') || 'nothing'})`);
          }
          return o[src.output!];
        };
        return Array.isArray(r.outputs) ? r.outputs.map(pick) : pick(r.outputs);
      }
    }
  }

  /** Runs (or takes from the cache, or reuses) one step instance; resolves with its outputs, or undefined when it failed. */
  private async runInstance(node: PipelineNode, name: string, inputs: Record<string, unknown>): Promise<Record<string, unknown> | undefined> {
    const step = node.step;
    const rec: StepRecord = { ...blank(name, node.name, 'pending'), codeHash: step.codeHash };
    let key: string;
    try {
      const source = step.options.sourceVersion ? await step.options.sourceVersion(inputs) : undefined;
      key = sha256Text(canonicalJson({ step: step.name, code: step.codeHash, inputs: contentVersion(inputs), source }, `step '${name}' inputs`));
    } catch (err) {
      await this.finish({ ...rec, state: 'failed', error: `${(err as Error).name}: ${(err as Error).message}` });
      return undefined;
    }
    rec.cacheKey = key;

    const before = this.resume?.steps.get(name);
    if (before && (before.state === 'succeeded' || before.state === 'cached' || before.state === 'reused') && before.outputs) {
      const now = Date.now();
      await this.finish({ ...rec, state: 'reused', cachedFrom: before.runId ?? before.cachedFrom, outputs: before.outputs, startTime: now, endTime: now, durationMs: 0 });
      return before.outputs;
    }
    if (node.cache && !this.noCache) {
      const hit = await this.records.cacheLookup(key);
      if (hit && (await this.outputsExist(hit.outputs))) {
        const now = Date.now();
        await this.finish({ ...rec, state: 'cached', cacheHit: true, cachedFrom: hit.runId, outputs: hit.outputs, startTime: now, endTime: now, durationMs: 0 });
        return hit.outputs;
      }
    }

    const start = Date.now();
    const stepRun = await this.store.startRun({
      experiment: this.run.experimentName, name: `${this.pipeline.name}/${name}`, parentRunId: this.run.id, codeHash: step.codeHash,
      params: plainParams(inputs), tags: { 'shoal.pipeline.step': name },
    });
    rec.runId = stepRun.id;
    rec.state = 'running';
    rec.startTime = start;
    await this.put(rec);
    for (const [k, v] of Object.entries(inputs)) {
      for (const a of artifactsIn(v)) {
        if (a.datasetVersion) await stepRun.logInput(a.datasetVersion, { kind: 'dataset', role: k });
        const from = parseRunsUri(a.uri);
        if (from) await stepRun.logInput(from.runId, { kind: 'run', role: k });
      }
    }

    const { retries, retryBackoffMs, timeoutMs } = step.options;
    let error: unknown;
    let outputs: Record<string, unknown> | undefined;
    for (let attempt = 1; attempt <= retries + 1; attempt++) {
      rec.attempts = attempt;
      if (attempt > 1) await this.put(rec);
      const ref: ObjectRef<Record<string, unknown>> = step.task.remote({ step: name, inputs, run: stepRun.ref(), pipelineRunId: this.run.id, attempt });
      try {
        outputs = await get(ref, timeoutMs === undefined ? {} : { timeoutMs });
        error = undefined;
        break;
      } catch (err) {
        if (err instanceof GetTimeoutError) {
          cancel(ref, { force: true });
          error = new StepTimeoutError(name, timeoutMs!);
          break;
        }
        error = err;
        if (!RETRYABLE(err) || attempt > retries) break;
        await sleep(retryBackoffMs * 2 ** (attempt - 1));
      }
    }
    const end = Date.now();
    if (error !== undefined || outputs === undefined) {
      // A step's own exception reads as `RangeError: ...` (not the TaskError wrapping it, nor its remote stack).
      const message = describeError(error);
      await stepRun.end('FAILED', message);
      await this.finish({ ...rec, state: 'failed', endTime: end, durationMs: end - start, error: message });
      return undefined;
    }
    await stepRun.end('FINISHED');
    await this.finish({ ...rec, state: 'succeeded', endTime: end, durationMs: end - start, outputs });
    return outputs;
  }

  /** A cache hit counts only while the artifacts it names are still in the store. */
  private async outputsExist(outputs: Record<string, unknown>): Promise<boolean> {
    for (const a of artifactsIn(outputs)) {
      const where = parseRunsUri(a.uri);
      if (!where) continue;
      const entries = await this.store.listArtifacts(where.runId, where.path);
      if (!entries.length) return false;
    }
    return true;
  }
}

function blank(step: string, node: string, state: StepState): StepRecord {
  return {
    step, node, state, runId: null, codeHash: null, cacheKey: null, cacheHit: false, cachedFrom: null, attempts: 0, startTime: null, endTime: null,
    durationMs: null, error: null, outputs: null,
  };
}

/** The inputs that are plain values, as run params (artifacts are recorded as run inputs instead). */
function plainParams(inputs: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(inputs)) {
    if (isArtifactRef(v) || artifactsIn(v).length) continue;
    const text = typeof v === 'string' ? v : JSON.stringify(v);
    if (text !== undefined && text.length <= 500) out[k] = text;
  }
  return out;
}

function describeError(err: unknown): string {
  if (err instanceof TaskError) return `${err.causeName}: ${err.causeMessage}`;
  if (err instanceof Error) return `${err.name}: ${err.message}`;
  return String(err);
}
