/**
 * The task scheduler: tasks waiting for their inputs, queues by scheduling class, dispatch to
 * nodes (by the scheduling policy, or into a placement group's bundle), resources taken and given
 * back, retries after system failures, and each task's result object (Ray's GCS task manager and
 * cluster task manager in one).
 *
 * Scheduling passes are coalesced: one per turn of the event loop, after a burst of messages.
 */
import {
  ActorDiedError, InfeasibleError, ObjectFreedError, ObjectLostError, TaskCancelledError, WorkerDiedError,
  type WireError,
} from '../errors.js';
import { returnObjectId } from '../ids.js';
import { log } from '../log.js';
import type { DepSource, Resources, TaskDoneMsg, TaskSpec } from '../wire/protocol.js';
import { add, chooseNode, fits, isPlain, subtract } from './scheduling-policy.js';
import { trace } from '../trace.js';
import { classKeyOf, driverLocation, type HeadContext, type NodeState, type ObjectEntry, type TaskRecord } from './head-records.js';
import { deathError } from './actor-manager.js';
import { serialize } from '../wire/serialization.js';

/** What a finished task produced: its value (inline or on its node) or its error. */
export interface TaskResult {
  inline?: Uint8Array | undefined;
  size?: number | undefined;
  nested?: string[] | undefined;
  error?: WireError | undefined;
  /** Run time in the thread, when the worker reported it. */
  ms?: number | undefined;
}

export class TaskScheduler {
  readonly tasks = new Map<string, TaskRecord>();
  private readonly depWaiters = new Map<string, TaskRecord[]>();
  private readonly classQueues = new Map<string, TaskRecord[]>();
  private schedulePending = false;
  private readonly warnedInfeasible = new Set<string>();

  constructor(private readonly c: HeadContext) {}

  submit(specs: TaskSpec[], sessionId: string): void {
    for (const spec of specs) this.submitOne(spec, sessionId);
    this.schedule();
  }

  private submitOne(spec: TaskSpec, owner: string): void {
    const { objects, actors } = this.c;
    this.c.head.counters.tasksSubmitted++;
    const resultId = returnObjectId(spec.taskId);
    const o = objects.taskResult(resultId, owner, spec.taskId);
    o.subscribers.add(owner);
    const t: TaskRecord = {
      spec, owner, state: 'waiting', pendingDeps: 0, attempts: 0, plain: isPlain(spec.resources),
      classKey: classKeyOf(spec),
    };
    this.tasks.set(spec.taskId, t);
    for (const id of spec.nested) objects.pin(id, driverLocation(owner));
    let failed: WireError | undefined;
    for (const dep of spec.deps) {
      const d = objects.objects.get(dep);
      if (!d) {
        failed ??= objects.freed.has(dep) ? new ObjectFreedError(dep).toWire() : new ObjectLostError(dep, 'unknown object passed as an argument').toWire();
        continue;
      }
      objects.pin(dep);
      if (d.state === 'pending') {
        t.pendingDeps++;
        this.addDepWaiter(dep, t);
      } else if (d.state === 'error' && spec.kind !== 'actor-call') {
        failed ??= d.error;
      }
    }
    if (spec.kind === 'actor-create') {
      // A taken name fails the creation at once (its ready() rejects); with getIfExists, it stands for the existing actor.
      const taken = actors.registerActor(t);
      if (taken === 'existing') this.finishTask(t, { inline: serialize(null) });
      else if (taken) this.finishTask(t, { error: taken });
      if (taken) return;
    }
    if (spec.kind === 'actor-call') {
      if (spec.actorId) spec.actorId = actors.actorAliases.get(spec.actorId) ?? spec.actorId;
      const a = spec.actorId ? actors.actors.get(spec.actorId) : undefined;
      if (!a) {
        this.finishTask(t, { error: new ActorDiedError(spec.actorId ?? '?', spec.name, 'no such actor in this cluster').toWire() });
        return;
      }
      if (a.state === 'dead') {
        this.finishTask(t, { error: deathError(a) });
        return;
      }
      a.queue.push(t);
      if (failed) {
        t.pendingDeps = 0;
      }
      actors.pumpActor(a);
      return;
    }
    if (failed) {
      this.finishTask(t, { error: failed });
      return;
    }
    if (t.pendingDeps === 0) this.enqueue(t);
  }

