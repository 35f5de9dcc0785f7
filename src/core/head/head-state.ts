/**
 * The state the head owns and reconciles: nodes, sessions, objects (the object directory and small
 * inline values), tasks waiting for dependencies or resources, actors and placement groups.
 *
 * HeadState is a thin dispatcher over one manager per concern, like Ray's GCS: nodes and sessions
 * (node-manager), the object directory (object-directory), the task scheduler (task-scheduler),
 * actors (actor-manager), placement groups (placement-group-manager) and restart recovery
 * (recovery-manager). Everything runs on the head's event loop; messages from sessions mutate the
 * state and a scheduling pass (coalesced per turn of the loop) dispatches what can run.
 */
import { NODE_DEATH_TIMEOUT_MS } from '../constants.js';
import type { StoredRecords } from './head-store.js';
import { log } from '../log.js';
import type {
  ClientMsg, DriverReport, NodeUsage, PutMsg, Resources, TaskDoneMsg, TaskKind, TaskSpec, WorkerReport,
} from '../wire/protocol.js';
import type { PlacementStrategy } from './scheduling-policy.js';
import { ActorManager } from './actor-manager.js';
import type { HeadContext, HeadCounters, SessionHandle, StateSink } from './head-records.js';
import { NodeManager } from './node-manager.js';
import { ObjectDirectory } from './object-directory.js';
import { PlacementGroupManager } from './placement-group-manager.js';
import { RecoveryManager } from './recovery-manager.js';
import { TaskScheduler } from './task-scheduler.js';
import { TaskSummary } from './task-summary.js';

export type { HeadCounters, SessionHandle, StateSink } from './head-records.js';

export class HeadState {
  readonly sessions = new Map<string, SessionHandle>();
  readonly counters: HeadCounters = { tasksSubmitted: 0, tasksFinished: 0, tasksFailed: 0, tasksRetried: 0, objectsReconstructed: 0 };
  readonly taskSummary = new TaskSummary();
  /** Durable metadata goes here (set by the head once its store is open). */
  persist?: StateSink | undefined;

  /** Called for every autoscaling-relevant or notable decision. */
  onEvent: (event: string, fields: Record<string, unknown>) => void = () => {};

  private readonly nodeManager: NodeManager;
  private readonly objects: ObjectDirectory;
  private readonly scheduler: TaskScheduler;
  private readonly actorManager: ActorManager;
  private readonly groups: PlacementGroupManager;
  private readonly recovery: RecoveryManager;

  constructor() {
    // The managers reach each other through `c`; none of them uses another while being built.
    const c = {} as { -readonly [K in keyof HeadContext]: HeadContext[K] };
    c.head = this;
    this.nodeManager = c.nodes = new NodeManager(c);
    this.objects = c.objects = new ObjectDirectory(c);
    this.scheduler = c.scheduler = new TaskScheduler(c);
    this.actorManager = c.actors = new ActorManager(c);
    this.groups = c.groups = new PlacementGroupManager(c);
    this.recovery = c.recovery = new RecoveryManager(c);
  }

  /** Worker nodes by id. */
  get nodes(): NodeManager['nodes'] {
    return this.nodeManager.nodes;
  }

  /** Actors by id. */
  get actors(): ActorManager['actors'] {
    return this.actorManager.actors;
  }

  // ---------------- sessions and nodes ----------------

  addSession(s: SessionHandle): void {
    this.nodeManager.addSession(s);
  }

  addNode(s: SessionHandle, info: { nodeId: string; resources: Resources; address: string; hostname: string }): void {
    this.nodeManager.addNode(s, info);
  }

  heartbeat(nodeId: string, usage?: NodeUsage, s?: SessionHandle): void {
    this.nodeManager.heartbeat(nodeId, usage, s);
  }

  /** Declares nodes dead that have been silent too long. */
  checkNodeHealth(now = Date.now(), timeoutMs = NODE_DEATH_TIMEOUT_MS): void {
    this.nodeManager.checkNodeHealth(now, timeoutMs);
  }

