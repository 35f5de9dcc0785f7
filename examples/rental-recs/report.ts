/** The job's report: a short text summary, and a self-contained HTML page with inline SVG charts. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describeSource } from './city.js';
import type { Explanation } from './explain.js';
import type { JobResult } from './job.js';
import type { Interval, Paired } from './stats.js';

const esc = (s: string): string => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
const f4 = (v: number | undefined): string => (v === undefined || Number.isNaN(v) ? '-' : v.toFixed(4));
const secs = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;

function table(header: string[], rows: string[][]): string[] {
  const w = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]): string => '  ' + r.map((c, i) => (i === 0 ? c.padEnd(w[i]!) : c.padStart(w[i]!))).join('  ');
  return [line(header), '  ' + w.map((n) => '-'.repeat(n)).join('  '), ...rows.map(line)];
}

export function metricsHeader(r: JobResult): string[] {
  return ['model', `HR@${r.k}`, `NDCG@${r.k}`, `Recall@${r.k}`, ...(r.feedback === 'explicit' ? ['RMSE'] : []), 'users'];
}

export function metricsRows(r: JobResult): string[][] {
  return r.metrics.map((m) => [m.model, f4(m.hr), f4(m.ndcg), f4(m.recall), ...(r.feedback === 'explicit' ? [f4(m.rmse)] : []), String(m.users)]);
}

export function textReport(r: JobResult, htmlPath?: string): string {
  const total = r.stages.reduce((s, x) => s + x.ms, 0);
  const out = [
    '',
    `rental-recs report (${r.feedback} feedback; data: ${r.source ? describeSource(r.source) : '(a table folder without a manifest)'} in ${r.target})`,
    '',
    'Data',
    ...table(['table / set', 'rows'], Object.entries(r.sizes).map(([k, v]) => [k, v.toLocaleString('en-US')])),
    '',
    'Time per stage',
    ...table(['stage', 'time'], [...r.stages.map((s) => [s.name, secs(s.ms)]), ['total', secs(total)]]),
    '',
    `Grid search (validation ${r.gridMetric}; best: rank ${r.best.rank}, regParam ${r.best.regParam}, maxIter ${r.best.maxIter})`,
    ...table(['rank', 'regParam', 'maxIter', r.gridMetric, 'time'], r.grid.map((g) => [String(g.rank), String(g.regParam), String(g.maxIter), f4(g.metric), secs(g.ms)])),
    '',
    `Time split: train before ${r.split.validationCut}, validation ${r.split.validationCut} to ${r.split.testCut}, test ${r.split.testCut} to ${r.split.lastDay} (the last ${r.split.validationFraction * 100}% and ${r.split.testFraction * 100}% of the stays)`,
    '',
    `Candidates (NDCG@${r.k} and HR@${r.k}, mean [95% bootstrap CI]; users with history and a new listing in the window; full catalogue minus their history)`,
    ...table(candidateHeader(r), candidateRows(r)),
    '',
    `Served: ${r.served.name} — ${r.served.reason}`,
    '',
    `Paired tests on test NDCG@${r.k} against the best simple baseline on validation (${r.served.bestSimple})`,
    ...table(['candidate', 'diff', '95% CI', 'ratio', 'ratio 95% CI', 'p'], r.comparisons.test.map(pairRow)),
    '',
    ...(r.comparisons.validation.length ? [`Paired tests on validation NDCG@${r.k} (the selection rule)`, ...table(['candidate', 'diff', '95% CI', 'ratio', 'ratio 95% CI', 'p'], r.comparisons.validation.map(pairRow)), ''] : []),
    `Repeat stays (not ranking targets): ${r.repeats.repeatStays} of ${r.repeats.windowStays} test-window stays, by ${r.repeats.repeatUsers} of ${r.repeats.warmUsers} users with history; ${r.repeats.repeatOfLast} in the listing of the user's last stay.`,
    `Cold users (no stay before the test cut): ${r.coldUsers.users}, served by ${r.coldUsers.model}: HR@${r.k} ${ci(r.coldUsers.hr)}, NDCG@${r.k} ${ci(r.coldUsers.ndcg)}.`,
    '',
    ...(r.feedback === 'explicit' ? ['Test metrics (explicit ratings)', ...table(metricsHeader(r), metricsRows(r)), ''] : []),
    ...coldStartLines(r),
    ...r.curves.map((c) => `Training loss per epoch, ${c.name}: ${c.loss.map((l) => l.toFixed(4)).join(' → ')}`),
    '',
    `Recommendations: ${r.recommendations.rows.toLocaleString('en-US')} rows (top ${r.recommendations.rows / Math.max(1, r.recommendations.users)} for ${r.recommendations.users.toLocaleString('en-US')} users, by ${r.recommendations.model}) → ${r.recommendations.where}`,
    ...(htmlPath ? [`HTML report: ${htmlPath}`] : []),
    ...r.notes.map((n) => `note: ${n}`),
  ];
  return out.join('\n');
}

const ci = (v: Interval): string => `${f4(v.mean)} [${f4(v.lo)}, ${f4(v.hi)}]`;
const f3 = (v: number): string => (Number.isFinite(v) ? v.toFixed(3) : '-');

export function candidateHeader(r: JobResult): string[] {
  return ['candidate', 'kind', `val NDCG@${r.k}`, `test NDCG@${r.k}`, `test HR@${r.k}`, 'test users', 'served'];
}

export function candidateRows(r: JobResult): string[][] {
  return r.candidates.map((c) => [c.name, c.kind, ci(c.validation.ndcg), c.test ? ci(c.test.ndcg) : '-', c.test ? ci(c.test.hr) : '-', String(c.test?.users ?? '-'), c.id === r.served.id ? 'yes' : '']);
}

const pairRow = (p: Paired): string[] => [p.a, f4(p.diff.mean), `[${f4(p.diff.lo)}, ${f4(p.diff.hi)}]`, f3(p.ratio.mean), `[${f3(p.ratio.lo)}, ${f3(p.ratio.hi)}]`, p.p < 0.001 ? '<0.001' : p.p.toFixed(3)];

function coldStartText(r: JobResult): string[] {
  const c = r.coldStart;
  if (!c) return [];
  const lines = [`Simulation: ${c.hiddenListings} listings (${c.share * 100}% of those with stays before the test cut, a seeded draw) hidden from every fit; ${c.users} test user(s) went on to stay in one (${c.pairs} pairs).`];
  for (const m of c.models) lines.push(`${m.model}: the hidden listings rank at percentile ${ci(m.percentile)} of the user's unrated listings (0 = top; blind: 0.5).`);
  return lines;
}

/** The figures of the report as JSON (schema in README.md, "out/report.json"). */
export function reportJson(r: JobResult): unknown {
  return {
    schema: 'shoal.rental-recs.report/1',
    data: { source: r.source ?? null, target: r.target, feedback: r.feedback, sizes: r.sizes },
    split: r.split,
    k: r.k,
    candidates: r.candidates,
    served: r.served,
    comparisons: r.comparisons,
    repeats: r.repeats,
    coldUsers: r.coldUsers,
    coldStart: r.coldStart ?? null,
    hybridWeights: r.hybridWeights,
    hybridImportance: r.hybridImportance,
    explanations: r.explanations,
    als: { grid: r.grid, gridMetric: r.gridMetric, best: r.best },
    recommendations: r.recommendations,
    stages: r.stages,
    notes: r.notes,
  };
}

