import { describe, expect, it } from 'vitest';
import type { Resources } from '../../../src/core/wire/protocol.js';
import { canTake, chooseNode, fits, isPlain, placeBundles, type NodeView } from '../../../src/core/head/scheduling-policy.js';

function node(id: string, total: Resources, o: Partial<NodeView> = {}): NodeView {
  return { id, alive: true, total, available: { ...total }, inflightCpu: 0, inflightTasks: 0, cpuLimit: total.CPU ?? 0, ...o };
}
const none = new Map<string, number>();

describe('resources', () => {
  it('fits and isPlain', () => {
    expect(fits({ CPU: 2, GPU: 1 }, { CPU: 2, GPU: 1 })).toBe(true);
    expect(fits({ CPU: 2 }, { CPU: 1, GPU: 1 })).toBe(false);
    expect(fits({ CPU: 0.30000000000000004 }, { CPU: 0.3 })).toBe(true);
    expect(isPlain({ CPU: 1 })).toBe(true);
    expect(isPlain({ CPU: 2 })).toBe(false);
    expect(isPlain({ CPU: 1, custom: 1 })).toBe(false);
  });

  it('a dead node takes nothing; a node without the resource takes nothing', () => {
    expect(canTake(node('a', { CPU: 4 }, { alive: false }), { CPU: 1 }, true)).toBe(false);
    expect(canTake(node('a', { CPU: 4 }), { CPU: 1, custom: 1 }, false)).toBe(false);
    expect(canTake(node('a', { CPU: 4, custom: 1 }), { CPU: 1, custom: 1 }, false)).toBe(true);
  });
});

describe('chooseNode', () => {
  it('DEFAULT prefers the node holding most argument bytes (locality)', () => {
    const nodes = [node('a', { CPU: 4 }), node('b', { CPU: 4 }, { inflightCpu: 3 })];
    const locality = new Map([['a', 10], ['b', 1_000_000]]);
    expect(chooseNode(nodes, { CPU: 1 }, 'DEFAULT', locality, true)?.id).toBe('b');
  });

  it('DEFAULT without locality picks the least loaded node', () => {
    const nodes = [node('a', { CPU: 4 }, { inflightCpu: 3 }), node('b', { CPU: 4 }, { inflightCpu: 1 })];
    expect(chooseNode(nodes, { CPU: 1 }, 'DEFAULT', none, true)?.id).toBe('b');
  });

  it('locality does not override a node that cannot take the task', () => {
    const nodes = [node('a', { CPU: 4 }), node('b', { CPU: 1 }, { inflightCpu: 1 })];
    expect(chooseNode(nodes, { CPU: 1 }, 'DEFAULT', new Map([['b', 1e9]]), true)?.id).toBe('a');
  });

  it('SPREAD rotates over equally loaded nodes', () => {
    const nodes = [node('a', { CPU: 4 }), node('b', { CPU: 4 }), node('c', { CPU: 4 })];
    const picks = new Set(Array.from({ length: 6 }, () => chooseNode(nodes, { CPU: 1 }, 'SPREAD', none, true)!.id));
    expect(picks).toEqual(new Set(['a', 'b', 'c']));
  });

  it('SPREAD picks the least loaded node first', () => {
    const nodes = [node('a', { CPU: 4 }, { inflightCpu: 2 }), node('b', { CPU: 4 })];
    for (let i = 0; i < 4; i++) expect(chooseNode(nodes, { CPU: 1 }, 'SPREAD', none, true)?.id).toBe('b');
  });

  it('PACK picks the most loaded node that still fits', () => {
    const nodes = [node('a', { CPU: 4 }, { inflightCpu: 1 }), node('b', { CPU: 4 }, { inflightCpu: 3 }), node('c', { CPU: 4 }, { inflightCpu: 4 })];
    expect(chooseNode(nodes, { CPU: 1 }, 'PACK', none, true)?.id).toBe('b');
  });

  it('hard node affinity: only that node, else nothing', () => {
    const nodes = [node('a', { CPU: 4 }), node('b', { CPU: 4 }, { inflightCpu: 4 })];
    expect(chooseNode(nodes, { CPU: 1 }, { nodeId: 'a', soft: false }, none, true)?.id).toBe('a');
    expect(chooseNode(nodes, { CPU: 1 }, { nodeId: 'b', soft: false }, none, true)).toBeUndefined();
    expect(chooseNode(nodes, { CPU: 1 }, { nodeId: 'gone', soft: false }, none, true)).toBeUndefined();
  });

  it('soft node affinity falls back to another node', () => {
    const nodes = [node('a', { CPU: 4 }), node('b', { CPU: 4 }, { inflightCpu: 4 })];
    expect(chooseNode(nodes, { CPU: 1 }, { nodeId: 'b', soft: true }, none, true)?.id).toBe('a');
    expect(chooseNode(nodes, { CPU: 1 }, { nodeId: 'gone', soft: true }, none, true)?.id).toBe('a');
  });

  it('custom resources: only nodes that have them', () => {
    const nodes = [node('a', { CPU: 4 }), node('b', { CPU: 1, custom: 1 })];
    expect(chooseNode(nodes, { CPU: 1, custom: 1 }, 'DEFAULT', none, false)?.id).toBe('b');
    expect(chooseNode([nodes[0]!], { CPU: 1, custom: 1 }, 'DEFAULT', none, false)).toBeUndefined();
  });
});