  sessionClosed(sessionId: string): void {
    this.nodeManager.sessionClosed(sessionId);
  }

  // ---------------- objects ----------------

  hold(id: string, sessionId: string): void {
    this.objects.hold(id, sessionId);
  }

  release(ids: string[], sessionId: string): void {
    this.objects.release(ids, sessionId);
  }

  /** Explicit `free()`: the objects are gone now, whoever holds a reference. */
  free(ids: string[]): void {
    this.objects.free(ids);
  }

  put(msg: PutMsg, sessionId: string): void {
    this.objects.put(msg, sessionId);
  }

  /** A worker reports a new copy (fetched as a dependency) or a removed one. */
  objectLocation(nodeId: string, id: string, size: number, removed: boolean): void {
    this.objects.objectLocation(nodeId, id, size, removed);
  }

  subscribe(ids: string[], sessionId: string): void {
    this.objects.subscribe(ids, sessionId);
  }

  // ---------------- tasks ----------------

  submit(specs: TaskSpec[], sessionId: string): void {
    this.scheduler.submit(specs, sessionId);
  }

  /** Coalesces scheduling passes: one after the current burst of messages is handled. */
  schedule(): void {
    this.scheduler.schedule();
  }

  taskDone(msg: TaskDoneMsg, nodeId: string): void {
    this.scheduler.taskDone(msg, nodeId);
  }

  cancel(objectId: string, force: boolean): void {
    this.scheduler.cancel(objectId, force);
  }

  // ---------------- actors ----------------

  killActor(actorId: string, noRestart: boolean, reason = 'killed by kill()'): void {
    this.actorManager.killActor(actorId, noRestart, reason);
  }

  getActor(name: string): { actorId: string; className: string; methods: string[]; name: string } {
    return this.actorManager.getActor(name);
  }

  // ---------------- placement groups ----------------

  createPlacementGroup(id: string, bundles: Resources[], strategy: PlacementStrategy, owner: string): void {
    this.groups.createPlacementGroup(id, bundles, strategy, owner);
  }

  placementGroupReady(id: string): Promise<void> {
    return this.groups.placementGroupReady(id);
  }

  removePlacementGroup(id: string): void {
    this.groups.removePlacementGroup(id);
  }

  // ---------------- autoscaling inputs ----------------

  /** Resource shapes waiting because no node can take them now (tasks, actors, placement groups). */
  unmetDemand(): Array<{ resources: Resources; count: number; what: string }> {
    return [...this.scheduler.unmetDemand(), ...this.groups.unmetDemand()];
  }

  /** Whether a node runs anything or holds anything: tasks, actors, placement bundles, objects. */
  nodeBusy(nodeId: string): boolean {
    return this.nodeManager.nodeBusy(nodeId);
  }

  // ---------------- restart recovery ----------------

  /**
   * Loads what the previous head stored: actors (with their creation tasks, for restarts) and
   * placement groups (pending until placed again). When sessions were live, waits up to `graceMs`
   * for them to come back before declaring the missing ones gone.
   */
  restore(records: StoredRecords, graceMs: number): { sessions: number; nodes: number; actors: number; placementGroups: number } {
    return this.recovery.restore(records, graceMs);
  }

  /** Whether the head still waits for sessions of the previous head to come back. */
  get recovering(): boolean {
    return this.recovery.recovering;
  }

  /**
   * A session came back with its report (called after addSession/addNode). A worker's report is
   * taken at once; a driver's waits for the end of recovery, with every message it sends meanwhile.
   */
  resumeSession(s: SessionHandle, report: { worker?: WorkerReport | undefined; driver?: DriverReport | undefined }): void {
    this.recovery.resumeSession(s, report);
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
    for (const t of this.scheduler.tasks.values()) {
      if (t.state === 'running') running++;
      else if (t.state !== 'done') pending++;
    }
    let inlineBytes = 0;
    for (const o of this.objects.objects.values()) inlineBytes += o.inline?.byteLength ?? 0;
    return {
      nodes: [...this.nodes.values()].map((n) => ({
        id: n.id, address: n.address, hostname: n.hostname, alive: n.alive, total: n.total,
        available: { ...n.available, CPU: Math.max(0, (n.available.CPU ?? 0) - n.inflightCpu) },
        inflightTasks: n.inflightTasks, usage: n.usage, uptimeS: Math.round((Date.now() - n.startedAt) / 1000),
      })),
      tasks: { pending, running },
      actors: [...this.actors.values()].map((a) => ({ id: a.id, name: a.name, className: a.className, state: a.state, nodeId: a.nodeId, restarts: a.restarts })),
      objects: { count: this.objects.objects.size, inlineBytes },
      placementGroups: [...this.groups.placementGroups.values()].map((p) => ({ id: p.id, state: p.state, nodes: p.nodes })),
      counters: this.counters,
    };
  }