export function writeJsonReport(r: JobResult, outDir: string): string {
  mkdirSync(outDir, { recursive: true });
  const path = join(outDir, 'report.json');
  writeFileSync(path, JSON.stringify(reportJson(r), null, 2));
  return path;
}

function coldStartLines(r: JobResult): string[] {
  const lines = coldStartText(r);
  return lines.length ? ['Cold start', ...lines.map((l) => `  ${l}`), ''] : [];
}

const COLORS = ['#2f6fb3', '#e08a2c', '#3a9a5b', '#9b59b6'];

/** Loss per epoch, one line per neural fit. */
function curvesSvg(r: JobResult): string {
  const W = 560;
  const H = 220;
  const all = r.curves.flatMap((c) => c.loss);
  if (all.length === 0) return '<p>No training curves (the neural model was skipped).</p>';
  const lo = Math.min(...all);
  const hi = Math.max(...all);
  const span = hi - lo || 1;
  const maxEpochs = Math.max(2, ...r.curves.map((c) => c.loss.length));
  const px = (e: number): number => 50 + ((W - 70) * e) / (maxEpochs - 1);
  const py = (v: number): number => 20 + ((H - 50) * (hi - v)) / span;
  const lines = r.curves.map((c, k) => {
    const pts = c.loss.map((v, e) => `${px(e).toFixed(1)},${py(v).toFixed(1)}`).join(' ');
    const dots = c.loss.map((v, e) => `<circle cx="${px(e).toFixed(1)}" cy="${py(v).toFixed(1)}" r="2.5" fill="${COLORS[k % COLORS.length]}"><title>${esc(c.name)} epoch ${e + 1}: ${v.toFixed(4)}</title></circle>`).join('');
    return `<polyline fill="none" stroke="${COLORS[k % COLORS.length]}" stroke-width="2" points="${pts}"/>${dots}<text x="${60 + k * 200}" y="12" font-size="11" fill="${COLORS[k % COLORS.length]}">${esc(c.name)}</text>`;
  });
  const axes = `<line x1="50" y1="${H - 30}" x2="${W - 20}" y2="${H - 30}" stroke="#999"/><line x1="50" y1="20" x2="50" y2="${H - 30}" stroke="#999"/>` +
    `<text x="46" y="${py(hi) + 4}" font-size="10" text-anchor="end">${hi.toFixed(3)}</text><text x="46" y="${py(lo) + 4}" font-size="10" text-anchor="end">${lo.toFixed(3)}</text>` +
    `<text x="${W / 2}" y="${H - 8}" font-size="11" text-anchor="middle">epoch (binary cross-entropy, sampled negatives)</text>`;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" role="img" aria-label="training curves">${axes}${lines.join('')}</svg>`;
}