describe('placeBundles', () => {
  const two = (): NodeView[] => [node('a', { CPU: 2 }), node('b', { CPU: 2 })];

  it('PACK puts bundles on one node while they fit', () => {
    expect(placeBundles(two(), [{ CPU: 1 }, { CPU: 1 }], 'PACK')).toEqual(['a', 'a']);
    expect(placeBundles(two(), [{ CPU: 1 }, { CPU: 1 }, { CPU: 1 }], 'PACK')).toEqual(['a', 'a', 'b']);
  });

  it('SPREAD puts bundles on different nodes while it can', () => {
    expect(placeBundles(two(), [{ CPU: 1 }, { CPU: 1 }], 'SPREAD')).toEqual(['a', 'b']);
    expect(placeBundles(two(), [{ CPU: 1 }, { CPU: 1 }, { CPU: 1 }], 'SPREAD')?.sort()).toEqual(['a', 'a', 'b']);
  });

  it('STRICT_PACK needs one node for all bundles', () => {
    expect(placeBundles(two(), [{ CPU: 1 }, { CPU: 1 }], 'STRICT_PACK')).toEqual(['a', 'a']);
    expect(placeBundles(two(), [{ CPU: 2 }, { CPU: 1 }], 'STRICT_PACK')).toBeUndefined();
  });

  it('STRICT_SPREAD needs a node per bundle', () => {
    expect(placeBundles(two(), [{ CPU: 1 }, { CPU: 1 }], 'STRICT_SPREAD')).toEqual(['a', 'b']);
    expect(placeBundles(two(), [{ CPU: 1 }, { CPU: 1 }, { CPU: 1 }], 'STRICT_SPREAD')).toBeUndefined();
  });

  it('infeasible bundles place nothing', () => {
    for (const s of ['PACK', 'SPREAD', 'STRICT_PACK', 'STRICT_SPREAD'] as const) {
      expect(placeBundles(two(), [{ CPU: 1 }, { CPU: 64 }], s)).toBeUndefined();
      expect(placeBundles(two(), [{ GPU: 1 }], s)).toBeUndefined();
    }
  });

  it('counts CPUs in flight and ignores dead nodes', () => {
    const nodes = [node('a', { CPU: 2 }, { inflightCpu: 2 }), node('b', { CPU: 2 }, { alive: false }), node('c', { CPU: 2 })];
    expect(placeBundles(nodes, [{ CPU: 1 }], 'PACK')).toEqual(['c']);
  });

  it('does not change the nodes it is given', () => {
    const nodes = two();
    placeBundles(nodes, [{ CPU: 2 }, { CPU: 2 }], 'SPREAD');
    expect(nodes.map((n) => n.available.CPU)).toEqual([2, 2]);
  });
});
