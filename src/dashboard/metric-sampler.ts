/**
 * The cluster's use over time for the charts: a sample every METRIC_SAMPLE_INTERVAL_MS, kept in a
 * ring of METRIC_POINTS_KEPT (one hour) and handed to `persist` (the history in the head store).
 */
import type { ClusterView, MetricPoint } from './api-types.js';

export const METRIC_SAMPLE_INTERVAL_MS = 2_000;
export const METRIC_POINTS_KEPT = 1_800;

/** One sample of a cluster view. */
export function metricPoint(c: ClusterView): MetricPoint {
  let cpuUsed = 0;
  let cpuTotal = 0;
  for (const n of c.nodes) {
    if (!n.alive) continue;
    cpuTotal += n.total.CPU ?? 0;
    cpuUsed += Math.max(0, (n.total.CPU ?? 0) - (n.available.CPU ?? 0));
  }
  return {
    at: c.at, tasksFinished: c.counters.tasksFinished, tasksFailed: c.counters.tasksFailed,
    running: c.tasks.running, pending: c.tasks.pending, cpuUsed, cpuTotal,
    objectStoreBytes: c.objects.storeBytes, spilledBytes: c.objects.spilledBytes,
  };
}

export class MetricSampler {
  private readonly points: MetricPoint[] = [];
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly read: () => ClusterView,
    private readonly persist: (p: MetricPoint) => void = () => {},
    /** Samples a previous head kept (the charts go on across a restart). */
    earlier: MetricPoint[] = [],
  ) {
    this.points.push(...earlier.slice(-METRIC_POINTS_KEPT));
  }

  start(intervalMs = METRIC_SAMPLE_INTERVAL_MS): void {
    this.sample();
    this.timer = setInterval(() => this.sample(), intervalMs);
    this.timer.unref();
  }

  sample(): MetricPoint {
    const p = metricPoint(this.read());
    this.points.push(p);
    if (this.points.length > METRIC_POINTS_KEPT) this.points.shift();
    this.persist(p);
    return p;
  }

  all(): MetricPoint[] {
    return [...this.points];
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
