/**
 * Runs page (the platform store's tracking): every run of an experiment, filtered with the store's
 * filter syntax (`metrics.rmse < 0.9 and params.rank = '16'`) and sorted by any column; two runs
 * ticked open the compare page. The store outlives clusters: the page works on --history too.
 */
import { useState } from 'preact/hooks';
import type { ExperimentsReply, RunsReply } from '../../api-types.js';
import { useJson } from '../api.js';
import { duration, time } from '../format.js';
import type { PageEntry } from '../page.js';

export const RUNS_LISTED = 100;

export function RunsPage() {
  const query = new URLSearchParams(location.search);
  const [experiment, setExperiment] = useState(query.get('experiment') ?? '');
  const [filter, setFilter] = useState(query.get('filter') ?? '');
  const [applied, setApplied] = useState(filter);
  const [order, setOrder] = useState('start_time DESC');
  const [offset, setOffset] = useState(0);
  const [picked, setPicked] = useState<string[]>([]);
  const experiments = useJson<ExperimentsReply>('/api/store/experiments');
  const params = new URLSearchParams({ limit: String(RUNS_LISTED), offset: String(offset), order });
  if (experiment) params.set('experiment', experiment);
  if (applied) params.set('filter', applied);
  const runs = useJson<RunsReply>(`/api/store/runs?${params}`);
  const list = runs.data?.runs ?? [];
  const total = runs.data?.total ?? 0;
  const paramKeys = [...new Set(list.flatMap((r) => Object.keys(r.params)))].sort().slice(0, 6);
  const metricKeys = [...new Set(list.flatMap((r) => Object.keys(r.metrics)))].sort().slice(0, 6);
  const sortBy = (column: string): void => {
    setOrder(order === `${column} DESC` ? `${column} ASC` : `${column} DESC`);
    setOffset(0);
  };
  const arrow = (column: string): string => (order === `${column} DESC` ? ' ▼' : order === `${column} ASC` ? ' ▲' : '');
  const pick = (id: string, on: boolean): void => setPicked(on ? [...picked.filter((p) => p !== id), id].slice(-2) : picked.filter((p) => p !== id));
  const Th = ({ column, label }: { column: string; label: string }) => <th class="sortable" data-column={column} onClick={() => sortBy(column)}>{label}{arrow(column)}</th>;
  return (
    <section id="runs-page">
      <h1>Runs</h1>
      <form class="toolbar" onSubmit={(e) => {
        e.preventDefault();
        setApplied(filter.trim());
        setOffset(0);
      }}>
        <label>Experiment <select id="experiment" value={experiment} onChange={(e) => {
          setExperiment((e.target as HTMLSelectElement).value);
          setOffset(0);
        }}>
          <option value="">all</option>
          {(experiments.data?.experiments ?? []).map((x) => <option key={x.id} value={x.name}>{x.name}</option>)}
        </select></label>
        <input id="run-filter" size={48} placeholder="metrics.rmse < 0.9 and params.rank = '16'" value={filter}
          onInput={(e) => setFilter((e.target as HTMLInputElement).value)} />
        <button type="submit">Filter</button>
        <a id="compare-link" class={picked.length === 2 ? 'button' : 'button disabled'} href={picked.length === 2 ? `/runs/compare?runs=${picked.join(',')}` : undefined}>
          Compare {picked.length}/2
        </a>
      </form>
      {runs.error && <p class="error" id="runs-error">{runs.error}</p>}
      {!runs.data && !runs.error && <p class="muted">Loading runs…</p>}
      {runs.data && (list.length === 0 ? <p class="muted">No runs{applied ? ' match' : ' yet: a training job with autolog records one'}.</p> : (
        <table id="runs">
          <thead><tr><th /><Th column="name" label="Run" /><th>Experiment</th><th>Status</th><Th column="start_time" label="Started" /><th>Duration</th>
            {paramKeys.map((k) => <Th key={k} column={`params.${k}`} label={k} />)}
            {metricKeys.map((k) => <Th key={k} column={`metrics.${k}`} label={k} />)}</tr></thead>
          <tbody>{list.map((r) => (
            <tr key={r.id} data-run={r.id}>
              <td><input type="checkbox" class="pick" checked={picked.includes(r.id)} onChange={(e) => pick(r.id, (e.target as HTMLInputElement).checked)} /></td>
              <td><a href={`/runs/${r.id}`}>{r.name || r.id}</a></td><td>{r.experimentName}</td><td class={`status ${r.status}`}>{r.status}</td>
              <td>{time(r.startTime)}</td><td>{r.endTime ? duration(r.endTime - r.startTime) : '-'}</td>
              {paramKeys.map((k) => <td key={k}>{r.params[k] ?? ''}</td>)}
              {metricKeys.map((k) => <td key={k} class="num">{r.metrics[k] === undefined ? '' : fmt(r.metrics[k])}</td>)}
            </tr>
          ))}</tbody>
        </table>
      ))}
      <p class="pager"><span class="muted" id="runs-total">{runs.data ? `${total} run${total === 1 ? '' : 's'}${total > list.length ? `, ${offset + 1}–${offset + list.length} shown` : ''}` : ''}</span>
        {offset > 0 && <button onClick={() => setOffset(Math.max(0, offset - RUNS_LISTED))}>Newer</button>}
        {offset + list.length < total && <button onClick={() => setOffset(offset + RUNS_LISTED)}>Older</button>}
      </p>
    </section>
  );
}

/** A metric's value, short. */
export const fmt = (v: number): string => (Number.isInteger(v) ? String(v) : Math.abs(v) >= 1000 || Math.abs(v) < 0.001 ? v.toExponential(3) : v.toPrecision(4));

export const page: PageEntry = { path: /^\/runs$/, nav: 'Runs', href: '/runs', order: 40, render: () => <RunsPage /> };
