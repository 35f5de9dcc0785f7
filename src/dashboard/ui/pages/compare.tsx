/**
 * Compare two runs (/runs/compare?runs=a,b): params and latest metrics side by side with the
 * differences marked, and each metric both logged drawn on one chart.
 */
import type { MetricSeriesReply, RunDetailView } from '../../api-types.js';
import { useJson } from '../api.js';
import { LineChart } from '../line-chart.js';
import type { PageEntry } from '../page.js';
import { fmt } from './runs.js';

const COLORS = ['#2563eb', '#dc2626'];

export function ComparePage() {
  const ids = (new URLSearchParams(location.search).get('runs') ?? '').split(',').filter(Boolean);
  const a = useJson<RunDetailView>(ids[0] ? `/api/store/runs/${encodeURIComponent(ids[0])}` : undefined);
  const b = useJson<RunDetailView>(ids[1] ? `/api/store/runs/${encodeURIComponent(ids[1])}` : undefined);
  if (ids.length !== 2) return <p class="error" id="compare-error">Compare needs two runs: /runs/compare?runs=&lt;id&gt;,&lt;id&gt; (tick two on the Runs page).</p>;
  const error = a.error ?? b.error;
  if (error) return <p class="error" id="compare-error">{error}</p>;
  if (!a.data || !b.data) return <p class="muted">Loading runs…</p>;
  const runs = [a.data, b.data];
  const rows = (pick: (r: RunDetailView) => Record<string, string>) => [...new Set(runs.flatMap((r) => Object.keys(pick(r))))].sort().map((k) => {
    const [x, y] = runs.map((r) => pick(r)[k]);
    return <tr key={k} class={x !== y ? 'differs' : ''}><th>{k}</th><td>{x ?? '—'}</td><td>{y ?? '—'}</td></tr>;
  });
  const metricStr = (r: RunDetailView): Record<string, string> => Object.fromEntries(Object.entries(r.metrics).map(([k, v]) => [k, fmt(v)]));
  const shared = Object.keys(a.data.metrics).filter((k) => k in b.data!.metrics).sort();
  return (
    <section id="compare-page">
      <h1>Compare runs</h1>
      <table id="compare">
        <thead><tr><th /> {runs.map((r, i) => <th key={r.id} style={{ color: COLORS[i] }}><a href={`/runs/${r.id}`}>{r.name || r.id}</a></th>)}</tr></thead>
        <tbody>
          <tr><th>status</th><td>{runs[0]!.status}</td><td>{runs[1]!.status}</td></tr>
          <tr class="group"><th colSpan={3}>Parameters</th></tr>
          {rows((r) => r.params)}
          <tr class="group"><th colSpan={3}>Metrics (latest)</th></tr>
          {rows(metricStr)}
        </tbody>
      </table>
      <h2>Metrics over steps</h2>
      <div class="charts">{shared.map((k) => <CompareChart key={k} runs={runs} metric={k} />)}</div>
    </section>
  );
}

function CompareChart({ runs, metric }: { runs: RunDetailView[]; metric: string }) {
  const x = useJson<MetricSeriesReply>(`/api/store/runs/${encodeURIComponent(runs[0]!.id)}/metrics/${encodeURIComponent(metric)}`);
  const y = useJson<MetricSeriesReply>(`/api/store/runs/${encodeURIComponent(runs[1]!.id)}/metrics/${encodeURIComponent(metric)}`);
  if (!x.data || !y.data) return <p class="muted">{x.error ?? y.error ?? `Loading ${metric}…`}</p>;
  const steps = [...new Set([...x.data.points, ...y.data.points].map((p) => p.step))].sort((p, q) => p - q);
  const at = (points: MetricSeriesReply['points']) => {
    const m = new Map(points.map((p) => [p.step, p.value]));
    return steps.map((s) => m.get(s) ?? null);
  };
  return <LineChart id={`compare-${metric}`} title={metric} xIsTime={false} x={steps}
    series={runs.map((r, i) => ({ label: r.name || r.id, stroke: COLORS[i]!, values: at(i === 0 ? x.data!.points : y.data!.points) }))} />;
}

export const page: PageEntry = { path: /^\/runs\/compare$/, order: 39, render: () => <ComparePage /> };
