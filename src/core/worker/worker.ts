/**
 * A worker process: one per host by default. Runs tasks on a piscina thread pool (threads = its
 * CPUs), each actor on a thread of its own, holds the node's object store and serves its objects
 * to peers. Talks to the head over one session stream.
 */
import * as grpc from '@grpc/grpc-js';
import { getHeapStatistics } from 'node:v8';
import { join } from 'node:path';
import { BroadcastChannel, Worker as ThreadWorker } from 'node:worker_threads';
import { Piscina } from 'piscina';
import { BundleCache } from '../wire/code-shipping.js';
import { HEARTBEAT_INTERVAL_MS, INLINE_OBJECT_MAX_BYTES, THREAD_BATCH_MAX } from '../constants.js';
import { ActorDiedError, ObjectLostError, OutOfMemoryError, TaskCancelledError, WorkerDiedError, errorToWire, type WireError } from '../errors.js';
import { packTasks, unpackResults, type PackedBatch, type ThreadTask } from './execution.js';
import { newNodeId, returnObjectId } from '../ids.js';
import { log } from '../log.js';
import { ObjectStore } from './object-store.js';
import { addObjectTransferService, bindServer, ObjectFetcher, ResultDeliverer } from '../wire/object-transfer.js';
import { PACKAGE_ROOT, runtimeEntry } from '../paths.js';
import type { ClientMsg, ExecuteMsg, HeadMsg, Resources, TaskDoneMsg, TaskSpec, WorkerReport } from '../wire/protocol.js';
import { makePrivateDir } from '../private-files.js';
import { sweepHandOverFiles } from '../wire/shm-handover.js';
import { SessionClient } from '../wire/session-client.js';
import { serverOptions, type TlsOptions } from '../wire/transport.js';
import { trace } from '../trace.js';
import type { ActorThreadIn, ActorThreadOut } from './actor-thread.js';

export interface WorkerOptions {
  headAddress: string;
  token: string;
  tls?: TlsOptions | undefined;
  /** Interface the object server binds. @default '127.0.0.1' */
  host?: string | undefined;
  /** Address peers use to reach this node's objects. @default host */
  advertiseHost?: string | undefined;
  numCpus: number;
  memoryBytes: number;
  resources?: Resources | undefined;
  /** Folder for bundles and spilled objects. */
  dir: string;
  objectStoreBytes: number;
  nodeId?: string | undefined;
  /**
   * After losing the head, keep trying to get the session back this long (its tasks and actors keep
   * running meanwhile), then exit. @default 60000 (or SHOAL_RECONNECT_TIMEOUT_MS)
   */
  reconnectTimeoutMs?: number | undefined;
}

/** Results kept after their `done` was sent, to send again if the head dies before reading it. */
const RECENT_DONE_MAX = 4096;
const RECENT_DONE_MAX_BYTES = 32 * 1024 * 1024;

interface QueuedTask {
  spec: TaskSpec;
  thread: ThreadTask;
  memoryMb: number;
  abort?: AbortController | undefined;
}

interface ActorSlot {
  thread: ThreadWorker;
  pending: Map<string, TaskSpec>;
  /** Calls whose inputs are being fetched, in order. */
  chain: Promise<unknown>;
  preparing: number;
  /** Calls to post to the thread at the end of this turn, as one batch. */
  outbox: ThreadTask[];
  dead: boolean;
  createSpec: TaskSpec;
  /** The constructor returned: the actor lives here. */
  created: boolean;
}

