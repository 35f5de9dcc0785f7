/**
 * The state the head owns and reconciles: nodes, sessions, objects (the object directory and small
 * inline values), tasks waiting for dependencies or resources, actors and placement groups.
 *
 * Everything here runs on the head's event loop; messages from sessions mutate the state and a
 * scheduling pass (coalesced per turn of the loop) dispatches what can run.
 */
import { NODE_DEATH_TIMEOUT_MS } from '../constants.js';
import {
  ActorDiedError, ActorNotFoundError, InfeasibleError, ObjectFreedError, ObjectLostError,
  TaskCancelledError, WorkerDiedError, type WireError,
} from '../errors.js';
import type { HeadStore, StoredRecords } from './head-store.js';
import { returnObjectId } from '../ids.js';
import { log } from '../log.js';
import type {
  ClientMsg, DepSource, DriverReport, HeadMsg, NodeUsage, PutMsg, Resources, TaskDoneMsg, TaskSpec, WorkerReport,
} from '../wire/protocol.js';
import {
  add, chooseNode, fits, isPlain, placeBundles, subtract, type NodeView, type PlacementStrategy,
} from './scheduling-policy.js';
import { serialize } from '../wire/serialization.js';
import { trace } from '../trace.js';

export interface SessionHandle {
  id: string;
  role: 'driver' | 'worker';
  jobId: string;
  nodeId?: string | undefined;
  /** A worker's registration, kept to re-admit it after a false death. */
  nodeInfo?: { nodeId: string; resources: Resources; address: string; hostname: string } | undefined;
  send(msg: HeadMsg): void;
}

interface NodeState extends NodeView {
  address: string;
  hostname: string;
  sessionId: string;
  lastSeen: number;
  usage?: NodeUsage | undefined;
  avgTaskMs: number;
  startedAt: number;
  dispatched: Set<string>;
}

type ObjectState = 'pending' | 'ready' | 'error';

interface ObjectEntry {
  id: string;
  state: ObjectState;
  inline?: Uint8Array | undefined;
  size: number;
  /** Node ids (or `session:<id>` for a driver's store) holding a copy. */
  locations: Set<string>;
  error?: WireError | undefined;
  /** Sessions holding a reference. */
  holders: Set<string>;
  /** Pending tasks using it plus objects containing it. */
  pins: number;
  nested: string[];
  subscribers: Set<string>;
  /** Task that makes it (lineage), while the object is referenced. */
  producer?: string | undefined;
}

type TaskState = 'waiting' | 'queued' | 'running' | 'done';

interface TaskRecord {
  spec: TaskSpec;
  owner: string;
  state: TaskState;
  pendingDeps: number;
  attempts: number;
  nodeId?: string | undefined;
  plain: boolean;
  /** Resources deducted exactly (non-plain tasks and actors). */
  deducted?: Resources | undefined;
  /** Resources deducted from a placement group bundle. */
  bundle?: { pg: string; index: number } | undefined;
  classKey: string;
  startedAt?: number;
  /** Waiting in get()/wait(): its CPU is lent out. */
  blocked?: boolean;
  /** Re-reported running by a worker after a head restart: its inputs were never pinned here. */
  adopted?: boolean;
}

type ActorState = 'pending' | 'alive' | 'restarting' | 'dead';

interface ActorRecord {
  id: string;
  name: string;
  className: string;
  methods: string[];
  createTask: string;
  state: ActorState;
  nodeId?: string | undefined;
  restarts: number;
  maxRestarts: number;
  maxTaskRetries: number;
  owner: string;
  detached: boolean;
  /** Calls not yet sent to the actor's node, in submission order. */
  queue: TaskRecord[];
  inflight: Map<string, TaskRecord>;
  deathReason?: string | undefined;
}

interface PlacementGroupRecord {
  id: string;
  bundles: Resources[];
  strategy: PlacementStrategy;
  state: 'pending' | 'created' | 'removed';
  nodes: string[];
  available: Resources[];
  owner: string;
  waiters: Array<(err?: Error) => void>;
}

export interface HeadCounters {
  tasksSubmitted: number;
  tasksFinished: number;
  tasksFailed: number;
  tasksRetried: number;
  objectsReconstructed: number;
}

const driverLocation = (sessionId: string): string => `session:${sessionId}`;

/** Where the head persists its durable metadata (never tasks or objects). */
export type StateSink = Pick<HeadStore, 'put' | 'delete'>;

/** What the store keeps of an actor. */
interface StoredActor {
  id: string;
  name: string;
  className: string;
  methods: string[];
  createSpec: TaskSpec;
  state: ActorState;
  nodeId?: string | undefined;
  restarts: number;
  maxRestarts: number;
  maxTaskRetries: number;
  owner: string;
  detached: boolean;
  named: boolean;
}

interface StoredPlacementGroup { id: string; bundles: Resources[]; strategy: PlacementStrategy; owner: string }
interface StoredSession { id: string; role: 'driver' | 'worker'; jobId: string; nodeId?: string | undefined }
interface StoredNode { nodeId: string; resources: Resources; address: string; hostname: string }

/**
 * After a restart from a store: the sessions and nodes the previous head knew, until they come back
 * or the grace period ends. Drivers that come back wait (their report and messages parked) until
 * every worker has re-reported, so that a task a worker still runs is never started again.
 */
interface Recovery {
  sessions: Set<string>;
  nodes: Set<string>;
  /** Node each restored actor lived on before the restart. */
  actorNodes: Map<string, string>;
  /** Actors a worker re-reported. */
  confirmed: Set<string>;
  parked: Map<string, { session: SessionHandle; report: DriverReport | undefined; msgs: ClientMsg[] }>;
  timer: NodeJS.Timeout;
}

export class HeadState {
  readonly nodes = new Map<string, NodeState>();
  readonly sessions = new Map<string, SessionHandle>();
  private readonly driverStores = new Map<string, string>();
  private readonly objects = new Map<string, ObjectEntry>();
  private readonly freed = new Set<string>();
  private readonly tasks = new Map<string, TaskRecord>();
  private readonly depWaiters = new Map<string, TaskRecord[]>();
  private readonly classQueues = new Map<string, TaskRecord[]>();
  readonly actors = new Map<string, ActorRecord>();
  private readonly namedActors = new Map<string, string>();
  private readonly placementGroups = new Map<string, PlacementGroupRecord>();
  private readonly sessionHolds = new Map<string, Set<string>>();
  private schedulePending = false;
  private readonly warnedInfeasible = new Set<string>();
  readonly counters: HeadCounters = { tasksSubmitted: 0, tasksFinished: 0, tasksFailed: 0, tasksRetried: 0, objectsReconstructed: 0 };
  /** Durable metadata goes here (set by the head once its store is open). */
  persist?: StateSink | undefined;
  private recovery?: Recovery | undefined;

  /** Called for every autoscaling-relevant or notable decision. */
  onEvent: (event: string, fields: Record<string, unknown>) => void = () => {};

  // ---------------- sessions and nodes ----------------

  addSession(s: SessionHandle): void {
    this.sessions.set(s.id, s);
    if (!this.sessionHolds.has(s.id)) this.sessionHolds.set(s.id, new Set());
    this.persist?.put('session', s.id, { id: s.id, role: s.role, jobId: s.jobId, nodeId: s.nodeId } satisfies StoredSession);
  }

