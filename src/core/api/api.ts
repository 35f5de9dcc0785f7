/**
 * The public programming model: init/shutdown, remote functions, actors, objects, placement groups.
 */
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { builtinModule, callerSite, isLoadingBundle, loadingBundleHash, registerDefinition } from './definitions.js';
import { DriverRuntime } from '../driver/driver.js';
import { afterCall, executionContext } from '../worker/execution.js';
import { BroadcastChannel } from 'node:worker_threads';
import {
  ActorMethodNotFoundError, ConnectionError, InfeasibleError, InvalidOptionError, NotInitializedError, RemoteDefinitionError,
} from '../errors.js';
import { newActorId, newId, newTaskId } from '../ids.js';
import { startLocalCluster, type LocalCluster } from '../process/local-cluster.js';
import { ObjectRef } from './object-ref.js';
import {
  compileActorOptions, compileStrategy, compileTaskOptions, type ActorOptions, type SchedulingStrategyOption, type TaskOptions,
} from './options.js';
import type { Resources } from '../wire/protocol.js';
import type { PlacementStrategy } from '../head/scheduling-policy.js';
import { registerCodecClass } from '../wire/serialization.js';
import type { TlsOptions } from '../wire/transport.js';
import { pidAlive } from '../process/pid-alive.js';

export interface InitOptions {
  /**
   * `HOST:PORT` of a running head; 'auto' for the one `shoal start` started on this host (an error
   * when there is none); 'local' to start a new local cluster even when `shoal start` runs one.
   * @default process.env.SHOAL_ADDRESS; without it, the cluster `shoal start` runs on this host if
   * there is one (as `ray.init()` does), else a new local cluster. Local-cluster options (numCpus,
   * numWorkers, objectStoreMemory, resources) also start a new local cluster.
   */
  address?: string;
  /** Cluster token. @default process.env.SHOAL_TOKEN, else read from `tokenFile` */
  token?: string;
  /** @default process.env.SHOAL_TOKEN_FILE */
  tokenFile?: string;
  tls?: TlsOptions;
  /** Local cluster: CPUs of the worker process. @default all cores */
  numCpus?: number;
  /** Local cluster: worker processes. @default 1 */
  numWorkers?: number;
  /** Local cluster: object store memory per worker, bytes. */
  objectStoreMemory?: number;
  /** Local cluster: custom resources per worker. */
  resources?: Record<string, number>;
}

export interface ClusterInfo {
  address: string;
  /** 'existing': connected to a running cluster; 'local': started a new local cluster (stopped at shutdown()). */
  cluster: 'existing' | 'local';
  /** Folder of the local cluster's logs and state (local clusters only). */
  dir?: string | undefined;
  tokenFile?: string | undefined;
  jobId: string;
}

let runtime: DriverRuntime | undefined;
let localCluster: LocalCluster | undefined;

/** Folder where `shoal start` records what it started on this host. */
export const shoalHome = (): string => process.env.SHOAL_HOME ?? join(homedir(), '.shoal');

function current(what: string): DriverRuntime {
  if (runtime) return runtime;
  if (process.env.SHOAL_IN_WORKER && process.env.SHOAL_THREAD_HEAD && !isLoadingBundle()) {
    runtime = threadRuntime(process.env.SHOAL_THREAD_HEAD);
    return runtime;
  }
  throw new NotInitializedError(what);
}

/** Inside a task: lets what the task sent through its thread's session reach the head first. */
export async function settleThreadRuntime(): Promise<void> {
  if (runtime && process.env.SHOAL_IN_WORKER) await runtime.settled();
}

/**
 * Inside a task or actor, the API works through a driver session of the thread's own, opened on
 * first use. While a task waits in get()/wait(), its CPU is lent out (to the head's scheduler and
 * to the worker's thread pool), so a parent waiting on its children cannot starve them.
 */
