/**
 * Hyperparameter search over any trainable, run on the cluster. The driver only orchestrates: each
 * trial is a task (a function trainable returns its final metrics) or an actor (a step trainable is
 * stepped one result at a time, so ASHA can stop it early by killing it). At most
 * `maxConcurrentTrials` run at once; each reserves `resourcesPerTrial`.
 *
 * Trainables are user code, so they are made by the user with `remote()` / `actor()` at the top level
 * of their module (shipped to workers like any remote function).
 */
import {
  clusterStatus, get, isInitialized, kill, NotInitializedError,
  type ActorClass, type ActorHandle, type RemoteFunction,
} from '../../core/index.js';
import { autologTrialStart, autologTuneResult, type TrialLog } from '../autolog.js';
import { InvalidOptionError, TuneError } from '../errors.js';
import { generateConfigs, type TrialConfig } from './search-space.js';
import { AshaScheduler, FifoScheduler, type TrialScheduler } from './trial-scheduler-policy.js';
import { compileTuneOptions, type TuneOptions } from './tune-options.js';


/** Metrics a trainable reports: numbers by name; a step trainable may set `done: true` to finish. */
export type TrialMetrics = Record<string, unknown> & { done?: boolean };

/** A step trainable: constructed with the trial's config; `step()` runs one unit of training and reports. */
export interface StepTrainable {
  step(): TrialMetrics | Promise<TrialMetrics>;
}

/**
 * What `tune()` runs: `{ task }` — a remote function `(config) => metrics`, one task per trial, one
 * (final) result; or `{ actor }` — an actor class whose constructor takes the config and whose
 * `step()` returns metrics, stepped up to `maxT` times (what ASHA needs).
 */
export type Trainable<C extends object = TrialConfig> =
  | { task: RemoteFunction<[C], unknown> }
  | { actor: ActorClass<new (config: C) => StepTrainable> };

export interface TrialResult {
  trialId: string;
  config: TrialConfig;
  /** 'completed' ran to its end, 'stopped' was stopped early by the scheduler, 'error' threw. */
  status: 'completed' | 'stopped' | 'error';
  /** Every reported result, in order (one for task trainables). */
  history: TrialMetrics[];
  /** The last result (undefined if the trial failed before reporting). */
  lastResult: TrialMetrics | undefined;
  /** Steps run (results reported). */
  steps: number;
  error?: string | undefined;
}

export interface TuneResult {
  /** Config of the best trial, judged by the last reported value of `metric`. */
  bestConfig: TrialConfig;
  bestTrial: TrialResult;
  trials: TrialResult[];
  /** Steps run over all trials (what early stopping saves). */
  totalSteps: number;
  wallMs: number;
}

/**
 * Runs a hyperparameter search; returns the best config and every trial's history.
 *
 * @example
 * ```ts
 * // trainables.ts
 * export const objective = remote(function objective(c: { lr: number }) { return { loss: (c.lr - 0.1) ** 2 }; });
 * // main.ts
 * const r = await tune({ task: objective }, { searchSpace: { lr: loguniform(1e-3, 1) }, numSamples: 20, searchAlg: 'random', metric: 'loss' });
 * ```
 */
