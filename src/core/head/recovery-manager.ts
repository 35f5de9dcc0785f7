/**
 * Recovery after a head restart from its store: actors and placement groups come back from the
 * store; sessions come back with reports of what they hold and run, workers first; what does not
 * come back within the grace period is declared gone.
 */
import { WorkerDiedError } from '../errors.js';
import { returnObjectId } from '../ids.js';
import { log } from '../log.js';
import type { ClientMsg, DriverReport, TaskSpec, WorkerReport } from '../wire/protocol.js';
import { isPlain, subtract } from './scheduling-policy.js';
import { serialize } from '../wire/serialization.js';
import type { StoredRecords } from './head-store.js';
import {
  classKeyOf, type HeadContext, type Recovery, type SessionHandle, type StoredActor, type StoredPlacementGroup,
  type TaskRecord,
} from './head-records.js';

export class RecoveryManager {
  private recovery?: Recovery | undefined;

  constructor(private readonly c: HeadContext) {}

  /** Whether the head still waits for sessions of the previous head to come back. */
  get recovering(): boolean {
    return this.recovery !== undefined;
  }

  /** A message from a session whose driver report waits for the end of recovery: parked with it. */
  park(msg: ClientMsg, s: SessionHandle): boolean {
    const parked = this.recovery?.parked.get(s.id);
    if (!parked) return false;
    parked.msgs.push(msg);
    return true;
  }

  sessionClosed(sessionId: string): void {
    this.recovery?.parked.delete(sessionId);
  }