function threadRuntime(address: string): DriverRuntime {
  afterCall.settle = settleThreadRuntime;
  const tls = process.env.SHOAL_THREAD_TLS ? (JSON.parse(process.env.SHOAL_THREAD_TLS) as TlsOptions) : undefined;
  const rt = new DriverRuntime({ address, token: process.env.SHOAL_THREAD_TOKEN ?? '', tls });
  const pool = new BroadcastChannel(`shoal-worker-${process.pid}`);
  pool.unref();
  rt.onBlocked = (blocked) => {
    const taskId = executionContext.taskId;
    if (!taskId) return;
    rt.send({ t: 'blocked', taskId, blocked });
    pool.postMessage(blocked ? 1 : -1);
  };
  rt.connect().catch((err: Error) => rt.fail(err));
  return rt;
}

/**
 * Connects this process to a cluster as a driver. With no address (and no SHOAL_ADDRESS), starts a
 * local cluster — a head and a worker process using all cores — that stops at `shutdown()` or when
 * this process exits.
 */
export async function init(options: InitOptions = {}): Promise<ClusterInfo> {
  if (isLoadingBundle()) {
    throw new RemoteDefinitionError(
      'init() was called at the top level of a module while a worker was loading it to run a remote function: ' +
        'guard driver code with `if (isMain(import.meta)) { ... }`, or define remote functions and actor classes in a module of their own',
      callerSite().file,
    );
  }
  if (runtime) throw new InvalidOptionError('init() was already called in this process; call shutdown() first');
  let address = options.address ?? process.env.SHOAL_ADDRESS;
  let tokenFile = options.tokenFile ?? process.env.SHOAL_TOKEN_FILE;
  let token = options.token ?? process.env.SHOAL_TOKEN;
  const wantsLocal = address === 'local' || LOCAL_CLUSTER_KEYS.some((k) => options[k] !== undefined);
  let found: string | undefined;
  if (address === 'auto' || (!address && !wantsLocal)) {
    const rec = startedClusterRecord();
    if (!rec && address === 'auto') {
      throw new ConnectionError('auto', `no cluster was started on this host with \`shoal start --head\` (no ${join(shoalHome(), 'cluster.json')})`);
    }
    if (rec) {
      address = rec.address;
      tokenFile ??= rec.tokenFile;
      found = rec.file;
    }
  }
  if (address === 'local') address = undefined;
  if (address) checkAddress(address);
  let dir: string | undefined;
  if (!address) {
    localCluster = await startLocalCluster({
      numCpus: options.numCpus, numWorkers: options.numWorkers, objectStoreBytes: options.objectStoreMemory,
      resources: options.resources, tls: options.tls,
    });
    address = localCluster.head.address;
    tokenFile = localCluster.head.tokenFile;
    dir = localCluster.dir;
    token = undefined;
  }
  if (!token) {
    if (!tokenFile) throw new InvalidOptionError(`no token for ${address}: pass options.token or options.tokenFile, or set SHOAL_TOKEN / SHOAL_TOKEN_FILE`);
    token = readFileSync(tokenFile, 'utf8').trim();
  }
  const rt = new DriverRuntime({ address, token, tls: options.tls, jobId: process.env.SHOAL_JOB_ID, directResults: true });
  try {
    await rt.connect();
  } catch (err) {
    await rt.close();
    await localCluster?.stop();
    localCluster = undefined;
    throw err;
  }
  runtime = rt;
  const cluster = localCluster ? 'local' : 'existing';
  if (found && options.address === undefined && !process.env.SHOAL_JOB_ID) {
    // Say so: a user who expected a fresh local cluster (as before `shoal start`) learns why, and how to get one.
    process.stderr.write(`shoal: connected to the cluster \`shoal start\` runs on this host at ${address} (${found}); init({ address: 'local' }) starts a new local cluster instead\n`);
  }
  return { address, cluster, dir, tokenFile, jobId: rt.jobId };
}

/** Options that only make sense for a new local cluster. */
const LOCAL_CLUSTER_KEYS = ['numCpus', 'numWorkers', 'objectStoreMemory', 'resources'] as const;

