/**
 * What the dashboard keeps of what drivers publish: serving samples and decisions, Dataset actions;
 * kept in the head store and taken back by a new keeper (a restarted head, --history); bounded by
 * its retention; a message of the wrong shape is dropped and counted, never thrown.
 */
import { describe, expect, it } from 'vitest';
import { DATA_ACTIONS_KEPT, PublishedKeeper, SERVE_SAMPLES_KEPT } from '../../../src/dashboard/published-keeper.js';

/** The head store's history-published records, as HeadHost.keep/forget would leave them. */
function sink() {
  const stored = new Map<string, unknown>();
  return { stored, keep: (_k: 'history-published', key: string, v: unknown) => void stored.set(key, v), forget: (_k: 'history-published', key: string) => void stored.delete(key) };
}

const sample = (at: number, requests: number, decisions: unknown[] = []) => ({
  at, url: 'http://127.0.0.1:8000',
  status: { deployments: [{ name: 'echo', route: '/echo', version: 'v1', replicas: [{ id: 'r1', state: 'running', ongoing: 0, actorId: 'a1' }], queued: 0, requests, errors: 0, rps: 1, p50Ms: 1, p99Ms: 2 }], decisions },
});

describe('PublishedKeeper', () => {
  it('keeps serving samples and each autoscaler decision once, and a new keeper takes them back from the store', () => {
    const s = sink();
    const k = new PublishedKeeper(new Map(), s);
    const d = { timeMs: 5, deployment: 'echo', from: 1, to: 2, reason: 'queue' };
    k.take('serve.status', sample(1000, 3, [d]), 1000);
    k.take('serve.status', sample(3000, 9, [d]), 3000);
    expect(k.serve().samples.map((x) => x.status.deployments[0]!.requests)).toEqual([3, 9]);
    expect(k.serve().decisions).toEqual([d]);
    expect(k.serve().latest.map((x) => x.at)).toEqual([3000]);
    const again = new PublishedKeeper(s.stored);
    expect(again.serve()).toEqual(k.serve());
  });

  it('drops messages of the wrong shape and counts them', () => {
    const k = new PublishedKeeper(new Map());
    k.take('serve.status', { at: 'now' });
    k.take('data.progress', { stages: 'all' });
    k.take('serve.status', null);
    expect(k.dropped).toBe(3);
    expect(k.serve().samples).toEqual([]);
    expect(k.datasets().actions).toEqual([]);
  });

  it('keeps one record per Dataset action, running first, and forgets the oldest past the retention', () => {
    const s = sink();
    const k = new PublishedKeeper(new Map(), s);
    for (let i = 0; i < DATA_ACTIONS_KEPT + 5; i++) k.take('data.progress', { action: `p-${i}`, startedAt: i, endedAt: i + 1, stages: [] }, i);
    k.take('data.progress', { action: 'p-run', startedAt: 1, endedAt: null, stages: [{ label: 'read', done: 1, total: 4, rows: 10, startedAt: 1, endedAt: null }] }, 500);
    const actions = k.datasets().actions;
    expect(actions.length).toBe(DATA_ACTIONS_KEPT);
    expect(actions[0]!.action).toBe('p-run');
    expect(actions.some((a) => a.action === 'p-0')).toBe(false);
    expect([...s.stored.keys()].filter((x) => x.startsWith('data.progress/')).length).toBe(DATA_ACTIONS_KEPT);
  });

  it('keeps at most SERVE_SAMPLES_KEPT samples in the store', () => {
    const s = sink();
    const k = new PublishedKeeper(new Map(), s);
    for (let i = 0; i < SERVE_SAMPLES_KEPT + 10; i++) k.take('serve.status', sample(i * 2000, i), i * 2000);
    expect([...s.stored.keys()].filter((x) => x.startsWith('serve.status/')).length).toBe(SERVE_SAMPLES_KEPT);
  });
});