export class WorkerNode {
  readonly nodeId: string;
  private readonly store: ObjectStore;
  private readonly fetcher: ObjectFetcher;
  private readonly deliverer: ResultDeliverer;
  private readonly bundles: BundleCache;
  private readonly server: grpc.Server;
  private session!: SessionClient;
  private readonly pools = new Map<number, Piscina>();
  private readonly queue: QueuedTask[] = [];
  private readonly running = new Map<string, QueuedTask>();
  private runningBatches = 0;
  /** Threads whose task waits in get()/wait(): that many more batches may run meanwhile. */
  private blockedThreads = 0;
  private readonly blockedChannel = new BroadcastChannel(`shoal-worker-${process.pid}`);
  private dispatchScheduled = false;
  private readonly actors = new Map<string, ActorSlot>();
  private readonly bundleFetches = new Map<string, Promise<string>>();
  private readonly objectFetches = new Map<string, Promise<Uint8Array>>();
  private heartbeat?: NodeJS.Timeout;
  private objectAddress = '';
  private stopping = false;
  /** Tasks and calls received and not yet reported done on a live session. */
  private readonly assigned = new Map<string, { spec: TaskSpec; attempt: number }>();
  /** The last results reported (their `done` may die with the head before it reads it). */
  private recentDone: Array<{ spec: TaskSpec; attempt: number; msg: TaskDoneMsg; bytes: number }> = [];
  private recentDoneBytes = 0;
  onExit: (code: number) => void = (code) => process.exit(code);

  constructor(private readonly options: WorkerOptions) {
    this.nodeId = options.nodeId ?? newNodeId();
    makePrivateDir(options.dir, true);
    this.server = new grpc.Server(serverOptions(options.token));
    this.store = new ObjectStore({ capacityBytes: options.objectStoreBytes, spillDir: join(options.dir, 'spill', this.nodeId) });
    this.fetcher = new ObjectFetcher(options.token, options.tls);
    this.deliverer = new ResultDeliverer(options.token, options.tls);
    this.bundles = new BundleCache(join(options.dir, 'bundles'));
  }

  async start(): Promise<void> {
    const o = this.options;
    // Hand-over files of processes that died mid-transfer (a driver killed during a large get).
    const swept = sweepHandOverFiles();
    if (swept.length) log.info({ files: swept }, 'removed shared-memory hand-over files of dead processes');
    addObjectTransferService(this.server, this.store, o.token);
    const host = o.host ?? '127.0.0.1';
    const port = await bindServer(this.server, `${host}:0`, o.tls);
    this.objectAddress = `${o.advertiseHost ?? host}:${port}`;

    this.session = this.sessionClient();
    await this.session.open();
    // Threads inherit these: the API inside a task or actor opens its own session with them.
    process.env.SHOAL_THREAD_HEAD = o.headAddress;
    process.env.SHOAL_THREAD_TOKEN = o.token;
    if (o.tls) process.env.SHOAL_THREAD_TLS = JSON.stringify(o.tls);
    // The interface this node serves on, for servers an actor opens itself (serve's direct channels).
    process.env.SHOAL_THREAD_BIND = host;
    process.env.SHOAL_THREAD_ADVERTISE = o.advertiseHost ?? host;
    this.blockedChannel.onmessage = (e: unknown) => {
      this.blockedThreads = Math.max(0, this.blockedThreads + Number((e as { data: unknown }).data));
      this.dispatch();
    };
    this.pool(0);
    this.heartbeat = setInterval(() => this.sendHeartbeat(), HEARTBEAT_INTERVAL_MS);
    log.info({ nodeId: this.nodeId, objectAddress: this.objectAddress, cpus: o.numCpus }, 'worker started');
  }

