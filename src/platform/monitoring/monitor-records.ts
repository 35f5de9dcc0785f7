/**
 * What monitors leave in the platform store (tables `monitor_results` and `monitor_alerts`, store
 * migration 5): each run of a monitor — a drift check, the feedback loop's online metrics — as one
 * result row (status, a one-line summary, the report itself as evidence), and every alert raised,
 * by a monitor or by retraining. `shoal monitor status|report`, the Prometheus metrics and the
 * retraining policies all read these rows, so a monitor run in one process is seen by the others.
 */
import type { Store } from '../../store/index.js';
import type { DriftReport } from './drift.js';

/** What a monitor's run concluded: `cannot-judge` when its input was too thin to say (never an alert). */
export type MonitorStatus = 'ok' | 'alert' | 'cannot-judge';

/** Which kind of monitor wrote a result. */
export type MonitorKind = 'drift' | 'online';

export interface MonitorResult {
  seq: number;
  monitor: string;
  kind: MonitorKind;
  status: MonitorStatus;
  /** Epoch ms of the window's end (or of the run). */
  at: number;
  summary: string;
  /** The monitor's report (a DriftReport, an OnlineMetricsReport). */
  evidence: unknown;
}

export type AlertSeverity = 'warning' | 'critical';

export interface AlertRecord {
  seq: number;
  /** What raised it: a monitor's name, or `retraining:<model>`. */
  source: string;
  /** `drift`, `data-quality`, `online-metric`, `retraining-failed`, ... */
  kind: string;
  severity: AlertSeverity;
  message: string;
  at: number;
  evidence: unknown;
  /** Where it was sent (`webhook http://... 200`, or the error), null when no notifier was set. */
  notified: string | null;
}

interface ResultRow { seq: number; monitor: string; kind: MonitorKind; status: MonitorStatus; at: number; summary: string; evidence_json: string }
interface AlertRow { seq: number; source: string; kind: string; severity: AlertSeverity; message: string; at: number; evidence_json: string; notified: string | null }

const toResult = (r: ResultRow): MonitorResult => ({
  seq: Number(r.seq), monitor: r.monitor, kind: r.kind, status: r.status, at: Number(r.at), summary: r.summary, evidence: JSON.parse(r.evidence_json) as unknown,
});
const toAlert = (r: AlertRow): AlertRecord => ({
  seq: Number(r.seq), source: r.source, kind: r.kind, severity: r.severity, message: r.message, at: Number(r.at),
  evidence: JSON.parse(r.evidence_json) as unknown, notified: r.notified,
});

/** A time range of rows, epoch ms, `from` inclusive, `to` exclusive. */
export interface RecordRange {
  from?: number | undefined;
  to?: number | undefined;
}

function rangeSql(r: RecordRange, column = 'at'): { sql: string; params: number[] } {
  const parts: string[] = [];
  const params: number[] = [];
  if (r.from !== undefined) {
    parts.push(`${column} >= ?`);
    params.push(r.from);
  }
  if (r.to !== undefined) {
    parts.push(`${column} < ?`);
    params.push(r.to);
  }
  return { sql: parts.join(' AND '), params };
}

/** Reads and writes the monitoring tables of one store. */
export class MonitorRecords {
  constructor(readonly store: Store) {}

  private get db() {
    return this.store.db;
  }

  async addResult(r: Omit<MonitorResult, 'seq'>): Promise<MonitorResult> {
    const row = await this.db.get<{ seq: number }>(
      `INSERT INTO monitor_results (monitor, kind, status, at, summary, evidence_json) VALUES (?, ?, ?, ?, ?, ?) RETURNING seq`,
      [r.monitor, r.kind, r.status, r.at, r.summary, JSON.stringify(r.evidence ?? null)],
    );
    return { ...r, seq: Number(row!.seq) };
  }

  /** Results (of `monitor` when given) in `range`, oldest first. */
  async results(options: RecordRange & { monitor?: string | undefined; kind?: MonitorKind | undefined } = {}): Promise<MonitorResult[]> {
    const { sql, params } = rangeSql(options);
    const where = [sql, options.monitor === undefined ? '' : 'monitor = ?', options.kind === undefined ? '' : 'kind = ?'].filter(Boolean);
    const all: Array<string | number> = [...params, ...(options.monitor === undefined ? [] : [options.monitor]), ...(options.kind === undefined ? [] : [options.kind])];
    const rows = await this.db.all<ResultRow>(`SELECT * FROM monitor_results${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY at, seq`, all);
    return rows.map(toResult);
  }

