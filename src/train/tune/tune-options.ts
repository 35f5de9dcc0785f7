/** `tune()` options, compiled once at the boundary into a complete validated form. */
import { InvalidOptionError } from '../errors.js';
import type { SearchSpace } from './search-space.js';

export interface TuneOptions {
  /** Hyperparameter name → domain (`grid`, `choice`, `uniform`, `loguniform`, `randint`) or constant. */
  searchSpace: SearchSpace;
  /** Name of the metric trials report (a key of the returned/stepped metrics object). */
  metric: string;
  /** Whether a lower or higher metric is better. @default 'min' */
  mode?: 'min' | 'max';
  /** Repetitions of the space: grid dimensions are crossed, others sampled once per config. @default 1 */
  numSamples?: number;
  /** 'grid' also enumerates `choice` dimensions; 'random' samples them. @default 'grid' */
  searchAlg?: 'grid' | 'random';
  /** Early stopping of step trainables. @default 'fifo' */
  scheduler?: 'fifo' | 'asha';
  /** ASHA: steps before a trial can be stopped (first rung). @default 1 */
  gracePeriod?: number;
  /** ASHA: rungs are gracePeriod·rf^k steps apart; the top 1/rf go on. @default 4 */
  reductionFactor?: number;
  /** Most steps a step trainable runs (also ASHA's max_t). @default 100 */
  maxT?: number;
  /** Trials running at once. @default the cluster's CPUs / CPUs per trial (at least 1) */
  maxConcurrentTrials?: number;
  /** What each trial's task or actor reserves. @default { numCpus: 1 } */
  resourcesPerTrial?: { numCpus?: number; memory?: number; resources?: Record<string, number> };
  /** Seed of random sampling. @default 0 */
  seed?: number;
  /** Called with every result a trial reports (intermediate results of step trainables, final ones of tasks). */
  onResult?: (event: { trialId: string; config: Record<string, unknown>; step: number; metrics: Record<string, unknown> }) => void;
}

export interface CompiledTuneOptions {
  searchSpace: SearchSpace;
  metric: string;
  mode: 'min' | 'max';
  numSamples: number;
  searchAlg: 'grid' | 'random';
  scheduler: 'fifo' | 'asha';
  gracePeriod: number;
  reductionFactor: number;
  maxT: number;
  maxConcurrentTrials: number | undefined;
  resourcesPerTrial: { numCpus: number; memory?: number | undefined; resources?: Record<string, number> | undefined };
  seed: number;
  onResult: TuneOptions['onResult'];
}

const KEYS = new Set(['searchSpace', 'metric', 'mode', 'numSamples', 'searchAlg', 'scheduler', 'gracePeriod', 'reductionFactor', 'maxT',
  'maxConcurrentTrials', 'resourcesPerTrial', 'seed', 'onResult']);

function positiveInt(v: unknown, key: string): void {
  if (v !== undefined && !(Number.isInteger(v) && (v as number) >= 1)) {
    throw new InvalidOptionError(`options.${key} must be a positive integer (got ${String(v)})`, { option: key });
  }
}

export function compileTuneOptions(o: TuneOptions): CompiledTuneOptions {
  if (typeof o !== 'object' || o === null) throw new InvalidOptionError('tune() needs an options object', { option: 'options' });
  for (const k of Object.keys(o)) if (!KEYS.has(k)) throw new InvalidOptionError(`options has an unknown key '${k}' (known: ${[...KEYS].join(', ')})`, { option: k });
  if (typeof o.searchSpace !== 'object' || o.searchSpace === null) throw new InvalidOptionError('options.searchSpace must be an object of name → domain or constant', { option: 'searchSpace' });
  if (typeof o.metric !== 'string' || o.metric.length === 0) throw new InvalidOptionError('options.metric must be a non-empty string', { option: 'metric' });
  if (o.mode !== undefined && o.mode !== 'min' && o.mode !== 'max') throw new InvalidOptionError(`options.mode must be 'min' or 'max' (got ${String(o.mode)})`, { option: 'mode' });
  if (o.searchAlg !== undefined && o.searchAlg !== 'grid' && o.searchAlg !== 'random') throw new InvalidOptionError(`options.searchAlg must be 'grid' or 'random' (got ${String(o.searchAlg)})`, { option: 'searchAlg' });
  if (o.scheduler !== undefined && o.scheduler !== 'fifo' && o.scheduler !== 'asha') throw new InvalidOptionError(`options.scheduler must be 'fifo' or 'asha' (got ${String(o.scheduler)})`, { option: 'scheduler' });
  for (const k of ['numSamples', 'gracePeriod', 'maxT', 'maxConcurrentTrials'] as const) positiveInt(o[k], k);
  if (o.reductionFactor !== undefined && !(typeof o.reductionFactor === 'number' && o.reductionFactor > 1)) {
    throw new InvalidOptionError(`options.reductionFactor must be a number > 1 (got ${String(o.reductionFactor)})`, { option: 'reductionFactor' });
  }
  if (o.seed !== undefined && !Number.isInteger(o.seed)) throw new InvalidOptionError(`options.seed must be an integer (got ${String(o.seed)})`, { option: 'seed' });
  const r = o.resourcesPerTrial ?? {};
  if (r.numCpus !== undefined && !(typeof r.numCpus === 'number' && r.numCpus >= 0)) {
    throw new InvalidOptionError(`options.resourcesPerTrial.numCpus must be a non-negative number (got ${String(r.numCpus)})`, { option: 'resourcesPerTrial' });
  }
  const gracePeriod = o.gracePeriod ?? 1;
  const maxT = o.maxT ?? 100;
  if (o.scheduler === 'asha' && gracePeriod > maxT) throw new InvalidOptionError(`options.gracePeriod (${gracePeriod}) must not exceed options.maxT (${maxT})`, { option: 'gracePeriod' });
  return {
    searchSpace: o.searchSpace, metric: o.metric, mode: o.mode ?? 'min', numSamples: o.numSamples ?? 1, searchAlg: o.searchAlg ?? 'grid',
    scheduler: o.scheduler ?? 'fifo', gracePeriod, reductionFactor: o.reductionFactor ?? 4, maxT,
    maxConcurrentTrials: o.maxConcurrentTrials,
    resourcesPerTrial: { numCpus: r.numCpus ?? 1, memory: r.memory, resources: r.resources },
    seed: o.seed ?? 0, onResult: o.onResult,
  };
}
