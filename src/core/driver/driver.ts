/**
 * The driver side of a session: submits tasks and actor calls to the head, keeps the state of the
 * objects it references, ships code bundles, and counts references (a FinalizationRegistry releases
 * an object at the head when the last ObjectRef to it in this process is collected).
 */
import * as grpc from '@grpc/grpc-js';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { bundleModule } from '../wire/code-shipping.js';
import { INLINE_OBJECT_MAX_BYTES } from '../constants.js';
import {
  AuthenticationError, ConnectionError, errorFromWire, HeadUnavailableError, GetTimeoutError, ObjectFreedError, ShoalError, type WireError,
} from '../errors.js';
import type { ControlArgs, ControlMethod, ControlReplies } from '../wire/control.js';
import { reconnectTimeoutMs, withBackoff } from '../wire/head-client.js';
import { newObjectId, returnObjectId } from '../ids.js';
import { ArgPlaceholder, ObjectRef, refHooks } from '../api/object-ref.js';
import { ObjectStore } from '../worker/object-store.js';
import { addObjectTransferService, bindServer, ObjectFetcher } from '../wire/object-transfer.js';
import type { ClientMsg, DriverReport, FunctionRef, HeadMsg, PutMsg, ReadyMsg, TaskSpec } from '../wire/protocol.js';
import { deserialize, serialize } from '../wire/serialization.js';
import { SessionClient } from '../wire/session-client.js';
import { localAddressTowards, serverOptions, type TlsOptions } from '../wire/transport.js';

interface DriverObject {
  state: 'pending' | 'ready' | 'error';
  inline?: Uint8Array | undefined;
  address?: string | undefined;
  size?: number | undefined;
  error?: WireError | undefined;
  waiters?: Array<() => void> | undefined;
  fetching?: Promise<Uint8Array> | undefined;
  /** Live ObjectRef instances for this id in this process. */
  refs: number;
  subscribed: boolean;
}

/** Submissions a driver holds while its head is down, waiting for it to come back. */
export const HELD_SUBMITS_WHILE_DOWN = 100_000;

interface OutboxItem {
  msg: ClientMsg;
  state: 'waiting' | 'ok' | 'failed';
  ready?: Promise<unknown> | undefined;
}

export interface ConnectOptions {
  address: string;
  token: string;
  tls?: TlsOptions | undefined;
  jobId?: string | undefined;
  /** Where a large `put()` keeps its bytes. @default 2 GiB */
  objectStoreBytes?: number | undefined;
  connectTimeoutMs?: number | undefined;
  /** Take small results straight from the workers (one hop sooner than through the head). */
  directResults?: boolean | undefined;
  /**
   * After losing the head (it was killed or restarted), keep trying to get the session back this
   * long, then fail what is pending with HeadUnavailableError. @default 60000 (or SHOAL_RECONNECT_TIMEOUT_MS)
   */
  reconnectTimeoutMs?: number | undefined;
}

export class DriverRuntime {
  readonly address: string;
  jobId = '';
  private readonly session: SessionClient;
  private readonly objects = new Map<string, DriverObject>();
  private readonly bundleHashes = new Map<string, Promise<string>>();
  /** Submissions waiting for their code bundle; sent in order. */
  private readonly outbox: OutboxItem[] = [];
  private outboxBusy = false;
  private readonly registry: FinalizationRegistry<string>;
  private releases: string[] = [];
  private releaseScheduled = false;
  private creatingOwn = false;
  private store?: ObjectStore;
  private storeAddress?: Promise<string>;
  private objectServer?: grpc.Server;
  private readonly fetcher: ObjectFetcher;
  private closed = false;
  /** Set by close(): what this runtime holds (object server, fetcher, store) is let go once only. */
  private released = false;
  private deliveryAddress?: string | undefined;
  /** Submitted on a session, result not arrived: re-reported if the head restarts. In order. */
  private readonly pendingSpecs = new Map<string, TaskSpec>();
  /** put() objects announced on a session, while referenced here. */
  private readonly puts = new Map<string, PutMsg>();
  /** Code bundles uploaded, to upload again to a head that lost them. */
  private readonly bundleCode = new Map<string, Uint8Array>();
  /** When the session was lost, and how many submissions wait for it since. */
  private lostAt = 0;
  private heldSubmits = 0;
  onClose?: (err?: Error) => void;
  /**
   * Inside a task: called when get()/wait() starts and stops waiting on objects, so the cluster
   * can lend the task's CPU to others meanwhile (a parent waiting on its children must not
   * starve them).
   */
  onBlocked?: (blocked: boolean) => void;