  addNode(s: SessionHandle, info: { nodeId: string; resources: Resources; address: string; hostname: string }): void {
    const node: NodeState = {
      id: info.nodeId,
      alive: true,
      total: { ...info.resources },
      available: { ...info.resources },
      inflightCpu: 0,
      inflightTasks: 0,
      cpuLimit: info.resources.CPU ?? 0,
      address: info.address,
      hostname: info.hostname,
      sessionId: s.id,
      lastSeen: Date.now(),
      avgTaskMs: 100,
      startedAt: Date.now(),
      dispatched: new Set(),
    };
    this.nodes.set(node.id, node);
    this.persist?.put('node', node.id, { ...info } satisfies StoredNode);
    log.info({ nodeId: node.id, resources: node.total, address: node.address }, 'node joined');
    this.onEvent('node-joined', { nodeId: node.id });
    this.schedule();
  }

  heartbeat(nodeId: string, usage?: NodeUsage, s?: SessionHandle): void {
    const n = this.nodes.get(nodeId);
    if (!n) {
      // Declared dead while only silent (a stall, an overloaded host): its work was already retried
      // elsewhere, so it drops everything and is admitted again as a fresh node.
      if (s?.nodeInfo) {
        log.warn({ nodeId }, 'a node declared dead is alive again; resetting it and admitting it afresh');
        s.send({ t: 'reset', reason: 'the head declared this node dead after a silence' });
        this.onEvent('node-rejoined', { nodeId });
        this.addNode(s, s.nodeInfo);
      }
      return;
    }
    n.lastSeen = Date.now();
    if (usage) n.usage = usage;
  }

  /** Declares nodes dead that have been silent too long. */
  checkNodeHealth(now = Date.now(), timeoutMs = NODE_DEATH_TIMEOUT_MS): void {
    for (const n of this.nodes.values()) {
      if (n.alive && now - n.lastSeen > timeoutMs) this.nodeDied(n.id, `no heartbeat for ${now - n.lastSeen} ms`);
    }
  }

  sessionClosed(sessionId: string): void {
    const s = this.sessions.get(sessionId);
    if (!s) return;
    this.sessions.delete(sessionId);
    this.persist?.delete('session', sessionId);
    this.recovery?.parked.delete(sessionId);
    if (s.role === 'worker' && s.nodeId) {
      this.nodeDied(s.nodeId, 'its worker process disconnected');
    } else {
      // A driver left: drop its references, its objects' copies, and its non-detached actors.
      const holds = this.sessionHolds.get(sessionId) ?? new Set();
      for (const id of holds) this.unhold(id, sessionId);
      const loc = driverLocation(sessionId);
      this.driverStores.delete(loc);
      for (const o of this.objects.values()) if (o.locations.delete(loc)) this.locationLost(o);
      for (const a of this.actors.values()) {
        if (a.owner === sessionId && !a.detached && a.state !== 'dead') this.killActor(a.id, true, 'its driver exited');
      }
      for (const pg of this.placementGroups.values()) if (pg.owner === sessionId) this.removePlacementGroup(pg.id);
    }
    this.sessionHolds.delete(sessionId);
  }

  private nodeDied(nodeId: string, reason: string): void {
    const n = this.nodes.get(nodeId);
    if (!n || !n.alive) return;
    n.alive = false;
    log.warn({ nodeId, reason }, 'node died');
    this.onEvent('node-died', { nodeId, reason });
    this.nodes.delete(nodeId);
    this.persist?.delete('node', nodeId);
    // Tasks that were running there.
    for (const taskId of n.dispatched) {
      const t = this.tasks.get(taskId);
      if (!t || t.state === 'done') continue;
      if (t.spec.kind === 'actor-call') continue; // handled with the actor below
      this.releaseResources(t, n);
      this.retryOrFail(t, new WorkerDiedError(t.spec.name, nodeId, t.attempts).toWire());
    }
    // Actors that lived there.
    for (const a of this.actors.values()) {
      if (a.nodeId === nodeId && a.state !== 'dead') this.actorLost(a, `its node ${nodeId} died (${reason})`);
    }
    // Placement groups with bundles there go back to pending.
    for (const pg of this.placementGroups.values()) {
      if (pg.state === 'created' && pg.nodes.includes(nodeId)) {
        pg.nodes.forEach((id, i) => {
          const other = this.nodes.get(id);
          if (other && id !== nodeId) add(other.available, pg.bundles[i]!);
        });
        pg.state = 'pending';
        pg.nodes = [];
      }
    }
    // Objects whose only copy was there.
    for (const o of this.objects.values()) if (o.locations.delete(nodeId)) this.locationLost(o);
    this.schedule();
  }

  private locationLost(o: ObjectEntry): void {
    if (o.state !== 'ready' || o.inline || o.locations.size > 0) return;
    const producer = o.producer ? this.tasks.get(o.producer) : undefined;
    if (producer && producer.spec.kind === 'task' && this.reconstruct(producer)) {
      o.state = 'pending';
      this.counters.objectsReconstructed++;
      log.info({ objectId: o.id, taskId: producer.spec.taskId }, 'object lost with its node; recomputing from lineage');
      this.onEvent('object-reconstruct', { objectId: o.id });
      return;
    }
    this.setObjectError(o, new ObjectLostError(o.id, 'every copy was lost with its node and it cannot be recomputed').toWire());
  }

  /** Re-runs the task that made a lost object; false when its inputs are gone too. */
  private reconstruct(t: TaskRecord): boolean {
    for (const dep of t.spec.deps) {
      const d = this.objects.get(dep);
      if (!d) return false;
    }
    t.state = 'waiting';
    t.nodeId = undefined;
    t.pendingDeps = 0;
    for (const dep of t.spec.deps) {
      this.pin(dep);
      const d = this.objects.get(dep)!;
      if (d.state === 'pending') {
        t.pendingDeps++;
        this.addDepWaiter(dep, t);
      }
    }
    if (t.pendingDeps === 0) this.enqueue(t);
    return true;
  }

  // ---------------- objects ----------------

  private newObject(id: string, holder: string | undefined, producer?: string): ObjectEntry {
    const o: ObjectEntry = {
      id, state: 'pending', size: 0, locations: new Set(), holders: new Set(), pins: 0, nested: [],
      subscribers: new Set(), producer,
    };
    this.objects.set(id, o);
    if (holder) this.hold(id, holder);
    return o;
  }

  hold(id: string, sessionId: string): void {
    const o = this.objects.get(id);
    if (!o) return;
    if (!o.holders.has(sessionId)) {
      o.holders.add(sessionId);
      this.sessionHolds.get(sessionId)?.add(id);
    }
  }

  private unhold(id: string, sessionId: string): void {
    const o = this.objects.get(id);
    if (!o) return;
    o.holders.delete(sessionId);
    o.subscribers.delete(sessionId);
    this.sessionHolds.get(sessionId)?.delete(id);
    this.maybeCollect(o);
  }

  release(ids: string[], sessionId: string): void {
    for (const id of ids) this.unhold(id, sessionId);
  }

  private pin(id: string): void {
    // A ref to an object the head has not heard of yet — put by a task's thread on its own
    // session, which may arrive after the task's result — is expected: hold a place for it.
    const o = this.objects.get(id) ?? (this.freed.has(id) ? undefined : this.newObject(id, undefined));
    if (o) o.pins++;
  }

  private unpin(id: string): void {
    const o = this.objects.get(id);
    if (!o) return;
    o.pins--;
    this.maybeCollect(o);
  }

