/**
 * The head's scheduler over fake sessions (no processes): where tasks go, what they take, what
 * waits, what comes back after a node dies. Whole-cluster tests cover the same paths end to end.
 */
import { describe, expect, it } from 'vitest';
import { returnObjectId } from '../../../../src/core/ids.js';
import { FakeCluster, task } from './fake-sessions.js';

describe('placement', () => {
  it('a task needing a GPU goes to the node that has one', async () => {
    const c = new FakeCluster();
    const d = c.driver();
    const cpu = c.worker('n-cpu', { CPU: 4 });
    const gpu = c.worker('n-gpu', { CPU: 4, GPU: 1 });
    c.state.submit([task('train', { resources: { CPU: 1, GPU: 1 } })], d.id);
    await c.settle();
    expect(c.placement(cpu, gpu)).toEqual({ 'n-cpu': [], 'n-gpu': ['train'] });
  });

  it('a hard node affinity runs there; one to a node not in the cluster fails with InfeasibleError', async () => {
    const c = new FakeCluster();
    const d = c.driver();
    const a = c.worker('n-a', { CPU: 2 });
    const b = c.worker('n-b', { CPU: 2 });
    const there = task('pinned', { strategy: { nodeId: 'n-b', soft: false } });
    const nowhere = task('lost', { strategy: { nodeId: 'n-zzz', soft: false } });
    c.state.submit([there, nowhere], d.id);
    await c.settle();
    expect(c.placement(a, b)).toEqual({ 'n-a': [], 'n-b': ['pinned'] });
    const r = c.result(d, nowhere);
    expect(r?.error?.name).toBe('InfeasibleError');
    expect(r?.error?.message).toContain('must run on node n-zzz, which is not in the cluster');
  });

  it('the execute message carries inline arguments and the address of a node holding a large one', async () => {
    const c = new FakeCluster();
    const d = c.driver();
    const a = c.worker('n-a', { CPU: 1 });
    const first = task('produce');
    c.state.submit([first], d.id);
    await c.settle();
    c.state.handle({ t: 'done', taskId: first.taskId, size: 50_000_000, ms: 1 }, a);
    const second = task('consume', { deps: [returnObjectId(first.taskId)] });
    c.state.submit([second], d.id);
    await c.settle();
    const exec = c.executed(a).find((m) => m.spec.name === 'consume');
    expect(exec?.deps[returnObjectId(first.taskId)]).toEqual({ address: 'n-a:1', size: 50_000_000 });
  });
});

