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
  const { model, versions, history: aliasHistory } = detail.data;
  const sortedVersions = [...versions].sort((a, b) => b.version - a.version);
  const version = selected ?? model.latestVersion ?? versions[0]?.version;
  return (
    <section id="model-page">
      <h1>Model {model.name}</h1>
      {model.description && <p>{model.description}</p>}
      <p id="model-aliases">{Object.entries(model.aliases).map(([a, v]) => <span class="tag" key={a}>{a} → v{v}</span>)}</p>
      <h2>Versions</h2>
      <table id="model-versions">
        <thead><tr><th>Version</th><th>Aliases</th><th>Run</th><th>Source</th><th>Created</th><th /></tr></thead>
        <tbody>{sortedVersions.map((v) => (
          <tr key={v.version} class={v.version === version ? 'selected' : ''}>
            <td>v{v.version}</td><td>{v.aliases.join(', ')}</td>
            <td>{v.runId ? <a href={`/runs/${v.runId}`}>{v.runId}</a> : '-'}</td><td><code>{v.source}</code></td><td>{time(v.createdAt)}</td>
            <td><button class="show-lineage" onClick={() => setSelected(v.version)}>Lineage</button></td>
          </tr>
        ))}</tbody>
      </table>
      {!readOnly && <SetAlias name={model.name} versions={sortedVersions.map((v) => v.version)} done={() => setAgain(again + 1)} />}
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

const BOX_W = 210;
const BOX_H = 44;
const GAP_X = 56;
const GAP_Y = 14;
const clip = (s: string, n: number): string => (s.length > n ? `${s.slice(0, n - 1)}…` : s);

/**
 * The store's lineage graph drawn left to right in the direction data flows: each node in the
 * column of its longest path from a source (datasets and feature pipelines first, then runs,
 * parents before children, the model version, its deployments). SVG, no library.
 */
export function LineageGraph({ uri }: { uri: string }) {
  const lineage = useJson<LineageView>(`/api/store/lineage?uri=${encodeURIComponent(uri)}`);
  if (lineage.error) return <p class="error" id="lineage-error">{lineage.error}</p>;
  if (!lineage.data) return <p class="muted">Loading lineage…</p>;
  const { nodes, edges } = lineage.data;
  const rank = new Map<string, number>(nodes.map((n) => [n.id, 0]));
  for (let pass = 0; pass < nodes.length; pass++) {
    let moved = false;
    for (const e of edges) {
      const r = (rank.get(e.from) ?? 0) + 1;
      if (rank.has(e.to) && r > rank.get(e.to)!) {
        rank.set(e.to, r);
        moved = true;
      }
    }
    if (!moved) break;
  }
  const rows = new Map<number, number>();
  const pos = new Map<string, { x: number; y: number }>();
  for (const n of nodes) {
    const c = rank.get(n.id)!;
    const r = rows.get(c) ?? 0;
    rows.set(c, r + 1);
    pos.set(n.id, { x: c * (BOX_W + GAP_X), y: r * (BOX_H + GAP_Y) });
  }
  const width = Math.max(1, rows.size) * (BOX_W + GAP_X) - GAP_X;
  const height = Math.max(1, ...rows.values()) * (BOX_H + GAP_Y);
  const sub = (n: LineageView['nodes'][number]): string => {
    const d = n.detail;
    if (n.kind === 'run') return `run · ${String(d.status ?? '')}`;
    if (n.kind === 'dataset') return `dataset${typeof d.rowCount === 'number' ? ` · ${d.rowCount} rows` : ''}`;
    if (n.kind === 'deployment') return `deployed ${typeof d.deployedAt === 'number' ? time(d.deployedAt) : ''}`;
    return n.kind.replace('-', ' ');
  };
  return (
    <svg id="lineage" class="lineage" width={width + 2} height={height} viewBox={`-1 0 ${width + 2} ${height}`} role="img" aria-label={`lineage of ${uri}`}>
      {edges.filter((e) => pos.has(e.from) && pos.has(e.to)).map((e, i) => {
        const p = pos.get(e.from)!;
        const q = pos.get(e.to)!;
        return <line key={i} x1={p.x + BOX_W} y1={p.y + BOX_H / 2} x2={q.x} y2={q.y + BOX_H / 2} class="edge"><title>{e.kind}</title></line>;
      })}
      {nodes.map((n) => {
        const p = pos.get(n.id)!;
        const box = (
          <g class={`node ${n.kind}`} data-kind={n.kind}>
            <rect x={p.x} y={p.y} width={BOX_W} height={BOX_H} rx={6} />
            <text x={p.x + 8} y={p.y + 18}>{clip(n.label, 28)}</text>
            <text x={p.x + 8} y={p.y + 34} class="sub">{clip(sub(n), 32)}</text>
            <title>{n.label}</title>
          </g>
        );
        const runId = n.kind === 'run' ? n.detail.runId : undefined;
        return typeof runId === 'string' ? <a key={n.id} href={`/runs/${runId}`}>{box}</a> : <g key={n.id}>{box}</g>;
      })}
    </svg>
  );
}

export const page: PageEntry = { path: /^\/models\/([^/]+)$/, order: 46, render: ([name]) => <ModelPage name={name!} /> };
