/**
 * Model page: versions, aliases (set one: the store API's one write, with the CSRF header), the
 * alias history, and the lineage graph of a version: dataset versions → run (and its ancestors)
 * → model version → deployments.
 */
import { useState } from 'preact/hooks';
import type { LineageView, ModelDetailView } from '../../api-types.js';
import { postAction, useJson } from '../api.js';
import { time } from '../format.js';
import type { PageEntry } from '../page.js';

export function ModelPage({ name }: { name: string }) {
  const [again, setAgain] = useState(0);
  const detail = useJson<ModelDetailView>(`/api/store/models/${encodeURIComponent(name)}`, again);
  const [selected, setSelected] = useState<number>();
  const session = useJson<{ readOnly: boolean }>('/api/session');
  const readOnly = session.data?.readOnly ?? true;
  if (detail.error) return <p class="error">{detail.error}</p>;
  if (!detail.data) return <p class="muted">Loading model {name}…</p>;
  const { model, versions, aliasHistory } = detail.data;
  const version = selected ?? model.latestVersion ?? versions[0]?.version;
  return (
    <section id="model-page">
      <h1>Model {model.name}</h1>
      {model.description && <p>{model.description}</p>}
      <p id="model-aliases">{Object.entries(model.aliases).map(([a, v]) => <span class="tag" key={a}>{a} → v{v}</span>)}</p>
      <h2>Versions</h2>
      <table id="model-versions">
        <thead><tr><th>Version</th><th>Aliases</th><th>Run</th><th>Source</th><th>Created</th><th /></tr></thead>
        <tbody>{versions.map((v) => (
          <tr key={v.version} class={v.version === version ? 'selected' : ''}>
            <td>v{v.version}</td><td>{v.aliases.join(', ')}</td>
            <td>{v.runId ? <a href={`/runs/${v.runId}`}>{v.runId}</a> : '-'}</td><td><code>{v.source}</code></td><td>{time(v.createdAt)}</td>
            <td><button class="show-lineage" onClick={() => setSelected(v.version)}>Lineage</button></td>
          </tr>
        ))}</tbody>
      </table>
      {!readOnly && <SetAlias name={model.name} versions={versions.map((v) => v.version)} done={() => setAgain(again + 1)} />}
      {version !== undefined && <><h2>Lineage of v{version}</h2><LineageGraph uri={`models:/${model.name}/${version}`} /></>}
      <h2>Alias history</h2>
      {aliasHistory.length === 0 ? <p class="muted">No alias set yet.</p> : (
        <table id="alias-history"><thead><tr><th>When</th><th>Alias</th><th>Version</th><th>Before</th><th>By</th><th>Reason</th></tr></thead>
          <tbody>{[...aliasHistory].sort((a, b) => b.setAt - a.setAt).map((c, i) => (
            <tr key={i}><td>{time(c.setAt)}</td><td>{c.alias}</td><td>{c.version === null ? '(removed)' : `v${c.version}`}</td>
              <td>{c.previousVersion === null ? '-' : `v${c.previousVersion}`}</td><td>{c.setBy}</td><td>{c.reason ?? ''}</td></tr>
          ))}</tbody></table>
      )}
    </section>
  );
}

function SetAlias({ name, versions, done }: { name: string; versions: number[]; done: () => void }) {
  const [alias, setAlias] = useState('');
  const [version, setVersion] = useState(versions[0] ?? 1);
  const [error, setError] = useState<string>();
  const submit = (e: Event): void => {
    e.preventDefault();
    setError(undefined);
    postAction(`/api/store/models/${encodeURIComponent(name)}/aliases/${encodeURIComponent(alias.trim())}`, { version, reason: 'set from the dashboard' })
      .then(done, (err: Error) => setError(err.message));
  };
  return (
    <form id="set-alias" class="toolbar" onSubmit={submit}>
      <label>Alias <input id="alias-name" value={alias} required onInput={(e) => setAlias((e.target as HTMLInputElement).value)} /></label>
      <label>→ version <select id="alias-version" value={version} onChange={(e) => setVersion(Number((e.target as HTMLSelectElement).value))}>
        {versions.map((v) => <option key={v} value={v}>v{v}</option>)}</select></label>
      <button type="submit">Set alias</button>
      {error && <span class="error" id="alias-error">{error}</span>}
    </form>
  );
}

