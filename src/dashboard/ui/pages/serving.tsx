/**
 * Serving page: each serve instance's deployments (version, replicas and the node each runs on,
 * canary weight, shadow, queue), rps and p50/p99 latency over time, and the autoscaler's decisions.
 * Serve instances publish their status to the head every ~2 s (topic serve.status); the page
 * reads the samples the dashboard kept (so it works on --history) and refreshes on each new one.
 * A deployment with a canary or a previous version can be rolled back from here (live only).
 */
import { useState } from 'preact/hooks';
import type { ServeDeploymentView, ServeSampleView, ServeView, SessionView } from '../../api-types.js';
import { postAction, useJson } from '../api.js';
import { duration, time } from '../format.js';
import { LineChart, PALETTE } from '../line-chart.js';
import { useLive } from '../live.js';
import type { PageEntry } from '../page.js';

export function ServingPage() {
  const { published } = useLive();
  const view = useJson<ServeView>('/api/serve', published['serve.status']?.count ?? 0);
  if (view.error) return <p class="error">{view.error}</p>;
  if (!view.data) return <p class="muted">Loading serving status…</p>;
  const { samples, latest, decisions } = view.data;
  return (
    <section id="serving-page">
      <h1>Serving</h1>
      {latest.length === 0 && <p class="muted">No serve instance has reported yet: <code>shoal serve start</code> or <code>startServe()</code> in a driver runs one.</p>}
      {latest.map((inst) => <Instance key={inst.url} latest={inst} samples={samples.filter((s) => s.url === inst.url)} />)}
      <h2>Autoscaler decisions</h2>
      {decisions.length === 0 ? <p class="muted">None yet.</p> : (
        <table id="serve-decisions"><thead><tr><th>Time</th><th>Deployment</th><th>Replicas</th><th>Reason</th></tr></thead>
          <tbody>{[...decisions].reverse().map((d, i) => <tr key={i}><td>{time(d.timeMs)}</td><td>{d.deployment}</td><td>{d.from} → {d.to}</td><td>{d.reason}</td></tr>)}</tbody></table>
      )}
    </section>
  );
}

/** Requests per second between consecutive samples of one deployment (its counter's change). */
function rates(samples: ServeSampleView[], name: string): Array<number | null> {
  return samples.map((s, i) => {
    const d = s.status.deployments.find((x) => x.name === name);
    const prev = samples[i - 1]?.status.deployments.find((x) => x.name === name);
    if (!d || !prev || i === 0) return null;
    const dt = (s.at - samples[i - 1]!.at) / 1000;
    return dt > 0 ? Math.max(0, (d.requests - prev.requests) / dt) : null;
  });
}

/** Rolls a deployment back (its canary dropped, else the previous version): the dashboard asks the serve instance, with the CSRF header. */
function Rollback({ url, d }: { url: string; d: ServeDeploymentView }) {
  const [state, setState] = useState<{ busy?: boolean; done?: string; error?: string }>({});
  const session = useJson<SessionView>('/api/session');
  const possible = session.data?.readOnly === false && (d.canary !== undefined || d.previousVersion !== undefined);
  // What it did stays shown after the next status sample (without a previous version: no button).
  if (!possible && !state.done && !state.error) return null;
  const roll = (): void => {
    setState({ busy: true });
    postAction(`/api/serve/deployments/${encodeURIComponent(d.name)}/rollback`, { url })
      .then(() => setState({ done: d.canary ? `canary ${d.canary.version} dropped` : `back to ${d.previousVersion ?? 'the previous version'}` }), (e: Error) => setState({ error: e.message }));
  };
  return (
    <>
      {possible && <button class="rollback" disabled={state.busy} onClick={roll}>Roll back</button>}
      {state.done && <span class="ok rollback-done"> {state.done}</span>}
      {state.error && <span class="error rollback-error"> {state.error}</span>}
    </>
  );
}

function Instance({ latest, samples }: { latest: ServeSampleView; samples: ServeSampleView[] }) {
  const names = latest.status.deployments.map((d) => d.name);
  const x = samples.map((s) => s.at);
  const pick = (name: string, f: (d: ServeDeploymentView) => number) => samples.map((s) => {
    const d = s.status.deployments.find((y) => y.name === name);
    return d ? f(d) : null;
  });
  const stale = Date.now() - latest.at > 10_000;
  return (
    <div class="serve-instance" data-url={latest.url}>
      <h2>Instance {latest.url} <span class="muted">· last report {time(latest.at)}{stale ? ` (${duration(Date.now() - latest.at)} ago)` : ''}</span></h2>
      <table class="deployments" id="deployments">
        <thead><tr><th>Deployment</th><th>Route</th><th>Version</th><th>Replicas</th><th>Rollout</th><th>Queued</th><th>Requests</th><th>Errors</th><th>p50</th><th>p99</th><th /></tr></thead>
        <tbody>{latest.status.deployments.map((d) => (
          <tr key={d.name} data-deployment={d.name}>
            <td>{d.name}</td><td><code>{d.route}</code></td><td>{d.version}{d.previousVersion ? <span class="muted"> (before: {d.previousVersion})</span> : ''}</td>
            <td>{d.replicas.length}</td>
            <td class="rollout">{d.canary ? <>stable {Math.round((1 - d.canary.weight) * 100)}% · canary {d.canary.version} {Math.round(d.canary.weight * 100)}%</> : 'stable 100%'}
              {d.shadow ? ` · shadow ${d.shadow.version}` : ''}</td>
            <td>{d.queued}</td><td>{d.requests}</td><td class={d.errors ? 'bad' : ''}>{d.errors}</td><td>{d.p50Ms.toFixed(1)} ms</td><td>{d.p99Ms.toFixed(1)} ms</td>
            <td class="actions"><Rollback url={latest.url} d={d} /></td>
          </tr>
        ))}</tbody>
      </table>
      <h3>Replicas</h3>
      <table class="replicas"><thead><tr><th>Deployment</th><th>Replica</th><th>State</th><th>Ongoing</th><th>Actor</th><th>Node</th></tr></thead>
        <tbody>{latest.status.deployments.flatMap((d) => d.replicas.map((r) => (
          <tr key={r.id}><td>{d.name}</td><td>{r.id}</td><td>{r.state}</td><td>{r.ongoing}</td><td>{r.actorId}</td><td>{r.nodeId ?? '-'}</td></tr>
        )))}</tbody>
      </table>
      <div class="charts">
        <LineChart id="chart-rps" title="Requests per second" x={x} series={names.map((n, i) => ({ label: n, stroke: PALETTE[i % PALETTE.length]!, values: rates(samples, n) }))} />
        <LineChart id="chart-latency" title="Latency (ms)" x={x} series={names.flatMap((n, i) => [
          { label: `${n} p50`, stroke: PALETTE[i % PALETTE.length]!, values: pick(n, (d) => d.p50Ms) },
          { label: `${n} p99`, stroke: PALETTE[(i + 4) % PALETTE.length]!, values: pick(n, (d) => d.p99Ms) },
        ])} />
        <LineChart id="chart-replicas" title="Replicas" x={x} series={names.map((n, i) => ({ label: n, stroke: PALETTE[i % PALETTE.length]!, values: pick(n, (d) => d.replicas.length) }))} />
      </div>
    </div>
  );
}

export const page: PageEntry = { path: /^\/serving$/, nav: 'Serving', href: '/serving', order: 50, render: () => <ServingPage /> };
