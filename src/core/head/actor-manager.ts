/**
 * Actors: their records and names, calls queued until the actor lives and sent in order, restarts
 * after a lost node or process, and death (Ray's GCS actor manager).
 */
import { ActorDiedError, ActorNameTakenError, ActorNotFoundError, type WireError } from '../errors.js';
import { log } from '../log.js';
import { subtract } from './scheduling-policy.js';
import type { ActorRecord, HeadContext, StoredActor, TaskRecord } from './head-records.js';

export class ActorManager {
  readonly actors = new Map<string, ActorRecord>();
  readonly namedActors = new Map<string, string>();
  /** Ids of handles made with `getIfExists` while the name was taken -> the existing actor's id. */
  readonly actorAliases = new Map<string, string>();

  constructor(private readonly c: HeadContext) {}

  /** Records a new actor; a taken name returns the error to fail its creation with, or 'existing' (getIfExists). */
  registerActor(t: TaskRecord): WireError | 'existing' | undefined {
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
        if (opts.getIfExists) {
          this.actors.delete(a.id);
          this.actorAliases.set(a.id, other.id);
          return 'existing';
        }
        const err = new ActorNameTakenError(opts.name, other.id);
        a.state = 'dead';
        a.deathReason = err.message;
        a.deathError = err.toWire();
        return a.deathError;
      }
      this.namedActors.set(opts.name, a.id);
    }
    this.persistActor(a);
    return undefined;
  }

  persistActor(a: ActorRecord): void {
    const persist = this.c.head.persist;
    if (!persist) return;
    const create = this.c.scheduler.tasks.get(a.createTask);
    if (a.state === 'dead' || !create) {
      persist.delete('actor', a.id);
      return;
    }
    persist.put('actor', a.id, {
      id: a.id, name: a.name, className: a.className, methods: a.methods, createSpec: create.spec, state: a.state,
      nodeId: a.nodeId, restarts: a.restarts, maxRestarts: a.maxRestarts, maxTaskRetries: a.maxTaskRetries,
      owner: a.owner, detached: a.detached, named: this.namedActors.get(a.name) === a.id,
    } satisfies StoredActor);
  }

  actorCreated(t: TaskRecord, error: WireError | undefined): void {
    const a = this.actors.get(t.spec.actorId!);
    if (!a || a.deathError) return;
    if (error) {
      this.actorDead(a, `its constructor failed: ${error.message}`);
      return;
    }
    a.state = 'alive';
    a.nodeId = t.nodeId;
    this.persistActor(a);
    // The create task's resources stay reserved for the actor's life.
    const node = t.nodeId ? this.c.nodes.nodes.get(t.nodeId) : undefined;
    if (node && t.deducted === undefined && !t.bundle) {
      t.deducted = { ...t.spec.resources };
      subtract(node.available, t.deducted);
    }
    this.pumpActor(a);
  }

  pumpActor(a: ActorRecord): void {
    const { scheduler } = this.c;
    if (a.state === 'dead') {
      const err = deathError(a);
      const queued = a.queue;
      a.queue = [];
      for (const t of queued) scheduler.finishTask(t, { error: err });
      return;
    }
    if (a.state !== 'alive' || !a.nodeId) return;
    const node = this.c.nodes.nodes.get(a.nodeId);
    if (!node) return;
    while (a.queue.length && a.queue[0]!.pendingDeps === 0) {
      const t = a.queue.shift()!;
      // An argument that failed fails the call without running it.
      const failedDep = t.spec.deps.map((d) => this.c.objects.objects.get(d)).find((d) => d?.state === 'error');
      if (failedDep) {
        scheduler.finishTask(t, { error: failedDep.error! });
        continue;
      }
      a.inflight.set(t.spec.taskId, t);
      scheduler.sendExecute(t, node);
    }
  }

  actorLost(a: ActorRecord, reason: string): void {
    const { scheduler } = this.c;
    const create = scheduler.tasks.get(a.createTask);
    if (a.restarts < a.maxRestarts && create) {
      scheduler.releaseResources(create, a.nodeId ? this.c.nodes.nodes.get(a.nodeId) : undefined);
      a.restarts++;
      a.state = 'restarting';
      a.nodeId = undefined;
      log.warn({ actorId: a.id, name: a.name, restart: a.restarts, reason }, 'restarting actor');
      this.c.head.onEvent('actor-restart', { actorId: a.id, reason });
      // Calls in flight are retried (in order, ahead of the queue) if allowed, else fail.
      const inflight = [...a.inflight.values()];
      a.inflight.clear();
      const retry: TaskRecord[] = [];
      for (const t of inflight) {
        if (t.attempts <= a.maxTaskRetries) {
          t.state = 'waiting';
          retry.push(t);
        } else {
          scheduler.finishTask(t, { error: new ActorDiedError(a.id, a.name, reason).toWire() });
        }
      }
      a.queue = [...retry, ...a.queue];
      create.state = 'queued';
      create.nodeId = undefined;
      create.deducted = undefined;
      create.attempts = 0;
      this.persistActor(a);
      scheduler.enqueue(create);
      return;
    }
    this.actorDead(a, reason);
  }

  private actorDead(a: ActorRecord, reason: string): void {
    const { scheduler } = this.c;
    a.state = 'dead';
    a.deathReason = reason;
    this.c.head.persist?.delete('actor', a.id);
    const node = a.nodeId ? this.c.nodes.nodes.get(a.nodeId) : undefined;
    const create = scheduler.tasks.get(a.createTask);
    if (create) {
      scheduler.releaseResources(create, node);
      scheduler.tasks.delete(a.createTask);
    }
    if (this.namedActors.get(a.name) === a.id) this.namedActors.delete(a.name);
    const err = new ActorDiedError(a.id, a.name, reason).toWire();
    for (const t of a.inflight.values()) scheduler.finishTask(t, { error: err });
    a.inflight.clear();
    this.pumpActor(a);
    this.c.head.onEvent('actor-dead', { actorId: a.id, reason });
    // Its resources are free again: tasks waiting for them must not wait for the next event.
    scheduler.schedule();
  }

  killActor(actorId: string, noRestart: boolean, reason = 'killed by kill()'): void {
    const a = this.actors.get(this.actorAliases.get(actorId) ?? actorId);
    if (!a || a.state === 'dead') return;
    const node = a.nodeId ? this.c.nodes.nodes.get(a.nodeId) : undefined;
    if (node) this.c.head.sessions.get(node.sessionId)?.send({ t: 'kill-actor', actorId });
    if (noRestart) this.actorDead(a, reason);
    else this.actorLost(a, reason);
  }

  /** A worker reports that an actor's process or thread died. */
  actorDied(actorId: string, nodeId: string | undefined, reason: string): void {
    const a = this.actors.get(actorId);
    if (a && a.state === 'alive' && a.nodeId === nodeId) this.actorLost(a, reason);
  }

  getActor(name: string): { actorId: string; className: string; methods: string[]; name: string } {
    const id = this.namedActors.get(name);
    const a = id ? this.actors.get(id) : undefined;
    if (!a || a.state === 'dead') throw new ActorNotFoundError(name);
    return { actorId: a.id, className: a.className, methods: a.methods, name: a.name };
  }
}

/** What calls to a dead actor fail with. */
export function deathError(a: ActorRecord): WireError {
  return a.deathError ?? new ActorDiedError(a.id, a.name, a.deathReason ?? 'dead').toWire();
}