  constructor(private readonly options: ConnectOptions) {
    this.address = options.address;
    this.jobId = options.jobId ?? '';
    this.fetcher = new ObjectFetcher(options.token, options.tls);
    this.registry = new FinalizationRegistry((id) => this.refCollected(id));
    refHooks.onCreate = (ref) => this.refCreated(ref);
    this.session = this.sessionClient();
  }

  /** The id of this driver's session with the head ('' until it is open). */
  get sessionId(): string {
    return this.session.sessionId;
  }

  private opening?: Promise<void>;

  /** Resolves once the session is open and everything submitted so far was handed to it. */
  async settled(): Promise<void> {
    await this.opening?.catch(() => undefined);
    await this.flushed();
  }

  connect(): Promise<void> {
    this.opening ??= this.open();
    return this.opening;
  }

  private async open(): Promise<void> {
    // Fail fast with a typed error when the address is not a reachable shoal head.
    await this.control('ping', null, this.options.connectTimeoutMs ?? 10_000);
    if (this.options.directResults) {
      this.ensureStore();
      this.deliveryAddress = await this.storeAddress;
    }
    await this.session.open().catch((err: unknown) => {
      this.connectionLost(err as Error);
      throw err;
    });
    refHooks.onCreate = (ref) => this.refCreated(ref);
  }

  /**
   * The session with the head. When it breaks after it was open (the head died or restarted),
   * pending work stays pending and messages queue up while it is opened again, the code bundles
   * uploaded again first, and this driver re-reports what it has. Only past the reconnect timeout
   * does what is pending fail, with HeadUnavailableError.
   */
  private sessionClient(): SessionClient {
    return new SessionClient({ ...this.options, label: 'driver' }, {
      hello: () => ({ role: 'driver', jobId: this.options.jobId ?? (this.jobId || undefined), entry: process.argv[1] }),
      report: () => ({ driver: this.report() }),
      onMessage: (msg) => this.onMessage(msg),
      onWelcome: (msg) => {
        this.jobId = msg.jobId;
        this.heldSubmits = 0;
      },
      onSend: (msg) => {
        if (msg.t === 'submit') for (const spec of msg.specs) this.pendingSpecs.set(spec.taskId, spec);
        else if (msg.t === 'put') this.puts.set(msg.id, msg);
      },
      hold: (msg) => this.holdWhileDown(msg),
      // A head that lost its code bundles gets them again before the tasks that need them.
      beforeResume: async (head) => {
        for (const [hash, code] of this.bundleCode) await head.uploadBundle(hash, code);
      },
      onLost: (cause, timeoutMs) => {
        this.lostAt = Date.now();
        process.stderr.write(`shoal: lost the session to the head at ${this.address} (${cause.message}); reconnecting for up to ${timeoutMs} ms\n`);
      },
      stopping: () => this.closed,
      onGiveUp: (err, cause, timeoutMs) => {
        this.connectionLost(new HeadUnavailableError(this.address, timeoutMs, `closed this driver's session (${cause.message}; last error: ${err.message})`, { cause: err }));
      },
    });
  }

  /**
   * What this driver re-reports to a restarted head. Objects whose submit or put is still queued
   * here (made while the head was down) are left out: the head learns of them from those messages,
   * which follow the report; reported as held or awaited first, it would call them lost.
   */
  private report(): DriverReport {
    const values: DriverReport['values'] = [];
    const waiting: string[] = [];
    const held: string[] = [];
    const queued = this.queuedObjectIds();
    for (const [id, o] of this.objects) {
      if (queued.has(id)) continue;
      held.push(id);
      if (o.state === 'pending') waiting.push(id);
      else if (o.state === 'ready' && o.inline && !this.puts.has(id)) values.push({ id, inline: o.inline, nested: [] });
    }
    return {
      puts: [...this.puts.values()].filter((p) => this.objects.has(p.id)),
      values,
      pending: [...this.pendingSpecs.values()],
      held,
      waiting,
    };
  }