  /**
   * The session with the head. When it breaks (the head died or restarts), tasks and actors keep
   * running and their results wait; the session is opened again with backoff and this node
   * re-reports what it has. Past the reconnect timeout the worker exits.
   */
  private sessionClient(): SessionClient {
    const o = this.options;
    return new SessionClient({ address: o.headAddress, token: o.token, tls: o.tls, label: `worker ${this.nodeId}`, reconnectTimeoutMs: o.reconnectTimeoutMs }, {
      hello: () => ({
        role: 'worker', nodeId: this.nodeId, objectAddress: this.objectAddress,
        resources: { CPU: o.numCpus, memory: o.memoryBytes, ...(o.resources ?? {}) },
      }),
      report: () => ({ worker: this.report() }),
      onMessage: (msg) => this.onMessage(msg),
      onWelcome: (_msg, resumed) => {
        if (resumed) this.resumed();
      },
      onSend: (msg) => this.sent(msg),
      // A heartbeat is for now or never.
      hold: (msg) => msg.t !== 'heartbeat',
      onLost: (cause, timeoutMs) => log.warn({ err: cause.message, timeoutMs }, 'lost the head; reconnecting'),
      onResumed: () => log.info({ nodeId: this.nodeId }, 'session to the head is back'),
      stopping: () => this.stopping,
      onGiveUp: (err, _cause, timeoutMs) => {
        log.error({ err: err.message, timeoutMs }, 'could not get the session to the head back; exiting');
        void this.stop().then(() => this.onExit(1));
      },
    });
  }

  /** What this node re-reports to a restarted head. */
  private report(): WorkerReport {
    const tasks = [...this.assigned.values()];
    for (const r of this.recentDone) if (!this.assigned.has(r.spec.taskId)) tasks.push({ spec: r.spec, attempt: r.attempt });
    const actors = [...this.actors.values()].filter((a) => a.created && !a.dead).map((a) => a.createSpec);
    return { objects: this.store.list(), tasks, actors };
  }

  /**
   * Back on a session: the last results reported before the loss go out again (their `done` may
   * have died with the head), then the messages held meanwhile.
   */
  private resumed(): void {
    const recent = this.recentDone;
    this.recentDone = [];
    this.recentDoneBytes = 0;
    for (const r of recent) if (!this.assigned.has(r.spec.taskId)) this.send(r.msg);
  }

  /** Sends on the session; while it is down, keeps the message for when it is back. */
  private send(msg: ClientMsg): void {
    this.session.send(msg);
  }

  /** A message went out on a live session: a result is remembered until well after. */
  private sent(msg: ClientMsg): void {
    if (msg.t === 'done') {
      const a = this.assigned.get(msg.taskId);
      if (a) {
        this.assigned.delete(msg.taskId);
        const bytes = msg.inline?.byteLength ?? 0;
        this.recentDone.push({ ...a, msg, bytes });
        this.recentDoneBytes += bytes;
        while (this.recentDone.length > RECENT_DONE_MAX || this.recentDoneBytes > RECENT_DONE_MAX_BYTES) {
          this.recentDoneBytes -= this.recentDone.shift()!.bytes;
        }
      }
    }
  }

  private sendHeartbeat(): void {
    const s = this.store.stats();
    this.send({
      t: 'heartbeat',
      usage: {
        objectStoreBytes: s.memoryBytes, objectStoreCapacityBytes: this.options.objectStoreBytes, spilledBytes: s.spilledBytes, objects: s.objects,
        runningTasks: this.running.size, queuedTasks: this.queue.length, actors: this.actors.size,
        rssBytes: process.memoryUsage.rss(),
      },
    });
  }

  private pool(memoryMb: number): Piscina {
    let p = this.pools.get(memoryMb);
    if (!p) {
      const threads = Math.max(1, Math.ceil(this.options.numCpus));
      p = new Piscina({
        filename: runtimeEntry('task-thread.js'),
        minThreads: memoryMb ? 0 : threads,
        // Beyond `threads` only while tasks are blocked in get()/wait() (see blockedThreads).
        maxThreads: memoryMb ? 1 : threads + 32,
        idleTimeout: memoryMb ? 10_000 : 60_000,
        concurrentTasksPerWorker: 1,
        atomics: 'disabled',
        ...(memoryMb ? { resourceLimits: { maxOldGenerationSizeMb: memoryMb, maxYoungGenerationSizeMb: Math.max(4, Math.min(64, memoryMb / 4)) } } : {}),
      });
      this.pools.set(memoryMb, p);
    }
    return p;
  }

