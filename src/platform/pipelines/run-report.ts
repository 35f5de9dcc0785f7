/**
 * `shoal pipeline report RUN`: the candidate a pipeline run made against the champion (CML's role) —
 * each metric side by side with its change and whether it is better, and plots: the metrics as bars
 * and each metric's history (a training curve) as a line, as Markdown (a table and sparklines) and
 * HTML (the same table and inline SVG charts; one file, no scripts, nothing fetched).
 *
 * Candidate: the latest metrics of the run's step runs (a cached step counts with the run its
 * outputs came from), and the model version registered from one of them, if any. Champion: the
 * version the alias (default `champion`) of that model — or of `model` — points to; its metrics are
 * those of the run that logged it and, when that run is a step of a pipeline run, of that pipeline
 * run's other steps too, so both sides are measured the same way. Whether lower is better is told
 * by the metric's name (loss, error, rmse, mae, mse, latency, time, duration) unless given.
 */
import type { MetricPoint, ModelVersion, Store } from '../../store/index.js';
import { PipelineRecords, type PipelineRunRecord, type StepRecord } from './pipeline-records.js';

export interface RunReportOptions {
  /** The registered model whose champion to compare with. @default the model a step of the run registered a version of */
  model?: string | undefined;
  /** The champion's alias. @default 'champion' */
  alias?: string | undefined;
  /** Metrics where lower is better (besides those the name tells). */
  lowerIsBetter?: readonly string[] | undefined;
}

/** One side of the comparison. */
export interface ReportSide {
  /** What it is, for people: `pipeline run …`, `models:/rental@champion (version 3, run …)`. */
  label: string;
  metrics: Record<string, number>;
  /** The step run each metric came from. */
  metricRuns: Record<string, string>;
  version: ModelVersion | null;
}

export interface ReportRow {
  metric: string;
  candidate: number | null;
  champion: number | null;
  /** candidate − champion. */
  delta: number | null;
  lowerIsBetter: boolean;
  /** Whether the candidate is better (null: not comparable or equal). */
  better: boolean | null;
}

export interface RunReport {
  run: PipelineRunRecord;
  steps: StepRecord[];
  model: string | null;
  alias: string;
  candidate: ReportSide;
  champion: ReportSide | null;
  /** Why there is no champion, when there is none. */
  noChampion: string | null;
  rows: ReportRow[];
  /** Histories (more than one point) of the candidate's and the champion's metrics. */
  histories: Record<string, { candidate: MetricPoint[]; champion: MetricPoint[] }>;
}

const LOWER = /loss|error|rmse|mae|mse|latency|time|duration/i;

/** Latest metrics of a pipeline run's step runs (cached steps: of the run they were taken from). */
async function pipelineMetrics(store: Store, steps: readonly StepRecord[]): Promise<{ metrics: Record<string, number>; metricRuns: Record<string, string> }> {
  const metrics: Record<string, number> = {};
  const metricRuns: Record<string, string> = {};
  for (const s of steps) {
    const runId = s.runId ?? s.cachedFrom;
    if (!runId) continue;
    const info = await store.getRunInfo(runId).catch(() => undefined);
    if (!info) continue;
    for (const [k, v] of Object.entries(info.metrics)) {
      metrics[k] = v;
      metricRuns[k] = runId;
    }
  }
  return { metrics, metricRuns };
}