/** Grouped bars: one group per metric, one bar per model. */
function metricsSvg(r: JobResult): string {
  const names = [`HR@${r.k}`, `NDCG@${r.k}`, `Recall@${r.k}`];
  const values = r.metrics.map((m) => [m.hr, m.ndcg, m.recall]);
  const max = Math.max(0.01, ...values.flat());
  const W = 560;
  const H = 250 + 14 * r.metrics.length;
  const groupW = (W - 60) / names.length;
  const barW = (groupW - 30) / Math.max(1, r.metrics.length);
  const bars: string[] = [];
  names.forEach((name, g) => {
    r.metrics.forEach((_m, k) => {
      const v = values[k]![g]!;
      const h = ((H - 50 - 14 * r.metrics.length) * v) / max;
      const x = 50 + g * groupW + k * barW;
      bars.push(`<rect x="${x.toFixed(1)}" y="${(H - 30 - h).toFixed(1)}" width="${(barW - 4).toFixed(1)}" height="${h.toFixed(1)}" fill="${COLORS[k % COLORS.length]}"><title>${esc(r.metrics[k]!.model)} ${name} ${v.toFixed(4)}</title></rect>`);
      bars.push(`<text x="${(x + barW / 2 - 2).toFixed(1)}" y="${(H - 34 - h).toFixed(1)}" font-size="10" text-anchor="middle">${v.toFixed(3)}</text>`);
    });
    bars.push(`<text x="${(50 + g * groupW + (groupW - 30) / 2).toFixed(1)}" y="${H - 12}" font-size="12" text-anchor="middle">${name}</text>`);
  });
  // One legend row per model: the names (ALS and neural carry their hyperparameters) are long.
  const legend = r.metrics.map((m, k) => `<rect x="60" y="${4 + k * 14}" width="10" height="10" fill="${COLORS[k % COLORS.length]}"/><text x="74" y="${13 + k * 14}" font-size="11">${esc(m.model)}</text>`).join('');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" role="img" aria-label="metrics"><line x1="45" y1="${H - 30}" x2="${W}" y2="${H - 30}" stroke="#999"/>${legend}${bars.join('')}</svg>`;
}