  /** Objects made by submits and puts not handed to a head yet (queued while it was down, or waiting for a bundle). */
  private queuedObjectIds(): Set<string> {
    const ids = new Set<string>();
    const add = (m: ClientMsg): void => {
      if (m.t === 'submit') for (const spec of m.specs) ids.add(returnObjectId(spec.taskId));
      else if (m.t === 'put') ids.add(m.id);
    };
    for (const m of this.session.heldMessages) add(m);
    for (const item of this.outbox) add(item.msg);
    return ids;
  }

  /**
   * Sends on the session, or holds the message until the session is open (lazy connects, and a
   * head that is down: held until it is back, up to the reconnect timeout).
   */
  private post(msg: ClientMsg): void {
    this.session.send(msg);
  }

  /**
   * Whether a message sent while there is no session waits for it. While the head is down at most
   * HELD_SUBMITS_WHILE_DOWN submissions wait; more fail at once with HeadUnavailableError.
   */
  private holdWhileDown(msg: ClientMsg): boolean {
    if (msg.t !== 'submit') return true;
    if (this.session.isReconnecting && this.heldSubmits >= HELD_SUBMITS_WHILE_DOWN) {
      const err = new HeadUnavailableError(this.address, Date.now() - this.lostAt, `is down (${HELD_SUBMITS_WHILE_DOWN} submissions wait for it already)`).toWire();
      for (const spec of msg.specs) {
        const id = returnObjectId(spec.taskId);
        const o = this.objects.get(id);
        if (o) this.setReady(id, o, { t: 'ready', id, error: err });
      }
      return false;
    }
    this.heldSubmits += msg.specs.length;
    return true;
  }

  /** Fails every pending object: the session could not be opened or was lost. */
  fail(err: Error): void {
    this.connectionLost(err);
  }

  private connectionLost(err: Error): void {
    if (this.closed) return;
    this.closed = true;
    const wire = (err as ShoalError).toWire ? (err as ShoalError).toWire() : { name: 'ConnectionError', code: 'CONNECTION', message: err.message };
    for (const [id, o] of this.objects) {
      if (o.state === 'pending') this.setReady(id, o, { t: 'ready', id, error: wire });
    }
    this.onClose?.(err);
  }

  /** A control call to the head (status, named actors, placement groups, jobs). */
  control<M extends ControlMethod>(method: M, ...[body = null, timeoutMs = 30_000]: ControlArgs<M>): Promise<ControlReplies[M]> {
    // The same arguments, with this runtime's longer default deadline filled in.
    return this.session.head.control(method, ...([body, timeoutMs] as unknown as ControlArgs<M>));
  }

  // ---------------- references ----------------

  private refCreated(ref: ObjectRef): void {
    const id = ref.id;
    let o = this.objects.get(id);
    if (!o) {
      o = { state: 'pending', refs: 0, subscribed: false };
      this.objects.set(id, o);
    }
    if (o.refs === 0 && !this.creatingOwn && !o.subscribed) {
      // A ref we did not make (it came inside a value): tell the head we hold it too.
      o.subscribed = true;
      this.post({ t: 'subscribe', ids: [id] });
    }
    o.refs++;
    this.registry.register(ref, id);
  }

  private refCollected(id: string): void {
    const o = this.objects.get(id);
    if (!o) return;
    if (--o.refs > 0) return;
    this.objects.delete(id);
    this.puts.delete(id);
    if (this.closed) return;
    // The store's copy stays until the head says 'free': pending tasks may still need it.
    this.releases.push(id);
    if (!this.releaseScheduled) {
      this.releaseScheduled = true;
      setTimeout(() => {
        this.releaseScheduled = false;
        const ids = this.releases;
        this.releases = [];
        // Through the outbox: a release must not overtake a submit still waiting there (for its
        // code bundle) that takes the object as an argument, or the head drops the object first.
        if (ids.length) this.enqueue({ t: 'release', ids });
      }, 10).unref();
    }
  }

  private ownRef<T>(id: string): ObjectRef<T> {
    this.creatingOwn = true;
    try {
      const o: DriverObject = { state: 'pending', refs: 0, subscribed: true };
      this.objects.set(id, o);
      return new ObjectRef<T>(id);
    } finally {
      this.creatingOwn = false;
    }
  }