/** The cluster `shoal start --head` recorded in SHOAL_HOME, when its head process still runs. */
function startedClusterRecord(): { address: string; tokenFile?: string; file: string } | undefined {
  const file = join(shoalHome(), 'cluster.json');
  if (!existsSync(file)) return undefined;
  let rec: { address?: string; tokenFile?: string; processes?: Array<{ pid: number; role: string }> };
  try {
    rec = JSON.parse(readFileSync(file, 'utf8')) as typeof rec;
  } catch {
    return undefined;
  }
  if (!rec.address) return undefined;
  const head = rec.processes?.find((p) => p.role === 'head');
  if (head && !pidAlive(head.pid)) return undefined;
  return { address: rec.address, tokenFile: rec.tokenFile, file };
}


/** `HOST:PORT` with a port: a bare host would otherwise fail later as "connection refused". */
function checkAddress(address: string): void {
  const m = /^(\[[^\]]+\]|[^:\s]+):(\d{1,5})$/.exec(address);
  if (!m || Number(m[2]) < 1 || Number(m[2]) > 65535) {
    throw new InvalidOptionError(
      `options.address must be HOST:PORT (e.g. '127.0.0.1:6380'), 'auto' or 'local' (got '${address}')` +
        (m || address.includes(':') ? '' : `: add the head's port, e.g. '${address}:6380' — \`shoal status\` on the head's host prints it`),
    );
  }
}

/** Disconnects; stops the local cluster if `init()` started one. */
export async function shutdown(): Promise<void> {
  const rt = runtime;
  runtime = undefined;
  await rt?.close();
  const lc = localCluster;
  localCluster = undefined;
  await lc?.stop();
}

/**
 * True when the API can be used: after `init()`, and inside a running task or actor — but not while
 * a worker imports a module to find a remote function (its top-level driver code must not run).
 */
export const isInitialized = (): boolean =>
  runtime !== undefined || (!!process.env.SHOAL_IN_WORKER && !!process.env.SHOAL_THREAD_HEAD && !isLoadingBundle());

/**
 * True when `meta` is the module Node was started with — the guard for driver code in a module
 * that also defines remote functions (workers import such modules): `if (isMain(import.meta)) ...`.
 */
export function isMain(meta: ImportMeta): boolean {
  if (!process.argv[1] || process.env.SHOAL_IN_WORKER) return false;
  try {
    return realpathSync(fileURLToPath(meta.url)) === realpathSync(process.argv[1]);
  } catch {
    return false;
  }
}

// ---------------- remote functions ----------------

type MaybeRef<T> = T | ObjectRef<T>;
/** Arguments of a remote call: each may be given as a value or as a ref to one. */
export type RemoteArgs<A extends unknown[]> = { [K in keyof A]: MaybeRef<A[K]> };

export interface RemoteFunction<A extends unknown[], R> {
  /** Runs the function on the cluster; returns a ref to its result at once. */
  remote(...args: RemoteArgs<A>): ObjectRef<Awaited<R>>;
  /** The same function with other options (Ray's `.options()`). */
  options(options: TaskOptions): RemoteFunction<A, R>;
  readonly name: string;
}

interface DefinitionSite {
  file: string;
  line: number;
  name: string;
  /** Set once the file was found to be a shippable module. */
  shippable?: boolean;
  /** Defined inside shoal itself: workers import this module from their own installation. */
  builtin?: string | undefined;
  /** Defined by a code bundle a worker loaded: calls from inside tasks reuse that bundle. */
  bundle?: string | undefined;
}

function defineSite(kind: 'function' | 'actor', target: (...a: any[]) => unknown, explicitName: string | undefined): DefinitionSite {
  const site = callerSite();
  const name = explicitName ?? target.name;
  if (!name) {
    throw new RemoteDefinitionError(
      `${kind === 'function' ? 'remote()' : 'actor()'} needs a named ${kind === 'function' ? 'function' : 'class'} or the { name } option ` +
        `(workers find definitions by name) at ${site.file}:${site.line}`,
      `${site.file}:${site.line}`,
    );
  }
  registerDefinition({ kind, name, file: site.file, line: site.line, target });
  return { ...site, name, builtin: builtinModule(site.file), bundle: loadingBundleHash() };
}

