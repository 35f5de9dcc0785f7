/**
 * What `shoal monitor status` and `shoal monitor report` show, built from the platform store alone
 * (so they work from any machine that reaches the store, with no cluster): every monitor's newest
 * result, alerts, and retraining decisions with their reasons; the report adds, over a time range,
 * each monitor's history as inline SVG plots — online hit rate per (version, arm), drifted columns
 * per drift monitor — with retraining decisions marked on the time axis.
 */
import type { Store } from '../../store/index.js';
import type { OnlineMetricsReport } from '../feedback/online-metrics.js';
import { DecisionRecords, type RetrainingDecision } from '../retraining/decision-records.js';
import type { DriftReport } from './drift.js';
import { MonitorRecords, type AlertRecord, type MonitorResult } from './monitor-records.js';

export interface MonitorStatus {
  monitors: MonitorResult[];
  alerts: AlertRecord[];
  decisions: RetrainingDecision[];
}

/** The newest result of every monitor, the newest `limit` alerts and decisions. */
export async function monitorStatus(store: Store, options: { limit?: number; model?: string } = {}): Promise<MonitorStatus> {
  const records = new MonitorRecords(store);
  const limit = options.limit ?? 10;
  const [monitors, alerts, decisions] = await Promise.all([
    records.latestResults(), records.alerts({ limit }), new DecisionRecords(store).list({ model: options.model, limit }),
  ]);
  return { monitors, alerts, decisions };
}

export interface MonitorReport {
  from: number;
  to: number;
  results: MonitorResult[];
  alerts: AlertRecord[];
  decisions: RetrainingDecision[];
}

/** Everything recorded in [from, to). */
export async function buildMonitorReport(store: Store, range: { from: number; to: number }): Promise<MonitorReport> {
  const records = new MonitorRecords(store);
  const [results, alerts, decisions] = await Promise.all([
    records.results(range), records.alerts({ ...range, limit: 100_000 }), new DecisionRecords(store).list({ ...range, limit: 100_000 }),
  ]);
  return { ...range, results, alerts, decisions };
}

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const iso = (ms: number): string => new Date(ms).toISOString().replace('T', ' ').slice(0, 16);
const COLORS = ['#2b7bb9', '#d95f02', '#1b9e77', '#7570b3', '#e7298a', '#66a61e', '#999999'];

interface Series { label: string; points: Array<[number, number]> }

/** A line plot over [from, to): one path per series, decisions as vertical marks. */
function plot(title: string, series: Series[], from: number, to: number, decisions: RetrainingDecision[], yLabel: (v: number) => string): string {
  const W = 640;
  const H = 200;
  const L = 50;
  const B = 20;
  const ys = series.flatMap((s) => s.points.map((p) => p[1]));
  const y0 = Math.min(0, ...ys);
  const y1 = Math.max(...ys, y0 + 1e-9);
  const x = (t: number) => L + ((t - from) / Math.max(1, to - from)) * (W - L - 10);
  const y = (v: number) => H - B - ((v - y0) / (y1 - y0)) * (H - B - 10);
  const paths = series.map((s, i) => {
    const c = COLORS[i % COLORS.length]!;
    const d = s.points.map((p, j) => `${j ? 'L' : 'M'}${x(p[0]).toFixed(1)},${y(p[1]).toFixed(1)}`).join('');
    const dots = s.points.map((p) => `<circle cx="${x(p[0]).toFixed(1)}" cy="${y(p[1]).toFixed(1)}" r="2.5" fill="${c}"><title>${esc(`${s.label} ${iso(p[0])}: ${yLabel(p[1])}`)}</title></circle>`).join('');
    return `<path d="${d}" fill="none" stroke="${c}" stroke-width="1.5"/>${dots}`;
  }).join('');
  const marks = decisions.filter((d) => d.decision !== 'canary-waiting').map((d) => {
    const color = d.decision === 'promoted' ? '#1a7f37' : d.decision === 'rolled-back' || d.decision === 'retrain-failed' ? '#cf222e' : '#888';
    return `<line x1="${x(d.at).toFixed(1)}" x2="${x(d.at).toFixed(1)}" y1="10" y2="${H - B}" stroke="${color}" stroke-dasharray="3,3"><title>${esc(`${iso(d.at)} ${d.model}: ${d.decision} — ${d.reason}`)}</title></line>`;
  }).join('');
  const legend = series.map((s, i) => `<span style="color:${COLORS[i % COLORS.length]}">■ ${esc(s.label)}</span>`).join(' ');
  return `<figure><figcaption>${esc(title)} ${legend}</figcaption><svg width="${W}" height="${H}" role="img" aria-label="${esc(title)}">`
    + `<line x1="${L}" x2="${W - 10}" y1="${H - B}" y2="${H - B}" stroke="#ccc"/><text x="2" y="14">${esc(yLabel(y1))}</text><text x="2" y="${H - B}">${esc(yLabel(y0))}</text>`
    + `<text x="${L}" y="${H - 4}">${esc(iso(from))}</text><text x="${W - 120}" y="${H - 4}">${esc(iso(to))}</text>${marks}${paths}</svg></figure>`;
}