  private maybeCollect(o: ObjectEntry): void {
    // While sessions re-report after a restart, holders are not known yet.
    if (this.recovery || o.holders.size > 0 || o.pins > 0) return;
    if (o.state === 'pending') {
      // Still being computed: keep until done, then collect.
      return;
    }
    this.dropObject(o);
  }

  private dropObject(o: ObjectEntry): void {
    this.objects.delete(o.id);
    for (const nested of o.nested) this.unpin(nested);
    this.deleteCopies(o);
    if (o.producer) {
      const t = this.tasks.get(o.producer);
      if (t && t.state === 'done') this.tasks.delete(o.producer);
    }
  }

  private deleteCopies(o: ObjectEntry): void {
    for (const loc of o.locations) {
      const node = this.nodes.get(loc);
      const sessionId = node ? node.sessionId : loc.startsWith('session:') ? loc.slice(8) : undefined;
      if (sessionId) this.sessions.get(sessionId)?.send({ t: 'free', ids: [o.id] });
    }
    o.locations.clear();
  }

  /** Explicit `free()`: the objects are gone now, whoever holds a reference. */
  free(ids: string[]): void {
    for (const id of ids) {
      const o = this.objects.get(id);
      if (!o) continue;
      this.freed.add(id);
      // Remember recent frees only (for the error message of a late get): oldest first out.
      if (this.freed.size > 100_000) this.freed.delete(this.freed.values().next().value!);
      const err = new ObjectFreedError(id).toWire();
      for (const s of o.subscribers) this.sessions.get(s)?.send({ t: 'ready', id, error: err });
      for (const h of o.holders) this.sessionHolds.get(h)?.delete(id);
      o.holders.clear();
      o.state = 'error';
      o.error = err;
      o.inline = undefined;
      this.deleteCopies(o);
      if (o.pins === 0) this.dropObject(o);
    }
  }

  put(msg: PutMsg, sessionId: string): void {
    const placeholder = this.objects.get(msg.id);
    const o = placeholder && placeholder.state === 'pending' ? placeholder : this.newObject(msg.id, undefined);
    this.hold(msg.id, sessionId);
    o.nested = msg.nested;
    for (const n of msg.nested) this.pin(n);
    if (msg.inline) o.inline = msg.inline;
    else if (msg.address) {
      const loc = driverLocation(sessionId);
      this.driverStores.set(loc, msg.address);
      o.locations.add(loc);
    }
    o.size = msg.size;
    o.state = 'ready';
    this.objectReady(o);
  }

  /** A worker reports a new copy (fetched as a dependency) or a removed one. */
  objectLocation(nodeId: string, id: string, size: number, removed: boolean): void {
    const o = this.objects.get(id);
    if (!o) return;
    if (removed) o.locations.delete(nodeId);
    else {
      o.locations.add(nodeId);
      o.size = size;
    }
  }

  subscribe(ids: string[], sessionId: string): void {
    const s = this.sessions.get(sessionId);
    if (!s) return;
    for (const id of ids) {
      const o = this.objects.get(id);
      if (!o) {
        const err = this.freed.has(id)
          ? new ObjectFreedError(id).toWire()
          : new ObjectLostError(id, 'the cluster has no record of it (freed, or made by a driver that exited)').toWire();
        s.send({ t: 'ready', id, error: err });
        continue;
      }
      this.hold(id, sessionId);
      if (o.state === 'pending') o.subscribers.add(sessionId);
      else s.send(this.readyMessage(o));
    }
  }

  private addressOf(loc: string): string | undefined {
    return this.nodes.get(loc)?.address ?? this.driverStores.get(loc);
  }

  private readyMessage(o: ObjectEntry): HeadMsg {
    if (o.state === 'error') return { t: 'ready', id: o.id, error: o.error! };
    if (o.inline) return { t: 'ready', id: o.id, inline: o.inline, size: o.size };
    for (const loc of o.locations) {
      const address = this.addressOf(loc);
      if (address) return { t: 'ready', id: o.id, address, size: o.size };
    }
    return { t: 'ready', id: o.id, error: new ObjectLostError(o.id, 'no copy is reachable').toWire() };
  }

  private objectReady(o: ObjectEntry): void {
    if (o.subscribers.size) {
      // The owner may have had the result straight from the worker already; this copy is what
      // guarantees delivery (a direct stream can break), and the driver ignores a second one.
      const msg = this.readyMessage(o);
      for (const s of o.subscribers) this.sessions.get(s)?.send(msg);
      o.subscribers.clear();
    }
    const waiters = this.depWaiters.get(o.id);
    if (waiters) {
      this.depWaiters.delete(o.id);
      for (const t of waiters) {
        if (t.state !== 'waiting') continue;
        if (o.state === 'error' && t.spec.kind !== 'actor-call') {
          this.finishTask(t, { error: o.error! });
          continue;
        }
        if (--t.pendingDeps === 0) this.enqueue(t);
      }
    }
    this.maybeCollect(o);
  }

  private setObjectError(o: ObjectEntry, error: WireError): void {
    o.state = 'error';
    o.error = error;
    o.inline = undefined;
    this.objectReady(o);
  }

  // ---------------- tasks ----------------

  submit(specs: TaskSpec[], sessionId: string): void {
    for (const spec of specs) this.submitOne(spec, sessionId);
    this.schedule();
  }

  private submitOne(spec: TaskSpec, owner: string): void {
    this.counters.tasksSubmitted++;
    const resultId = returnObjectId(spec.taskId);
    const o = this.newObject(resultId, owner, spec.taskId);
    o.subscribers.add(owner);
    const t: TaskRecord = {
      spec, owner, state: 'waiting', pendingDeps: 0, attempts: 0, plain: isPlain(spec.resources),
      classKey: classKeyOf(spec),
    };
    this.tasks.set(spec.taskId, t);
    for (const id of spec.nested) this.pin(id);
    let failed: WireError | undefined;
    for (const dep of spec.deps) {
      const d = this.objects.get(dep);
      if (!d) {
        failed ??= this.freed.has(dep) ? new ObjectFreedError(dep).toWire() : new ObjectLostError(dep, 'unknown object passed as an argument').toWire();
        continue;
      }
      this.pin(dep);
      if (d.state === 'pending') {
        t.pendingDeps++;
        this.addDepWaiter(dep, t);
      } else if (d.state === 'error' && spec.kind !== 'actor-call') {
        failed ??= d.error;
      }
    }
    if (spec.kind === 'actor-create') this.registerActor(t);
    if (spec.kind === 'actor-call') {
      const a = spec.actorId ? this.actors.get(spec.actorId) : undefined;
      if (!a) {
        this.finishTask(t, { error: new ActorDiedError(spec.actorId ?? '?', spec.name, 'no such actor in this cluster').toWire() });
        return;
      }
      if (a.state === 'dead') {
        this.finishTask(t, { error: new ActorDiedError(a.id, a.name, a.deathReason ?? 'dead').toWire() });
        return;
      }
      a.queue.push(t);
      if (failed) {
        t.pendingDeps = 0;
      }
      this.pumpActor(a);
      return;
    }
    if (failed) {
      this.finishTask(t, { error: failed });
      return;
    }
    if (t.pendingDeps === 0) this.enqueue(t);
  }

  private addDepWaiter(dep: string, t: TaskRecord): void {
    let list = this.depWaiters.get(dep);
    if (!list) this.depWaiters.set(dep, (list = []));
    list.push(t);
  }