const BOX_W = 200;
const BOX_H = 44;
const GAP_X = 60;
const GAP_Y = 14;

/** data → run → model version → deployment, as columns of boxes joined by lines (SVG, no library). */
export function LineageGraph({ uri }: { uri: string }) {
  const lineage = useJson<LineageView>(`/api/store/lineage?uri=${encodeURIComponent(uri)}`);
  if (lineage.error) return <p class="error">{lineage.error}</p>;
  if (!lineage.data) return <p class="muted">Loading lineage…</p>;
  const l = lineage.data;
  type Box = { id: string; label: string; sub: string; href?: string | undefined; kind: string };
  const columns: Box[][] = [
    l.datasets.map((d) => ({ id: `d:${d.id}:${d.runId}`, label: d.id, sub: `${d.role}${d.rowCount === null ? '' : ` · ${d.rowCount} rows`}`, kind: 'dataset' })),
    [...l.ancestors].reverse().concat([l.run]).map((r) => ({ id: `r:${r.id}`, label: r.name || r.id, sub: `run ${r.status}`, href: `/runs/${r.id}`, kind: 'run' })),
    l.modelVersion ? [{ id: 'm', label: `${l.modelVersion.name} v${l.modelVersion.version}`, sub: l.modelVersion.aliases.join(', ') || 'model version', kind: 'model' }] : [],
    l.deployments.map((d, i) => ({ id: `x:${i}`, label: d.target, sub: `deployed ${time(d.deployedAt)}`, kind: 'deployment' })),
  ].filter((c) => c.length > 0);
  const pos = new Map<string, { x: number; y: number }>();
  columns.forEach((col, ci) => col.forEach((b, bi) => pos.set(b.id, { x: ci * (BOX_W + GAP_X), y: bi * (BOX_H + GAP_Y) })));
  const height = Math.max(...columns.map((c) => c.length)) * (BOX_H + GAP_Y);
  const width = columns.length * (BOX_W + GAP_X) - GAP_X;
  const edges: Array<[string, string]> = [];
  for (let ci = 1; ci < columns.length; ci++) {
    for (const to of columns[ci]!) {
      // Datasets feed the run that read them; everything else feeds every box of the next column.
      const from = columns[ci - 1]!.filter((f) => f.kind !== 'dataset' || to.id === `r:${f.id.split(':').pop()}` || to.kind !== 'run');
      for (const f of from.length ? from : columns[ci - 1]!) edges.push([f.id, to.id]);
    }
  }
  return (
    <svg id="lineage" class="lineage" width={width + 2} height={height} viewBox={`-1 0 ${width + 2} ${height}`} role="img" aria-label={`lineage of ${uri}`}>
      {edges.map(([a, b], i) => {
        const p = pos.get(a)!;
        const q = pos.get(b)!;
        return <line key={i} x1={p.x + BOX_W} y1={p.y + BOX_H / 2} x2={q.x} y2={q.y + BOX_H / 2} class="edge" />;
      })}
      {columns.flat().map((b) => {
        const p = pos.get(b.id)!;
        const box = (
          <g class={`node ${b.kind}`} data-kind={b.kind}>
            <rect x={p.x} y={p.y} width={BOX_W} height={BOX_H} rx={6} />
            <text x={p.x + 8} y={p.y + 18}>{b.label.length > 26 ? `${b.label.slice(0, 25)}…` : b.label}</text>
            <text x={p.x + 8} y={p.y + 34} class="sub">{b.sub}</text>
          </g>
        );
        return b.href ? <a key={b.id} href={b.href}>{box}</a> : <g key={b.id}>{box}</g>;
      })}
    </svg>
  );
}

export const page: PageEntry = { path: /^\/models\/([^/]+)$/, order: 46, render: ([name]) => <ModelPage name={name!} /> };
