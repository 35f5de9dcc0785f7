/**
 * One run of the feedback-loop monitor: read the exposure log over a window, join it with the
 * outcomes that have arrived (online-metrics.ts), and record the report as a monitor result in the
 * platform store — `cannot-judge` while no exposure's label window has closed, else `ok` (an
 * online-metric drop is judged by the retraining policy that reads these results, against the
 * champion's earlier ones). Outcomes without a matching exposure are in the summary.
 */
import type { Store } from '../../store/index.js';
import { MonitorRecords, type MonitorResult } from '../monitoring/monitor-records.js';
import { readExposures, type ExposureSource } from './exposure-source.js';
import { onlineMetrics, type Exposure, type OnlineMetricsOptions, type OnlineMetricsReport, type Outcome } from './online-metrics.js';

export interface FeedbackMonitorOptions extends OnlineMetricsOptions {
  /** The monitor's name in the store. @default 'feedback' */
  monitor?: string;
  /** The exposure log, or the exposures themselves. */
  exposures: ExposureSource | readonly Exposure[];
  /** Outcomes that arrived (new stays, reviews, bookings). */
  outcomes: readonly Outcome[];
  /** Exposures from this time (epoch ms). @default all */
  from?: number;
}

/** Computes the online metrics and records them; resolves with the report and the stored result. */
export async function runFeedbackMonitor(store: Store, options: FeedbackMonitorOptions): Promise<{ report: OnlineMetricsReport; result: MonitorResult }> {
  const { monitor = 'feedback', exposures: source, outcomes, from, ...metricOptions } = options;
  const asOf = metricOptions.asOf ?? Date.now();
  const exposures = Array.isArray(source) ? (source as readonly Exposure[]) : await readExposures(source as ExposureSource, { from, to: asOf });
  const report = onlineMetrics(exposures, outcomes, { ...metricOptions, asOf });
  const judged = report.groups.reduce((s, g) => s + g.exposures, 0);
  const rates = report.groups.filter((g) => g.hitRate !== null).map((g) => `${g.modelVersion}/${g.arm} hit rate ${(g.hitRate! * 100).toFixed(2)}% of ${g.exposures}`);
  const unmatched = report.outcomes.unmatched ? `; ${report.outcomes.unmatched} of ${report.outcomes.total} outcomes match no exposure` : '';
  const summary = judged === 0
    ? `no exposure's ${Math.round(report.maturityMs / 86_400_000)}-day label window has closed yet (${report.groups.reduce((s, g) => s + g.pending, 0)} pending)${unmatched}`
    : `${rates.join('; ')}${unmatched}`;
  const result = await new MonitorRecords(store).addResult({ monitor, kind: 'online', status: judged === 0 ? 'cannot-judge' : 'ok', at: asOf, summary, evidence: report });
  return { report, result };
}
