/**
 * Pipeline run page: the run's DAG (each step a box coloured by its state, edges from the steps it
 * takes inputs from, laid out left to right by topological level), then every step instance with
 * its state, start, duration, cache hit, attempts, input and output artifacts and error; a step
 * clicked in the graph or the table shows its outputs and its log (stdout, stderr and `ctx.log()`
 * lines, as platform/pipelines records them). While
 * the run is running the page refetches it every second.
 */
import { useEffect, useState } from 'preact/hooks';
import type { PipelineDagNodeView, PipelineRunDetailView, PipelineStepView, StepLogReply } from '../../api-types.js';
import { getJson, useJson } from '../api.js';
import { bytes, duration, time } from '../format.js';
import type { PageEntry } from '../page.js';
import { StateCounts, useRefresh } from './pipelines.js';

const BOX_W = 190;
const BOX_H = 46;
const GAP_X = 60;
const GAP_Y = 16;
const clip = (s: string, n: number): string => (s.length > n ? `${s.slice(0, n - 1)}…` : s);

/** Each node's column: its longest path from a node with no upstream (a cycle, which a recorded DAG has not, stops at the node count). */
export function levels(dag: PipelineDagNodeView[]): Map<string, number> {
  const level = new Map<string, number>(dag.map((n) => [n.name, 0]));
  for (let pass = 0; pass < dag.length; pass++) {
    let moved = false;
    for (const n of dag) {
      for (const u of n.upstream) {
        const l = (level.get(u) ?? -1) + 1;
        if (l > level.get(n.name)!) {
          level.set(n.name, l);
          moved = true;
        }
      }
    }
    if (!moved) break;
  }
  return level;
}

/** A step's log (what its code wrote, and its `ctx.log()` lines), read from where the page is up to while the run goes on. */
function StepLog({ runId, step, again }: { runId: string; step: string; again: number }) {
  const [lines, setLines] = useState<StepLogReply['lines']>([]);
  const [next, setNext] = useState(0);
  const [error, setError] = useState<string>();
  useEffect(() => {
    let live = true;
    getJson<StepLogReply>(`/api/store/pipeline-runs/${encodeURIComponent(runId)}/logs?step=${encodeURIComponent(step)}&offset=${next}`).then((r) => {
      if (!live || !r.lines.length) return;
      // Two reads from the same offset (one slower than the refresh) must not show a line twice.
      setLines((l) => [...l, ...r.lines.filter((x) => x.seq > (l[l.length - 1]?.seq ?? -1))]);
      setNext((n) => Math.max(n, r.next));
    }, (e: Error) => live && setError(e.message));
    return () => {
      live = false;
    };
  }, [runId, step, again]);
  if (error) return <p class="error">{error}</p>;
  return <pre class="log" id="step-log">{lines.map((l) => (l.stream === 'stderr' ? <span key={l.seq} class="stderr">{l.line}{'\n'}</span> : `${l.line}\n`))}</pre>;
}

