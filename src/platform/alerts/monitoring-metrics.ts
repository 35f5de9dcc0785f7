/**
 * Prometheus metrics for every monitor, read from the platform store at scrape time (so a monitor
 * run by any process — a pipeline step, the CLI, a driver — shows up): the newest result of each
 * monitor (status, drifted columns, when), the feedback loop's online metrics per model version and
 * arm, alerts raised and retraining decisions taken. The head serves them on its own /metrics
 * (the platform extension registers this registry there); deploy/prometheus/monitoring-rules.yml
 * holds alert rules written against these names.
 */
import { Counter, Gauge, Registry } from 'prom-client';
import type { Store } from '../../store/index.js';
import type { OnlineMetricsReport } from '../feedback/online-metrics.js';
import type { DriftReport } from '../monitoring/drift.js';
import { judgeableQuality, MonitorRecords } from '../monitoring/monitor-records.js';
import { DecisionRecords } from '../retraining/decision-records.js';

/** Makes a registry whose metrics read `store` on every scrape (`store()` may reopen it; a failing store gives no samples, not a failed scrape). */
export function monitoringMetrics(store: () => Promise<Store | undefined>, registry: Registry = new Registry()): Registry {
  // One read of the store per scrape, shared by every metric's collect().
  let snapshot: Promise<Snapshot | undefined> | undefined;
  let takenAt = 0;
  const read = (): Promise<Snapshot | undefined> => {
    if (!snapshot || Date.now() - takenAt > 500) {
      takenAt = Date.now();
      snapshot = takeSnapshot(store).catch((err: unknown) => {
        process.stderr.write(`shoal monitoring metrics: the store could not be read: ${(err as Error).message}\n`);
        return undefined;
      });
    }
    return snapshot;
  };
  const gauge = (name: string, help: string, labelNames: string[], fill: (g: Gauge<string>, s: Snapshot) => void) =>
    new Gauge({
      name, help, labelNames, registers: [registry],
      async collect() {
        this.reset();
        const s = await read();
        if (s) fill(this, s);
      },
    });
  gauge('shoal_monitor_status', 'Newest result of each monitor: 0 ok, 1 alert, -1 cannot judge (too little data).', ['monitor', 'kind'], (g, s) => {
    for (const r of s.latest) g.set({ monitor: r.monitor, kind: r.kind }, r.status === 'alert' ? 1 : r.status === 'ok' ? 0 : -1);
  });
  gauge('shoal_monitor_last_result_timestamp_seconds', 'When each monitor last recorded a result.', ['monitor'], (g, s) => {
    for (const r of s.latest) g.set({ monitor: r.monitor }, r.at / 1000);
  });
  gauge('shoal_monitor_drifted_columns', 'Columns drifted in the newest drift result of each monitor.', ['monitor'], (g, s) => {
    for (const r of s.latest) if (r.kind === 'drift') g.set({ monitor: r.monitor }, (r.evidence as DriftReport | null)?.drifted.length ?? 0);
  });
  gauge('shoal_monitor_quality_alerts', 'Data-quality alerts in the newest drift result of each monitor.', ['monitor'], (g, s) => {
    for (const r of s.latest) if (r.kind === 'drift' && r.evidence) g.set({ monitor: r.monitor }, judgeableQuality(r.evidence as DriftReport).length);
  });
  const online = (name: string, help: string, pick: (x: OnlineMetricsReport['groups'][number]) => number | null) =>
    gauge(name, help, ['monitor', 'model_version', 'arm'], (g, s) => {
      for (const r of s.latest) {
        if (r.kind !== 'online') continue;
        for (const x of (r.evidence as OnlineMetricsReport).groups) {
          const v = pick(x);
          if (v !== null) g.set({ monitor: r.monitor, model_version: x.modelVersion, arm: x.arm }, v);
        }
      }
    });
  online('shoal_online_hit_rate', 'Share of judged exposures after which the user acted on a shown item within the label window.', (x) => x.hitRate);
  online('shoal_online_exposures', 'Exposures whose label window has closed (judged).', (x) => x.exposures);
  online('shoal_online_pending_exposures', 'Exposures still inside their label window.', (x) => x.pending);
  online('shoal_online_coverage', 'Distinct items shown / catalogue size.', (x) => x.coverage);
  online('shoal_online_novelty_bits', 'Mean self-information of shown items.', (x) => x.novelty);
  online('shoal_online_lift', 'Hit rate relative to the holdout (non-personalised) arm, minus 1.', (x) => x.lift);
  gauge('shoal_online_unmatched_outcomes', 'Outcomes in the newest feedback result that match no exposure.', ['monitor'], (g, s) => {
    for (const r of s.latest) if (r.kind === 'online') g.set({ monitor: r.monitor }, (r.evidence as OnlineMetricsReport).outcomes.unmatched);
  });
  const counter = (name: string, help: string, labelNames: string[], fill: (c: Counter<string>, s: Snapshot) => void) =>
    new Counter({
      name, help, labelNames, registers: [registry],
      async collect() {
        this.reset();
        const s = await read();
        if (s) fill(this, s);
      },
    });
  counter('shoal_monitor_alerts_total', 'Alerts raised (by monitors and retraining), recorded in the platform store.', ['source', 'kind', 'severity'], (c, s) => {
    for (const a of s.alerts) c.inc({ source: a.source, kind: a.kind, severity: a.severity }, a.count);
  });
  counter('shoal_retraining_decisions_total', 'Retraining decisions recorded in the platform store.', ['model', 'decision'], (c, s) => {
    for (const d of s.decisions) c.inc({ model: d.model, decision: d.decision }, d.count);
  });
  gauge('shoal_retraining_last_decision_timestamp_seconds', 'When each kind of retraining decision was last taken.', ['model', 'decision'], (g, s) => {
    for (const d of s.decisions) g.set({ model: d.model, decision: d.decision }, d.lastAt / 1000);
  });
  return registry;
}

interface Snapshot {
  latest: Awaited<ReturnType<MonitorRecords['latestResults']>>;
  alerts: Awaited<ReturnType<MonitorRecords['alertCounts']>>;
  decisions: Awaited<ReturnType<DecisionRecords['counts']>>;
}

async function takeSnapshot(open: () => Promise<Store | undefined>): Promise<Snapshot | undefined> {
  const store = await open();
  if (!store) return undefined;
  const m = new MonitorRecords(store);
  const [latest, alerts, decisions] = await Promise.all([m.latestResults(), m.alertCounts(), new DecisionRecords(store).counts()]);
  return { latest, alerts, decisions };
}
