/**
 * A drift monitor's run made durable: the report (from `detectDrift`, `detectDriftInProcess` or
 * `detectSeasonalDrift`) is recorded as the monitor's result, and an alert is raised when a column
 * drifted (kind `drift`) or a data-quality check fired (kind `data-quality`, naming the column). A
 * reference too small to judge gives `cannot-judge` — recorded, never alerted (nor are its columns'
 * null-rate or range checks; a missing column or changed type still is). The retraining
 * loop's `drift` policy and `shoal monitor status` read what this leaves.
 */
import type { Store } from '../../store/index.js';
import { raiseAlert, type AlertNotifier } from '../alerts/alert-notifier.js';
import type { AlertRecord, MonitorResult } from './monitor-records.js';
import { driftResult, judgeableQuality, MonitorRecords } from './monitor-records.js';
import type { DriftReport } from './drift.js';

export interface RecordDriftOptions {
  /** The window's end (epoch ms). @default Date.now() */
  at?: number;
  notifier?: AlertNotifier;
  /** Said in the alert: which baseline was used (`report.baseline.description` of a seasonal report). */
  baseline?: string;
}

/** Records `report` as monitor `monitor`'s result and alerts on drift or data quality; resolves with the result and the alerts raised. */
export async function recordDrift(store: Store, monitor: string, report: DriftReport, options: RecordDriftOptions = {}): Promise<{ result: MonitorResult; alerts: AlertRecord[] }> {
  const at = options.at ?? Date.now();
  const result = await new MonitorRecords(store).addResult(driftResult(monitor, report, at));
  const alerts: AlertRecord[] = [];
  const against = options.baseline ? ` against ${options.baseline}` : '';
  if (report.drifted.length) {
    const cols = report.columns.filter((c) => c.status === 'drift').map((c) => `${c.column} (${c.method} ${c.statistic?.toPrecision(3)} > ${c.threshold?.toPrecision(3)})`);
    alerts.push(await raiseAlert(store, { source: monitor, kind: 'drift', message: `${monitor}: drift${against} in ${cols.join(', ')}`, evidence: { resultSeq: result.seq, drifted: report.drifted }, at }, options.notifier));
  }
  const quality = judgeableQuality(report);
  if (quality.length) {
    alerts.push(await raiseAlert(store, {
      source: monitor, kind: 'data-quality', message: `${monitor}: ${quality.map((q) => `${q.kind} ${q.column}: ${q.detail}`).join('; ')}`, evidence: { resultSeq: result.seq, quality }, at,
    }, options.notifier));
  }
  return { result, alerts };
}