  /**
   * Loads what the previous head stored: actors (with their creation tasks, for restarts) and
   * placement groups (pending until placed again). When sessions were live, waits up to `graceMs`
   * for them to come back before declaring the missing ones gone.
   */
  restore(records: StoredRecords, graceMs: number): { sessions: number; nodes: number; actors: number; placementGroups: number } {
    const { scheduler, actors, groups } = this.c;
    const sessions = records.get('session') ?? new Map<string, unknown>();
    const nodes = records.get('node') ?? new Map<string, unknown>();
    const actorNodes = new Map<string, string>();
    for (const value of (records.get('actor') ?? new Map<string, unknown>()).values()) {
      const r = value as StoredActor;
      const spec = r.createSpec;
      scheduler.tasks.set(spec.taskId, {
        spec, owner: r.owner, state: 'done', pendingDeps: 0, attempts: 1, nodeId: r.nodeId,
        plain: isPlain(spec.resources), classKey: classKeyOf(spec),
      });
      actors.actors.set(r.id, {
        id: r.id, name: r.name, className: r.className, methods: r.methods, createTask: spec.taskId,
        state: r.state, nodeId: r.nodeId, restarts: r.restarts, maxRestarts: r.maxRestarts,
        maxTaskRetries: r.maxTaskRetries, owner: r.owner, detached: r.detached, queue: [], inflight: new Map(),
      });
      if (r.named) actors.namedActors.set(r.name, r.id);
      if (r.nodeId) actorNodes.set(r.id, r.nodeId);
    }
    for (const value of (records.get('pg') ?? new Map<string, unknown>()).values()) {
      const r = value as StoredPlacementGroup;
      groups.placementGroups.set(r.id, { ...r, state: 'pending', nodes: [], available: [], waiters: [] });
    }
    if (sessions.size > 0 || nodes.size > 0) {
      const timer = setTimeout(() => this.endRecovery(`${graceMs} ms passed`), graceMs);
      timer.unref();
      this.recovery = {
        sessions: new Set(sessions.keys()), nodes: new Set(nodes.keys()), actorNodes, confirmed: new Set(), parked: new Map(), timer,
      };
    }
    return { sessions: sessions.size, nodes: nodes.size, actors: actors.actors.size, placementGroups: groups.placementGroups.size };
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
      log.info({ sessionId: s.id, peerRole: s.role, waitingFor: r.sessions.size }, 'session resumed after a head restart');
      if (r.sessions.size === 0) setImmediate(() => this.endRecovery('every session came back'));
    }
    this.c.scheduler.schedule();
  }

  /** Takes a worker's actors, tasks and objects back into the head's tables. */
  private adoptWorker(nodeId: string, rep: WorkerReport, r: Recovery): void {
    const { scheduler, actors, objects } = this.c;
    const { tasks } = scheduler;
    const node = this.c.nodes.nodes.get(nodeId);
    if (!node) return;
    for (const spec of rep.actors) {
      let a = actors.actors.get(spec.actorId!);
      let create = tasks.get(spec.taskId);
      if (!a || !create) {
        // Created just before the crash, before the store had it.
        create = { spec, owner: '', state: 'done', pendingDeps: 0, attempts: 1, plain: false, classKey: classKeyOf(spec) };
        tasks.set(spec.taskId, create);
        actors.registerActor(create);
        a = actors.actors.get(spec.actorId!)!;
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
      actors.persistActor(a);
    }
    for (const { spec, attempt } of rep.tasks) {
      if (tasks.get(spec.taskId)?.state === 'running') continue;
      // A constructor that finished (its actor is reported above): only its `done` is late.
      if (spec.kind === 'actor-create' && r.confirmed.has(spec.actorId ?? '')) continue;
      const known = tasks.get(spec.taskId);
      const t: TaskRecord = known ?? {
        spec, owner: '', state: 'running', pendingDeps: 0, attempts: attempt, plain: isPlain(spec.resources), classKey: classKeyOf(spec),
      };
      t.state = 'running';
      t.nodeId = nodeId;
      t.adopted = true;
      t.attempts = Math.max(t.attempts, attempt);
      t.startedAt = Date.now();
      tasks.set(spec.taskId, t);
      node.dispatched.add(spec.taskId);
      const resultId = returnObjectId(spec.taskId);
      const o = objects.objects.get(resultId) ?? objects.newObject(resultId, undefined, spec.kind === 'task' ? spec.taskId : undefined);
      o.state = 'pending';
      if (spec.kind === 'actor-call') {
        actors.actors.get(spec.actorId!)?.inflight.set(spec.taskId, t);
      } else if (spec.kind === 'actor-create') {
        const a = actors.actors.get(spec.actorId!);
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
      const o = objects.objects.get(id) ?? objects.newObject(id, undefined);
      o.locations.add(nodeId);
      if (o.state === 'pending' && !tasks.has(`t${id.slice(1)}`)) {
        o.size = size;
        o.state = 'ready';
        objects.objectReady(o);
      }
    }
    for (const a of actors.actors.values()) if (a.nodeId === nodeId) actors.pumpActor(a);
  }

  /** Ends recovery: what did not come back is gone; parked drivers are taken in arrival order. */
  private endRecovery(why: string): void {
    const { scheduler, actors, groups, objects } = this.c;
    const r = this.recovery;
    if (!r) return;
    this.recovery = undefined;
    clearTimeout(r.timer);
    log.info({ why, missingSessions: r.sessions.size, missingNodes: [...r.nodes] }, 'recovery after head restart ended');
    this.c.head.onEvent('recovery-ended', { why, missingSessions: r.sessions.size, missingNodes: r.nodes.size });
    for (const id of r.sessions) this.c.head.persist?.delete('session', id);
    for (const id of r.nodes) this.c.head.persist?.delete('node', id);
    for (const a of [...actors.actors.values()]) {
      if (a.state === 'dead') continue;
      const create = scheduler.tasks.get(a.createTask);
      if (a.state === 'alive' && !r.confirmed.has(a.id)) {
        const where = a.nodeId && r.nodes.has(a.nodeId) ? `its node ${a.nodeId} did not come back after the head restarted` : 'its worker no longer hosts it after the head restarted';
        a.nodeId = undefined;
        actors.actorLost(a, where);
      } else if (a.state !== 'alive' && create && create.state !== 'running') {
        create.state = 'queued';
        create.nodeId = undefined;
        scheduler.enqueue(create);
      }
    }
    const drain = { lost: r.nodes, actorNodes: r.actorNodes };
    for (const p of r.parked.values()) if (p.report) this.applyDriverReport(p.session, p.report, drain);
    for (const p of r.parked.values()) for (const m of p.msgs) this.c.head.handle(m, p.session);
    for (const a of [...actors.actors.values()]) {
      if (!a.detached && a.state !== 'dead' && r.sessions.has(a.owner)) actors.killActor(a.id, true, 'its driver did not come back after the head restarted');
    }
    for (const pg of [...groups.placementGroups.values()]) if (r.sessions.has(pg.owner)) groups.removePlacementGroup(pg.id);
    for (const o of [...objects.objects.values()]) objects.maybeCollect(o);
    scheduler.schedule();
  }

  /**
   * A driver's report: its values and puts, its pending tasks (deduplicated against what workers
   * re-reported), the objects it holds and waits for. A pending task nobody reported is started
   * again only when it provably never ran (`drain`: taken at the end of recovery, when every node
   * that could run it came back and re-reported) or when it may be retried; otherwise it fails with
   * WorkerDiedError rather than risk running twice.
   */
  private applyDriverReport(s: SessionHandle, rep: DriverReport, drain?: { lost: Set<string>; actorNodes: Map<string, string> }): void {
    const { scheduler, actors, objects } = this.c;
    for (const v of rep.values) {
      if (objects.objects.has(v.id)) continue;
      const o = objects.newObject(v.id, s.id);
      o.inline = v.inline;
      o.size = v.inline.byteLength;
      o.nested = v.nested;
      for (const n of v.nested) objects.pin(n);
      o.state = 'ready';
    }
    for (const put of rep.puts) if (objects.objects.get(put.id)?.state !== 'ready') objects.put(put, s.id);
    const fresh: TaskSpec[] = [];
    for (const spec of rep.pending) {
      const resultId = returnObjectId(spec.taskId);
      const t = scheduler.tasks.get(spec.taskId);
      if (t) {
        if (!t.owner) t.owner = s.id;
        if (t.state === 'done' && spec.kind === 'actor-create' && !objects.objects.has(resultId)) {
          const o = objects.newObject(resultId, s.id);
          o.inline = serialize(null);
          o.size = o.inline.byteLength;
          o.state = 'ready';
        }
        continue;
      }
      if (objects.objects.has(resultId)) continue;
      // A call can only have run on its actor's node; a task on any node.
      const actorNode = spec.kind === 'actor-call' ? drain?.actorNodes.get(spec.actorId ?? '') : undefined;
      const mayHaveRun = !drain || (spec.kind === 'actor-call' ? actorNode !== undefined && drain.lost.has(actorNode) : drain.lost.size > 0);
      const retryable = spec.kind === 'task' ? spec.maxRetries > 0
        : spec.kind === 'actor-call' ? (actors.actors.get(spec.actorId ?? '')?.maxTaskRetries ?? 0) > 0
          : (spec.actor?.maxRestarts ?? 0) > 0;
      if (mayHaveRun && !retryable) {
        const o = objects.newObject(resultId, s.id);
        const where = actorNode ?? ([...(drain?.lost ?? [])].join(',') || 'unknown');
        objects.setObjectError(o, new WorkerDiedError(spec.name, where, 1, 'the head restarted while it was pending and it may have run on a node that did not come back; it is not retryable (maxRetries 0), so it was not run again').toWire());
        continue;
      }
      fresh.push(spec);
    }
    if (fresh.length) scheduler.submit(fresh, s.id);
    for (const id of rep.held) objects.hold(id, s.id);
    objects.subscribe(rep.waiting, s.id);
  }
}
