/**
 * Node choice for a task or actor. Pure functions over the head's view of nodes, so the policy can be
 * tested on its own and swapped by name.
 */
import type { Resources, SchedulingStrategy } from '../wire/protocol.js';

export interface NodeView {
  id: string;
  alive: boolean;
  total: Resources;
  /** Resources not reserved by actors, placement groups or resource-gated tasks. */
  available: Resources;
  /** CPU of plain tasks dispatched and not finished (may exceed available.CPU when pipelining). */
  inflightCpu: number;
  inflightTasks: number;
  /** How many CPUs worth of plain tasks may be in flight (pipelining for short tasks). */
  cpuLimit: number;
}

export function fits(have: Resources, need: Resources): boolean {
  for (const key in need) {
    const n = need[key]!;
    if (n > 0 && (have[key] ?? 0) + 1e-9 < n) return false;
  }
  return true;
}

export function subtract(have: Resources, need: Resources): void {
  for (const key in need) have[key] = (have[key] ?? 0) - need[key]!;
}

export function add(have: Resources, back: Resources): void {
  for (const key in back) have[key] = (have[key] ?? 0) + back[key]!;
}

/** A plain task needs only CPU: the head may pipeline it (queue it at a busy node). */
export function isPlain(resources: Resources): boolean {
  for (const key in resources) if (key !== 'CPU' && resources[key]! > 0) return false;
  return (resources.CPU ?? 0) <= 1;
}

/** Whether node `n` can take a task needing `need` right now. */
export function canTake(n: NodeView, need: Resources, plain: boolean): boolean {
  if (!n.alive || !fits(n.total, need)) return false;
  const cpu = need.CPU ?? 0;
  if (plain) return n.inflightCpu + cpu <= n.cpuLimit + 1e-9 && n.inflightTasks < 4096;
  if (!fits(n.available, need)) return false;
  return (n.available.CPU ?? 0) - n.inflightCpu + 1e-9 >= cpu;
}

/** Load of a node in [0, ∞): share of its CPUs in use. */
function load(n: NodeView): number {
  const total = n.total.CPU ?? 0;
  if (total <= 0) return n.inflightTasks;
  return (total - (n.available.CPU ?? 0) + n.inflightCpu) / total;
}

let spreadCursor = 0;

/**
 * Picks a node for a task. `localityBytes` maps node id → bytes of the task's arguments already there.
 * Returns undefined when no node can take the task now.
 */
export function chooseNode(
  nodes: NodeView[],
  need: Resources,
  strategy: SchedulingStrategy,
  localityBytes: Map<string, number>,
  plain: boolean,
): NodeView | undefined {
  if (typeof strategy === 'object' && 'nodeId' in strategy) {
    const target = nodes.find((n) => n.id === strategy.nodeId);
    if (target && canTake(target, need, plain)) return target;
    if (!strategy.soft) return undefined;
    return chooseNode(nodes, need, 'DEFAULT', localityBytes, plain);
  }
  const candidates = nodes.filter((n) => canTake(n, need, plain));
  if (candidates.length === 0) return undefined;
  if (strategy === 'SPREAD') {
    spreadCursor = (spreadCursor + 1) % candidates.length;
    // Least loaded first, rotating among equals.
    const min = Math.min(...candidates.map(load));
    const least = candidates.filter((n) => load(n) <= min + 1e-9);
    return least[spreadCursor % least.length];
  }
  if (strategy === 'PACK') {
    return candidates.reduce((best, n) => (load(n) > load(best) ? n : best));
  }
  // DEFAULT: the node holding most of the arguments' bytes, else the least loaded.
  let best: NodeView | undefined;
  let bestBytes = 0;
  for (const n of candidates) {
    const b = localityBytes.get(n.id) ?? 0;
    if (b > bestBytes) {
      best = n;
      bestBytes = b;
    }
  }
  if (best) return best;
  return candidates.reduce((a, n) => (load(n) < load(a) ? n : a));
}

export type PlacementStrategy = 'PACK' | 'SPREAD' | 'STRICT_PACK' | 'STRICT_SPREAD';

/**
 * Places all bundles of a placement group at once, or none. Returns node ids per bundle.
 */
export function placeBundles(nodes: NodeView[], bundles: Resources[], strategy: PlacementStrategy): string[] | undefined {
  const avail = new Map(nodes.filter((n) => n.alive).map((n) => {
    const a = { ...n.available };
    a.CPU = (a.CPU ?? 0) - n.inflightCpu;
    return [n.id, a] as const;
  }));
  const ids = [...avail.keys()];
  const result: string[] = [];
  if (strategy === 'STRICT_PACK') {
    const total: Resources = {};
    for (const b of bundles) add(total, b);
    const node = ids.find((id) => fits(avail.get(id)!, total));
    return node ? bundles.map(() => node) : undefined;
  }
  const used = new Set<string>();
  for (const b of bundles) {
    let order = ids;
    if (strategy === 'PACK') order = [...ids].sort((x, y) => (used.has(y) ? 1 : 0) - (used.has(x) ? 1 : 0));
    if (strategy === 'SPREAD') order = [...ids].sort((x, y) => (used.has(x) ? 1 : 0) - (used.has(y) ? 1 : 0));
    if (strategy === 'STRICT_SPREAD') order = ids.filter((id) => !used.has(id));
    const node = order.find((id) => fits(avail.get(id)!, b));
    if (!node) return undefined;
    subtract(avail.get(node)!, b);
    used.add(node);
    result.push(node);
  }
  return result;
}