function checkShippable(site: DefinitionSite, kind: string): void {
  if (site.shippable || site.builtin || site.bundle) return;
  if (!site.file || !/\.(m?[jt]s|cjs|cts|jsx|tsx)$/.test(site.file) || !existsSync(site.file)) {
    throw new RemoteDefinitionError(
      `${kind} '${site.name}' was defined outside a module file (${site.file || 'unknown location'}), so its code cannot ` +
        'be shipped to workers: define remote functions and actor classes at the top level of a .js or .ts module',
      site.file,
    );
  }
  site.shippable = true;
}

/**
 * Makes a function runnable on the cluster. Define it at the top level of a module (workers import
 * that module to find it by name); call it with `.remote(...args)`.
 *
 * @example
 * export const square = remote(function square(x: number) { return x * x; });
 * const ref = square.remote(4); // ObjectRef<number>
 */
export function remote<A extends unknown[], R>(fn: (...args: A) => R, options: TaskOptions = {}): RemoteFunction<A, R> {
  if (typeof fn !== 'function') throw new InvalidOptionError(`remote() takes a function (got ${typeof fn})`);
  const compiled = compileTaskOptions(options);
  const site = defineSite('function', fn as (...a: any[]) => unknown, options.name);
  return makeRemoteFunction<A, R>(site, options, compiled);
}

function makeRemoteFunction<A extends unknown[], R>(site: DefinitionSite, raw: TaskOptions, compiled: ReturnType<typeof compileTaskOptions>): RemoteFunction<A, R> {
  return {
    name: site.name,
    remote(...args: RemoteArgs<A>): ObjectRef<Awaited<R>> {
      const rt = current(`${site.name}.remote()`);
      checkShippable(site, 'remote function');
      const { bytes, deps, nested } = rt.encodeArgs(args);
      return rt.submit<Awaited<R>>(
        {
          taskId: newTaskId(), jobId: rt.jobId, kind: 'task', name: compiled.name ?? site.name, args: bytes, deps, nested,
          resources: compiled.resources, maxRetries: compiled.maxRetries, strategy: compiled.strategy,
        },
        { file: site.file, name: site.name, definedAt: `${site.file}:${site.line}`, module: site.builtin, bundle: site.bundle },
      );
    },
    options(options: TaskOptions): RemoteFunction<A, R> {
      const merged = { ...raw, ...options };
      return makeRemoteFunction<A, R>(site, merged, compileTaskOptions(merged));
    },
  };
}

// ---------------- objects ----------------

export interface GetOptions {
  /** Give up after this long with a GetTimeoutError. @default no limit */
  timeoutMs?: number;
}

/** Reads the values of refs, waiting for them; a failed task's error is thrown here, typed. */
export function get<T>(ref: ObjectRef<T>, options?: GetOptions): Promise<T>;
export function get<T extends readonly ObjectRef<unknown>[]>(refs: T, options?: GetOptions): Promise<{ [K in keyof T]: T[K] extends ObjectRef<infer V> ? V : never }>;
export function get<T>(refs: ObjectRef<T>[], options?: GetOptions): Promise<T[]>;
export async function get(refOrRefs: ObjectRef | readonly ObjectRef[], options: GetOptions = {}): Promise<unknown> {
  const rt = current('get()');
  if (Array.isArray(refOrRefs)) {
    refOrRefs.forEach((r, i) => {
      if (!(r instanceof ObjectRef)) throw new InvalidOptionError(`get() takes ObjectRefs; element ${i} is ${typeof r}`);
    });
    return rt.get(refOrRefs as ObjectRef[], options.timeoutMs);
  }
  if (!(refOrRefs instanceof ObjectRef)) throw new InvalidOptionError(`get() takes an ObjectRef or an array of them (got ${typeof refOrRefs})`);
  const [v] = await rt.get([refOrRefs as ObjectRef], options.timeoutMs);
  return v;
}

export interface WaitOptions {
  /** Return once this many are ready. @default 1 */
  numReturns?: number;
  /** Return what is ready after this long. @default no limit */
  timeoutMs?: number;
}