  private onMessage(msg: HeadMsg): void {
    switch (msg.t) {
      case 'execute':
        void this.execute(msg);
        return;
      case 'cancel-task':
        this.cancelTask(msg.taskId);
        return;
      case 'kill-actor':
        this.killActor(msg.actorId);
        return;
      case 'free':
        for (const id of msg.ids) this.store.delete(id);
        return;
      case 'reset':
        this.reset(msg.reason);
        return;
      default:
        return;
    }
  }

  private done(
    taskId: string,
    r: { bytes?: Uint8Array | undefined; nested?: string[] | undefined; error?: WireError | undefined; system?: boolean | undefined; durationMs?: number | undefined },
    spec?: TaskSpec,
  ): void {
    const ms = r.durationMs;
    if (r.error) {
      this.send({ t: 'done', taskId, error: r.error, system: r.system, ms });
      return;
    }
    const bytes = r.bytes!;
    const nested = r.nested?.length ? r.nested : undefined;
    if (bytes.byteLength <= INLINE_OBJECT_MAX_BYTES) {
      // A small result without nested refs goes straight to its driver too (one hop sooner).
      const direct = !!spec?.owner && !nested;
      if (direct) this.deliverer.send(spec.owner!, { t: 'ready', id: returnObjectId(taskId), inline: bytes, size: bytes.byteLength });
      this.send({ t: 'done', taskId, inline: bytes, nested, ms });
    } else {
      this.store.put(returnObjectId(taskId), bytes);
      this.send({ t: 'done', taskId, size: bytes.byteLength, nested: r.nested?.length ? r.nested : undefined, ms });
    }
  }

  private ensureBundle(hash: string): Promise<string> {
    if (this.bundles.has(hash)) return Promise.resolve(this.bundles.pathOf(hash));
    let p = this.bundleFetches.get(hash);
    if (!p) {
      p = this.session.head.downloadBundle(hash).then(
        (code) => this.bundles.write(hash, code),
        (err: Error) => {
          throw new Error(`cannot fetch code bundle ${hash} from the head: ${err.message}`);
        },
      );
      p.finally(() => this.bundleFetches.delete(hash)).catch(() => undefined);
      this.bundleFetches.set(hash, p);
    }
    return p;
  }

  private async resolveDeps(msg: ExecuteMsg): Promise<Record<string, Uint8Array>> {
    const out: Record<string, Uint8Array> = {};
    const waits: Promise<void>[] = [];
    for (const id of msg.spec.deps) {
      const local = this.store.get(id);
      if (local) {
        out[id] = local;
        continue;
      }
      const src = msg.deps[id];
      if (!src) throw new ObjectLostError(id, `the head sent task ${msg.spec.name} without a source for this input`);
      if ('inline' in src) {
        out[id] = src.inline;
        continue;
      }
      let f = this.objectFetches.get(id);
      if (!f) {
        f = this.fetcher.fetch(src.address, id).catch((err: Error) => {
          throw Object.assign(err, { lostInput: { id, address: src.address } });
        }).then((bytes) => {
          this.store.put(id, bytes);
          this.send({ t: 'object-location', id, size: bytes.byteLength });
          return bytes;
        });
        f.finally(() => this.objectFetches.delete(id)).catch(() => undefined);
        this.objectFetches.set(id, f);
      }
      waits.push(f.then((bytes) => void (out[id] = bytes)));
    }
    if (waits.length) await Promise.all(waits);
    return out;
  }

  /** The module that defines a task's function: a cached bundle, or a built-in module of shoal. */
  private codePath(spec: TaskSpec): string {
    if (!spec.fn) return '';
    return spec.fn.module ? join(PACKAGE_ROOT, spec.fn.module) : this.bundles.pathOf(spec.fn.bundle);
  }