function PipelineDag({ run, selected, select }: { run: PipelineRunDetailView; selected: string | undefined; select: (step: string) => void }) {
  const { dag, steps } = run;
  const level = levels(dag);
  const rows = new Map<number, number>();
  const pos = new Map<string, { x: number; y: number }>();
  for (const n of dag) {
    const c = level.get(n.name)!;
    const r = rows.get(c) ?? 0;
    rows.set(c, r + 1);
    pos.set(n.name, { x: c * (BOX_W + GAP_X), y: r * (BOX_H + GAP_Y) });
  }
  const width = Math.max(1, rows.size) * (BOX_W + GAP_X) - GAP_X;
  const height = Math.max(1, ...rows.values()) * (BOX_H + GAP_Y) - GAP_Y;
  const own = new Map(steps.filter((s) => s.step === s.node).map((s) => [s.node, s]));
  const elements = (node: string): PipelineStepView[] => steps.filter((s) => s.node === node && s.step !== node);
  const sub = (n: PipelineDagNodeView): string => {
    const s = own.get(n.name);
    if (!s) return 'not recorded';
    const parts = [s.state];
    if (n.map) {
      const el = elements(n.name);
      parts.push(`${el.filter((e) => ['succeeded', 'cached', 'reused'].includes(e.state)).length}/${el.length} elements`);
    } else if (s.cacheHit) parts.push('cache hit');
    if (s.durationMs !== null && !n.map) parts.push(duration(s.durationMs));
    return parts.join(' · ');
  };
  return (
    <svg id="pipeline-dag" class="dag" width={width + 12} height={height + 12} viewBox={`-6 -6 ${width + 12} ${height + 12}`} role="img" aria-label={`DAG of pipeline run ${run.id}`}>
      <defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" /></marker></defs>
      {dag.flatMap((n) => n.upstream.filter((u) => pos.has(u)).map((u) => {
        const p = pos.get(u)!;
        const q = pos.get(n.name)!;
        return <line key={`${u}->${n.name}`} class="edge" data-from={u} data-to={n.name} x1={p.x + BOX_W} y1={p.y + BOX_H / 2} x2={q.x} y2={q.y + BOX_H / 2} marker-end="url(#arrow)" />;
      }))}
      {dag.map((n) => {
        const p = pos.get(n.name)!;
        const state = own.get(n.name)?.state ?? 'unknown';
        return (
          <g key={n.name} class={`step-node ${state}${selected === n.name ? ' selected' : ''}`} data-step={n.name} data-state={state} onClick={() => select(n.name)}>
            <rect x={p.x} y={p.y} width={BOX_W} height={BOX_H} rx={6} />
            <text x={p.x + 8} y={p.y + 18}>{clip(`${n.name}${n.map ? ' [map]' : ''}${n.condition ? ' (when)' : ''}`, 26)}</text>
            <text x={p.x + 8} y={p.y + 35} class="sub">{clip(sub(n), 30)}</text>
            <title>{`${n.name} (step ${n.step}): ${state}`}</title>
          </g>
        );
      })}
    </svg>
  );
}

/** A run id as a link to its run page. */
const RunLink = ({ id }: { id: string }) => <a href={`/runs/${id}`}><code>{id.slice(0, 12)}</code></a>;

function StepDetail({ s, runId, byRun, again }: { s: PipelineStepView; runId: string; byRun: Map<string, string>; again: number }) {
  return (
    <div id="step-detail" data-step={s.step}>
      <h2>Step {s.step} <span class={`tag step-state ${s.state}`}>{s.state}</span></h2>
      <p class="muted">node {s.node}{s.codeHash ? ` · code ${s.codeHash.slice(0, 12)}` : ''}{s.cacheKey ? ` · cache key ${s.cacheKey.slice(0, 12)}` : ''}
        {s.runId && <> · run <RunLink id={s.runId} /></>}{s.cachedFrom && <> · outputs from run <RunLink id={s.cachedFrom} /></>}</p>
      {s.error && <pre class="stack" id="step-error">{s.error}</pre>}
      {s.inputs.length > 0 && <p>Inputs: {s.inputs.map((i) => <span class="tag" key={i.kind + i.ref + i.role}>{i.role} ← {i.kind === 'run' && byRun.has(i.ref) ? `${byRun.get(i.ref)} ` : ''}{i.kind} {i.ref.slice(0, 12)}</span>)}</p>}
      {s.outputs && <><h3>Outputs</h3><pre class="log" id="step-outputs">{JSON.stringify(s.outputs, null, 2)}</pre></>}
      {(s.logLines > 0 || s.state === 'running') && <><h3>Log ({s.logLines} line{s.logLines === 1 ? '' : 's'})</h3><StepLog key={s.step} runId={runId} step={s.step} again={again} /></>}
    </div>
  );
}

