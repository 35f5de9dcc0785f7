/**
 * The object directory: every object the cluster knows (small values inline, others by the nodes
 * or driver stores holding a copy), who references it, who waits for it, and when it is collected
 * or recomputed from lineage (Ray's GCS object directory and reference counting).
 */
import { ObjectFreedError, ObjectLostError, type WireError } from '../errors.js';
import { log } from '../log.js';
import type { HeadMsg, PutMsg } from '../wire/protocol.js';
import { driverLocation, type HeadContext, type ObjectEntry } from './head-records.js';

export class ObjectDirectory {
  readonly objects = new Map<string, ObjectEntry>();
  readonly freed = new Set<string>();
  /** Driver object stores by location (`session:<id>`) → address. */
  readonly driverStores = new Map<string, string>();
  /** Objects each session references. */
  readonly sessionHolds = new Map<string, Set<string>>();

  constructor(private readonly c: HeadContext) {}

  newObject(id: string, holder: string | undefined, producer?: string): ObjectEntry {
    const o: ObjectEntry = {
      id, state: 'pending', size: 0, locations: new Set(), holders: new Set(), pins: 0, nested: [],
      subscribers: new Set(), producer,
    };
    this.objects.set(id, o);
    if (holder) this.hold(id, holder);
    return o;
  }

  /**
   * The entry for a submitted task's result. A placeholder for it may exist already — a task
   * that made this call returned its ref, and that result overtook the call's submission (they
   * travel on different sessions): it becomes the result's entry, keeping its pins and the
   * sessions already waiting on it.
   */
  taskResult(id: string, owner: string, taskId: string): ObjectEntry {
    const placeholder = this.objects.get(id);
    if (!placeholder || placeholder.state !== 'pending' || placeholder.producer) return this.newObject(id, owner, taskId);
    placeholder.producer = taskId;
    placeholder.awaitedFrom = undefined;
    this.hold(id, owner);
    return placeholder;
  }

  hold(id: string, sessionId: string): void {
    const o = this.objects.get(id);
    if (!o) return;
    if (!o.holders.has(sessionId)) {
      o.holders.add(sessionId);
      this.sessionHolds.get(sessionId)?.add(id);
    }
  }

  unhold(id: string, sessionId: string): void {
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

  /**
   * A ref to an object the head has not heard of yet — put by a task's thread on its own
   * session, which may arrive after the task's result — is expected: hold a place for it,
   * remembering `from` (the node or `session:<id>` the put is to come from; see creatorGone).
   */
  pin(id: string, from?: string): void {
    let o = this.objects.get(id);
    if (!o && !this.freed.has(id)) {
      o = this.newObject(id, undefined);
      o.awaitedFrom = from;
    }
    if (o) o.pins++;
  }

  /**
   * `loc` (a node, or a session's `session:<id>`) is gone: placeholders whose put was to come
   * from there never will be put — they fail with ObjectLostError instead of waiting forever.
   */
  creatorGone(loc: string, reason: string): void {
    for (const o of this.objects.values()) {
      if (o.state !== 'pending' || o.producer || o.awaitedFrom !== loc) continue;
      o.awaitedFrom = undefined;
      this.setObjectError(o, new ObjectLostError(o.id, `it was made on ${loc}, which ${reason} before the head heard of the object`).toWire());
    }
  }

  unpin(id: string): void {
    const o = this.objects.get(id);
    if (!o) return;
    o.pins--;
    this.maybeCollect(o);
  }

  maybeCollect(o: ObjectEntry): void {
    // While sessions re-report after a restart, holders are not known yet.
    if (this.c.recovery.recovering || o.holders.size > 0 || o.pins > 0) return;
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
      const { tasks } = this.c.scheduler;
      const t = tasks.get(o.producer);
      if (t && t.state === 'done') tasks.delete(o.producer);
    }
  }

  private deleteCopies(o: ObjectEntry): void {
    for (const loc of o.locations) {
      const node = this.c.nodes.nodes.get(loc);
      const sessionId = node ? node.sessionId : loc.startsWith('session:') ? loc.slice(8) : undefined;
      if (sessionId) this.c.head.sessions.get(sessionId)?.send({ t: 'free', ids: [o.id] });
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
      for (const s of o.subscribers) this.c.head.sessions.get(s)?.send({ t: 'ready', id, error: err });
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
    o.awaitedFrom = undefined;
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
    const s = this.c.head.sessions.get(sessionId);
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

  addressOf(loc: string): string | undefined {
    return this.c.nodes.nodes.get(loc)?.address ?? this.driverStores.get(loc);
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

  objectReady(o: ObjectEntry): void {
    if (o.subscribers.size) {
      // The owner may have had the result straight from the worker already; this copy is what
      // guarantees delivery (a direct stream can break), and the driver ignores a second one.
      const msg = this.readyMessage(o);
      for (const s of o.subscribers) this.c.head.sessions.get(s)?.send(msg);
      o.subscribers.clear();
    }
    this.c.scheduler.depReady(o);
    this.maybeCollect(o);
  }

  setObjectError(o: ObjectEntry, error: WireError): void {
    o.state = 'error';
    o.error = error;
    o.inline = undefined;
    this.objectReady(o);
  }

  /** An object lost a copy: recompute it from lineage when it has no other, or fail it. */
  locationLost(o: ObjectEntry): void {
    if (o.state !== 'ready' || o.inline || o.locations.size > 0) return;
    const { scheduler } = this.c;
    const producer = o.producer ? scheduler.tasks.get(o.producer) : undefined;
    if (producer && producer.spec.kind === 'task' && scheduler.reconstruct(producer)) {
      o.state = 'pending';
      this.c.head.counters.objectsReconstructed++;
      log.info({ objectId: o.id, taskId: producer.spec.taskId }, 'object lost with its node; recomputing from lineage');
      this.c.head.onEvent('object-reconstruct', { objectId: o.id });
      return;
    }
    this.setObjectError(o, new ObjectLostError(o.id, 'every copy was lost with its node and it cannot be recomputed').toWire());
  }

  /**
   * A worker could not fetch an input from `address`: forget that copy (its node may be dying
   * before the head has noticed), so the retry goes to another copy or waits for a recompute.
   */
  copyUnreachable(id: string, address: string): void {
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
}