export async function tune<C extends object = TrialConfig>(trainable: Trainable<C>, options: TuneOptions): Promise<TuneResult> {
  // Inside a task or actor the thread's session opens on first use, so isInitialized() is still false there.
  if (!isInitialized() && !process.env.SHOAL_IN_WORKER) throw new NotInitializedError('tune()');
  const o = compileTuneOptions(options);
  const isTask = typeof trainable === 'object' && trainable !== null && 'task' in trainable && trainable.task !== undefined;
  const isActor = typeof trainable === 'object' && trainable !== null && 'actor' in trainable && trainable.actor !== undefined;
  if (!isTask && !isActor) {
    throw new InvalidOptionError('tune() takes { task: remote(fn) } (a remote function config → metrics) or { actor: actor(Class) } (a class constructed with the config whose step() returns metrics)', { option: 'trainable' });
  }
  if (isTask && o.scheduler === 'asha') {
    throw new InvalidOptionError("options.scheduler 'asha' needs intermediate results: pass a step trainable ({ actor }) instead of a task", { option: 'scheduler' });
  }
  const configs = generateConfigs(o.searchSpace, o.searchAlg, o.numSamples, o.seed);
  let concurrency = o.maxConcurrentTrials;
  if (concurrency === undefined) {
    const status = await clusterStatus();
    const cpus = status.nodes.filter((n) => n.alive).reduce((s, n) => s + (n.total.CPU ?? 0), 0);
    concurrency = o.resourcesPerTrial.numCpus > 0 ? Math.max(1, Math.floor(cpus / o.resourcesPerTrial.numCpus)) : configs.length;
  }
  const scheduler: TrialScheduler = o.scheduler === 'asha'
    ? new AshaScheduler({ gracePeriod: o.gracePeriod, reductionFactor: o.reductionFactor, maxT: o.maxT, mode: o.mode })
    : new FifoScheduler();
  const resources = {
    numCpus: o.resourcesPerTrial.numCpus,
    ...(o.resourcesPerTrial.memory !== undefined ? { memory: o.resourcesPerTrial.memory } : {}),
    ...(o.resourcesPerTrial.resources !== undefined ? { resources: o.resourcesPerTrial.resources } : {}),
  };
  const started = performance.now();
  const trials: TrialResult[] = configs.map((config, i) => ({
    trialId: `trial_${String(i).padStart(4, '0')}`, config, status: 'completed', history: [], lastResult: undefined, steps: 0,
  }));

  const trialLogs = new Map<string, TrialLog>();
  const report = (t: TrialResult, metrics: TrialMetrics): void => {
    t.history.push(metrics);
    t.lastResult = metrics;
    t.steps++;
    trialLogs.get(t.trialId)?.report(t.steps, metrics);
    o.onResult?.({ trialId: t.trialId, config: t.config, step: t.steps, metrics });
  };

  const runTask = async (t: TrialResult): Promise<void> => {
    const fn = (trainable as { task: RemoteFunction<[C], unknown> }).task.options({ ...resources, name: `tune:${t.trialId}` });
    report(t, checkMetrics(await get(fn.remote(t.config as unknown as C)), o.metric, t.trialId));
  };

  const runActor = async (t: TrialResult): Promise<void> => {
    const cls = (trainable as { actor: ActorClass<new (config: C) => StepTrainable> }).actor.options(resources);
    const handle: ActorHandle<StepTrainable> = cls.remote(t.config as unknown as C);
    try {
      for (let step = 1; step <= o.maxT; step++) {
        const metrics = checkMetrics(await get(handle.step.remote()), o.metric, t.trialId);
        report(t, metrics);
        if (metrics.done === true) break;
        if (step === o.maxT) break;
        if (scheduler.onResult(t.trialId, step, Number(metrics[o.metric])) === 'stop') {
          t.status = 'stopped';
          break;
        }
      }
    } finally {
      kill(handle);
    }
  };

  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < trials.length) {
      const t = trials[next++]!;
      // With a run active, each trial is a child run of it (autolog.ts).
      const trialLog = await autologTrialStart(t.trialId, t.config as Record<string, unknown>);
      if (trialLog) trialLogs.set(t.trialId, trialLog);
      try {
        await (isTask ? runTask(t) : runActor(t));
      } catch (err) {
        t.status = 'error';
        t.error = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
      }
      await trialLog?.end(t.status, t.error);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, trials.length) }, () => lane()));

  const sign = o.mode === 'min' ? 1 : -1;
  let best: TrialResult | undefined;
  for (const t of trials) {
    const v = Number(t.lastResult?.[o.metric]);
    if (t.status === 'error' || !Number.isFinite(v)) continue;
    if (!best || sign * v < sign * Number(best.lastResult![o.metric])) best = t;
  }
  if (!best) {
    const errors = trials.filter((t) => t.error).map((t) => `${t.trialId}: ${t.error}`);
    throw new TuneError(`no trial reported a finite '${o.metric}' (${errors.length} of ${trials.length} failed${errors[0] ? `; first: ${errors[0]}` : ''})`, errors);
  }
  await autologTuneResult(o.metric, best as { trialId: string; config: Record<string, unknown>; lastResult: Record<string, unknown> | undefined });
  return { bestConfig: best.config, bestTrial: best, trials, totalSteps: trials.reduce((s, t) => s + t.steps, 0), wallMs: performance.now() - started };
}

function checkMetrics(m: unknown, metric: string, trialId: string): TrialMetrics {
  if (typeof m !== 'object' || m === null || Array.isArray(m)) {
    throw new TuneError(`${trialId}: a trainable must return an object of metrics (got ${m === null ? 'null' : typeof m})`);
  }
  if (!(metric in m)) throw new TuneError(`${trialId}: the trainable's result has no '${metric}' (keys: ${Object.keys(m).join(', ') || 'none'})`);
  return m as TrialMetrics;
}