  private enqueue(t: TaskRecord): void {
    if (t.spec.kind === 'actor-call') {
      const a = this.actors.get(t.spec.actorId!);
      if (a) this.pumpActor(a);
      return;
    }
    t.state = 'queued';
    let q = this.classQueues.get(t.classKey);
    if (!q) this.classQueues.set(t.classKey, (q = []));
    q.push(t);
    this.schedule();
  }

  /** Coalesces scheduling passes: one after the current burst of messages is handled. */
  schedule(): void {
    if (this.schedulePending) return;
    this.schedulePending = true;
    queueMicrotask(() => {
      this.schedulePending = false;
      this.schedulePass();
    });
  }

  private schedulePass(): void {
    this.placePendingGroups();
    const nodes = [...this.nodes.values()].filter((n) => n.alive);
    trace('scheduler', () => `pass: ${nodes.map((n) => `${n.id} inflight ${n.inflightTasks} cpu ${n.inflightCpu}/${n.cpuLimit} avg ${n.avgTaskMs.toFixed(2)}ms`).join('; ')}`);
    for (const [key, q] of this.classQueues) {
      let i = 0;
      while (i < q.length) {
        const t = q[i]!;
        if (t.state !== 'queued') {
          i++;
          continue;
        }
        if (!this.tryDispatch(t, nodes)) break;
        i++;
      }
      if (i > 0) q.splice(0, i);
      if (q.length === 0) this.classQueues.delete(key);
      else this.warnIfInfeasible(q[0]!, nodes);
    }
  }

  private warnIfInfeasible(t: TaskRecord, nodes: NodeState[]): void {
    if (this.warnedInfeasible.has(t.classKey)) return;
    const need = t.spec.resources;
    if (typeof t.spec.strategy === 'object' && 'placementGroupId' in t.spec.strategy) return;
    if (nodes.some((n) => fits(n.total, need))) return;
    this.warnedInfeasible.add(t.classKey);
    log.warn({ task: t.spec.name, resources: need }, 'task waits for resources no node has');
    this.onEvent('infeasible', { task: t.spec.name, resources: need });
  }

  /**
   * Sends a queued task back to waiting when an input is pending again (its only copy was lost and
   * it is being recomputed). Returns true when the task must wait.
   */
  private awaitPendingDeps(t: TaskRecord): boolean {
    let pending = 0;
    for (const dep of t.spec.deps) {
      const d = this.objects.get(dep);
      if (d?.state === 'pending') {
        pending++;
        this.addDepWaiter(dep, t);
      }
    }
    if (pending === 0) return false;
    t.state = 'waiting';
    t.pendingDeps = pending;
    return true;
  }

  private tryDispatch(t: TaskRecord, nodes: NodeState[]): boolean {
    const spec = t.spec;
    if (this.awaitPendingDeps(t)) return true;
    const strategy = spec.strategy;
    let node: NodeState | undefined;
    if (typeof strategy === 'object' && 'placementGroupId' in strategy) {
      const pg = this.placementGroups.get(strategy.placementGroupId);
      if (!pg || pg.state === 'removed') {
        this.finishTask(t, { error: new InfeasibleError(`placement group ${strategy.placementGroupId} does not exist or was removed`).toWire() });
        return true;
      }
      if (pg.state !== 'created') return false;
      const idx = strategy.bundleIndex < 0 ? pg.available.findIndex((a) => fits(a, spec.resources)) : strategy.bundleIndex;
      const avail = pg.available[idx];
      if (!avail) {
        if (strategy.bundleIndex >= pg.bundles.length) {
          this.finishTask(t, { error: new InfeasibleError(`bundleIndex ${strategy.bundleIndex} is out of range: placement group has ${pg.bundles.length} bundles`).toWire() });
          return true;
        }
        return false;
      }
      if (!fits(avail, spec.resources)) return false;
      node = this.nodes.get(pg.nodes[idx]!);
      if (!node) return false;
      subtract(avail, spec.resources);
      t.bundle = { pg: pg.id, index: idx };
    } else {
      const locality = new Map<string, number>();
      for (const dep of spec.deps) {
        const d = this.objects.get(dep);
        if (!d || d.inline) continue;
        for (const loc of d.locations) locality.set(loc, (locality.get(loc) ?? 0) + d.size);
      }
      node = chooseNode(nodes, spec.resources, strategy, locality, t.plain && spec.kind === 'task') as NodeState | undefined;
      if (!node) {
        if (typeof strategy === 'object' && 'nodeId' in strategy && !strategy.soft && !this.nodes.has(strategy.nodeId)) {
          this.finishTask(t, { error: new InfeasibleError(`task ${spec.name} must run on node ${strategy.nodeId}, which is not in the cluster`).toWire() });
          return true;
        }
        return false;
      }
      if (t.plain && spec.kind === 'task') {
        node.inflightCpu += spec.resources.CPU ?? 0;
      } else {
        t.deducted = { ...spec.resources };
        subtract(node.available, t.deducted);
      }
    }
    node.inflightTasks++;
    this.sendExecute(t, node);
    return true;
  }

  private sendExecute(t: TaskRecord, node: NodeState): void {
    t.state = 'running';
    t.nodeId = node.id;
    t.attempts++;
    t.startedAt = Date.now();
    node.dispatched.add(t.spec.taskId);
    const deps: Record<string, DepSource> = {};
    for (const dep of t.spec.deps) {
      const d = this.objects.get(dep);
      if (!d) continue;
      if (d.inline) deps[dep] = { inline: d.inline };
      else if (d.state === 'ready') {
        const loc = d.locations.has(node.id) ? node.id : [...d.locations][0];
        const address = loc ? this.addressOf(loc) : undefined;
        if (address) deps[dep] = { address, size: d.size };
      }
    }
    trace('scheduler', () => `dispatch ${t.spec.name} ${t.spec.taskId} -> ${node.id} (attempt ${t.attempts})`);
    this.sessions.get(node.sessionId)?.send({ t: 'execute', spec: t.spec, deps, attempt: t.attempts });
  }

  private releaseResources(t: TaskRecord, node: NodeState | undefined): void {
    if (node && node.dispatched.delete(t.spec.taskId)) node.inflightTasks = Math.max(0, node.inflightTasks - 1);
    if (t.bundle) {
      const pg = this.placementGroups.get(t.bundle.pg);
      if (pg?.available[t.bundle.index]) add(pg.available[t.bundle.index]!, t.spec.resources);
      t.bundle = undefined;
    } else if (t.deducted) {
      if (node) add(node.available, t.deducted);
      t.deducted = undefined;
    } else if (node && t.spec.kind === 'task' && !t.blocked) {
      node.inflightCpu = Math.max(0, node.inflightCpu - (t.spec.resources.CPU ?? 0));
    }
    t.blocked = false;
  }

  /**
   * A worker could not fetch an input from `address`: forget that copy (its node may be dying
   * before the head has noticed), so the retry goes to another copy or waits for a recompute.
   */
  private copyUnreachable(id: string, address: string): void {
    const o = this.objects.get(id);
    if (!o) return;
    for (const loc of o.locations) {
      if (this.addressOf(loc) === address) {
        o.locations.delete(loc);
        log.warn({ objectId: id, address }, 'a copy could not be fetched; dropping it');
      }
    }
    this.locationLost(o);
  }