/** Waits until `numReturns` of the refs are ready (or the timeout passes); splits them. */
export function wait<T>(refs: ObjectRef<T>[], options: WaitOptions = {}): Promise<{ ready: ObjectRef<T>[]; notReady: ObjectRef<T>[] }> {
  const rt = current('wait()');
  const n = options.numReturns ?? 1;
  if (!Number.isInteger(n) || n < 1) throw new InvalidOptionError(`options.numReturns must be a positive integer (got ${String(n)})`);
  return rt.wait(refs, n, options.timeoutMs) as Promise<{ ready: ObjectRef<T>[]; notReady: ObjectRef<T>[] }>;
}

/** Stores a value in the cluster and returns a ref to it. */
export function put<T>(value: T): ObjectRef<T> {
  return current('put()').put(value);
}

/** Cancels the task that makes `ref`; its `get()` throws TaskCancelledError. A running task's thread is stopped. */
export function cancel(ref: ObjectRef, options: { force?: boolean } = {}): void {
  current('cancel()').send({ t: 'cancel', id: ref.id, force: options.force ?? true });
}

/** Frees objects now, whoever still references them; a later `get()` throws ObjectFreedError. */
export function free(refs: ObjectRef | ObjectRef[]): void {
  const list = Array.isArray(refs) ? refs : [refs];
  current('free()').free(list.map((r) => r.id));
}

// ---------------- actors ----------------

type Method = (...args: any[]) => any;
type ActorMethods<T> = {
  [K in keyof T as T[K] extends Method ? K : never]: T[K] extends (...args: infer A) => infer R
    ? { remote(...args: RemoteArgs<A>): ObjectRef<Awaited<R>> }
    : never;
};

/** A handle to a live actor: call methods as `handle.method.remote(...)`. Handles can be passed to tasks. */
export type ActorHandle<T> = ActorMethods<T> & {
  readonly actorId: string;
  readonly actorName: string;
  /** Resolves when the actor's constructor has run (rejects if it threw). */
  ready(): Promise<void>;
};

export interface ActorClass<C extends new (...args: any[]) => any> {
  /** Creates an actor on the cluster; returns its handle at once. */
  remote(...args: RemoteArgs<ConstructorParameters<C>>): ActorHandle<InstanceType<C>>;
  options(options: ActorOptions): ActorClass<C>;
  readonly name: string;
}

class ActorHandleState {
  constructor(
    readonly actorId: string,
    readonly actorName: string,
    readonly className: string,
    readonly methods: string[],
    readonly maxTaskRetries: number,
    readonly readyRef?: ObjectRef<null> | undefined,
  ) {}
}

const HANDLE_PASSTHROUGH = new Set(['actorId', 'actorName', 'className', 'methods', 'maxTaskRetries', 'readyRef']);

function makeHandle<T>(state: ActorHandleState): ActorHandle<T> {
  return new Proxy(state, {
    get(target, prop) {
      if (typeof prop === 'symbol') return (target as any)[prop];
      if (HANDLE_PASSTHROUGH.has(prop)) return (target as any)[prop];
      if (prop === 'ready') {
        return async () => {
          if (target.readyRef) await get(target.readyRef);
        };
      }
      if (prop === 'constructor') return ActorHandleState;
      if (prop === 'then' || prop === 'toJSON') return undefined;
      if (!target.methods.includes(prop)) throw new ActorMethodNotFoundError(target.actorName, prop, target.methods);
      return {
        remote: (...args: unknown[]) => {
          const rt = current(`${target.actorName}.${prop}.remote()`);
          const { bytes, deps, nested } = rt.encodeArgs(args);
          return rt.submit({
            taskId: newTaskId(), jobId: rt.jobId, kind: 'actor-call', name: `${target.className}.${prop}`,
            actorId: target.actorId, method: prop, args: bytes, deps, nested, resources: {},
            maxRetries: target.maxTaskRetries, strategy: 'DEFAULT',
          });
        },
      };
    },
  }) as unknown as ActorHandle<T>;
}