  addDepWaiter(dep: string, t: TaskRecord): void {
    let list = this.depWaiters.get(dep);
    if (!list) this.depWaiters.set(dep, (list = []));
    list.push(t);
  }

  /** An object is ready (or failed): the tasks waiting for it go on, or fail with it. */
  depReady(o: ObjectEntry): void {
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
  }

  enqueue(t: TaskRecord): void {
    if (t.spec.kind === 'actor-call') {
      const a = this.c.actors.actors.get(t.spec.actorId!);
      if (a) this.c.actors.pumpActor(a);
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
    this.c.groups.placePendingGroups();
    const nodes = [...this.c.nodes.nodes.values()].filter((n) => n.alive);
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
    this.c.head.onEvent('infeasible', { task: t.spec.name, resources: need });
  }

  /**
   * Sends a queued task back to waiting when an input is pending again (its only copy was lost and
   * it is being recomputed). Returns true when the task must wait.
   */
  private awaitPendingDeps(t: TaskRecord): boolean {
    let pending = 0;
    for (const dep of t.spec.deps) {
      const d = this.c.objects.objects.get(dep);
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
      const pg = this.c.groups.placementGroups.get(strategy.placementGroupId);
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
      node = this.c.nodes.nodes.get(pg.nodes[idx]!);
      if (!node) return false;
      subtract(avail, spec.resources);
      t.bundle = { pg: pg.id, index: idx };
    } else {
      const locality = new Map<string, number>();
      for (const dep of spec.deps) {
        const d = this.c.objects.objects.get(dep);
        if (!d || d.inline) continue;
        for (const loc of d.locations) locality.set(loc, (locality.get(loc) ?? 0) + d.size);
      }
      node = chooseNode(nodes, spec.resources, strategy, locality, t.plain && spec.kind === 'task') as NodeState | undefined;
      if (!node) {
        if (typeof strategy === 'object' && 'nodeId' in strategy && !strategy.soft && !this.c.nodes.nodes.has(strategy.nodeId)) {
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

  sendExecute(t: TaskRecord, node: NodeState): void {
    t.state = 'running';
    t.nodeId = node.id;
    t.attempts++;
    t.startedAt = Date.now();
    node.dispatched.add(t.spec.taskId);
    const deps: Record<string, DepSource> = {};
    for (const dep of t.spec.deps) {
      const d = this.c.objects.objects.get(dep);
      if (!d) continue;
      if (d.inline) deps[dep] = { inline: d.inline };
      else if (d.state === 'ready') {
        const loc = d.locations.has(node.id) ? node.id : [...d.locations][0];
        const address = loc ? this.c.objects.addressOf(loc) : undefined;
        if (address) deps[dep] = { address, size: d.size };
      }
    }
    trace('scheduler', () => `dispatch ${t.spec.name} ${t.spec.taskId} -> ${node.id} (attempt ${t.attempts})`);
    this.c.head.sessions.get(node.sessionId)?.send({ t: 'execute', spec: t.spec, deps, attempt: t.attempts });
  }

  releaseResources(t: TaskRecord, node: NodeState | undefined): void {
    if (node && node.dispatched.delete(t.spec.taskId)) node.inflightTasks = Math.max(0, node.inflightTasks - 1);
    if (t.bundle) {
      const pg = this.c.groups.placementGroups.get(t.bundle.pg);
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

  /** A running plain task waits on objects: lend its CPU out until it stops waiting. */
  taskBlocked(taskId: string, blocked: boolean): void {
    const t = this.tasks.get(taskId);
    if (!t || t.state !== 'running' || !t.plain || t.spec.kind !== 'task' || !t.nodeId) return;
    const node = this.c.nodes.nodes.get(t.nodeId);
    if (!node || (t.blocked ?? false) === blocked) return;
    t.blocked = blocked;
    node.inflightCpu += (blocked ? -1 : 1) * (t.spec.resources.CPU ?? 0);
    if (blocked) this.schedule();
  }

  taskDone(msg: TaskDoneMsg, nodeId: string): void {
    const t = this.tasks.get(msg.taskId);
    if (!t || t.state !== 'running' || t.nodeId !== nodeId) return;
    const node = this.c.nodes.nodes.get(nodeId);
    if (t.spec.kind === 'actor-call') {
      const a = this.c.actors.actors.get(t.spec.actorId!);
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
    if (msg.lostInput) this.c.objects.copyUnreachable(msg.lostInput.id, msg.lostInput.address);
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

  retryOrFail(t: TaskRecord, error: WireError): void {
    const max = t.spec.maxRetries;
    if (t.attempts <= max && t.spec.kind !== 'actor-call') {
      this.c.head.counters.tasksRetried++;
      log.info({ task: t.spec.name, taskId: t.spec.taskId, attempt: t.attempts, error: error.message }, 'retrying task after a system failure');
      t.state = 'queued';
      t.nodeId = undefined;
      this.enqueue(t);
      return;
    }
    if (t.spec.kind === 'actor-create') {
      const a = this.c.actors.actors.get(t.spec.actorId!);
      if (a) this.c.actors.actorLost(a, error.message);
      return;
    }
    this.finishTask(t, { error });
  }

  finishTask(t: TaskRecord, result: TaskResult): void {
    const { objects } = this.c;
    t.state = 'done';
    const o = objects.objects.get(returnObjectId(t.spec.taskId));
    if (!t.adopted) {
      for (const dep of t.spec.deps) objects.unpin(dep);
      for (const id of t.spec.nested) objects.unpin(id);
    }
    if (result.error) this.c.head.counters.tasksFailed++;
    else this.c.head.counters.tasksFinished++;
    this.c.head.taskSummary.record(t, result.error, result.ms);
    if (t.spec.kind === 'actor-create') this.c.actors.actorCreated(t, result.error);
    if (!o) {
      this.tasks.delete(t.spec.taskId);
      return;
    }
    if (result.error) {
      objects.setObjectError(o, result.error);
    } else {
      o.nested = result.nested ?? [];
      for (const n of o.nested) objects.pin(n, t.nodeId);
      o.size = result.size ?? result.inline?.byteLength ?? 0;
      if (result.inline) o.inline = result.inline;
      else if (t.nodeId) o.locations.add(t.nodeId);
      o.state = 'ready';
      objects.objectReady(o);
    }
    if (t.spec.kind === 'actor-create') return; // kept for restarts until the actor dies
    if (!objects.objects.has(o.id) || o.inline || t.spec.kind !== 'task') this.tasks.delete(t.spec.taskId);
  }

  cancel(objectId: string, force: boolean): void {
    const taskId = `t${objectId.slice(1)}`;
    const t = this.tasks.get(taskId);
    if (!t || t.state === 'done') return;
    const err = new TaskCancelledError(t.spec.name, taskId).toWire();
    if (t.state === 'running' && t.nodeId) {
      const node = this.c.nodes.nodes.get(t.nodeId);
      if (node) this.c.head.sessions.get(node.sessionId)?.send({ t: 'cancel-task', taskId, force });
      return;
    }
    if (t.spec.kind === 'actor-call') {
      const a = this.c.actors.actors.get(t.spec.actorId!);
      if (a) a.queue = a.queue.filter((x) => x !== t);
    }
    this.finishTask(t, { error: err });
  }

  /** Re-runs the task that made a lost object; false when its inputs are gone too. */
  reconstruct(t: TaskRecord): boolean {
    const { objects } = this.c;
    for (const dep of t.spec.deps) {
      const d = objects.objects.get(dep);
      if (!d) return false;
    }
    t.state = 'waiting';
    t.nodeId = undefined;
    t.pendingDeps = 0;
    for (const dep of t.spec.deps) {
      objects.pin(dep);
      const d = objects.objects.get(dep)!;
      if (d.state === 'pending') {
        t.pendingDeps++;
        this.addDepWaiter(dep, t);
      }
    }
    if (t.pendingDeps === 0) this.enqueue(t);
    return true;
  }

  /** Task shapes waiting because no node can take them now (the autoscaler's input). */
  unmetDemand(): Array<{ resources: Resources; count: number; what: string }> {
    const out: Array<{ resources: Resources; count: number; what: string }> = [];
    for (const q of this.classQueues.values()) {
      const head = q.find((t) => t.state === 'queued');
      if (!head) continue;
      const s = head.spec.strategy;
      if (typeof s === 'object' && ('placementGroupId' in s || !s.soft)) continue; // bound to a place
      out.push({ resources: head.spec.resources, count: q.length, what: head.spec.kind === 'actor-create' ? 'actor' : 'task' });
    }
    return out;
  }
}
