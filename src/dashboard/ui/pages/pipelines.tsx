/**
 * Pipelines page (the platform's orchestrator, recorded in the store): every pipeline run, newest
 * first, of one pipeline or all, with its status, duration and its steps counted by state. While a
 * listed run is running the page refetches every second. The store outlives clusters: the page
 * works on --history too.
 */
import { useEffect, useState } from 'preact/hooks';
import type { PipelineRunsReply, PipelinesReply } from '../../api-types.js';
import { useJson } from '../api.js';
import { duration, time } from '../format.js';
import type { PageEntry } from '../page.js';

export const PIPELINE_RUNS_LISTED = 50;
/** How often a page showing a running pipeline run refetches it. */
export const PIPELINE_REFRESH_MS = 1_000;

/** Step states in the order they are shown. */
const STATE_ORDER = ['running', 'pending', 'succeeded', 'cached', 'reused', 'failed', 'skipped', 'not-run'];

/** A step state's counts as tags coloured by state (states a newer shoal adds at the end). */
export function StateCounts({ counts }: { counts: Record<string, number> }) {
  const states = Object.keys(counts).sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
  return <>{states.map((s) => <span key={s} class={`tag step-state ${s}`} data-state={s}>{counts[s]} {s}</span>)}</>;
}
const rank = (s: string): number => (STATE_ORDER.includes(s) ? STATE_ORDER.indexOf(s) : STATE_ORDER.length);

/** Counts up `again` every PIPELINE_REFRESH_MS while `on`. */
export function useRefresh(on: boolean): number {
  const [again, setAgain] = useState(0);
  useEffect(() => {
    if (!on) return undefined;
    const timer = setInterval(() => setAgain((n) => n + 1), PIPELINE_REFRESH_MS);
    return () => clearInterval(timer);
  }, [on]);
  return again;
}

export function PipelinesPage() {
  const [pipeline, setPipeline] = useState(new URLSearchParams(location.search).get('pipeline') ?? '');
  const [offset, setOffset] = useState(0);
  const [running, setRunning] = useState(false);
  const again = useRefresh(running);
  const pipelines = useJson<PipelinesReply>('/api/store/pipelines', again);
  const params = new URLSearchParams({ limit: String(PIPELINE_RUNS_LISTED), offset: String(offset) });
  if (pipeline) params.set('pipeline', pipeline);
  const runs = useJson<PipelineRunsReply>(`/api/store/pipeline-runs?${params}`, again);
  const list = runs.data?.runs ?? [];
  const total = runs.data?.total ?? 0;
  const anyRunning = list.some((r) => r.status === 'RUNNING');
  useEffect(() => setRunning(anyRunning), [anyRunning]);
  return (
    <section id="pipelines-page">
      <h1>Pipelines</h1>
      <div class="toolbar">
        <label>Pipeline <select id="pipeline" value={pipeline} onChange={(e) => {
          const v = (e.target as HTMLSelectElement).value;
          setPipeline(v);
          setOffset(0);
          history.replaceState(null, '', v ? `/pipelines?pipeline=${encodeURIComponent(v)}` : '/pipelines');
        }}>
          <option value="">all</option>
          {(pipelines.data?.pipelines ?? []).map((p) => <option key={p.name} value={p.name}>{p.name} ({p.runs})</option>)}
        </select></label>
      </div>
      {runs.error && <p class="error" id="pipeline-runs-error">{runs.error}</p>}
      {!runs.data && !runs.error && <p class="muted">Loading pipeline runs…</p>}
      {runs.data && (list.length === 0 ? <p class="muted">No pipeline runs{pipeline ? ` of ${pipeline}` : ' yet: `shoal pipeline run <module>` records one'}.</p> : (
        <table id="pipeline-runs">
          <thead><tr><th>Run</th><th>Pipeline</th><th>Status</th><th>Started</th><th>Duration</th><th>Steps</th><th>Error</th></tr></thead>
          <tbody>{list.map((r) => (
            <tr key={r.id} data-run={r.id}>
              <td><a href={`/pipelines/runs/${r.id}`}><code>{r.id.slice(0, 12)}</code></a>{r.resumedFrom && <span class="muted"> (resumed)</span>}</td>
              <td>{r.pipeline}</td><td class={`status ${r.status}`}>{r.status}</td><td>{time(r.startTime)}</td>
              <td>{r.durationMs === null ? (r.status === 'RUNNING' ? 'running' : '-') : duration(r.durationMs)}</td>
              <td class="steps"><StateCounts counts={r.stepStates} /></td>
              <td class="error">{r.error ?? ''}</td>
            </tr>
          ))}</tbody>
        </table>
      ))}
      <p class="pager"><span class="muted" id="pipeline-runs-total">{runs.data ? `${total} run${total === 1 ? '' : 's'}${total > list.length ? `, ${offset + 1}–${offset + list.length} shown` : ''}` : ''}</span>
        {offset > 0 && <button onClick={() => setOffset(Math.max(0, offset - PIPELINE_RUNS_LISTED))}>Newer</button>}
        {offset + list.length < total && <button onClick={() => setOffset(offset + PIPELINE_RUNS_LISTED)}>Older</button>}
      </p>
    </section>
  );
}

export const page: PageEntry = { path: /^\/pipelines$/, nav: 'Pipelines', href: '/pipelines', order: 48, render: () => <PipelinesPage /> };