/** Horizontal bars of stage timings. */
function stagesSvg(r: JobResult): string {
  const max = Math.max(1, ...r.stages.map((s) => s.ms));
  const rowH = 22;
  const W = 560;
  const H = r.stages.length * rowH + 10;
  const rows = r.stages.map((s, i) => {
    const w = ((W - 260) * s.ms) / max;
    const y = 5 + i * rowH;
    return `<text x="170" y="${y + 14}" font-size="11" text-anchor="end">${esc(s.name)}</text><rect x="176" y="${y + 3}" width="${w.toFixed(1)}" height="14" fill="#2f6fb3"/><text x="${(180 + w).toFixed(1)}" y="${y + 14}" font-size="11">${secs(s.ms)}</text>`;
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" role="img" aria-label="stage timings">${rows.join('')}</svg>`;
}

function htmlTable(header: string[], rows: string[][]): string {
  return `<table><tr>${header.map((h) => `<th>${esc(h)}</th>`).join('')}</tr>${rows.map((r) => `<tr>${r.map((c) => `<td>${esc(c)}</td>`).join('')}</tr>`).join('')}</table>`;
}

/** One explanation as a line: the past stays behind an ALS score, the hybrid's largest attributions, or why there is none. */
export function explanationText(e: Explanation | undefined): string {
  if (!e) return '-';
  if ('unavailable' in e) return `not explained: ${e.unavailable}`;
  if (e.method === 'als-history') {
    return `because you stayed at ${e.because.map((b) => `${b.listing} (${(b.share * 100).toFixed(0)} %)`).join(', ')} — of ${e.historySize} stays; refit score ${f4(e.explainedScore)}`;
  }
  return `${e.attributions.slice(0, 3).map((a) => `${a.feature} ${a.value >= 0 ? '+' : ''}${a.value.toFixed(3)}`).join(', ')} (against the user's average listing, ${f4(e.baselineScore)})`;
}

function explanationsHtml(r: JobResult): string {
  const rows = r.explanations.flatMap((u) => u.items.map((i) => [u.user, i.listing, f4(i.score), explanationText(i.explanation)]));
  return rows.length ? htmlTable(['user', 'listing', 'score', 'why'], rows) : '<p>-</p>';
}

function importanceHtml(r: JobResult): string {
  const p = r.hybridImportance;
  if (!p) return '<p>-</p>';
  const rows = p.features.slice().sort((a, b) => b.importance - a.importance).map((f) => [f.feature, f4(f.importance), f4(f.std)]);
  return `<p>Validation AUC of the hybrid's logit (fitted on train): ${f4(p.baseline)}; importance = its drop when the feature is shuffled across the validation pairs (mean ± sd of 5 shuffles).</p>${htmlTable(['feature', 'AUC drop', 'sd'], rows)}`;
}

export function htmlReport(r: JobResult): string {
  const total = r.stages.reduce((s, x) => s + x.ms, 0);
  return `<!doctype html><html><head><meta charset="utf-8"><title>rental-recs report</title><style>
body{font-family:system-ui,sans-serif;margin:2em;max-width:900px;color:#222}table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}td:first-child,th:first-child{text-align:left}h2{margin-top:1.4em}</style></head><body>
<h1>Rental recommendations</h1><p>${esc(r.feedback)} feedback · data: ${esc(r.source ? describeSource(r.source) : '-')} in ${esc(r.target)} · total ${secs(total)}</p>
<p>Time split: train before ${esc(r.split.validationCut)}, validation to ${esc(r.split.testCut)}, test to ${esc(r.split.lastDay)}.</p>
<h2>Metrics (test, time split, full catalogue)</h2>${metricsSvg(r)}${htmlTable(metricsHeader(r), metricsRows(r))}
<h2>Candidates with 95% bootstrap intervals</h2>${htmlTable(candidateHeader(r), candidateRows(r))}
<h2>Model selection (validation)</h2><p>Served: ${esc(r.recommendations.model)} — ${esc(r.selection.reason)}</p>${htmlTable(['candidate', 'diff', '95% CI', 'ratio', 'ratio 95% CI', 'p'], [...r.comparisons.validation, ...r.comparisons.test].map(pairRow))}
<h2>Why these recommendations (served model, explain=1)</h2>${explanationsHtml(r)}
<h2>Global feature importance (hybrid, permutation on validation)</h2>${importanceHtml(r)}
<h2>Cold start</h2>${coldStartText(r).map((l) => `<p>${esc(l)}</p>`).join('') || '<p>-</p>'}
<h2>Training curves (neural model)</h2>${curvesSvg(r)}
<h2>Stage timings</h2>${stagesSvg(r)}
<h2>Grid search (validation ${esc(r.gridMetric)})</h2><p>best: rank ${r.best.rank}, regParam ${r.best.regParam}, maxIter ${r.best.maxIter}</p>
${htmlTable(['rank', 'regParam', 'maxIter', r.gridMetric, 'time'], r.grid.map((g) => [String(g.rank), String(g.regParam), String(g.maxIter), f4(g.metric), secs(g.ms)]))}
<h2>Data</h2>${htmlTable(['table / set', 'rows'], Object.entries(r.sizes).map(([k, v]) => [k, v.toLocaleString('en-US')]))}
<h2>Output</h2><p>${r.recommendations.rows.toLocaleString('en-US')} recommendations by ${esc(r.recommendations.model)} → ${esc(r.recommendations.where)}</p>
<h2>Notes</h2><ul>${r.notes.map((n) => `<li>${esc(n)}</li>`).join('')}</ul>
</body></html>`;
}

export function writeHtmlReport(r: JobResult, outDir: string): string {
  mkdirSync(outDir, { recursive: true });
  const path = join(outDir, 'report.html');
  writeFileSync(path, htmlReport(r));
  return path;
}