  /** The thread's view of a task, at once when its bundle is cached and its inputs are at hand. */
  private prepareNow(msg: ExecuteMsg): ThreadTask | undefined {
    const spec = msg.spec;
    if (spec.fn && !spec.fn.module && !this.bundles.has(spec.fn.bundle)) return undefined;
    const deps: Record<string, Uint8Array> = {};
    for (const id of spec.deps) {
      const local = this.store.get(id);
      if (local) deps[id] = local;
      else {
        const src = msg.deps[id];
        if (src && 'inline' in src) deps[id] = src.inline;
        else return undefined;
      }
    }
    return {
      taskId: spec.taskId, resultId: returnObjectId(spec.taskId), name: spec.name,
      bundlePath: this.codePath(spec), builtin: !!spec.fn?.module, fnName: spec.fn?.name ?? '',
      definedAt: spec.fn?.definedAt ?? '', method: spec.method, args: spec.args, depIds: spec.deps, deps,
    };
  }

  private async prepare(msg: ExecuteMsg): Promise<ThreadTask> {
    const ready = this.prepareNow(msg);
    if (ready) return ready;
    const spec = msg.spec;
    const [bundlePath, deps] = await Promise.all([
      spec.fn && !spec.fn.module ? this.ensureBundle(spec.fn.bundle) : Promise.resolve(this.codePath(spec)),
      this.resolveDeps(msg),
    ]);
    return {
      taskId: spec.taskId, resultId: returnObjectId(spec.taskId), name: spec.name, bundlePath, builtin: !!spec.fn?.module,
      fnName: spec.fn?.name ?? '', definedAt: spec.fn?.definedAt ?? '', method: spec.method,
      args: spec.args, depIds: spec.deps, deps,
    };
  }

  private async execute(msg: ExecuteMsg): Promise<void> {
    const spec = msg.spec;
    this.assigned.set(spec.taskId, { spec, attempt: msg.attempt });
    trace('worker', () => `execute ${spec.kind} ${spec.name} ${spec.taskId}`);
    if (spec.kind === 'actor-call') return this.actorCall(msg);
    let thread: ThreadTask | undefined = this.prepareNow(msg);
    try {
      thread ??= await this.prepare(msg);
    } catch (err) {
      // Inputs could not be fetched (a peer died): a system failure the head may retry, after it
      // drops the unreachable copy.
      const lostInput = (err as { lostInput?: { id: string; address: string } }).lostInput;
      this.send({ t: 'done', taskId: spec.taskId, error: errorToWire(err), system: true, lostInput });
      return;
    }
    if (spec.kind === 'actor-create') return this.createActor(spec, thread);
    const memoryMb = spec.resources.memory ? Math.max(16, Math.ceil(spec.resources.memory / (1024 * 1024))) : 0;
    this.queue.push({ spec, thread, memoryMb });
    // After the whole incoming frame is queued, so that its tasks are batched together.
    if (!this.dispatchScheduled) {
      this.dispatchScheduled = true;
      queueMicrotask(() => {
        this.dispatchScheduled = false;
        this.dispatch();
      });
    }
  }

  /** Hands queued tasks to threads in batches; limited-memory tasks go alone to their own pool. */
  private dispatch(): void {
    const threads = Math.max(1, Math.ceil(this.options.numCpus));
    while (this.queue.length && this.runningBatches < threads + this.blockedThreads) {
      const first = this.queue[0]!;
      let n = 1;
      if (first.memoryMb === 0) {
        // One batch per thread: while every thread is busy, arriving tasks queue up here and leave
        // as one large batch when a thread frees (a burst is split evenly over free threads).
        const slots = threads + this.blockedThreads - this.runningBatches;
        n = Math.min(THREAD_BATCH_MAX, Math.max(1, Math.ceil(this.queue.length / slots)));
        let k = 1;
        while (k < n && this.queue[k]!.memoryMb === 0) k++;
        n = k;
      }
      const batch = this.queue.splice(0, n);
      trace("worker", () => `batch of ${batch.length} (queued ${this.queue.length}, running batches ${this.runningBatches})`);
      void this.runBatch(batch);
    }
  }

