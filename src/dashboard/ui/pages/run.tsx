/** Run page: a run's params, tags, latest metrics, a chart per metric over its steps, artifacts and inputs. */
import type { MetricSeriesReply, RunDetailView } from '../../api-types.js';
import { useJson } from '../api.js';
import { bytes, duration, time } from '../format.js';
import { LineChart, PALETTE } from '../line-chart.js';
import type { PageEntry } from '../page.js';
import { fmt } from './runs.js';

export function RunPage({ id }: { id: string }) {
  const run = useJson<RunDetailView>(`/api/store/runs/${encodeURIComponent(id)}`);
  if (run.error) return <p class="error">{run.error}</p>;
  if (!run.data) return <p class="muted">Loading run {id}…</p>;
  const r = run.data;
  return (
    <section id="run-page">
      <h1>Run {r.name || r.id} <span id="run-status" class={`status ${r.status}`}>{r.status}</span></h1>
      <p class="muted">{r.id} · experiment {r.experimentName} · started {time(r.startTime)}{r.endTime ? ` · ran ${duration(r.endTime - r.startTime)}` : ''}
        {r.parentRunId && <> · parent <a href={`/runs/${r.parentRunId}`}>{r.parentRunId}</a></>}
        {r.tags['shoal.pipeline'] !== undefined && <> · <a id="run-pipeline" href={`/pipelines/runs/${r.id}`}>its pipeline DAG</a></>}
        {r.tags['shoal.pipeline.step'] !== undefined && r.parentRunId && <> · step {r.tags['shoal.pipeline.step']} of <a id="run-pipeline" href={`/pipelines/runs/${r.parentRunId}`}>a pipeline run</a></>}</p>
      {r.failure && <p class="error">{r.failure}</p>}
      <div class="columns">
        <KeyValues id="run-params" title="Parameters" values={r.params} />
        <KeyValues id="run-metrics" title="Metrics (latest)" values={Object.fromEntries(Object.entries(r.metrics).map(([k, v]) => [k, fmt(v)]))} />
        <KeyValues id="run-tags" title="Tags" values={r.tags} />
      </div>
      <h2>Metric charts</h2>
      <div class="charts">{Object.keys(r.metrics).sort().map((k, i) => <MetricChart key={k} runId={r.id} metric={k} color={PALETTE[i % PALETTE.length]!} />)}</div>
      {Object.keys(r.metrics).length === 0 && <p class="muted">No metrics logged.</p>}
      <h2>Inputs</h2>
      {r.inputs.length === 0 ? <p class="muted">None recorded.</p> : (
        <table id="run-inputs"><thead><tr><th>Kind</th><th>Ref</th><th>Role</th></tr></thead>
          <tbody>{r.inputs.map((x) => <tr key={x.ref + x.role}><td>{x.kind}</td><td><code>{x.ref}</code></td><td>{x.role}</td></tr>)}</tbody></table>
      )}
      <h2>Artifacts</h2>
      {r.artifacts.length === 0 ? <p class="muted">None.</p> : (
        <table id="run-artifacts"><thead><tr><th>Path</th><th>Size</th><th>sha256</th></tr></thead>
          <tbody>{r.artifacts.map((a) => <tr key={a.path}><td>{a.path}</td><td>{bytes(a.bytes)}</td><td><code>{a.sha256.slice(0, 16)}…</code></td></tr>)}</tbody></table>
      )}
      {r.children.length > 0 && <><h2>Child runs</h2><ul>{r.children.map((c) => <li key={c}><a href={`/runs/${c}`}>{c}</a></li>)}</ul></>}
    </section>
  );
}

function MetricChart({ runId, metric, color }: { runId: string; metric: string; color: string }) {
  const series = useJson<MetricSeriesReply>(`/api/store/runs/${encodeURIComponent(runId)}/metrics/${encodeURIComponent(metric)}`);
  if (series.error) return <p class="error">{metric}: {series.error}</p>;
  if (!series.data) return <p class="muted">Loading {metric}…</p>;
  const sorted = [...series.data.points].sort((a, b) => a.step - b.step || a.time - b.time);
  return <LineChart id={`metric-${metric}`} title={metric} xIsTime={false} x={sorted.map((p) => p.step)} series={[{ label: metric, stroke: color, values: sorted.map((p) => p.value) }]} />;
}

export function KeyValues({ id, title, values }: { id: string; title: string; values: Record<string, string> }) {
  const keys = Object.keys(values).sort();
  return (
    <div class="kv" id={id}>
      <h2>{title}</h2>
      {keys.length === 0 ? <p class="muted">None.</p> : (
        <table><tbody>{keys.map((k) => <tr key={k}><th>{k}</th><td>{values[k]}</td></tr>)}</tbody></table>
      )}
    </div>
  );
}

export const page: PageEntry = { path: /^\/runs\/(?!compare$)([^/]+)$/, order: 41, render: ([id]) => <RunPage id={id!} /> };
