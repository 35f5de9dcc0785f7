/** `tune()` options, compiled once at the boundary into a complete validated form. */
import { optionRules } from '../../core/index.js';
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

export function compileTuneOptions(input: TuneOptions): CompiledTuneOptions {
  const rules = optionRules('tune()');
  const o = rules.object(input);
  rules.knownKeys(o, KEYS);
  if (typeof o.searchSpace !== 'object' || o.searchSpace === null) rules.fail('searchSpace', 'must be an object of name → domain or constant', o.searchSpace);
  if (typeof o.metric !== 'string' || o.metric.length === 0) rules.fail('metric', 'must be a non-empty string', o.metric);
  const mode = rules.oneOf('mode', o.mode, ['min', 'max'], 'min');
  const searchAlg = rules.oneOf('searchAlg', o.searchAlg, ['grid', 'random'], 'grid');
  const scheduler = rules.oneOf('scheduler', o.scheduler, ['fifo', 'asha'], 'fifo');
  const numSamples = rules.int('numSamples', o.numSamples, 1);
  const gracePeriod = rules.int('gracePeriod', o.gracePeriod, 1);
  const maxT = rules.int('maxT', o.maxT, 100);
  const maxConcurrentTrials = o.maxConcurrentTrials === undefined ? undefined : rules.int('maxConcurrentTrials', o.maxConcurrentTrials, 1);
  if (o.reductionFactor !== undefined && !(typeof o.reductionFactor === 'number' && o.reductionFactor > 1)) rules.fail('reductionFactor', 'must be a number > 1', o.reductionFactor);
  if (o.seed !== undefined && !Number.isInteger(o.seed)) rules.fail('seed', 'must be an integer', o.seed);
  const r = o.resourcesPerTrial ?? {};
  if (r.numCpus !== undefined && !(typeof r.numCpus === 'number' && r.numCpus >= 0)) rules.fail('resourcesPerTrial', 'numCpus must be a non-negative number', r.numCpus);
  if (scheduler === 'asha' && gracePeriod > maxT) rules.fail('gracePeriod', `must not exceed option 'maxT' (${maxT})`, gracePeriod);
  return {
    searchSpace: o.searchSpace, metric: o.metric, mode, numSamples, searchAlg,
    scheduler, gracePeriod, reductionFactor: o.reductionFactor ?? 4, maxT,
    maxConcurrentTrials,
    resourcesPerTrial: { numCpus: r.numCpus ?? 1, memory: r.memory, resources: r.resources },
    seed: o.seed ?? 0, onResult: o.onResult,
  };
}