  private async runBatch(batch: QueuedTask[]): Promise<void> {
    this.runningBatches++;
    const abort = new AbortController();
    for (const q of batch) {
      q.abort = abort;
      this.running.set(q.spec.taskId, q);
    }
    const memoryMb = batch[0]!.memoryMb;
    try {
      const input = packTasks(batch.map((q) => q.thread));
      const output: PackedBatch = await this.pool(memoryMb).run(input, { signal: abort.signal, transferList: [input.packed.buffer as ArrayBuffer] });
      const results = unpackResults(output);
      for (const r of results) {
        const q = this.running.get(r.taskId);
        if (!q) continue;
        this.running.delete(r.taskId);
        this.done(r.taskId, r, q.spec);
      }
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      const live = batch.filter((q) => this.running.has(q.spec.taskId));
      for (const q of live) this.running.delete(q.spec.taskId);
      if (batch.length > 1) {
        // One task took the thread down (or the batch was aborted to cancel one): run the others
        // alone, so a failure is attributed to its own task.
        for (const q of live) void this.runBatch([{ ...q, abort: undefined }]);
      } else if (live[0]) {
        const q = live[0];
        if (code === 'ERR_WORKER_OUT_OF_MEMORY') {
          // Without a memory option the thread had V8's default heap limit (the worker's own, which
          // --max-old-space-size sets), not the memory the worker offers to tasks.
          const error = memoryMb
            ? new OutOfMemoryError(q.spec.name, memoryMb, 'memory option')
            : new OutOfMemoryError(q.spec.name, Math.round(getHeapStatistics().heap_size_limit / 2 ** 20), 'default heap limit');
          this.done(q.spec.taskId, { error: error.toWire() });
        } else {
          // The thread died under the task (process.exit, a native crash): a system failure the
          // head retries up to maxRetries, then reports as WorkerDiedError.
          const reason = `its thread exited while running it (${(err as Error).message})`;
          this.done(q.spec.taskId, { error: new WorkerDiedError(q.spec.name, this.nodeId, 1, reason).toWire(), system: true });
        }
      }
    } finally {
      this.runningBatches--;
      this.dispatch();
    }
  }

  private cancelTask(taskId: string): void {
    const i = this.queue.findIndex((q) => q.spec.taskId === taskId);
    if (i >= 0) {
      const [q] = this.queue.splice(i, 1);
      this.done(taskId, { error: new TaskCancelledError(q!.spec.name, taskId).toWire() });
      return;
    }
    const q = this.running.get(taskId);
    if (q) {
      this.running.delete(taskId);
      q.abort?.abort();
      this.done(taskId, { error: new TaskCancelledError(q.spec.name, taskId).toWire() });
    }
  }

  // ---------------- actors ----------------