  // ---------------- messages ----------------

  private onMessage(msg: HeadMsg): void {
    switch (msg.t) {
      case 'ready': {
        const o = this.objects.get(msg.id);
        if (o) this.setReady(msg.id, o, msg);
        return;
      }
      case 'free':
        for (const id of msg.ids) this.store?.delete(id);
        return;
      default:
        return;
    }
  }

  private setReady(id: string, o: DriverObject, msg: ReadyMsg): void {
    this.pendingSpecs.delete(`t${id.slice(1)}`);
    if (msg.error) {
      o.state = 'error';
      o.error = msg.error;
    } else {
      o.state = 'ready';
      o.inline = msg.inline;
      o.address = msg.address;
      o.size = msg.size;
    }
    const waiters = o.waiters;
    o.waiters = undefined;
    if (waiters) for (const w of waiters) w();
  }

  // ---------------- submission ----------------

  /** The hash of the code bundle for a defining module, built and uploaded once. */
  bundleFor(file: string): Promise<string> {
    let p = this.bundleHashes.get(file);
    if (!p) {
      p = (async () => {
        const bundle = await bundleModule(file);
        // A head that is down (restarting) gets the bundle once it is back, within the reconnect timeout.
        await withBackoff(() => this.session.head.uploadBundle(bundle.hash, bundle.code), {
          timeoutMs: reconnectTimeoutMs(this.options.reconnectTimeoutMs),
          cancelled: () => this.closed,
          fatal: (err) => !(err instanceof ConnectionError) || err instanceof AuthenticationError,
        });
        this.bundleCode.set(bundle.hash, bundle.code);
        return bundle.hash;
      })();
      this.bundleHashes.set(file, p);
      p.catch(() => this.bundleHashes.delete(file));
    }
    return p;
  }

  /** Serializes arguments: top-level refs become dependencies, nested refs are recorded. */
  encodeArgs(args: unknown[]): { bytes: Uint8Array; deps: string[]; nested: string[] } {
    const deps: string[] = [];
    const nested: string[] = [];
    const prepared = args.map((a) => (a instanceof ObjectRef ? placeholder(deps, a.id) : a));
    const prev = refHooks.onSerialize;
    refHooks.onSerialize = (ref) => nested.push(ref.id);
    try {
      return { bytes: serialize(prepared, { label: 'arguments' }), deps, nested };
    } finally {
      refHooks.onSerialize = prev;
    }
  }

  /**
   * Submits a task spec whose function lives in `file` (or no function, for actor calls). Returns
   * the ref of its result at once; the spec is sent when its bundle is at the head.
   */
  submit<T>(
    spec: Omit<TaskSpec, 'fn'>,
    fn?: { file: string; name: string; definedAt: string; module?: string | undefined; bundle?: string | undefined },
  ): ObjectRef<T> {
    this.ensureOpen();
    const ref = this.ownRef<T>(returnObjectId(spec.taskId));
    if (this.deliveryAddress) (spec as TaskSpec).owner = this.deliveryAddress;
    if (!fn || fn.module || fn.bundle) {
      // Built-ins and code from a bundle the head already has need no bundling.
      if (fn) (spec as TaskSpec).fn = { bundle: fn.bundle ?? '', module: fn.module, name: fn.name, definedAt: fn.definedAt };
      this.enqueue({ t: 'submit', specs: [spec as TaskSpec] });
      return ref;
    }
    const hash = this.bundleFor(fn.file);
    const full = spec as TaskSpec;
    const ready = hash.then(
      (h) => {
        full.fn = { bundle: h, name: fn.name, definedAt: fn.definedAt } satisfies FunctionRef;
      },
      (err: Error) => {
        const o = this.objects.get(ref.id);
        const wire = err instanceof ShoalError ? err.toWire() : { name: err.name, code: 'ERROR', message: err.message };
        if (o) this.setReady(ref.id, o, { t: 'ready', id: ref.id, error: wire });
        throw err;
      },
    );
    this.enqueue({ t: 'submit', specs: [full] }, ready);
    return ref;
  }

