/** Tasks & actors page: counts by state and by function or class, slowest and failed; actors; objects and sizes. */
import type { PageEntry } from '../page.js';
import { useEffect, useState } from 'preact/hooks';
import type { TaskCountsView, TaskFailureView, TasksView } from '../../api-types.js';
import { getJson, postAction } from '../api.js';
import { bytes, duration, time } from '../format.js';
import { useLive } from '../live.js';

export function TasksPage() {
  const [view, setView] = useState<TasksView>();
  const [error, setError] = useState<string>();
  const { cluster } = useLive();
  useEffect(() => {
    getJson<TasksView>('/api/tasks').then(setView, (e: Error) => setError(e.message));
  }, [cluster?.at]);
  if (error) return <p class="error">{error}</p>;
  if (!view) return <p class="muted">Loading tasks…</p>;
  const states = new Map<string, number>();
  for (const t of view.live) states.set(t.state, (states.get(t.state) ?? 0) + t.count);
  const kill = (id: string): void => void postAction(`/api/actors/${id}/kill`).catch((e: Error) => setError(e.message));
  return (
    <section id="tasks-page">
      <h1>Tasks &amp; actors</h1>
      <div class="cards">
        {['waiting', 'queued', 'running'].map((s) => <div class="card" key={s}><div class="label">{s}</div><div class="value">{states.get(s) ?? 0}</div></div>)}
        <div class="card"><div class="label">finished</div><div class="value" id="finished-total">{view.byName.reduce((a, t) => a + t.finished, 0)}</div></div>
        <div class="card"><div class="label">failed</div><div class="value" id="failed-total">{view.byName.reduce((a, t) => a + t.failed, 0)}</div></div>
      </div>
      <h2>By function or class</h2>
      <table id="tasks-by-name">
        <thead><tr><th>Name</th><th>Kind</th><th>Now</th><th>Finished</th><th>Failed</th><th>Mean</th><th>Max</th></tr></thead>
        <tbody>
          {view.byName.map((t) => <TaskCountsRow key={t.name} t={t} live={view.live} />)}
        </tbody>
      </table>
      <h2>Slowest</h2>
      <table id="slowest"><thead><tr><th>Task</th><th>Name</th><th>Job</th><th>Node</th><th>Ran</th></tr></thead>
        <tbody>{view.slowest.map((t) => <tr key={t.taskId}><td>{t.taskId}</td><td>{t.name}</td><td><a href={`/jobs/${t.jobId}`}>{t.jobId}</a></td><td>{t.nodeId ?? '-'}</td><td>{duration(t.ms)}</td></tr>)}</tbody>
      </table>
      <h2>Failures</h2>
      <FailureList failures={view.failures} />
      <h2>Actors</h2>
      <table id="actors"><thead><tr><th>Actor</th><th>Name</th><th>Class</th><th>State</th><th>Node</th><th>Restarts</th><th /></tr></thead>
        <tbody>{view.actors.map((a) => (
          <tr key={a.id}><td>{a.id}</td><td>{a.name || '-'}</td><td>{a.className}</td><td>{a.state}</td><td>{a.nodeId ?? '-'}</td><td>{a.restarts}</td>
            <td>{a.state !== 'dead' && <button class="kill-actor" onClick={() => kill(a.id)}>Kill</button>}</td></tr>
        ))}</tbody>
      </table>
      <h2>Largest objects</h2>
      <table id="objects"><thead><tr><th>Object</th><th>Size</th><th>State</th><th>Made by</th><th>On nodes</th><th>Holders</th></tr></thead>
        <tbody>{view.objects.map((o) => <tr key={o.id}><td>{o.id}</td><td>{bytes(o.size)}</td><td>{o.state}</td><td>{o.producer ?? '(put)'}</td><td>{o.locations.join(', ') || 'inline'}</td><td>{o.holders}</td></tr>)}</tbody>
      </table>
    </section>
  );
}

/** One function's (or class's) row: what is running now (from `live`, summed over jobs), finished, failed, run times. */
export function TaskCountsRow({ t, live }: { t: TaskCountsView; live: TasksView['live'] }) {
  const now = new Map<string, number>();
  for (const l of live) if (l.name === t.name) now.set(l.state, (now.get(l.state) ?? 0) + l.count);
  const runs = t.finished + t.failed;
  return (
    <tr><td>{t.name}</td><td>{t.kind}</td><td>{[...now].map(([state, n]) => `${n} ${state}`).join(', ') || '-'}</td><td>{t.finished}</td>
      <td class={t.failed ? 'bad' : ''}>{t.failed}</td><td>{runs ? duration(t.totalMs / runs) : '-'}</td><td>{duration(t.maxMs)}</td></tr>
  );
}

export function FailureList({ failures }: { failures: TaskFailureView[] }) {
  if (failures.length === 0) return <p class="muted">None.</p>;
  return (
    <div class="failures">
      {[...failures].reverse().map((f) => (
        <details class="failure" key={f.taskId} open>
          <summary><b>{f.name}</b> {f.error.name}: {f.error.message} <span class="muted">· {time(f.at)} · job {f.jobId}{f.nodeId ? ` · node ${f.nodeId}` : ''}</span></summary>
          <pre class="stack">{f.error.stack ?? '(no stack)'}</pre>
        </details>
      ))}
    </div>
  );
}

export const page: PageEntry = { path: /^\/tasks$/, nav: 'Tasks & actors', href: '/tasks', order: 30, render: () => <TasksPage /> };
