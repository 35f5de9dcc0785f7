/**
 * What `shoal runs compare` writes: two runs side by side — params that differ, each metric's
 * latest value in both with the difference, and (HTML) each shared metric's history as an inline
 * SVG plot — the report CML posts on a pull request. Markdown for a PR comment, HTML for a browser;
 * every value from the runs is escaped.
 */
import type { MetricPoint, RunComparison, RunDetail } from '../store/index.js';

/** Two runs and the histories of the metrics both logged (Store.compareRuns). */
export type CompareInput = RunComparison;

const num = (v: number | undefined): string => (v === undefined ? '—' : Number.isInteger(v) ? String(v) : v.toPrecision(5));

/** Rows of the metric table: key, value in A, in B, B − A, relative change. */
export function metricRows(a: RunDetail, b: RunDetail): string[][] {
  const keys = [...new Set([...Object.keys(a.metrics), ...Object.keys(b.metrics)])].sort();
  return keys.map((k) => {
    const x = a.metrics[k];
    const y = b.metrics[k];
    const diff = x !== undefined && y !== undefined ? y - x : undefined;
    const rel = diff !== undefined && x !== 0 ? `${diff >= 0 ? '+' : ''}${((diff / Math.abs(x!)) * 100).toFixed(1)}%` : '—';
    return [k, num(x), num(y), diff === undefined ? '—' : `${diff >= 0 ? '+' : ''}${num(diff)}`, rel];
  });
}

/** Rows of the params table: only params whose values differ (or exist in one run only). */
export function paramRows(a: RunDetail, b: RunDetail): string[][] {
  const keys = [...new Set([...Object.keys(a.params), ...Object.keys(b.params)])].sort();
  return keys.filter((k) => a.params[k] !== b.params[k]).map((k) => [k, a.params[k] ?? '—', b.params[k] ?? '—']);
}

const mdCell = (s: string): string => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
const mdTable = (head: string[], rows: string[][]): string =>
  [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.map(mdCell).join(' | ')} |`)].join('\n');

export function compareMarkdown({ a, b }: CompareInput): string {
  const head = (r: RunDetail): string => `\`${r.id}\` ${mdCell(r.name)} (${r.experimentName}, ${r.status})`;
  const params = paramRows(a, b);
  return [
    `## Run comparison`,
    '',
    `- **A**: ${head(a)}`,
    `- **B**: ${head(b)}`,
    '',
    '### Metrics (latest value)',
    '',
    mdTable(['metric', 'A', 'B', 'B − A', 'change'], metricRows(a, b)),
    '',
    '### Params that differ',
    '',
    params.length ? mdTable(['param', 'A', 'B'], params) : '_none_',
    '',
  ].join('\n');
}

const esc = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** An SVG line plot of two series (step → value). */
function plot(key: string, a: MetricPoint[], b: MetricPoint[]): string {
  const W = 360;
  const H = 160;
  const pts = [...a, ...b];
  const [x0, x1] = [Math.min(...pts.map((p) => p.step)), Math.max(...pts.map((p) => p.step))];
  const [y0, y1] = [Math.min(...pts.map((p) => p.value)), Math.max(...pts.map((p) => p.value))];
  const sx = (s: number): number => 30 + ((s - x0) / (x1 - x0 || 1)) * (W - 40);
  const sy = (v: number): number => H - 20 - ((v - y0) / (y1 - y0 || 1)) * (H - 40);
  const line = (ps: MetricPoint[], color: string): string =>
    ps.length === 1
      ? `<circle cx="${sx(ps[0]!.step).toFixed(1)}" cy="${sy(ps[0]!.value).toFixed(1)}" r="3" fill="${color}"/>`
      : `<polyline fill="none" stroke="${color}" stroke-width="1.5" points="${ps.map((p) => `${sx(p.step).toFixed(1)},${sy(p.value).toFixed(1)}`).join(' ')}"/>`;
  return `<figure><figcaption>${esc(key)}</figcaption><svg width="${W}" height="${H}" role="img" aria-label="${esc(key)} by step">
<text x="2" y="14" font-size="10">${esc(num(y1))}</text><text x="2" y="${H - 22}" font-size="10">${esc(num(y0))}</text>
${line(a, '#1f77b4')}${line(b, '#d62728')}</svg></figure>`;
}

export function compareHtml(input: CompareInput): string {
  const { a, b } = input;
  const table = (head: string[], rows: string[][]): string =>
    `<table><tr>${head.map((h) => `<th>${esc(h)}</th>`).join('')}</tr>${rows.map((r) => `<tr>${r.map((c) => `<td>${esc(c)}</td>`).join('')}</tr>`).join('')}</table>`;
  const params = paramRows(a, b);
  const plots = Object.entries(input.histories).map(([k, h]) => plot(k, h.a, h.b)).join('\n');
  return `<!doctype html><html><head><meta charset="utf-8"><title>Run comparison</title>
<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}
figure{display:inline-block;margin:0 1em 1em 0}.a{color:#1f77b4}.b{color:#d62728}</style></head><body>
<h1>Run comparison</h1>
<p><span class="a">A</span>: <code>${esc(a.id)}</code> ${esc(a.name)} (${esc(a.experimentName)}, ${esc(a.status)})<br>
<span class="b">B</span>: <code>${esc(b.id)}</code> ${esc(b.name)} (${esc(b.experimentName)}, ${esc(b.status)})</p>
<h2>Metrics (latest value)</h2>${table(['metric', 'A', 'B', 'B − A', 'change'], metricRows(a, b))}
<h2>Params that differ</h2>${params.length ? table(['param', 'A', 'B'], params) : '<p>none</p>'}
<h2>Metric histories</h2>${plots || '<p>no metric is logged by both runs</p>'}
</body></html>
`;
}