  /** Tasks in the scheduler's table now (not finished), counted by name and state. */
  liveTasks(): Array<{ name: string; kind: TaskKind; jobId: string; state: 'waiting' | 'queued' | 'running'; count: number }> {
    const counts = new Map<string, { name: string; kind: TaskKind; jobId: string; state: 'waiting' | 'queued' | 'running'; count: number }>();
    for (const t of this.scheduler.tasks.values()) {
      if (t.state === 'done') continue;
      const key = `${t.state}\0${t.spec.jobId}\0${t.spec.name}`;
      const c = counts.get(key);
      if (c) c.count++;
      else counts.set(key, { name: t.spec.name, kind: t.spec.kind, jobId: t.spec.jobId, state: t.state, count: 1 });
    }
    return [...counts.values()];
  }

  /** The `limit` largest objects the head knows of (what `ray memory` lists), with the task that made each. */
  largestObjects(limit: number): Array<{ id: string; size: number; state: string; locations: string[]; holders: number; producer?: string | undefined }> {
    // One pass keeping the `limit` largest (a storm leaves tens of thousands of small objects).
    const top: Array<typeof this.objects.objects extends Map<string, infer O> ? O : never> = [];
    for (const o of this.objects.objects.values()) {
      if (top.length === limit && o.size <= top[top.length - 1]!.size) continue;
      let i = top.length;
      while (i > 0 && top[i - 1]!.size < o.size) i--;
      top.splice(i, 0, o);
      if (top.length > limit) top.pop();
    }
    return top.map((o) => ({
      id: o.id, size: o.size, state: o.state, locations: [...o.locations], holders: o.holders.size,
      producer: o.producer ? this.scheduler.tasks.get(o.producer)?.spec.name ?? o.producer : undefined,
    }));
  }

  /** Handles one message from a session (drivers and workers share most of the protocol). */
  handle(msg: ClientMsg, s: SessionHandle): void {
    if (this.recovery.park(msg, s)) return;
    switch (msg.t) {
      case 'submit': return this.scheduler.submit(msg.specs, s.id);
      case 'put': return this.objects.put(msg, s.id);
      case 'subscribe': return this.objects.subscribe(msg.ids, s.id);
      case 'release': return this.objects.release(msg.ids, s.id);
      case 'hold': for (const id of msg.ids) this.objects.hold(id, s.id); return;
      case 'free': return this.objects.free(msg.ids);
      case 'cancel': return this.scheduler.cancel(msg.id, msg.force);
      case 'kill-actor': return this.actorManager.killActor(msg.actorId, msg.noRestart);
      case 'heartbeat': if (s.nodeId) this.nodeManager.heartbeat(s.nodeId, msg.usage, s); return;
      case 'done': if (s.nodeId) this.scheduler.taskDone(msg, s.nodeId); return;
      case 'object-location': if (s.nodeId) this.objects.objectLocation(s.nodeId, msg.id, msg.size, msg.removed ?? false); return;
      case 'actor-died': return this.actorManager.actorDied(msg.actorId, s.nodeId, msg.reason);
      case 'blocked': return this.scheduler.taskBlocked(msg.taskId, msg.blocked);
      case 'hello': return;
      default: {
        const never: never = msg;
        log.warn({ message: never }, 'unknown message');
      }
    }
  }
}