export function PipelineRunPage({ id }: { id: string }) {
  const [selected, setSelected] = useState<string>();
  const [running, setRunning] = useState(true);
  const again = useRefresh(running);
  const run = useJson<PipelineRunDetailView>(`/api/store/pipeline-runs/${encodeURIComponent(id)}`, again);
  const status = run.data?.status;
  const failed = run.error !== undefined;
  useEffect(() => setRunning(!failed && (status === undefined || status === 'RUNNING')), [status, failed]);
  if (run.error) return <p class="error" id="pipeline-run-error">{run.error}</p>;
  if (!run.data) return <p class="muted">Loading pipeline run {id}…</p>;
  const r = run.data;
  // Which step ran as which run: an input from a run of this pipeline run is named by its step.
  const byRun = new Map<string, string>();
  for (const s of r.steps) if (s.runId) byRun.set(s.runId, s.step);
  for (const s of r.steps) if (s.cachedFrom && !byRun.has(s.cachedFrom)) byRun.set(s.cachedFrom, s.step);
  const chosen = r.steps.find((s) => s.step === selected);
  // Steps in DAG order (by level, then as defined), a map's elements after its own row.
  const level = levels(r.dag);
  const index = new Map(r.dag.map((n, i) => [n.name, i]));
  const element = (s: PipelineStepView): number => (s.step === s.node ? -1 : Number(/\[(\d+)\]$/.exec(s.step)?.[1] ?? 0));
  const ordered = [...r.steps].sort((a, b) => (level.get(a.node) ?? 0) - (level.get(b.node) ?? 0) || (index.get(a.node) ?? 0) - (index.get(b.node) ?? 0) || element(a) - element(b));
  return (
    <section id="pipeline-run-page">
      <h1>Pipeline {r.pipeline} <span id="pipeline-run-status" class={`status ${r.status}`}>{r.status}</span></h1>
      <p class="muted">run <code>{r.id}</code> · started {time(r.startTime)}{r.durationMs !== null ? ` · ran ${duration(r.durationMs)}` : ''}
        {r.resumedFrom && <> · resumes <a href={`/pipelines/runs/${r.resumedFrom}`}><code>{r.resumedFrom.slice(0, 12)}</code></a></>}
        {r.noCache ? ' · cache off' : ''} · <a href={`/runs/${r.id}`}>as a run</a> · <a href={`/pipelines?pipeline=${encodeURIComponent(r.pipeline)}`}>all runs of {r.pipeline}</a></p>
      {r.error && <p class="error" id="pipeline-run-failure">{r.error}</p>}
      <p id="pipeline-run-params">{Object.entries(r.params).map(([k, v]) => <span class="tag" key={k}>{k} = {JSON.stringify(v)}</span>)} <StateCounts counts={r.stepStates} /></p>
      <h2>Steps</h2>
      <div class="dag-box"><PipelineDag run={r} selected={selected} select={setSelected} /></div>
      <table id="pipeline-steps">
        <thead><tr><th>Step</th><th>State</th><th>Started</th><th>Duration</th><th>Cache</th><th>Attempts</th><th>Run</th><th>Inputs</th><th>Output artifacts</th><th>Error</th></tr></thead>
        <tbody>{ordered.map((s) => (
          <tr key={s.step} data-step={s.step} data-state={s.state} class={s.step === selected ? 'selected' : ''} onClick={() => setSelected(s.step)}>
            <td class="step-name">{s.step}{s.logLines > 0 && <span class="muted log-lines"> · log {s.logLines}</span>}</td>
            <td><span class={`tag step-state ${s.state}`}>{s.state}</span></td>
            <td>{time(s.startTime ?? undefined)}</td>
            <td class="num">{s.durationMs === null ? '-' : duration(s.durationMs)}</td>
            <td class="cache">{s.cacheHit ? 'hit' : s.state === 'reused' ? 'reused' : s.cacheKey ? 'miss' : '-'}</td>
            <td class="num attempts">{s.attempts}</td>
            <td>{s.runId ? <RunLink id={s.runId} /> : s.cachedFrom ? <>from <RunLink id={s.cachedFrom} /></> : '-'}</td>
            <td>{s.inputs.map((i) => <div key={i.kind + i.ref + i.role}>{i.role} ← {i.kind === 'run' && byRun.has(i.ref) ? byRun.get(i.ref) : `${i.kind} ${i.ref.slice(0, 12)}`}</div>)}</td>
            <td>{s.outputArtifacts.map((a) => <div key={a.output} title={`${a.uri}\nsha256 ${a.sha256}`}>{a.output}: {a.artifact}, {bytes(a.bytes)}</div>)}</td>
            <td class="error">{s.error ?? ''}</td>
          </tr>
        ))}</tbody>
      </table>
      {chosen ? <StepDetail s={chosen} runId={r.id} byRun={byRun} again={again} /> : <p class="muted">Click a step for its outputs{r.steps.some((s) => s.logLines > 0) ? ' and its log' : ''}.</p>}
    </section>
  );
}

export const page: PageEntry = { path: /^\/pipelines\/runs\/([^/]+)$/, order: 49, render: ([id]) => <PipelineRunPage id={id!} /> };