  private createActor(spec: TaskSpec, task: ThreadTask): void {
    const opts = spec.actor!;
    const memoryMb = spec.resources.memory ? Math.max(16, Math.ceil(spec.resources.memory / (1024 * 1024))) : 0;
    const thread = new ThreadWorker(runtimeEntry('actor-thread.js'), {
      workerData: { maxConcurrency: opts.maxConcurrency, actorName: opts.name ?? spec.name },
      ...(memoryMb ? { resourceLimits: { maxOldGenerationSizeMb: memoryMb } } : {}),
    });
    const slot: ActorSlot = {
      thread, pending: new Map([[spec.taskId, spec]]), chain: Promise.resolve(), preparing: 0, outbox: [], dead: false,
      createSpec: spec, created: false,
    };
    this.actors.set(spec.actorId!, slot);
    thread.on('message', (msg: ActorThreadOut) => {
      for (const result of unpackResults(msg.batch)) {
        const call = slot.pending.get(result.taskId);
        if (!call) continue;
        slot.pending.delete(result.taskId);
        if (result.taskId === spec.taskId && !result.error) slot.created = true;
        this.done(result.taskId, result, call);
      }
    });
    const died = (reason: string): void => {
      if (slot.dead) return;
      slot.dead = true;
      this.actors.delete(spec.actorId!);
      const err = new ActorDiedError(spec.actorId!, opts.name ?? spec.name, reason).toWire();
      const createPending = slot.pending.has(spec.taskId);
      for (const id of slot.pending.keys()) this.done(id, { error: err, system: id === spec.taskId });
      slot.pending.clear();
      if (!createPending) this.send({ t: 'actor-died', actorId: spec.actorId!, reason });
    };
    thread.on('error', (err) => died(`its thread crashed: ${err.message}`));
    thread.on('exit', (code) => died(`its thread exited (code ${code})`));
    thread.postMessage({ type: 'create', task } satisfies ActorThreadIn);
  }

  private actorCall(msg: ExecuteMsg): void {
    const spec = msg.spec;
    const slot = this.actors.get(spec.actorId!);
    if (!slot) {
      this.done(spec.taskId, { error: new ActorDiedError(spec.actorId!, spec.name, 'the actor is not on this node').toWire() });
      return;
    }
    slot.pending.set(spec.taskId, spec);
    // Calls must reach the actor in arrival order: one whose inputs are at hand goes straight to the
    // outbox unless an earlier call is still fetching; otherwise it waits in the chain.
    const ready = slot.preparing === 0 ? this.prepareNow(msg) : undefined;
    if (ready) {
      this.postToActor(slot, ready);
      return;
    }
    slot.preparing++;
    slot.chain = slot.chain.then(async () => {
      try {
        this.postToActor(slot, await this.prepare(msg));
      } catch (err) {
        slot.pending.delete(spec.taskId);
        this.done(spec.taskId, { error: errorToWire(err) });
      } finally {
        slot.preparing--;
      }
    });
  }

  private postToActor(slot: ActorSlot, task: ThreadTask): void {
    if (slot.dead) return;
    slot.outbox.push(task);
    if (slot.outbox.length > 1) return;
    queueMicrotask(() => {
      const tasks = slot.outbox;
      slot.outbox = [];
      if (slot.dead || tasks.length === 0) return;
      const batch = packTasks(tasks);
      slot.thread.postMessage({ type: 'calls', batch } satisfies ActorThreadIn, [batch.packed.buffer as ArrayBuffer]);
    });
  }

  /** Drops all work and state: the head retried it elsewhere while it thought this node dead. */
  private reset(reason: string): void {
    log.warn({ nodeId: this.nodeId, reason }, 'resetting: dropping queued and running tasks, actors and objects');
    this.queue.length = 0;
    for (const q of this.running.values()) q.abort?.abort();
    this.running.clear();
    this.assigned.clear();
    this.recentDone = [];
    this.recentDoneBytes = 0;
    this.session.dropHeld();
    for (const id of [...this.actors.keys()]) this.killActor(id);
    this.store.clear();
  }

  private killActor(actorId: string): void {
    const slot = this.actors.get(actorId);
    if (!slot) return;
    slot.dead = true;
    this.actors.delete(actorId);
    for (const id of slot.pending.keys()) this.assigned.delete(id);
    slot.pending.clear();
    void slot.thread.terminate();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    clearInterval(this.heartbeat);
    this.blockedChannel.close();
    for (const slot of this.actors.values()) await slot.thread.terminate();
    this.actors.clear();
    await Promise.all([...this.pools.values()].map((p) => p.destroy()));
    this.pools.clear();
    this.session?.close();
    this.fetcher.close();
    this.deliverer.close();
    this.server.forceShutdown();
    this.store.clear();
  }
}
