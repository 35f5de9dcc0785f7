/**
 * Placement groups: bundles of resources reserved together on nodes chosen by the placement
 * strategy, placed when they fit, pending again when a node holding a bundle dies (Ray's GCS
 * placement group manager).
 */
import { InfeasibleError } from '../errors.js';
import { log } from '../log.js';
import type { Resources } from '../wire/protocol.js';
import { add, placeBundles, subtract, type PlacementStrategy } from './scheduling-policy.js';
import type { HeadContext, PlacementGroupRecord, StoredPlacementGroup } from './head-records.js';

export class PlacementGroupManager {
  readonly placementGroups = new Map<string, PlacementGroupRecord>();

  constructor(private readonly c: HeadContext) {}

  createPlacementGroup(id: string, bundles: Resources[], strategy: PlacementStrategy, owner: string): void {
    this.placementGroups.set(id, { id, bundles, strategy, state: 'pending', nodes: [], available: [], owner, waiters: [] });
    this.c.head.persist?.put('pg', id, { id, bundles, strategy, owner } satisfies StoredPlacementGroup);
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
        const node = this.c.nodes.nodes.get(nodeId);
        if (node) add(node.available, pg.bundles[i]!);
      });
    }
    pg.state = 'removed';
    for (const w of pg.waiters) w(new InfeasibleError(`placement group ${id} was removed before it was placed`));
    pg.waiters = [];
    this.placementGroups.delete(id);
    this.c.head.persist?.delete('pg', id);
    this.c.scheduler.schedule();
  }

  placePendingGroups(): void {
    const { nodes } = this.c.nodes;
    for (const pg of this.placementGroups.values()) {
      if (pg.state !== 'pending') continue;
      const alive = [...nodes.values()].filter((n) => n.alive);
      const placed = placeBundles(alive, pg.bundles, pg.strategy);
      if (!placed) continue;
      placed.forEach((nodeId, i) => subtract(nodes.get(nodeId)!.available, pg.bundles[i]!));
      pg.nodes = placed;
      pg.available = pg.bundles.map((b) => ({ ...b }));
      pg.state = 'created';
      log.info({ pg: pg.id, nodes: placed }, 'placement group created');
      for (const w of pg.waiters) w();
      pg.waiters = [];
      this.c.scheduler.schedule();
    }
  }

  /** A node died: groups with a bundle there give back their other bundles and wait to be placed again. */
  nodeDied(nodeId: string): void {
    for (const pg of this.placementGroups.values()) {
      if (pg.state === 'created' && pg.nodes.includes(nodeId)) {
        pg.nodes.forEach((id, i) => {
          const other = this.c.nodes.nodes.get(id);
          if (other && id !== nodeId) add(other.available, pg.bundles[i]!);
        });
        pg.state = 'pending';
        pg.nodes = [];
      }
    }
  }

  /** Bundles of groups waiting to be placed (the autoscaler's input). */
  unmetDemand(): Array<{ resources: Resources; count: number; what: string }> {
    const out: Array<{ resources: Resources; count: number; what: string }> = [];
    for (const pg of this.placementGroups.values()) {
      if (pg.state !== 'pending') continue;
      for (const b of pg.bundles) out.push({ resources: b, count: 1, what: `placement group ${pg.id}` });
    }
    return out;
  }
}
