/**
 * A Dataset action's stage progress goes to the head throttled: a storm of partitions in one
 * interval is one message now and one at the interval's end, the final state always goes at
 * finish, and a head that refuses turns publishing off for the action (never fails it). Fake
 * timers: no real waiting.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { DATA_PROGRESS_INTERVAL_MS, ProgressPublisher, type DataProgressMessage } from '../../../../src/data/dataset/execution/progress.js';

describe('ProgressPublisher', () => {
  beforeEach(() => void vi.useFakeTimers({ now: 1_000_000 }));
  afterEach(() => void vi.useRealTimers());

  it('sends a storm of 10,000 partitions as one message now, one at the interval, and the final one', async () => {
    const sent: DataProgressMessage[] = [];
    const p = new ProgressPublisher((m) => {
      sent.push(structuredClone(m));
      return Promise.resolve(true);
    });
    p.startStage('read', 10_000);
    for (let i = 0; i < 10_000; i++) p.partitionDone(3);
    expect(sent.length).toBe(1);
    await vi.advanceTimersByTimeAsync(DATA_PROGRESS_INTERVAL_MS);
    expect(sent.length).toBe(2);
    expect(sent[1]!.stages[0]).toMatchObject({ label: 'read', done: 10_000, total: 10_000, rows: 30_000 });
    p.startStage('shuffle', 4);
    p.finish();
    expect(sent.length).toBe(3);
    const last = sent[2]!;
    expect(last.endedAt).not.toBeNull();
    expect(last.stages.map((s) => s.label)).toEqual(['read', 'shuffle']);
    expect(last.stages.every((s) => s.endedAt !== null)).toBe(true);
  });

  it('stops publishing for the action when the head refuses', async () => {
    let calls = 0;
    const p = new ProgressPublisher(() => {
      calls++;
      return Promise.reject(new Error('no publish on this head'));
    });
    p.startStage('read', 2);
    await vi.advanceTimersByTimeAsync(0);
    p.partitionDone(1);
    await vi.advanceTimersByTimeAsync(DATA_PROGRESS_INTERVAL_MS * 3);
    p.finish();
    expect(calls).toBe(1);
  });
});
