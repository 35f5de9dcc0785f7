/**
 * User-facing options of tasks, actors and `init()`, compiled once at the API boundary into a
 * complete internal form. Messages name the option and the rule.
 */
import { DEFAULT_TASK_MAX_RETRIES } from '../constants.js';
import { InvalidOptionError } from '../errors.js';
import type { Resources, SchedulingStrategy } from '../wire/protocol.js';

/** Where a task or actor may run. */
export type SchedulingStrategyOption =
  | 'DEFAULT'
  | 'SPREAD'
  | 'PACK'
  | { nodeId: string; soft?: boolean }
  | { placementGroup: { id: string }; bundleIndex?: number };

export interface TaskOptions {
  /** CPUs the task needs. @default 1 */
  numCpus?: number;
  /** Memory the task needs, in bytes; also its thread's heap limit. @default none */
  memory?: number;
  /** Custom resources, e.g. `{ GPU: 1 }`. @default {} */
  resources?: Record<string, number>;
  /** Retries after a system failure (worker died, node lost). @default 3 */
  maxRetries?: number;
  /** Name shown in errors, logs and metrics. @default the function's name */
  name?: string;
  /** @default 'DEFAULT' (prefer the node holding the largest arguments, else the least loaded) */
  schedulingStrategy?: SchedulingStrategyOption;
}

export interface ActorOptions {
  /** Register under this name so `getActor(name)` finds it; unique in the cluster. */
  name?: string;
  /** With `name`: when a live actor has that name, return a handle to it instead of failing with ActorNameTakenError. @default false */
  getIfExists?: boolean;
  /** CPUs reserved for the actor's life. @default 0 */
  numCpus?: number;
  /** Memory the actor needs, in bytes; also its thread's heap limit. */
  memory?: number;
  resources?: Record<string, number>;
  /** Method calls that may run at once (async methods interleave at awaits). @default 1 */
  maxConcurrency?: number;
  /** Restarts after the actor's process or node died. @default 0 */
  maxRestarts?: number;
  /** Retries of a call that was running when the actor died (needs maxRestarts > 0). @default 0 */
  maxTaskRetries?: number;
  /** 'detached' actors outlive the driver that made them. @default 'job' */
  lifetime?: 'job' | 'detached';
  schedulingStrategy?: SchedulingStrategyOption;
}

export interface CompiledTaskOptions {
  resources: Resources;
  maxRetries: number;
  name?: string | undefined;
  strategy: SchedulingStrategy;
}

const isNonNegative = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v >= 0;

function check(cond: boolean, message: string): void {
  if (!cond) throw new InvalidOptionError(message);
}

function compileResources(o: { numCpus?: number | undefined; memory?: number | undefined; resources?: Record<string, number> | undefined }, defaultCpus: number, what: string): Resources {
  const r: Resources = {};
  check(o.numCpus === undefined || isNonNegative(o.numCpus), `${what}.numCpus must be a non-negative number (got ${String(o.numCpus)})`);
  check(o.memory === undefined || (isNonNegative(o.memory) && o.memory > 0), `${what}.memory must be a positive number of bytes (got ${String(o.memory)})`);
  r.CPU = o.numCpus ?? defaultCpus;
  if (o.memory) r.memory = o.memory;
  if (o.resources !== undefined) {
    check(typeof o.resources === 'object' && o.resources !== null, `${what}.resources must be an object of name → amount`);
    for (const [k, v] of Object.entries(o.resources)) {
      check(k !== 'CPU' && k !== 'memory', `${what}.resources must not contain '${k}'; use ${what}.${k === 'CPU' ? 'numCpus' : 'memory'}`);
      check(isNonNegative(v), `${what}.resources.${k} must be a non-negative number (got ${String(v)})`);
      r[k] = v;
    }
  }
  return r;
}

