/**
 * Keeps the dashboard's history in the head store while the cluster runs, so that
 * `shoal dashboard --history` can show it after the cluster stopped. Retention (documented in the
 * README, "Dashboard"):
 * - events: the head keeps them itself, the newest 5,000 and none older than 7 days (core head-events.ts);
 * - metric samples: one every 10 s, the newest 8,640 (24 hours), none older than 24 hours;
 * - the last cluster and tasks views: one record each, rewritten every 10 s;
 * - job output: the last 1 MiB of each job's log when it ends, for the newest 200 jobs.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import type { HeadEvent, HeadHost } from '../core/index.js';
import type { MetricPoint } from './api-types.js';
import type { LiveSource } from './live-source.js';

export const METRIC_KEEP_INTERVAL_MS = 10_000;
export const METRICS_STORED = 8_640;
export const METRIC_MAX_AGE_MS = 24 * 3600 * 1000;
export const JOB_LOG_STORED_BYTES = 1024 * 1024;
export const JOB_LOGS_STORED = 200;

/** A job's stored output: its last bytes, and how many came before them. */
export interface StoredJobLog { data: string; skippedBytes: number; at: number }

export const metricKey = (p: MetricPoint): string => String(p.at).padStart(15, '0');

export class HistoryKeeper {
  private readonly metricKeys: string[];
  private readonly jobLogs: Array<{ id: string; at: number }>;
  private lastKept = 0;
  private timer?: NodeJS.Timeout;
  private unsubscribe?: () => void;

  constructor(private readonly host: HeadHost, private readonly source: LiveSource) {
    this.metricKeys = [...host.stored('history-metric').keys()].sort();
    this.jobLogs = [...host.stored('history-job-log').entries()]
      .map(([id, v]) => ({ id, at: (v as StoredJobLog).at })).sort((a, b) => a.at - b.at);
  }

  /** The metric samples a previous head kept, oldest first (the charts go on across a restart). */
  storedMetrics(): MetricPoint[] {
    const stored = this.host.stored('history-metric');
    return this.metricKeys.map((k) => stored.get(k) as MetricPoint);
  }

  start(): void {
    this.timer = setInterval(() => this.keepViews(), METRIC_KEEP_INTERVAL_MS);
    this.timer.unref();
    this.unsubscribe = this.host.onEvent((e) => this.onEvent(e));
  }

  stop(): void {
    clearInterval(this.timer);
    this.unsubscribe?.();
  }

  /** Called with every sample; keeps one per METRIC_KEEP_INTERVAL_MS. */
  metric(p: MetricPoint): void {
    if (p.at - this.lastKept < METRIC_KEEP_INTERVAL_MS) return;
    this.lastKept = p.at;
    const key = metricKey(p);
    this.host.keep('history-metric', key, p);
    this.metricKeys.push(key);
    const oldest = String(p.at - METRIC_MAX_AGE_MS).padStart(15, '0');
    while (this.metricKeys.length > METRICS_STORED || (this.metricKeys.length && this.metricKeys[0]! < oldest)) {
      this.host.forget('history-metric', this.metricKeys.shift()!);
    }
  }

  keepViews(): void {
    this.host.keep('history-view', 'cluster', this.source.cluster());
    this.host.keep('history-view', 'tasks', this.source.tasks());
  }

  private onEvent(e: HeadEvent): void {
    const status = e.fields.status;
    if (e.event !== 'job' || !['SUCCEEDED', 'FAILED', 'STOPPED'].includes(String(status))) return;
    const id = String(e.fields.jobId);
    this.keepJobLog(id);
    this.keepViews();
  }

  /** Keeps the last JOB_LOG_STORED_BYTES of a job's output (read at once: the head may be stopping). */
  keepJobLog(id: string): void {
    let job;
    try {
      job = this.host.job(id);
    } catch {
      return;
    }
    let data = '';
    let skippedBytes = 0;
    try {
      const fd = openSync(job.logFile, 'r');
      try {
        const size = fstatSync(fd).size;
        skippedBytes = Math.max(0, size - JOB_LOG_STORED_BYTES);
        const buf = Buffer.alloc(size - skippedBytes);
        readSync(fd, buf, 0, buf.length, skippedBytes);
        data = buf.toString('utf8');
      } finally {
        closeSync(fd);
      }
    } catch {
      /* no output file: an empty log */
    }
    const at = Date.now();
    this.host.keep('history-job-log', id, { data, skippedBytes, at } satisfies StoredJobLog);
    const i = this.jobLogs.findIndex((j) => j.id === id);
    if (i >= 0) this.jobLogs.splice(i, 1);
    this.jobLogs.push({ id, at });
    while (this.jobLogs.length > JOB_LOGS_STORED) this.host.forget('history-job-log', this.jobLogs.shift()!.id);
  }
}
