/**
 * The retention policy of the dashboard's history in the head store (README, "Dashboard"; the
 * numbers are the exported constants): events — the newest EVENTS_STORED, none older than
 * EVENT_MAX_AGE_MS (core head-events.ts); metric samples — one per METRIC_KEEP_INTERVAL_MS, the
 * newest METRICS_STORED, none older than METRIC_MAX_AGE_MS; job output — the last
 * JOB_LOG_STORED_BYTES of each job, for the newest JOB_LOGS_STORED jobs. And what a head restarted
 * over that store takes back: the events and the samples kept. Over a head's real parts in this
 * process (head-parts.ts), the clock set by the test.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { EVENT_MAX_AGE_MS, EVENTS_STORED, HeadEvents } from '../../../src/core/head/head-events.js';
import type { HistoryKind, JobRecord } from '../../../src/core/head/head-store.js';
import type { MetricPoint } from '../../../src/dashboard/api-types.js';
import {
  HistoryKeeper, JOB_LOG_STORED_BYTES, JOB_LOGS_STORED, METRIC_KEEP_INTERVAL_MS, METRIC_MAX_AGE_MS, METRICS_STORED, type StoredJobLog,
} from '../../../src/dashboard/history-keeper.js';
import { LiveSource } from '../../../src/dashboard/live-source.js';
import { headParts } from './head-parts.js';

const T0 = Date.UTC(2026, 0, 1);

/** The records of `kind` a head store holds, as a restarted head reads them. */
function storedOf(kept: Map<string, unknown>, kind: HistoryKind): Map<string, unknown> {
  return new Map([...kept].filter(([k]) => k.startsWith(`${kind}/`)).map(([k, v]) => [k.slice(kind.length + 1), v]));
}

const point = (at: number): MetricPoint => ({ at, tasksFinished: 0, tasksFailed: 0, running: 0, pending: 0, cpuUsed: 0, cpuTotal: 2, objectStoreBytes: 0, spilledBytes: 0 });

describe('dashboard history retention', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'shoal-retention-'));
    vi.useFakeTimers({ toFake: ['Date'], now: T0 });
  });
  afterEach(() => {
    vi.useRealTimers();
    rmSync(dir, { recursive: true, force: true });
  });

  it('events: the newest EVENTS_STORED, none older than EVENT_MAX_AGE_MS; a restarted head takes them back', () => {
    const { events, kept } = headParts(dir);
    const sink = { put: (k: string, key: string, v: unknown) => void kept.set(`${k}/${key}`, v), delete: (k: string, key: string) => void kept.delete(`${k}/${key}`) };
    events.restore(undefined, sink);
    for (let i = 0; i < EVENTS_STORED + 25; i++) events.emit('node', { i });
    let stored = storedOf(kept, 'history-event');
    expect(stored.size).toBe(EVENTS_STORED);
    expect(Math.min(...[...stored.values()].map((e) => (e as { fields: { i: number } }).fields.i))).toBe(25);

    // A restarted head over that store: the newest events are its recent ones; nothing kept is missing.
    const again = new HeadEvents();
    again.restore(stored, sink);
    expect(again.recent(5).map((e) => e.fields.i)).toEqual([EVENTS_STORED + 20, EVENTS_STORED + 21, EVENTS_STORED + 22, EVENTS_STORED + 23, EVENTS_STORED + 24]);

    // A week and a bit later, the next event prunes every older one.
    vi.setSystemTime(T0 + EVENT_MAX_AGE_MS + 1);
    again.emit('job', { last: true });
    stored = storedOf(kept, 'history-event');
    expect([...stored.values()].map((e) => (e as { fields: Record<string, unknown> }).fields)).toEqual([{ last: true }]);
  });

  it('metric samples: one per METRIC_KEEP_INTERVAL_MS, the newest METRICS_STORED, none older than METRIC_MAX_AGE_MS; a restarted head takes them back', async () => {
    const { host, kept } = headParts(dir);
    const live = new LiveSource(host);
    const keeper = new HistoryKeeper(host, live);
    const step = METRIC_KEEP_INTERVAL_MS / 5;
    for (let at = T0; at < T0 + 20 * METRIC_KEEP_INTERVAL_MS; at += step) keeper.metric(point(at));
    expect(storedOf(kept, 'history-metric').size).toBe(20);
    // Past the count: the oldest go.
    for (let i = 20; i < METRICS_STORED + 10; i++) keeper.metric(point(T0 + i * METRIC_KEEP_INTERVAL_MS));
    const stored = storedOf(kept, 'history-metric');
    expect(stored.size).toBe(METRICS_STORED);
    const ats = [...stored.values()].map((p) => (p as MetricPoint).at).sort((a, b) => a - b);
    expect(ats[0]).toBe(T0 + 10 * METRIC_KEEP_INTERVAL_MS);

    // A restarted head over that store charts on from them.
    const restarted = headParts(dir, { stored: new Map([['history-metric', stored]]) });
    const keeper2 = new HistoryKeeper(restarted.host, new LiveSource(restarted.host));
    expect(keeper2.storedMetrics().map((p) => p.at)).toEqual(ats);
    // Past the age: a sample a day after the newest leaves only itself.
    const later = ats[ats.length - 1]! + METRIC_MAX_AGE_MS + 1;
    for (const [k, v] of stored) restarted.kept.set(`history-metric/${k}`, v);
    keeper2.metric(point(later));
    expect([...storedOf(restarted.kept, 'history-metric').values()].map((p) => (p as MetricPoint).at)).toEqual([later]);
    await live.close();
  });

  it("job output: the last JOB_LOG_STORED_BYTES of a job's log, for the newest JOB_LOGS_STORED jobs", async () => {
    const jobs: JobRecord[] = [];
    for (let i = 0; i < JOB_LOGS_STORED + 3; i++) {
      const logFile = join(dir, `job-${i}.log`);
      writeFileSync(logFile, i === 0 ? `${'x'.repeat(JOB_LOG_STORED_BYTES)}tail of job 0\n` : `job ${i}\n`);
      jobs.push({ id: `job-${String(i).padStart(3, '0')}`, status: 'SUCCEEDED', entrypoint: 'node job.mjs', submittedAt: T0 + i, logFile });
    }
    const { host, kept } = headParts(dir, { storedJobs: jobs });
    const live = new LiveSource(host);
    const keeper = new HistoryKeeper(host, live);
    keeper.keepJobLog('job-000');
    const first = storedOf(kept, 'history-job-log').get('job-000') as StoredJobLog;
    expect(first.data.length).toBe(JOB_LOG_STORED_BYTES);
    expect(first.data.endsWith('tail of job 0\n')).toBe(true);
    expect(first.skippedBytes).toBe('tail of job 0\n'.length);
    for (let i = 1; i < jobs.length; i++) {
      vi.setSystemTime(T0 + i * 1000);
      keeper.keepJobLog(jobs[i]!.id);
    }
    const stored = storedOf(kept, 'history-job-log');
    expect(stored.size).toBe(JOB_LOGS_STORED);
    expect([...stored.keys()].sort()[0]).toBe('job-003');
    expect((stored.get('job-202') as StoredJobLog).data).toBe('job 202\n');
    await live.close();
  });
});