registerCodecClass({
  Class: ActorHandleState,
  type: 0x23,
  write: (s: ActorHandleState) => [s.actorId, s.actorName, s.className, s.methods, s.maxTaskRetries],
  read: ([id, name, cls, methods, retries]: [string, string, string, string[], number]) =>
    makeHandle(new ActorHandleState(id, name, cls, methods, retries)) as unknown as ActorHandleState,
});

function methodNames(Class: new (...args: any[]) => any): string[] {
  const names = new Set<string>();
  for (let p = Class.prototype; p && p !== Object.prototype; p = Object.getPrototypeOf(p)) {
    for (const n of Object.getOwnPropertyNames(p)) {
      if (n === 'constructor') continue;
      const d = Object.getOwnPropertyDescriptor(p, n);
      if (d && typeof d.value === 'function') names.add(n);
    }
  }
  return [...names];
}

/**
 * Makes a class runnable as an actor: a stateful worker on a thread of its own. Define it at the top
 * level of a module; create with `.remote(...ctorArgs)`.
 *
 * @example
 * export const Counter = actor(class Counter { n = 0; add(k: number) { return (this.n += k); } });
 * const c = Counter.remote(); await get(c.add.remote(2));
 */
export function actor<C extends new (...args: any[]) => any>(Class: C, options: ActorOptions = {}): ActorClass<C> {
  if (typeof Class !== 'function') throw new InvalidOptionError(`actor() takes a class (got ${typeof Class})`);
  compileActorOptions(options);
  const site = defineSite('actor', Class as unknown as (...a: any[]) => unknown, undefined);
  return makeActorClass<C>(site, Class, options);
}

function makeActorClass<C extends new (...args: any[]) => any>(site: DefinitionSite, Class: C, raw: ActorOptions): ActorClass<C> {
  const compiled = compileActorOptions(raw);
  const methods = methodNames(Class);
  return {
    name: site.name,
    remote(...args: RemoteArgs<ConstructorParameters<C>>): ActorHandle<InstanceType<C>> {
      const rt = current(`${site.name}.remote()`);
      checkShippable(site, 'actor class');
      const { bytes, deps, nested } = rt.encodeArgs(args);
      const actorId = newActorId();
      const actorName = compiled.name ?? site.name;
      const readyRef = rt.submit<null>(
        {
          taskId: newTaskId(), jobId: rt.jobId, kind: 'actor-create', name: `${site.name}.constructor`, actorId,
          args: bytes, deps, nested, resources: compiled.resources, maxRetries: 0, strategy: compiled.strategy,
          actor: {
            name: compiled.name, getIfExists: compiled.getIfExists || undefined, maxConcurrency: compiled.maxConcurrency, maxRestarts: compiled.maxRestarts,
            maxTaskRetries: compiled.maxTaskRetries, detached: compiled.detached, methods,
          },
        },
        { file: site.file, name: site.name, definedAt: `${site.file}:${site.line}`, module: site.builtin, bundle: site.bundle },
      );
      return makeHandle(new ActorHandleState(actorId, actorName, site.name, methods, compiled.maxTaskRetries, readyRef));
    },
    options(options: ActorOptions): ActorClass<C> {
      return makeActorClass<C>(site, Class, { ...raw, ...options });
    },
  };
}

/** Finds a named actor anywhere in the cluster. Throws ActorNotFoundError. */
export async function getActor<T = Record<string, Method>>(name: string): Promise<ActorHandle<T>> {
  const rt = current('getActor()');
  // A creation submitted just before may still wait for its code bundle: let it reach the head first.
  await rt.flushed();
  const a = await rt.control('get-actor', { name });
  return makeHandle<T>(new ActorHandleState(a.actorId, a.name, a.className, a.methods, 0));
}

/** Kills an actor; its pending and future calls fail with ActorDiedError. */
export function kill(handle: ActorHandle<unknown>, options: { noRestart?: boolean } = {}): void {
  current('kill()').send({ t: 'kill-actor', actorId: handle.actorId, noRestart: options.noRestart ?? true });
}

// ---------------- placement groups ----------------

export interface PlacementGroup {
  readonly id: string;
  readonly bundles: Resources[];
  /** Resolves when every bundle is reserved. */
  ready(options?: { timeoutMs?: number }): Promise<void>;
  /** Releases the reservation. */
  remove(): Promise<void>;
}

