/**
 * Datasets page (Spark UI's stage view): each Dataset action a driver ran, running ones first, with
 * its stages' partitions done/total, rows and rows/s. Drivers publish it (topic data.progress, at
 * most once a second per action); the page refreshes on each message.
 */
import type { DataActionView, DatasetsView } from '../../api-types.js';
import { useJson } from '../api.js';
import { duration, time } from '../format.js';
import { useLive } from '../live.js';
import type { PageEntry } from '../page.js';

export function DatasetsPage() {
  const { published } = useLive();
  const view = useJson<DatasetsView>('/api/datasets', published['data.progress']?.count ?? 0);
  if (view.error) return <p class="error">{view.error}</p>;
  if (!view.data) return <p class="muted">Loading datasets…</p>;
  return (
    <section id="datasets-page">
      <h1>Datasets</h1>
      {view.data.actions.length === 0 ? <p class="muted">No Dataset action has run on this cluster yet.</p> : view.data.actions.map((a) => <Action key={a.action} a={a} />)}
    </section>
  );
}

function Action({ a }: { a: DataActionView }) {
  const running = a.endedAt === null;
  return (
    <div class="data-action" data-action={a.action}>
      <h2>Action {a.action} <span class={`status ${running ? 'RUNNING' : 'SUCCEEDED'}`}>{running ? 'running' : 'done'}</span>
        <span class="muted"> · started {time(a.startedAt)} · {duration((a.endedAt ?? a.updatedAt) - a.startedAt)}</span></h2>
      <table class="stages">
        <thead><tr><th>Stage</th><th>Partitions</th><th>Progress</th><th>Rows</th><th>Rows/s</th><th>Time</th></tr></thead>
        <tbody>{a.stages.map((s, i) => {
          const ms = (s.endedAt ?? a.updatedAt) - s.startedAt;
          return (
            <tr key={i}><td>{s.label}</td><td>{s.done}/{s.total}</td>
              <td><div class="bar"><div style={{ width: `${s.total ? Math.round((100 * s.done) / s.total) : 0}%` }} /></div></td>
              <td class="num">{s.rows}</td><td class="num">{ms > 0 ? Math.round((s.rows * 1000) / ms) : '-'}</td><td>{duration(ms)}</td></tr>
          );
        })}</tbody>
      </table>
    </div>
  );
}

export const page: PageEntry = { path: /^\/datasets$/, nav: 'Datasets', href: '/datasets', order: 35, render: () => <DatasetsPage /> };