  /** The newest result of every monitor, by monitor name. */
  async latestResults(): Promise<MonitorResult[]> {
    const rows = await this.db.all<ResultRow>(
      `SELECT r.* FROM monitor_results r JOIN (SELECT monitor, max(seq) AS seq FROM monitor_results GROUP BY monitor) m ON m.seq = r.seq ORDER BY r.monitor`,
    );
    return rows.map(toResult);
  }

  async addAlert(a: Omit<AlertRecord, 'seq' | 'notified'>): Promise<AlertRecord> {
    const row = await this.db.get<{ seq: number }>(
      `INSERT INTO monitor_alerts (source, kind, severity, message, at, evidence_json, notified) VALUES (?, ?, ?, ?, ?, ?, NULL) RETURNING seq`,
      [a.source, a.kind, a.severity, a.message, a.at, JSON.stringify(a.evidence ?? null)],
    );
    return { ...a, seq: Number(row!.seq), notified: null };
  }

  async setNotified(seq: number, notified: string): Promise<void> {
    await this.db.run(`UPDATE monitor_alerts SET notified = ? WHERE seq = ?`, [notified, seq]);
  }

  /** Alerts in `range`, oldest first (the newest `limit` of them). */
  async alerts(options: RecordRange & { limit?: number | undefined } = {}): Promise<AlertRecord[]> {
    const { sql, params } = rangeSql(options);
    const rows = await this.db.all<AlertRow>(
      `SELECT * FROM monitor_alerts${sql ? ` WHERE ${sql}` : ''} ORDER BY seq DESC LIMIT ?`, [...params, options.limit ?? 1000],
    );
    return rows.map(toAlert).reverse();
  }

  /** Alerts by (source, kind), for the Prometheus counter. */
  async alertCounts(): Promise<Array<{ source: string; kind: string; severity: string; count: number }>> {
    const rows = await this.db.all<{ source: string; kind: string; severity: string; n: number }>(
      `SELECT source, kind, severity, count(*) AS n FROM monitor_alerts GROUP BY source, kind, severity ORDER BY source, kind, severity`,
    );
    return rows.map((r) => ({ source: r.source, kind: r.kind, severity: r.severity, count: Number(r.n) }));
  }
}

/** A drift report as a monitor result: `alert` when a column drifted or a data-quality alert fired, `cannot-judge` when no column could be judged. */
export function driftResult(monitor: string, report: DriftReport, at: number): Omit<MonitorResult, 'seq'> {
  const judged = report.columns.filter((c) => c.status !== 'cannot-judge');
  const quality = judgeableQuality(report);
  const status: MonitorStatus = report.drifted.length || quality.length ? 'alert' : judged.length === 0 && report.columns.length > 0 ? 'cannot-judge' : 'ok';
  const parts = [
    report.drifted.length ? `drifted: ${report.drifted.join(', ')}` : '',
    quality.length ? `quality: ${quality.map((q) => `${q.kind} ${q.column}`).join(', ')}` : '',
    status === 'cannot-judge' ? `cannot judge: ${report.columns.map((c) => (c.status === 'cannot-judge' ? `${c.column} (${c.reason})` : c.column)).join(', ')}` : '',
  ].filter(Boolean);
  return { monitor, kind: 'drift', status, at, summary: parts.join('; ') || `${judged.length} columns, no drift`, evidence: report };
}

/**
 * The data-quality alerts that stand: a missing column or a changed type always; a null rate or
 * out-of-range share only for columns whose reference was large enough to judge (a reference of five
 * rows says nothing about the range of the next thousand — cannot judge, not an alert).
 */
export function judgeableQuality(report: DriftReport): DriftReport['quality'] {
  const thin = new Set(report.columns.filter((c) => c.status === 'cannot-judge' && c.reason?.startsWith('the reference')).map((c) => c.column));
  return report.quality.filter((q) => q.kind === 'column-missing' || q.kind === 'type-changed' || !thin.has(q.column));
}