export interface PlacementGroupOptions {
  /** @default 'PACK' */
  strategy?: PlacementStrategy;
}

/**
 * Reserves bundles of resources across nodes atomically (gang scheduling). Schedule into it with
 * `schedulingStrategy: { placementGroup: pg, bundleIndex }`.
 */
export function placementGroup(bundles: Array<{ CPU?: number; memory?: number; [resource: string]: number | undefined }>, options: PlacementGroupOptions = {}): PlacementGroup {
  const rt = current('placementGroup()');
  const strategy = options.strategy ?? 'PACK';
  if (!['PACK', 'SPREAD', 'STRICT_PACK', 'STRICT_SPREAD'].includes(strategy)) {
    throw new InvalidOptionError(`options.strategy must be PACK, SPREAD, STRICT_PACK or STRICT_SPREAD (got ${String(strategy)})`);
  }
  if (!Array.isArray(bundles) || bundles.length === 0) throw new InvalidOptionError('placementGroup() needs a non-empty array of bundles');
  const clean: Resources[] = bundles.map((b, i) => {
    const r: Resources = {};
    for (const [k, v] of Object.entries(b)) {
      if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new InvalidOptionError(`bundles[${i}].${k} must be a non-negative number`);
      r[k] = v;
    }
    if (Object.values(r).every((v) => v === 0)) throw new InvalidOptionError(`bundles[${i}] reserves nothing`);
    return r;
  });
  const id = newId('pg');
  const created = rt.control('pg-create', { id, bundles: clean, strategy, sessionId: rt.sessionId });
  created.catch(() => undefined);
  return {
    id,
    bundles: clean,
    async ready(o: { timeoutMs?: number } = {}) {
      await created;
      const timeoutMs = o.timeoutMs ?? 24 * 3600_000;
      try {
        await rt.control('pg-ready', { id }, timeoutMs);
      } catch (err) {
        if (err instanceof ConnectionError && /deadline/i.test(err.message)) {
          throw new InfeasibleError(`placement group ${id} was not placed within ${timeoutMs} ms: no set of nodes has room for bundles ${JSON.stringify(clean)} (strategy ${strategy}) now`);
        }
        throw err;
      }
    },
    async remove() {
      await created;
      await rt.control('pg-remove', { id });
    },
  };
}

/** Scheduling into a placement group bundle (sugar for the strategy object). */
export function inPlacementGroup(pg: PlacementGroup, bundleIndex?: number): SchedulingStrategyOption {
  compileStrategy({ placementGroup: pg, bundleIndex }, 'inPlacementGroup');
  return { placementGroup: pg, ...(bundleIndex === undefined ? {} : { bundleIndex }) };
}

// ---------------- cluster ----------------

export interface NodeStatus {
  id: string;
  address: string;
  hostname: string;
  alive: boolean;
  total: Resources;
  available: Resources;
  inflightTasks: number;
  uptimeS: number;
  usage?: { objectStoreBytes: number; objectStoreCapacityBytes?: number; spilledBytes: number; objects: number; runningTasks: number; queuedTasks: number; actors: number; rssBytes: number };
}

/**
 * Publishes a small JSON event (at most 16 KiB) to the head's extensions, such as the dashboard:
 * `serve.status`, `data.progress`. Rate-limited per topic on the head (20/s over all publishers):
 * false when this one was dropped for it. Publish state, not deltas: the next message replaces it.
 * Throws InvalidControlRequestError for a bad topic name, InvalidOptionError for data too large.
 */
export async function publish(topic: string, data: unknown): Promise<boolean> {
  return (await current('publish()').control('publish', { topic, data })).accepted;
}

/** Nodes, resources, actors and jobs of the connected cluster. */
export async function clusterStatus(): Promise<{ nodes: NodeStatus[]; tasks: { pending: number; running: number }; actors: Array<{ id: string; name: string; state: string }>; jobs: unknown[] }> {
  return current('clusterStatus()').control('status', null);
}