export function compileStrategy(s: SchedulingStrategyOption | undefined, what: string): SchedulingStrategy {
  if (s === undefined) return 'DEFAULT';
  if (s === 'DEFAULT' || s === 'SPREAD' || s === 'PACK') return s;
  if (typeof s === 'object' && s !== null && 'nodeId' in s && typeof s.nodeId === 'string') return { nodeId: s.nodeId, soft: s.soft ?? false };
  if (typeof s === 'object' && s !== null && 'placementGroup' in s && typeof s.placementGroup?.id === 'string') {
    const idx = s.bundleIndex ?? -1;
    check(Number.isInteger(idx) && idx >= -1, `${what}.schedulingStrategy.bundleIndex must be a non-negative integer`);
    return { placementGroupId: s.placementGroup.id, bundleIndex: idx };
  }
  throw new InvalidOptionError(`${what}.schedulingStrategy must be 'DEFAULT', 'SPREAD', 'PACK', { nodeId, soft? } or { placementGroup, bundleIndex? } (got ${JSON.stringify(s)})`);
}

const TASK_KEYS = new Set(['numCpus', 'memory', 'resources', 'maxRetries', 'name', 'schedulingStrategy']);
const ACTOR_KEYS = new Set(['name', 'getIfExists', 'numCpus', 'memory', 'resources', 'maxConcurrency', 'maxRestarts', 'maxTaskRetries', 'lifetime', 'schedulingStrategy']);

function unknownKeys(o: object, known: Set<string>, what: string): void {
  for (const k of Object.keys(o)) check(known.has(k), `${what} has an unknown option '${k}' (known: ${[...known].join(', ')})`);
}

export function compileTaskOptions(o: TaskOptions = {}): CompiledTaskOptions {
  check(typeof o === 'object' && o !== null, 'task options must be an object');
  unknownKeys(o, TASK_KEYS, 'task options');
  check(o.maxRetries === undefined || (Number.isInteger(o.maxRetries) && o.maxRetries >= 0), `options.maxRetries must be a non-negative integer (got ${String(o.maxRetries)})`);
  check(o.name === undefined || (typeof o.name === 'string' && o.name.length > 0), 'options.name must be a non-empty string');
  return {
    resources: compileResources(o, 1, 'options'),
    maxRetries: o.maxRetries ?? DEFAULT_TASK_MAX_RETRIES,
    name: o.name,
    strategy: compileStrategy(o.schedulingStrategy, 'options'),
  };
}

export interface CompiledActorOptions {
  name?: string | undefined;
  getIfExists: boolean;
  resources: Resources;
  maxConcurrency: number;
  maxRestarts: number;
  maxTaskRetries: number;
  detached: boolean;
  strategy: SchedulingStrategy;
}

export function compileActorOptions(o: ActorOptions = {}): CompiledActorOptions {
  check(typeof o === 'object' && o !== null, 'actor options must be an object');
  unknownKeys(o, ACTOR_KEYS, 'actor options');
  const int = (v: number | undefined, key: string, min: number): void =>
    check(v === undefined || (Number.isInteger(v) && v >= min), `options.${key} must be an integer ≥ ${min} (got ${String(v)})`);
  int(o.maxConcurrency, 'maxConcurrency', 1);
  int(o.maxRestarts, 'maxRestarts', 0);
  int(o.maxTaskRetries, 'maxTaskRetries', 0);
  check(o.lifetime === undefined || o.lifetime === 'job' || o.lifetime === 'detached', `options.lifetime must be 'job' or 'detached' (got ${String(o.lifetime)})`);
  check(o.name === undefined || (typeof o.name === 'string' && o.name.length > 0), 'options.name must be a non-empty string');
  check(o.getIfExists === undefined || typeof o.getIfExists === 'boolean', `options.getIfExists must be a boolean (got ${String(o.getIfExists)})`);
  check(!o.getIfExists || o.name !== undefined, 'options.getIfExists needs options.name (the name to look up)');
  return {
    name: o.name,
    getIfExists: o.getIfExists ?? false,
    resources: compileResources(o, 0, 'options'),
    maxConcurrency: o.maxConcurrency ?? 1,
    maxRestarts: o.maxRestarts ?? 0,
    maxTaskRetries: o.maxTaskRetries ?? 0,
    detached: o.lifetime === 'detached',
    strategy: compileStrategy(o.schedulingStrategy, 'options'),
  };
}
