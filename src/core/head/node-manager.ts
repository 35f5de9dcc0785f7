/**
 * Nodes and sessions: who is connected, which worker nodes are alive and what they hold, and what
 * a node's death or a session's end takes with it (Ray's GCS node manager).
 */
import { NODE_DEATH_TIMEOUT_MS } from '../constants.js';
import { WorkerDiedError } from '../errors.js';
import { log } from '../log.js';
import type { NodeUsage, Resources } from '../wire/protocol.js';
import {
  driverLocation, type HeadContext, type NodeState, type SessionHandle, type StoredNode, type StoredSession,
} from './head-records.js';

export class NodeManager {
  readonly nodes = new Map<string, NodeState>();

  constructor(private readonly c: HeadContext) {}

  addSession(s: SessionHandle): void {
    const { sessionHolds } = this.c.objects;
    this.c.head.sessions.set(s.id, s);
    if (!sessionHolds.has(s.id)) sessionHolds.set(s.id, new Set());
    this.c.head.persist?.put('session', s.id, { id: s.id, role: s.role, jobId: s.jobId, nodeId: s.nodeId } satisfies StoredSession);
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
    this.c.head.persist?.put('node', node.id, { ...info } satisfies StoredNode);
    log.info({ nodeId: node.id, resources: node.total, address: node.address }, 'node joined');
    this.c.head.onEvent('node-joined', { nodeId: node.id });
    this.c.scheduler.schedule();
  }

  heartbeat(nodeId: string, usage?: NodeUsage, s?: SessionHandle): void {
    const n = this.nodes.get(nodeId);
    if (!n) {
      // Declared dead while only silent (a stall, an overloaded host): its work was already retried
      // elsewhere, so it drops everything and is admitted again as a fresh node.
      if (s?.nodeInfo) {
        log.warn({ nodeId }, 'a node declared dead is alive again; resetting it and admitting it afresh');
        s.send({ t: 'reset', reason: 'the head declared this node dead after a silence' });
        this.c.head.onEvent('node-rejoined', { nodeId });
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
    const { objects } = this.c;
    const s = this.c.head.sessions.get(sessionId);
    if (!s) return;
    this.c.head.sessions.delete(sessionId);
    this.c.head.persist?.delete('session', sessionId);
    this.c.recovery.sessionClosed(sessionId);
    objects.creatorGone(driverLocation(sessionId), 'closed');
    if (s.role === 'worker' && s.nodeId) {
      this.nodeDied(s.nodeId, 'its worker process disconnected');
    } else {
      // A driver left: drop its references, its objects' copies, and its non-detached actors.
      const holds = objects.sessionHolds.get(sessionId) ?? new Set();
      for (const id of holds) objects.unhold(id, sessionId);
      const loc = driverLocation(sessionId);
      objects.driverStores.delete(loc);
      for (const o of objects.objects.values()) if (o.locations.delete(loc)) objects.locationLost(o);
      for (const a of this.c.actors.actors.values()) {
        if (a.owner === sessionId && !a.detached && a.state !== 'dead') this.c.actors.killActor(a.id, true, 'its driver exited');
      }
      for (const pg of this.c.groups.placementGroups.values()) if (pg.owner === sessionId) this.c.groups.removePlacementGroup(pg.id);
    }
    objects.sessionHolds.delete(sessionId);
  }

  nodeDied(nodeId: string, reason: string): void {
    const { objects, scheduler } = this.c;
    const n = this.nodes.get(nodeId);
    if (!n || !n.alive) return;
    n.alive = false;
    log.warn({ nodeId, reason }, 'node died');
    this.c.head.onEvent('node-died', { nodeId, reason });
    this.nodes.delete(nodeId);
    this.c.head.persist?.delete('node', nodeId);
    // Tasks that were running there.
    for (const taskId of n.dispatched) {
      const t = scheduler.tasks.get(taskId);
      if (!t || t.state === 'done') continue;
      if (t.spec.kind === 'actor-call') continue; // handled with the actor below
      scheduler.releaseResources(t, n);
      scheduler.retryOrFail(t, new WorkerDiedError(t.spec.name, nodeId, t.attempts).toWire());
    }
    // Actors that lived there.
    for (const a of this.c.actors.actors.values()) {
      if (a.nodeId === nodeId && a.state !== 'dead') this.c.actors.actorLost(a, `its node ${nodeId} died (${reason})`);
    }
    // Placement groups with bundles there go back to pending.
    this.c.groups.nodeDied(nodeId);
    // Objects whose only copy was there.
    for (const o of objects.objects.values()) if (o.locations.delete(nodeId)) objects.locationLost(o);
    objects.creatorGone(nodeId, 'died');
    scheduler.schedule();
  }

  /** Whether a node runs anything or holds anything: tasks, actors, placement bundles, objects. */
  nodeBusy(nodeId: string): boolean {
    const n = this.nodes.get(nodeId);
    if (!n) return false;
    if (n.inflightTasks > 0 || n.dispatched.size > 0 || (n.usage?.objects ?? 0) > 0) return true;
    for (const a of this.c.actors.actors.values()) if (a.nodeId === nodeId && a.state !== 'dead') return true;
    for (const pg of this.c.groups.placementGroups.values()) if (pg.state === 'created' && pg.nodes.includes(nodeId)) return true;
    return false;
  }
}
