/**
 * User-facing options of tasks, actors and `init()`, compiled once at the API boundary into a
 * complete internal form. Messages name the option and the rule.
 */
import { DEFAULT_TASK_MAX_RETRIES } from '../constants.js';
import { optionRules, type OptionRules } from '../option-rules.js';
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

/**
 * Resources of a task or actor: `numCpus` and `memory` are options of their own, custom resources a
 * name → amount object that may not repeat them.
 */
function compileResources(r: OptionRules, o: { numCpus?: number | undefined; memory?: number | undefined; resources?: Record<string, number> | undefined }, defaultCpus: number): Resources {
  const out: Resources = { CPU: r.number('numCpus', o.numCpus, defaultCpus, { min: 0 }) };
  const memory = r.positive('memory', o.memory, 0);
  if (memory) out.memory = memory;
  if (o.resources !== undefined) {
    if (typeof o.resources !== 'object' || o.resources === null || Array.isArray(o.resources)) r.fail('resources', 'must be an object of name → amount', o.resources);
    for (const [k, v] of Object.entries(o.resources)) {
      if (k === 'CPU' || k === 'memory') r.fail('resources', `must not contain '${k}'; use the option '${k === 'CPU' ? 'numCpus' : 'memory'}'`);
      out[k] = r.number(`resources.${k}`, v, 0, { min: 0 });
    }
  }
  return out;
}

/** Compiles a scheduling strategy; `caller` names the options in messages ('task', 'actor'). */
export function compileStrategy(s: SchedulingStrategyOption | undefined, caller: string): SchedulingStrategy {
  const r = optionRules(caller);
  if (s === undefined) return 'DEFAULT';
  if (s === 'DEFAULT' || s === 'SPREAD' || s === 'PACK') return s;
  if (typeof s === 'object' && s !== null && 'nodeId' in s && typeof s.nodeId === 'string') return { nodeId: s.nodeId, soft: r.bool('schedulingStrategy.soft', s.soft, false) };
  if (typeof s === 'object' && s !== null && 'placementGroup' in s && typeof s.placementGroup?.id === 'string') {
    return { placementGroupId: s.placementGroup.id, bundleIndex: r.int('schedulingStrategy.bundleIndex', s.bundleIndex, -1, { min: 0 }) };
  }
  return r.fail('schedulingStrategy', "must be 'DEFAULT', 'SPREAD', 'PACK', { nodeId, soft? } or { placementGroup, bundleIndex? }", s);
}

const TASK_KEYS = ['numCpus', 'memory', 'resources', 'maxRetries', 'name', 'schedulingStrategy'];
const ACTOR_KEYS = ['name', 'getIfExists', 'numCpus', 'memory', 'resources', 'maxConcurrency', 'maxRestarts', 'maxTaskRetries', 'lifetime', 'schedulingStrategy'];

export function compileTaskOptions(options?: TaskOptions): CompiledTaskOptions {
  const r = optionRules('task');
  const o = r.object(options);
  r.knownKeys(o, TASK_KEYS);
  return {
    resources: compileResources(r, o, 1),
    maxRetries: r.int('maxRetries', o.maxRetries, DEFAULT_TASK_MAX_RETRIES, { min: 0 }),
    name: r.text('name', o.name),
    strategy: compileStrategy(o.schedulingStrategy, 'task'),
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

export function compileActorOptions(options?: ActorOptions): CompiledActorOptions {
  const r = optionRules('actor');
  const o = r.object(options);
  r.knownKeys(o, ACTOR_KEYS);
  const name = r.text('name', o.name);
  const getIfExists = r.bool('getIfExists', o.getIfExists, false);
  if (getIfExists && name === undefined) r.fail('getIfExists', "needs the option 'name' (the name to look up)");
  return {
    name,
    getIfExists,
    resources: compileResources(r, o, 0),
    maxConcurrency: r.int('maxConcurrency', o.maxConcurrency, 1),
    maxRestarts: r.int('maxRestarts', o.maxRestarts, 0, { min: 0 }),
    maxTaskRetries: r.int('maxTaskRetries', o.maxTaskRetries, 0, { min: 0 }),
    detached: r.oneOf('lifetime', o.lifetime, ['job', 'detached'], 'job') === 'detached',
    strategy: compileStrategy(o.schedulingStrategy, 'actor'),
  };
}