  /** A running plain task waits on objects: lend its CPU out until it stops waiting. */
  private taskBlocked(taskId: string, blocked: boolean): void {
    const t = this.tasks.get(taskId);
    if (!t || t.state !== 'running' || !t.plain || t.spec.kind !== 'task' || !t.nodeId) return;
    const node = this.nodes.get(t.nodeId);
    if (!node || (t.blocked ?? false) === blocked) return;
    t.blocked = blocked;
    node.inflightCpu += (blocked ? -1 : 1) * (t.spec.resources.CPU ?? 0);
    if (blocked) this.schedule();
  }

  taskDone(msg: TaskDoneMsg, nodeId: string): void {
    const t = this.tasks.get(msg.taskId);
    if (!t || t.state !== 'running' || t.nodeId !== nodeId) return;
    const node = this.nodes.get(nodeId);
    if (t.spec.kind === 'actor-call') {
      const a = this.actors.get(t.spec.actorId!);
      a?.inflight.delete(t.spec.taskId);
      node?.dispatched.delete(t.spec.taskId);
    } else if (t.spec.kind === 'task') {
      this.releaseResources(t, node);
      if (node && msg.ms !== undefined) {
        // Run time in the thread (not the round trip, which grows with the queue it measures).
        node.avgTaskMs = node.avgTaskMs * 0.9 + msg.ms * 0.1;
        // Pipeline short tasks deeply; keep long tasks to one per CPU so nodes stay balanced.
        const cpus = node.total.CPU ?? 0;
        node.cpuLimit = node.avgTaskMs < 10 ? cpus * 64 : cpus;
      }
    } else {
      if (node && node.dispatched.delete(t.spec.taskId)) node.inflightTasks = Math.max(0, node.inflightTasks - 1);
    }
    if (msg.lostInput) this.copyUnreachable(msg.lostInput.id, msg.lostInput.address);
    if (msg.error && msg.system) {
      const e = msg.error;
      const err = e.name === 'WorkerDiedError'
        ? new WorkerDiedError(t.spec.name, nodeId, t.attempts, String(e.context?.reason ?? e.message)).toWire()
        : e;
      this.retryOrFail(t, err);
    } else {
      this.finishTask(t, msg);
    }
    this.schedule();
  }

  private retryOrFail(t: TaskRecord, error: WireError): void {
    const max = t.spec.maxRetries;
    if (t.attempts <= max && t.spec.kind !== 'actor-call') {
      this.counters.tasksRetried++;
      log.info({ task: t.spec.name, taskId: t.spec.taskId, attempt: t.attempts, error: error.message }, 'retrying task after a system failure');
      t.state = 'queued';
      t.nodeId = undefined;
      this.enqueue(t);
      return;
    }
    if (t.spec.kind === 'actor-create') {
      const a = this.actors.get(t.spec.actorId!);
      if (a) this.actorLost(a, error.message);
      return;
    }
    this.finishTask(t, { error });
  }

  private finishTask(t: TaskRecord, result: { inline?: Uint8Array | undefined; size?: number | undefined; nested?: string[] | undefined; error?: WireError | undefined }): void {
    t.state = 'done';
    const o = this.objects.get(returnObjectId(t.spec.taskId));
    if (!t.adopted) {
      for (const dep of t.spec.deps) this.unpin(dep);
      for (const id of t.spec.nested) this.unpin(id);
    }
    if (result.error) this.counters.tasksFailed++;
    else this.counters.tasksFinished++;
    if (t.spec.kind === 'actor-create') this.actorCreated(t, result.error);
    if (!o) {
      this.tasks.delete(t.spec.taskId);
      return;
    }
    if (result.error) {
      this.setObjectError(o, result.error);
    } else {
      o.nested = result.nested ?? [];
      for (const n of o.nested) this.pin(n);
      o.size = result.size ?? result.inline?.byteLength ?? 0;
      if (result.inline) o.inline = result.inline;
      else if (t.nodeId) o.locations.add(t.nodeId);
      o.state = 'ready';
      this.objectReady(o);
    }
    if (t.spec.kind === 'actor-create') return; // kept for restarts until the actor dies
    if (!this.objects.has(o.id) || o.inline || t.spec.kind !== 'task') this.tasks.delete(t.spec.taskId);
  }

  cancel(objectId: string, force: boolean): void {
    const taskId = `t${objectId.slice(1)}`;
    const t = this.tasks.get(taskId);
    if (!t || t.state === 'done') return;
    const err = new TaskCancelledError(t.spec.name, taskId).toWire();
    if (t.state === 'running' && t.nodeId) {
      const node = this.nodes.get(t.nodeId);
      if (node) this.sessions.get(node.sessionId)?.send({ t: 'cancel-task', taskId, force });
      return;
    }
    if (t.spec.kind === 'actor-call') {
      const a = this.actors.get(t.spec.actorId!);
      if (a) a.queue = a.queue.filter((x) => x !== t);
    }
    this.finishTask(t, { error: err });
  }

  // ---------------- actors ----------------

  private registerActor(t: TaskRecord): void {
    const spec = t.spec;
    const opts = spec.actor!;
    const a: ActorRecord = {
      id: spec.actorId!,
      name: opts.name ?? spec.name,
      className: spec.fn?.name ?? spec.name,
      methods: opts.methods,
      createTask: spec.taskId,
      state: 'pending',
      restarts: 0,
      maxRestarts: opts.maxRestarts,
      maxTaskRetries: opts.maxTaskRetries,
      owner: t.owner,
      detached: opts.detached,
      queue: [],
      inflight: new Map(),
    };
    this.actors.set(a.id, a);
    if (opts.name) {
      const existing = this.namedActors.get(opts.name);
      const other = existing ? this.actors.get(existing) : undefined;
      if (other && other.state !== 'dead') {
        a.state = 'dead';
        a.deathReason = `an actor named '${opts.name}' already exists`;
        return;
      }
      this.namedActors.set(opts.name, a.id);
    }
    this.persistActor(a);
  }

  private persistActor(a: ActorRecord): void {
    if (!this.persist) return;
    const create = this.tasks.get(a.createTask);
    if (a.state === 'dead' || !create) {
      this.persist.delete('actor', a.id);
      return;
    }
    this.persist.put('actor', a.id, {
      id: a.id, name: a.name, className: a.className, methods: a.methods, createSpec: create.spec, state: a.state,
      nodeId: a.nodeId, restarts: a.restarts, maxRestarts: a.maxRestarts, maxTaskRetries: a.maxTaskRetries,
      owner: a.owner, detached: a.detached, named: this.namedActors.get(a.name) === a.id,
    } satisfies StoredActor);
  }

  private actorCreated(t: TaskRecord, error: WireError | undefined): void {
    const a = this.actors.get(t.spec.actorId!);
    if (!a) return;
    if (error) {
      this.actorDead(a, `its constructor failed: ${error.message}`);
      return;
    }
    a.state = 'alive';
    a.nodeId = t.nodeId;
    this.persistActor(a);
    // The create task's resources stay reserved for the actor's life.
    const node = t.nodeId ? this.nodes.get(t.nodeId) : undefined;
    if (node && t.deducted === undefined && !t.bundle) {
      t.deducted = { ...t.spec.resources };
      subtract(node.available, t.deducted);
    }
    this.pumpActor(a);
  }