  private enqueue(msg: ClientMsg, ready?: Promise<unknown>): void {
    if (!ready && this.outbox.length === 0) {
      this.post(msg);
      return;
    }
    const item: OutboxItem = { msg, state: ready ? 'waiting' : 'ok', ready };
    ready?.then(() => (item.state = 'ok'), () => (item.state = 'failed'));
    this.outbox.push(item);
    if (!this.outboxBusy) void this.drainOutbox();
  }

  private async drainOutbox(): Promise<void> {
    this.outboxBusy = true;
    // Index-based: the outbox can hold many thousands of submissions waiting on one bundle upload.
    // Settled items go out without an await, so a burst leaves as one frame.
    let i = 0;
    while (i < this.outbox.length) {
      const item = this.outbox[i]!;
      if (item.state === 'waiting') {
        await item.ready!.catch(() => undefined);
        continue;
      }
      i++;
      if (item.state === 'ok') this.post(item.msg);
    }
    this.outbox.length = 0;
    this.outboxBusy = false;
  }

  send(msg: ClientMsg): void {
    this.ensureOpen();
    this.enqueue(msg);
  }

  /** Frees objects cluster-wide; this process's copies fail from now on too. */
  free(ids: string[]): void {
    this.ensureOpen();
    for (const id of ids) {
      const o = this.objects.get(id);
      this.store?.delete(id);
      this.puts.delete(id);
      if (o) {
        o.inline = undefined;
        o.address = undefined;
        this.setReady(id, o, { t: 'ready', id, error: new ObjectFreedError(id).toWire() });
      }
    }
    this.enqueue({ t: 'free', ids });
  }

  /** Resolves once everything queued before now has been handed to the session stream. */
  async flushed(): Promise<void> {
    while (this.outboxBusy) await new Promise((r) => setTimeout(r, 1));
  }

  private ensureOpen(): void {
    if (this.closed) throw new ConnectionError(this.address, 'this driver is disconnected (shutdown() was called or the head went away)');
  }

  // ---------------- objects ----------------

  put<T>(value: T): ObjectRef<T> {
    this.ensureOpen();
    const id = newObjectId();
    const nested: string[] = [];
    const prev = refHooks.onSerialize;
    refHooks.onSerialize = (ref) => nested.push(ref.id);
    let bytes: Uint8Array;
    try {
      bytes = serialize(value, { label: 'the value given to put()', shared: true });
    } finally {
      refHooks.onSerialize = prev;
    }
    const ref = this.ownRef<T>(id);
    const o = this.objects.get(id)!;
    o.state = 'ready';
    o.size = bytes.byteLength;
    if (bytes.byteLength <= INLINE_OBJECT_MAX_BYTES) {
      o.inline = bytes;
      this.enqueue({ t: 'put', id, inline: bytes, size: bytes.byteLength, nested });
    } else {
      const store = this.ensureStore();
      store.put(id, bytes);
      const address = this.storeAddress!;
      this.enqueue({ t: 'put', id, size: bytes.byteLength, nested }, address.then((a) => {
        const msg = this.outbox.find((m) => m.msg.t === 'put' && m.msg.id === id);
        if (msg && msg.msg.t === 'put') msg.msg.address = a;
      }));
    }
    return ref;
  }

  private ensureStore(): ObjectStore {
    if (!this.store) {
      this.store = new ObjectStore({
        capacityBytes: this.options.objectStoreBytes ?? 2 * 1024 ** 3,
        spillDir: join(tmpdir(), `shoal-driver-spill-${process.pid}`),
      });
      this.objectServer = new grpc.Server(serverOptions(this.options.token));
      addObjectTransferService(this.objectServer, this.store, this.options.token, (msgs) => {
        for (const m of msgs) {
          const o = this.objects.get(m.id);
          if (o && o.state === 'pending') this.setReady(m.id, o, m);
        }
      });
      const host = this.address.slice(0, this.address.lastIndexOf(':'));
      const bindHost = host === 'localhost' || host.startsWith('127.') ? '127.0.0.1' : '0.0.0.0';
      const headPort = Number(this.address.slice(this.address.lastIndexOf(':') + 1));
      this.storeAddress = bindServer(this.objectServer, `${bindHost}:0`, this.options.tls).then(async (port) => {
        // Advertise the address peers reach us at: the interface that routes to the head.
        const advertised = bindHost === '0.0.0.0' ? await localAddressTowards(host, headPort) : bindHost;
        return `${advertised}:${port}`;
      });
    }
    return this.store;
  }