/** Builds the report of pipeline run `runId` (see the file header). */
export async function buildRunReport(store: Store, runId: string, options: RunReportOptions = {}): Promise<RunReport> {
  const records = new PipelineRecords(store);
  const run = await records.getRun(runId);
  const steps = await records.getSteps(run.id);
  const alias = options.alias ?? 'champion';
  const cand = await pipelineMetrics(store, steps);
  const stepRuns = new Set(steps.flatMap((s) => [s.runId, s.cachedFrom]).filter((x): x is string => x !== null));

  // The version this run registered, if any (of `model` when given).
  let candidateVersion: ModelVersion | null = null;
  const models = options.model !== undefined ? [options.model] : (await store.listModels()).map((m) => m.name);
  for (const name of models) {
    const versions = await store.listModelVersions(name).catch(() => []);
    const mine = versions.filter((v) => v.runId !== null && stepRuns.has(v.runId)).sort((a, b) => b.version - a.version)[0];
    if (mine) {
      candidateVersion = mine;
      break;
    }
  }
  const model = options.model ?? candidateVersion?.name ?? null;
  const candidate: ReportSide = {
    label: `pipeline run ${run.id}${candidateVersion ? ` (registered models:/${candidateVersion.name}/${candidateVersion.version})` : ''}`,
    metrics: cand.metrics, metricRuns: cand.metricRuns, version: candidateVersion,
  };

  let champion: ReportSide | null = null;
  let noChampion: string | null = null;
  if (model === null) {
    noChampion = 'the run registered no model version; pass --model NAME to compare with that model\'s champion';
  } else {
    const registered = await store.getModel(model).catch(() => undefined);
    const number = registered?.aliases[alias];
    if (!registered) noChampion = `no registered model '${model}'`;
    else if (number === undefined) noChampion = `model '${model}' has no '${alias}' alias yet: the candidate has nothing to beat`;
    else {
      const version = await store.getModelVersion(model, number);
      let side = { metrics: {} as Record<string, number>, metricRuns: {} as Record<string, string> };
      if (version.runId) {
        const info = await store.getRunInfo(version.runId);
        const parent = info.parentRunId ? await records.getRun(info.parentRunId).catch(() => undefined) : undefined;
        side = parent ? await pipelineMetrics(store, await records.getSteps(parent.id)) : { metrics: info.metrics, metricRuns: Object.fromEntries(Object.keys(info.metrics).map((k) => [k, info.id])) };
      }
      champion = { label: `models:/${model}@${alias} (version ${number}${version.runId ? `, run ${version.runId}` : ''})`, ...side, version };
      if (candidateVersion && candidateVersion.name === model && candidateVersion.version === number) noChampion = 'the candidate is the champion already';
    }
  }

  const lower = new Set(options.lowerIsBetter ?? []);
  const keys = [...new Set([...Object.keys(candidate.metrics), ...Object.keys(champion?.metrics ?? {})])].sort();
  const rows: ReportRow[] = keys.map((metric) => {
    const c = candidate.metrics[metric] ?? null;
    const h = champion?.metrics[metric] ?? null;
    const lowerIsBetter = lower.has(metric) || LOWER.test(metric);
    const delta = c !== null && h !== null ? c - h : null;
    const better = delta === null || delta === 0 ? null : lowerIsBetter ? delta < 0 : delta > 0;
    return { metric, candidate: c, champion: h, delta, lowerIsBetter, better };
  });

  const histories: RunReport['histories'] = {};
  for (const metric of keys) {
    const c = candidate.metricRuns[metric] ? await store.getMetricHistory(candidate.metricRuns[metric], metric) : [];
    const h = champion?.metricRuns[metric] ? await store.getMetricHistory(champion.metricRuns[metric], metric) : [];
    if (c.length > 1 || h.length > 1) histories[metric] = { candidate: c, champion: h };
  }
  return { run, steps, model, alias, candidate, champion, noChampion, rows, histories };
}

const fmt = (v: number | null): string => (v === null ? '–' : Math.abs(v) >= 1000 || (Math.abs(v) < 0.001 && v !== 0) ? v.toExponential(3) : String(Number(v.toFixed(4))));
const verdict = (r: ReportRow): string => (r.better === null ? (r.delta === 0 ? '=' : '') : r.better ? '✅ better' : '❌ worse');
const SPARK = '▁▂▃▄▅▆▇█';

function sparkline(points: readonly MetricPoint[]): string {
  if (!points.length) return '';
  const vs = points.map((p) => p.value);
  const lo = Math.min(...vs);
  const hi = Math.max(...vs);
  return vs.map((v) => SPARK[hi === lo ? 3 : Math.round(((v - lo) / (hi - lo)) * 7)]).join('');
}

function summaryLine(r: RunReport): string {
  if (!r.champion) return `No champion to compare with: ${r.noChampion}.`;
  const compared = r.rows.filter((x) => x.better !== null || x.delta === 0);
  const better = compared.filter((x) => x.better === true).length;
  return `${better} of ${compared.length} shared metrics better than the champion${r.noChampion ? ` (${r.noChampion})` : ''}.`;
}

/** The report as Markdown (a PR comment, CML-style). */
export function reportMarkdown(r: RunReport): string {
  const lines = [
    `## Pipeline run ${r.run.id} — ${r.run.pipeline} (${r.run.status})`,
    '',
    `- **Candidate**: ${r.candidate.label}`,
    `- **Champion**: ${r.champion ? r.champion.label : `none — ${r.noChampion}`}`,
    '',
    summaryLine(r),
    '',
    '| metric | candidate | champion | Δ | |',
    '| --- | ---: | ---: | ---: | --- |',
    ...r.rows.map((x) => `| ${x.metric}${x.lowerIsBetter ? ' ↓' : ''} | ${fmt(x.candidate)} | ${fmt(x.champion)} | ${x.delta === null ? '' : `${x.delta > 0 ? '+' : ''}${fmt(x.delta)}`} | ${verdict(x)} |`),
  ];
  const hist = Object.entries(r.histories);
  if (hist.length) {
    lines.push('', '### Histories', '', '| metric | candidate | champion |', '| --- | --- | --- |');
    for (const [k, h] of hist) lines.push(`| ${k} | \`${sparkline(h.candidate)}\` | \`${sparkline(h.champion)}\` |`);
  }
  lines.push('', `_↓: lower is better. Steps: ${r.steps.filter((s) => s.step === s.node).map((s) => `${s.step} ${s.state}`).join(', ')}._`, '');
  return lines.join('\n');
}