/** The report as one self-contained HTML page (inline SVG, no scripts). */
export function monitorReportHtml(r: MonitorReport): string {
  const byMonitor = new Map<string, MonitorResult[]>();
  for (const x of r.results) byMonitor.set(x.monitor, [...(byMonitor.get(x.monitor) ?? []), x]);
  const figures: string[] = [];
  for (const [monitor, results] of byMonitor) {
    if (results[0]!.kind === 'online') {
      const series = new Map<string, Series>();
      for (const res of results) {
        for (const g of (res.evidence as OnlineMetricsReport).groups) {
          if (g.hitRate === null) continue;
          const label = `${g.modelVersion}/${g.arm}`;
          if (!series.has(label)) series.set(label, { label, points: [] });
          series.get(label)!.points.push([res.at, g.hitRate]);
        }
      }
      figures.push(plot(`${monitor}: hit rate by model version / arm`, [...series.values()], r.from, r.to, r.decisions, (v) => `${(v * 100).toFixed(1)}%`));
      const unmatched = { label: 'outcomes without exposure', points: results.map((res): [number, number] => [res.at, (res.evidence as OnlineMetricsReport).outcomes.unmatched]) };
      figures.push(plot(`${monitor}: outcomes with no matching exposure`, [unmatched], r.from, r.to, r.decisions, (v) => String(Math.round(v))));
    } else {
      const drifted = { label: 'drifted columns', points: results.map((res): [number, number] => [res.at, (res.evidence as DriftReport | null)?.drifted.length ?? 0]) };
      figures.push(plot(`${monitor}: drifted columns`, [drifted], r.from, r.to, r.decisions, (v) => String(Math.round(v))));
    }
  }
  const rows = (items: string[][]) => items.map((c) => `<tr>${c.map((v) => `<td>${esc(v)}</td>`).join('')}</tr>`).join('');
  const results = rows(r.results.map((x) => [iso(x.at), x.monitor, x.kind, x.status, x.summary]));
  const alerts = rows(r.alerts.map((a) => [iso(a.at), a.source, a.kind, a.severity, a.message, a.notified ?? '']));
  const decisions = rows(r.decisions.map((d) => [iso(d.at), d.model, d.decision, d.policy ?? '', d.candidateVersion === null ? '' : `v${d.candidateVersion}`, d.championVersion === null ? '' : `v${d.championVersion}`, d.reason]));
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>shoal monitoring ${esc(iso(r.from))} – ${esc(iso(r.to))}</title>
<style>body{font:14px system-ui,sans-serif;margin:2em;max-width:1100px}table{border-collapse:collapse;margin:1em 0}td,th{border-bottom:1px solid #ddd;padding:3px 8px;text-align:left;vertical-align:top}svg text{font:11px system-ui,sans-serif}figure{margin:1em 0}</style></head><body>
<h1>Monitoring ${esc(iso(r.from))} – ${esc(iso(r.to))} (UTC)</h1>
<p>${r.results.length} monitor results, ${r.alerts.length} alerts, ${r.decisions.length} retraining decisions. Dashed lines: retraining decisions (green promoted, red rolled back or failed).</p>
${figures.join('\n') || '<p>No monitor results in this range.</p>'}
<h2>Retraining decisions</h2><table><tr><th>time</th><th>model</th><th>decision</th><th>policy</th><th>candidate</th><th>champion</th><th>reason</th></tr>${decisions}</table>
<h2>Alerts</h2><table><tr><th>time</th><th>source</th><th>kind</th><th>severity</th><th>message</th><th>notified</th></tr>${alerts}</table>
<h2>Monitor results</h2><table><tr><th>time</th><th>monitor</th><th>kind</th><th>status</th><th>summary</th></tr>${results}</table>
</body></html>
`;
}