  private pumpActor(a: ActorRecord): void {
    if (a.state === 'dead') {
      const err = new ActorDiedError(a.id, a.name, a.deathReason ?? 'dead').toWire();
      const queued = a.queue;
      a.queue = [];
      for (const t of queued) this.finishTask(t, { error: err });
      return;
    }
    if (a.state !== 'alive' || !a.nodeId) return;
    const node = this.nodes.get(a.nodeId);
    if (!node) return;
    while (a.queue.length && a.queue[0]!.pendingDeps === 0) {
      const t = a.queue.shift()!;
      // An argument that failed fails the call without running it.
      const failedDep = t.spec.deps.map((d) => this.objects.get(d)).find((d) => d?.state === 'error');
      if (failedDep) {
        this.finishTask(t, { error: failedDep.error! });
        continue;
      }
      a.inflight.set(t.spec.taskId, t);
      this.sendExecute(t, node);
    }
  }

  private actorLost(a: ActorRecord, reason: string): void {
    const create = this.tasks.get(a.createTask);
    if (a.restarts < a.maxRestarts && create) {
      this.releaseResources(create, a.nodeId ? this.nodes.get(a.nodeId) : undefined);
      a.restarts++;
      a.state = 'restarting';
      a.nodeId = undefined;
      log.warn({ actorId: a.id, name: a.name, restart: a.restarts, reason }, 'restarting actor');
      this.onEvent('actor-restart', { actorId: a.id, reason });
      // Calls in flight are retried (in order, ahead of the queue) if allowed, else fail.
      const inflight = [...a.inflight.values()];
      a.inflight.clear();
      const retry: TaskRecord[] = [];
      for (const t of inflight) {
        if (t.attempts <= a.maxTaskRetries) {
          t.state = 'waiting';
          retry.push(t);
        } else {
          this.finishTask(t, { error: new ActorDiedError(a.id, a.name, reason).toWire() });
        }
      }
      a.queue = [...retry, ...a.queue];
      create.state = 'queued';
      create.nodeId = undefined;
      create.deducted = undefined;
      create.attempts = 0;
      this.persistActor(a);
      this.enqueue(create);
      return;
    }
    this.actorDead(a, reason);
  }

  private actorDead(a: ActorRecord, reason: string): void {
    a.state = 'dead';
    a.deathReason = reason;
    this.persist?.delete('actor', a.id);
    const node = a.nodeId ? this.nodes.get(a.nodeId) : undefined;
    const create = this.tasks.get(a.createTask);
    if (create) {
      this.releaseResources(create, node);
      this.tasks.delete(a.createTask);
    }
    if (this.namedActors.get(a.name) === a.id) this.namedActors.delete(a.name);
    const err = new ActorDiedError(a.id, a.name, reason).toWire();
    for (const t of a.inflight.values()) this.finishTask(t, { error: err });
    a.inflight.clear();
    this.pumpActor(a);
    this.onEvent('actor-dead', { actorId: a.id, reason });
  }

  killActor(actorId: string, noRestart: boolean, reason = 'killed by kill()'): void {
    const a = this.actors.get(actorId);
    if (!a || a.state === 'dead') return;
    const node = a.nodeId ? this.nodes.get(a.nodeId) : undefined;
    if (node) this.sessions.get(node.sessionId)?.send({ t: 'kill-actor', actorId });
    if (noRestart) this.actorDead(a, reason);
    else this.actorLost(a, reason);
  }

  getActor(name: string): { actorId: string; className: string; methods: string[]; name: string } {
    const id = this.namedActors.get(name);
    const a = id ? this.actors.get(id) : undefined;
    if (!a || a.state === 'dead') throw new ActorNotFoundError(name);
    return { actorId: a.id, className: a.className, methods: a.methods, name: a.name };
  }

  // ---------------- placement groups ----------------

  createPlacementGroup(id: string, bundles: Resources[], strategy: PlacementStrategy, owner: string): void {
    this.placementGroups.set(id, { id, bundles, strategy, state: 'pending', nodes: [], available: [], owner, waiters: [] });
    this.persist?.put('pg', id, { id, bundles, strategy, owner } satisfies StoredPlacementGroup);
    this.placePendingGroups();
  }

  placementGroupReady(id: string): Promise<void> {
    const pg = this.placementGroups.get(id);
    if (!pg || pg.state === 'removed') return Promise.reject(new InfeasibleError(`placement group ${id} does not exist or was removed`));
    if (pg.state === 'created') return Promise.resolve();
    return new Promise((resolve, reject) => pg.waiters.push((err) => (err ? reject(err) : resolve())));
  }

  removePlacementGroup(id: string): void {
    const pg = this.placementGroups.get(id);
    if (!pg || pg.state === 'removed') return;
    if (pg.state === 'created') {
      pg.nodes.forEach((nodeId, i) => {
        const node = this.nodes.get(nodeId);
        if (node) add(node.available, pg.bundles[i]!);
      });
    }
    pg.state = 'removed';
    for (const w of pg.waiters) w(new InfeasibleError(`placement group ${id} was removed before it was placed`));
    pg.waiters = [];
    this.placementGroups.delete(id);
    this.persist?.delete('pg', id);
    this.schedule();
  }

  private placePendingGroups(): void {
    for (const pg of this.placementGroups.values()) {
      if (pg.state !== 'pending') continue;
      const nodes = [...this.nodes.values()].filter((n) => n.alive);
      const placed = placeBundles(nodes, pg.bundles, pg.strategy);
      if (!placed) continue;
      placed.forEach((nodeId, i) => subtract(this.nodes.get(nodeId)!.available, pg.bundles[i]!));
      pg.nodes = placed;
      pg.available = pg.bundles.map((b) => ({ ...b }));
      pg.state = 'created';
      log.info({ pg: pg.id, nodes: placed }, 'placement group created');
      for (const w of pg.waiters) w();
      pg.waiters = [];
      this.schedule();
    }
  }

  // ---------------- autoscaling inputs ----------------

  /** Resource shapes waiting because no node can take them now (tasks, actors, placement groups). */
  unmetDemand(): Array<{ resources: Resources; count: number; what: string }> {
    const out: Array<{ resources: Resources; count: number; what: string }> = [];
    for (const q of this.classQueues.values()) {
      const head = q.find((t) => t.state === 'queued');
      if (!head) continue;
      const s = head.spec.strategy;
      if (typeof s === 'object' && ('placementGroupId' in s || !s.soft)) continue; // bound to a place
      out.push({ resources: head.spec.resources, count: q.length, what: head.spec.kind === 'actor-create' ? 'actor' : 'task' });
    }
    for (const pg of this.placementGroups.values()) {
      if (pg.state !== 'pending') continue;
      for (const b of pg.bundles) out.push({ resources: b, count: 1, what: `placement group ${pg.id}` });
    }
    return out;
  }

  /** Whether a node runs anything or holds anything: tasks, actors, placement bundles, objects. */
  nodeBusy(nodeId: string): boolean {
    const n = this.nodes.get(nodeId);
    if (!n) return false;
    if (n.inflightTasks > 0 || n.dispatched.size > 0 || (n.usage?.objects ?? 0) > 0) return true;
    for (const a of this.actors.values()) if (a.nodeId === nodeId && a.state !== 'dead') return true;
    for (const pg of this.placementGroups.values()) if (pg.state === 'created' && pg.nodes.includes(nodeId)) return true;
    return false;
  }

  // ---------------- restart recovery ----------------