const esc = (s: string): string => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

function barsSvg(row: ReportRow): string {
  const vals = [row.candidate, row.champion].map((v) => v ?? 0);
  const max = Math.max(...vals.map(Math.abs), 1e-12);
  const bar = (v: number, y: number, color: string, label: string): string =>
    `<rect x="90" y="${y}" width="${((Math.abs(v) / max) * 200).toFixed(1)}" height="14" fill="${color}"/><text x="0" y="${y + 11}">${label}</text><text x="${(95 + (Math.abs(v) / max) * 200).toFixed(1)}" y="${y + 11}">${esc(fmt(v))}</text>`;
  return `<svg class="bars" width="360" height="40" role="img" aria-label="${esc(row.metric)}">${bar(vals[0]!, 2, '#2b7bb9', 'candidate')}${row.champion === null ? '' : bar(vals[1]!, 22, '#999', 'champion')}</svg>`;
}

function lineSvg(h: { candidate: MetricPoint[]; champion: MetricPoint[] }): string {
  const all = [...h.candidate, ...h.champion];
  const xs = all.map((p) => p.step);
  const ys = all.map((p) => p.value);
  const [x0, x1, y0, y1] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
  const px = (x: number): number => 10 + ((x - x0) / (x1 - x0 || 1)) * 340;
  const py = (y: number): number => 110 - ((y - y0) / (y1 - y0 || 1)) * 100;
  const path = (pts: MetricPoint[], color: string): string =>
    pts.length ? `<polyline fill="none" stroke="${color}" stroke-width="2" points="${pts.map((p) => `${px(p.step).toFixed(1)},${py(p.value).toFixed(1)}`).join(' ')}"/>` : '';
  return `<svg class="line" width="360" height="120" role="img">${path(h.champion, '#999')}${path(h.candidate, '#2b7bb9')}<text x="10" y="10">${esc(fmt(y1))}</text><text x="10" y="118">${esc(fmt(y0))}</text></svg>`;
}

/** The report as one self-contained HTML page (inline SVG charts). */
export function reportHtml(r: RunReport): string {
  const rows = r.rows
    .map((x) => `<tr><td>${esc(x.metric)}${x.lowerIsBetter ? ' ↓' : ''}</td><td>${fmt(x.candidate)}</td><td>${fmt(x.champion)}</td><td>${x.delta === null ? '' : `${x.delta > 0 ? '+' : ''}${fmt(x.delta)}`}</td><td class="${x.better === true ? 'better' : x.better === false ? 'worse' : ''}">${verdict(x)}</td><td>${barsSvg(x)}</td></tr>`)
    .join('\n');
  const hist = Object.entries(r.histories)
    .map(([k, h]) => `<figure><figcaption>${esc(k)} (<span class="c">candidate</span>, <span class="h">champion</span>)</figcaption>${lineSvg(h)}</figure>`)
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Pipeline run ${esc(r.run.id)} — report</title>
<style>body{font:14px system-ui,sans-serif;margin:2em;color:#222}table{border-collapse:collapse}td,th{padding:4px 10px;border-bottom:1px solid #ddd;text-align:right}
td:first-child,th:first-child{text-align:left}.better{color:#1a7f37}.worse{color:#cf222e}svg text{font:11px system-ui,sans-serif}.c{color:#2b7bb9}.h{color:#777}figure{display:inline-block;margin:1em}</style>
</head><body>
<h1>Pipeline run ${esc(r.run.id)} — ${esc(r.run.pipeline)} (${esc(r.run.status)})</h1>
<p><b>Candidate</b>: ${esc(r.candidate.label)}<br><b>Champion</b>: ${esc(r.champion ? r.champion.label : `none — ${r.noChampion}`)}</p>
<p>${esc(summaryLine(r))}</p>
<table><thead><tr><th>metric</th><th>candidate</th><th>champion</th><th>Δ</th><th></th><th></th></tr></thead><tbody>
${rows}
</tbody></table>
${hist ? `<h2>Histories</h2>\n${hist}` : ''}
<p><small>↓: lower is better.</small></p>
</body></html>
`;
}