describe('resources and queueing', () => {
  it('a task bigger than any node waits, is reported as unmet demand and infeasible, and runs when a node that fits joins', async () => {
    const c = new FakeCluster();
    const d = c.driver();
    const small = c.worker('n-small', { CPU: 1 });
    const big = task('big', { resources: { CPU: 8 } });
    c.state.submit([big], d.id);
    await c.settle();
    expect(c.executed(small)).toEqual([]);
    expect(c.state.unmetDemand()).toEqual([{ resources: { CPU: 8 }, count: 1, what: 'task' }]);
    expect(c.events.map((e) => e.event)).toContain('infeasible');
    const large = c.worker('n-large', { CPU: 8 });
    await c.settle();
    expect(c.placement(small, large)).toEqual({ 'n-small': [], 'n-large': ['big'] });
    expect(c.state.unmetDemand()).toEqual([]);
  });

  it('tasks taking exact resources queue in order and start as earlier ones give them back', async () => {
    const c = new FakeCluster();
    const d = c.driver();
    const w = c.worker('n-a', { CPU: 2 });
    const specs = ['one', 'two', 'three'].map((n) => task(n, { resources: { CPU: 2 } }));
    c.state.submit(specs, d.id);
    await c.settle();
    expect(c.executed(w).map((m) => m.spec.name)).toEqual(['one']);
    expect(c.state.status().nodes[0]?.available.CPU).toBe(0);
    c.finish(w, specs[0]!);
    await c.settle();
    expect(c.executed(w).map((m) => m.spec.name)).toEqual(['one', 'two']);
    c.finish(w, specs[1]!);
    c.finish(w, specs[2]!); // not running yet: ignored
    await c.settle();
    expect(c.executed(w).map((m) => m.spec.name)).toEqual(['one', 'two', 'three']);
    c.finish(w, specs[2]!);
    await c.settle();
    expect(c.state.status().nodes[0]?.available.CPU).toBe(2);
    expect(c.state.counters.tasksFinished).toBe(3);
  });

  it('a task waits for its argument and runs once the task making it is done', async () => {
    const c = new FakeCluster();
    const d = c.driver();
    const w = c.worker('n-a', { CPU: 4 });
    const first = task('first', { resources: { CPU: 2 } });
    const second = task('second', { deps: [returnObjectId(first.taskId)] });
    c.state.submit([first, second], d.id);
    await c.settle();
    expect(c.executed(w).map((m) => m.spec.name)).toEqual(['first']);
    c.finish(w, first);
    await c.settle();
    expect(c.executed(w).map((m) => m.spec.name)).toEqual(['first', 'second']);
  });

  it('a task whose argument failed fails with that error without running', async () => {
    const c = new FakeCluster();
    const d = c.driver();
    const w = c.worker('n-a', { CPU: 4 });
    const first = task('first', { resources: { CPU: 2 } });
    const second = task('second', { deps: [returnObjectId(first.taskId)] });
    c.state.submit([first, second], d.id);
    await c.settle();
    c.finish(w, first, { error: 'boom' });
    await c.settle();
    expect(c.executed(w).map((m) => m.spec.name)).toEqual(['first']);
    expect(c.result(d, second)?.error?.message).toBe('boom');
  });

  it('an unknown argument fails the task with ObjectLostError', async () => {
    const c = new FakeCluster();
    const d = c.driver();
    c.worker('n-a', { CPU: 1 });
    const t = task('orphan', { deps: ['o-nobody-made-this'] });
    c.state.submit([t], d.id);
    await c.settle();
    expect(c.result(d, t)?.error?.name).toBe('ObjectLostError');
  });
});

describe('spillback after a node dies', () => {
  it('a retryable task running on a node that dies runs again on another node', async () => {
    const c = new FakeCluster();
    const d = c.driver();
    const a = c.worker('n-a', { CPU: 2 });
    const t = task('work', { resources: { CPU: 2 }, maxRetries: 1 });
    c.state.submit([t], d.id);
    await c.settle();
    expect(c.executed(a).map((m) => m.spec.name)).toEqual(['work']);
    const b = c.worker('n-b', { CPU: 2 });
    c.state.sessionClosed(a.id);
    await c.settle();
    expect(c.executed(b).map((m) => [m.spec.name, m.attempt])).toEqual([['work', 2]]);
    expect(c.state.counters.tasksRetried).toBe(1);
  });

  it('a task that may not be retried fails with WorkerDiedError naming the node', async () => {
    const c = new FakeCluster();
    const d = c.driver();
    const a = c.worker('n-a', { CPU: 2 });
    const t = task('once', { maxRetries: 0 });
    c.state.submit([t], d.id);
    await c.settle();
    c.state.checkNodeHealth(Date.now() + 60_000, 1_000);
    const r = c.result(d, t);
    expect(r?.error?.name).toBe('WorkerDiedError');
    expect(r?.error?.message).toContain('n-a');
    expect(c.state.nodes.has(a.nodeId!)).toBe(false);
  });

  it('a node declared dead that heartbeats again is reset and admitted afresh', async () => {
    const c = new FakeCluster();
    const a = c.worker('n-a', { CPU: 2 });
    c.state.checkNodeHealth(Date.now() + 60_000, 1_000);
    expect(c.state.nodes.size).toBe(0);
    c.state.handle({ t: 'heartbeat' }, a);
    expect(a.sent.some((m) => m.t === 'reset')).toBe(true);
    expect([...c.state.nodes.keys()]).toEqual(['n-a']);
  });
});