  /**
   * Loads what the previous head stored: actors (with their creation tasks, for restarts) and
   * placement groups (pending until placed again). When sessions were live, waits up to `graceMs`
   * for them to come back before declaring the missing ones gone.
   */
  restore(records: StoredRecords, graceMs: number): { sessions: number; nodes: number; actors: number; placementGroups: number } {
    const sessions = records.get('session') ?? new Map<string, unknown>();
    const nodes = records.get('node') ?? new Map<string, unknown>();
    const actorNodes = new Map<string, string>();
    for (const value of (records.get('actor') ?? new Map<string, unknown>()).values()) {
      const r = value as StoredActor;
      const spec = r.createSpec;
      this.tasks.set(spec.taskId, {
        spec, owner: r.owner, state: 'done', pendingDeps: 0, attempts: 1, nodeId: r.nodeId,
        plain: isPlain(spec.resources), classKey: classKeyOf(spec),
      });
      this.actors.set(r.id, {
        id: r.id, name: r.name, className: r.className, methods: r.methods, createTask: spec.taskId,
        state: r.state, nodeId: r.nodeId, restarts: r.restarts, maxRestarts: r.maxRestarts,
        maxTaskRetries: r.maxTaskRetries, owner: r.owner, detached: r.detached, queue: [], inflight: new Map(),
      });
      if (r.named) this.namedActors.set(r.name, r.id);
      if (r.nodeId) actorNodes.set(r.id, r.nodeId);
    }
    for (const value of (records.get('pg') ?? new Map<string, unknown>()).values()) {
      const r = value as StoredPlacementGroup;
      this.placementGroups.set(r.id, { ...r, state: 'pending', nodes: [], available: [], waiters: [] });
    }
    if (sessions.size > 0 || nodes.size > 0) {
      const timer = setTimeout(() => this.endRecovery(`${graceMs} ms passed`), graceMs);
      timer.unref();
      this.recovery = {
        sessions: new Set(sessions.keys()), nodes: new Set(nodes.keys()), actorNodes, confirmed: new Set(), parked: new Map(), timer,
      };
    }
    return { sessions: sessions.size, nodes: nodes.size, actors: this.actors.size, placementGroups: this.placementGroups.size };
  }

  /** Whether the head still waits for sessions of the previous head to come back. */
  get recovering(): boolean {
    return this.recovery !== undefined;
  }

  /**
   * A session came back with its report (called after addSession/addNode). A worker's report is
   * taken at once; a driver's waits for the end of recovery, with every message it sends meanwhile.
   */
  resumeSession(s: SessionHandle, report: { worker?: WorkerReport | undefined; driver?: DriverReport | undefined }): void {
    const r = this.recovery;
    if (s.role === 'worker') {
      if (!r) {
        // Not a restart (or nothing was stored): the head has let this node's work go already.
        s.send({ t: 'reset', reason: 'the head does not know the work this node reports (its session had ended)' });
      } else if (report.worker && s.nodeId) {
        this.adoptWorker(s.nodeId, report.worker, r);
      }
    } else if (r) {
      r.parked.set(s.id, { session: s, report: report.driver, msgs: [] });
    } else if (report.driver) {
      this.applyDriverReport(s, report.driver);
    }
    if (r) {
      r.sessions.delete(s.id);
      if (s.nodeId) r.nodes.delete(s.nodeId);
      log.info({ sessionId: s.id, role: s.role, waitingFor: r.sessions.size }, 'session resumed after a head restart');
      if (r.sessions.size === 0) setImmediate(() => this.endRecovery('every session came back'));
    }
    this.schedule();
  }

  /** Takes a worker's actors, tasks and objects back into the head's tables. */
  private adoptWorker(nodeId: string, rep: WorkerReport, r: Recovery): void {
    const node = this.nodes.get(nodeId);
    if (!node) return;
    for (const spec of rep.actors) {
      let a = this.actors.get(spec.actorId!);
      let create = this.tasks.get(spec.taskId);
      if (!a || !create) {
        // Created just before the crash, before the store had it.
        create = { spec, owner: '', state: 'done', pendingDeps: 0, attempts: 1, plain: false, classKey: classKeyOf(spec) };
        this.tasks.set(spec.taskId, create);
        this.registerActor(create);
        a = this.actors.get(spec.actorId!)!;
      }
      if (a.state === 'dead') continue;
      a.state = 'alive';
      a.nodeId = nodeId;
      create.nodeId = nodeId;
      if (!(typeof spec.strategy === 'object' && 'placementGroupId' in spec.strategy) && !create.deducted) {
        create.deducted = { ...spec.resources };
        subtract(node.available, create.deducted);
      }
      r.confirmed.add(a.id);
      this.persistActor(a);
    }
    for (const { spec, attempt } of rep.tasks) {
      if (this.tasks.get(spec.taskId)?.state === 'running') continue;
      // A constructor that finished (its actor is reported above): only its `done` is late.
      if (spec.kind === 'actor-create' && r.confirmed.has(spec.actorId ?? '')) continue;
      const known = this.tasks.get(spec.taskId);
      const t: TaskRecord = known ?? {
        spec, owner: '', state: 'running', pendingDeps: 0, attempts: attempt, plain: isPlain(spec.resources), classKey: classKeyOf(spec),
      };
      t.state = 'running';
      t.nodeId = nodeId;
      t.adopted = true;
      t.attempts = Math.max(t.attempts, attempt);
      t.startedAt = Date.now();
      this.tasks.set(spec.taskId, t);
      node.dispatched.add(spec.taskId);
      const resultId = returnObjectId(spec.taskId);
      const o = this.objects.get(resultId) ?? this.newObject(resultId, undefined, spec.kind === 'task' ? spec.taskId : undefined);
      o.state = 'pending';
      if (spec.kind === 'actor-call') {
        this.actors.get(spec.actorId!)?.inflight.set(spec.taskId, t);
      } else if (spec.kind === 'actor-create') {
        const a = this.actors.get(spec.actorId!);
        if (a && a.state !== 'dead') {
          a.state = 'restarting';
          a.nodeId = undefined;
          r.confirmed.add(a.id);
        }
        node.inflightTasks++;
        t.deducted = { ...spec.resources };
        subtract(node.available, t.deducted);
      } else {
        node.inflightTasks++;
        if (t.plain) node.inflightCpu += spec.resources.CPU ?? 0;
        else {
          t.deducted = { ...spec.resources };
          subtract(node.available, t.deducted);
        }
      }
    }
    for (const { id, size } of rep.objects) {
      const o = this.objects.get(id) ?? this.newObject(id, undefined);
      o.locations.add(nodeId);
      if (o.state === 'pending' && !this.tasks.has(`t${id.slice(1)}`)) {
        o.size = size;
        o.state = 'ready';
        this.objectReady(o);
      }
    }
    for (const a of this.actors.values()) if (a.nodeId === nodeId) this.pumpActor(a);
  }

  /** Ends recovery: what did not come back is gone; parked drivers are taken in arrival order. */
  private endRecovery(why: string): void {
    const r = this.recovery;
    if (!r) return;
    this.recovery = undefined;
    clearTimeout(r.timer);
    log.info({ why, missingSessions: r.sessions.size, missingNodes: [...r.nodes] }, 'recovery after head restart ended');
    this.onEvent('recovery-ended', { why, missingSessions: r.sessions.size, missingNodes: r.nodes.size });
    for (const id of r.sessions) this.persist?.delete('session', id);
    for (const id of r.nodes) this.persist?.delete('node', id);
    for (const a of [...this.actors.values()]) {
      if (a.state === 'dead') continue;
      const create = this.tasks.get(a.createTask);
      if (a.state === 'alive' && !r.confirmed.has(a.id)) {
        const where = a.nodeId && r.nodes.has(a.nodeId) ? `its node ${a.nodeId} did not come back after the head restarted` : 'its worker no longer hosts it after the head restarted';
        a.nodeId = undefined;
        this.actorLost(a, where);
      } else if (a.state !== 'alive' && create && create.state !== 'running') {
        create.state = 'queued';
        create.nodeId = undefined;
        this.enqueue(create);
      }
    }
    const drain = { lost: r.nodes, actorNodes: r.actorNodes };
    for (const p of r.parked.values()) if (p.report) this.applyDriverReport(p.session, p.report, drain);
    for (const p of r.parked.values()) for (const m of p.msgs) this.handle(m, p.session);
    for (const a of [...this.actors.values()]) {
      if (!a.detached && a.state !== 'dead' && r.sessions.has(a.owner)) this.killActor(a.id, true, 'its driver did not come back after the head restarted');
    }
    for (const pg of [...this.placementGroups.values()]) if (r.sessions.has(pg.owner)) this.removePlacementGroup(pg.id);
    for (const o of [...this.objects.values()]) this.maybeCollect(o);
    this.schedule();
  }

