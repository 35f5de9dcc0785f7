import { describe, expect, it } from 'vitest';
import { LatencyWindow } from '../../../src/serve/latency-window.js';

describe('LatencyWindow', () => {
  it('answers nearest-rank percentiles of what it holds, 0 when empty', () => {
    const w = new LatencyWindow(100);
    expect(w.percentiles(50, 99)).toEqual([0, 0]);
    for (let i = 100; i >= 1; i--) w.record(i);
    expect(w.size).toBe(100);
    expect(w.percentiles(50, 99, 100)).toEqual([51, 100, 100]);
  });

  it('keeps only the newest `capacity` latencies', () => {
    const w = new LatencyWindow(4);
    for (const ms of [1000, 1000, 1, 2, 3, 4]) w.record(ms);
    expect(w.size).toBe(4);
    expect(w.percentiles(0, 100)).toEqual([1, 4]);
    w.clear();
    expect(w.size).toBe(0);
    expect(w.percentiles(99)).toEqual([0]);
  });
});