  private entry(id: string): DriverObject {
    let o = this.objects.get(id);
    if (!o) {
      // Known only through a ref created elsewhere; refCreated normally made the entry.
      o = { state: 'pending', refs: 0, subscribed: false };
      this.objects.set(id, o);
    }
    if (o.state === 'pending' && !o.subscribed) {
      o.subscribed = true;
      this.post({ t: 'subscribe', ids: [id] });
    }
    return o;
  }

  private async bytesOf(id: string, o: DriverObject): Promise<Uint8Array> {
    if (o.state === 'error') throw errorFromWire(o.error!);
    if (o.inline) return o.inline;
    const local = this.store?.get(id);
    if (local) return local;
    if (!o.fetching) {
      o.fetching = this.fetcher.fetch(o.address!, id);
      o.fetching.catch(() => (o.fetching = undefined));
    }
    return o.fetching;
  }

  /** Waits until every object is ready (or failed). Rejects with GetTimeoutError past the deadline. */
  private waitReady(objs: DriverObject[], timeoutMs: number | undefined, count = objs.length): Promise<void> {
    const isDone = (o: DriverObject) => o.state !== 'pending';
    let done = objs.filter(isDone).length;
    if (done >= count) return Promise.resolve();
    return new Promise((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      let finished = false;
      const check = (): void => {
        if (finished) return;
        done++;
        if (done >= count) {
          finished = true;
          if (timer) clearTimeout(timer);
          resolve();
        }
      };
      for (const o of objs) if (!isDone(o)) (o.waiters ??= []).push(check);
      if (timeoutMs !== undefined && Number.isFinite(timeoutMs)) {
        timer = setTimeout(() => {
          finished = true;
          reject(new GetTimeoutError(timeoutMs, objs.filter((o) => !isDone(o)).length));
        }, timeoutMs);
      }
    });
  }

  /** waitReady, telling onBlocked while it actually waits. */
  private async blockingWait(objs: DriverObject[], timeoutMs: number | undefined, count = objs.length): Promise<void> {
    const wait = this.waitReady(objs, timeoutMs, count);
    if (!this.onBlocked || objs.filter((o) => o.state !== 'pending').length >= count) return wait;
    this.onBlocked(true);
    try {
      await wait;
    } finally {
      this.onBlocked(false);
    }
  }

  async get(refs: ObjectRef[], timeoutMs?: number): Promise<unknown[]> {
    const objs = refs.map((r) => this.entry(r.id));
    await this.blockingWait(objs, timeoutMs);
    const values: unknown[] = new Array(refs.length);
    for (let i = 0; i < refs.length; i++) {
      const o = objs[i]!;
      const bytes = o.state === 'ready' && o.inline ? o.inline : await this.bytesOf(refs[i]!.id, o);
      values[i] = deserialize(bytes);
    }
    return values;
  }

  async wait(refs: ObjectRef[], numReturns: number, timeoutMs?: number): Promise<{ ready: ObjectRef[]; notReady: ObjectRef[] }> {
    const objs = refs.map((r) => this.entry(r.id));
    try {
      await this.blockingWait(objs, timeoutMs, Math.min(numReturns, refs.length));
    } catch (err) {
      if (!(err instanceof GetTimeoutError)) throw err;
    }
    const ready: ObjectRef[] = [];
    const notReady: ObjectRef[] = [];
    refs.forEach((r, i) => (objs[i]!.state !== 'pending' && ready.length < numReturns ? ready : notReady).push(r));
    return { ready, notReady };
  }

  async close(): Promise<void> {
    if (this.released) return;
    this.released = true;
    // Let queued submissions and releases go out first — unless the session is lost already (then
    // nothing goes out, and what this runtime holds must still be let go).
    while (this.outboxBusy && !this.closed) await new Promise((r) => setTimeout(r, 5));
    this.closed = true;
    if (refHooks.onCreate) refHooks.onCreate = undefined;
    this.session.close();
    this.fetcher.close();
    this.objectServer?.forceShutdown();
    this.store?.clear();
  }
}

function placeholder(deps: string[], id: string): unknown {
  deps.push(id);
  return new ArgPlaceholder(deps.length - 1);
}