  /**
   * A driver's report: its values and puts, its pending tasks (deduplicated against what workers
   * re-reported), the objects it holds and waits for. A pending task nobody reported is started
   * again only when it provably never ran (`drain`: taken at the end of recovery, when every node
   * that could run it came back and re-reported) or when it may be retried; otherwise it fails with
   * WorkerDiedError rather than risk running twice.
   */
  private applyDriverReport(s: SessionHandle, rep: DriverReport, drain?: { lost: Set<string>; actorNodes: Map<string, string> }): void {
    for (const v of rep.values) {
      if (this.objects.has(v.id)) continue;
      const o = this.newObject(v.id, s.id);
      o.inline = v.inline;
      o.size = v.inline.byteLength;
      o.nested = v.nested;
      for (const n of v.nested) this.pin(n);
      o.state = 'ready';
    }
    for (const put of rep.puts) if (this.objects.get(put.id)?.state !== 'ready') this.put(put, s.id);
    const fresh: TaskSpec[] = [];
    for (const spec of rep.pending) {
      const resultId = returnObjectId(spec.taskId);
      const t = this.tasks.get(spec.taskId);
      if (t) {
        if (!t.owner) t.owner = s.id;
        if (t.state === 'done' && spec.kind === 'actor-create' && !this.objects.has(resultId)) {
          const o = this.newObject(resultId, s.id);
          o.inline = serialize(null);
          o.size = o.inline.byteLength;
          o.state = 'ready';
        }
        continue;
      }
      if (this.objects.has(resultId)) continue;
      // A call can only have run on its actor's node; a task on any node.
      const actorNode = spec.kind === 'actor-call' ? drain?.actorNodes.get(spec.actorId ?? '') : undefined;
      const mayHaveRun = !drain || (spec.kind === 'actor-call' ? actorNode !== undefined && drain.lost.has(actorNode) : drain.lost.size > 0);
      const retryable = spec.kind === 'task' ? spec.maxRetries > 0
        : spec.kind === 'actor-call' ? (this.actors.get(spec.actorId ?? '')?.maxTaskRetries ?? 0) > 0
          : (spec.actor?.maxRestarts ?? 0) > 0;
      if (mayHaveRun && !retryable) {
        const o = this.newObject(resultId, s.id);
        const where = actorNode ?? ([...(drain?.lost ?? [])].join(',') || 'unknown');
        this.setObjectError(o, new WorkerDiedError(spec.name, where, 1, 'the head restarted while it was pending and it may have run on a node that did not come back; it is not retryable (maxRetries 0), so it was not run again').toWire());
        continue;
      }
      fresh.push(spec);
    }
    if (fresh.length) this.submit(fresh, s.id);
    for (const id of rep.held) this.hold(id, s.id);
    this.subscribe(rep.waiting, s.id);
  }

  // ---------------- views ----------------

  status(): {
    nodes: Array<{ id: string; address: string; hostname: string; alive: boolean; total: Resources; available: Resources; inflightTasks: number; usage?: NodeUsage | undefined; uptimeS: number }>;
    tasks: { pending: number; running: number };
    actors: Array<{ id: string; name: string; className: string; state: string; nodeId?: string | undefined; restarts: number }>;
    objects: { count: number; inlineBytes: number };
    placementGroups: Array<{ id: string; state: string; nodes: string[] }>;
    counters: HeadCounters;
  } {
    let pending = 0;
    let running = 0;
    for (const t of this.tasks.values()) {
      if (t.state === 'running') running++;
      else if (t.state !== 'done') pending++;
    }
    let inlineBytes = 0;
    for (const o of this.objects.values()) inlineBytes += o.inline?.byteLength ?? 0;
    return {
      nodes: [...this.nodes.values()].map((n) => ({
        id: n.id, address: n.address, hostname: n.hostname, alive: n.alive, total: n.total,
        available: { ...n.available, CPU: Math.max(0, (n.available.CPU ?? 0) - n.inflightCpu) },
        inflightTasks: n.inflightTasks, usage: n.usage, uptimeS: Math.round((Date.now() - n.startedAt) / 1000),
      })),
      tasks: { pending, running },
      actors: [...this.actors.values()].map((a) => ({ id: a.id, name: a.name, className: a.className, state: a.state, nodeId: a.nodeId, restarts: a.restarts })),
      objects: { count: this.objects.size, inlineBytes },
      placementGroups: [...this.placementGroups.values()].map((p) => ({ id: p.id, state: p.state, nodes: p.nodes })),
      counters: this.counters,
    };
  }

  /** Handles one message from a session (drivers and workers share most of the protocol). */
  handle(msg: ClientMsg, s: SessionHandle): void {
    const parked = this.recovery?.parked.get(s.id);
    if (parked) {
      parked.msgs.push(msg);
      return;
    }
    switch (msg.t) {
      case 'submit': return this.submit(msg.specs, s.id);
      case 'put': return this.put(msg, s.id);
      case 'subscribe': return this.subscribe(msg.ids, s.id);
      case 'release': return this.release(msg.ids, s.id);
      case 'hold': for (const id of msg.ids) this.hold(id, s.id); return;
      case 'free': return this.free(msg.ids);
      case 'cancel': return this.cancel(msg.id, msg.force);
      case 'kill-actor': return this.killActor(msg.actorId, msg.noRestart);
      case 'heartbeat': if (s.nodeId) this.heartbeat(s.nodeId, msg.usage, s); return;
      case 'done': if (s.nodeId) this.taskDone(msg, s.nodeId); return;
      case 'object-location': if (s.nodeId) this.objectLocation(s.nodeId, msg.id, msg.size, msg.removed ?? false); return;
      case 'actor-died': {
        const a = this.actors.get(msg.actorId);
        if (a && a.state === 'alive' && a.nodeId === s.nodeId) this.actorLost(a, msg.reason);
        return;
      }
      case 'blocked': return this.taskBlocked(msg.taskId, msg.blocked);
      case 'hello': return;
      default: {
        const never: never = msg;
        log.warn({ msg: never }, 'unknown message');
      }
    }
  }
}

function classKeyOf(spec: TaskSpec): string {
  const s = spec.strategy;
  const strat = typeof s === 'string' ? s : 'nodeId' in s ? `node:${s.nodeId}:${s.soft}` : `pg:${s.placementGroupId}:${s.bundleIndex}`;
  const res = Object.keys(spec.resources).sort().map((k) => `${k}=${spec.resources[k]}`).join(',');
  return `${spec.kind}|${res}|${strat}`;
}

