/** Feature store page: feature views with their features and types, entities, and freshness (age of each view's high-water mark). */
import type { FeaturesView } from '../../api-types.js';
import { useJson } from '../api.js';
import { duration, time } from '../format.js';
import type { PageEntry } from '../page.js';

export function FeaturesPage() {
  const view = useJson<FeaturesView>('/api/features');
  if (view.error) return <p class="error">{view.error}</p>;
  if (!view.data) return <p class="muted">Loading the feature registry…</p>;
  const f = view.data;
  const now = Date.now();
  return (
    <section id="features-page">
      <h1>Feature store</h1>
      <p class="muted">Registry <code>{f.registry}</code> · online store: {f.online}</p>
      <h2>Feature views</h2>
      {f.views.length === 0 ? <p class="muted">No feature views applied yet.</p> : (
        <table id="feature-views">
          <thead><tr><th>View</th><th>Version</th><th>Entities</th><th>Source</th><th>Features</th><th>TTL</th><th>Freshness</th></tr></thead>
          <tbody>{f.views.map((v) => (
            <tr key={v.name} data-view={v.name}>
              <td>{v.name}{v.kind === 'onDemandFeatureView' ? <span class="muted"> (on demand)</span> : ''}</td><td>v{v.version}</td><td>{v.entities.join(', ')}</td><td>{v.source}</td>
              <td>{v.features.map((x) => <span class="tag" key={x.name}>{x.name}: {x.type}</span>)}</td><td>{v.ttlMs === null ? '-' : duration(v.ttlMs)}</td>
              <td class="freshness">{v.highWaterMark === undefined ? '-' : v.highWaterMark === null ? 'never materialized' : `${duration(now - v.highWaterMark)} (up to ${time(v.highWaterMark)})`}</td>
            </tr>
          ))}</tbody>
        </table>
      )}
      <h2>Entities</h2>
      {f.entities.length === 0 ? <p class="muted">None.</p> : (
        <table id="entities"><thead><tr><th>Entity</th><th>Join keys</th><th>Key type</th><th>Version</th><th>Description</th></tr></thead>
          <tbody>{f.entities.map((e) => <tr key={e.name}><td>{e.name}</td><td>{e.joinKeys.join(', ')}</td><td>{e.keyType}</td><td>v{e.version}</td><td>{e.description}</td></tr>)}</tbody></table>
      )}
    </section>
  );
}

export const page: PageEntry = { path: /^\/features$/, nav: 'Feature store', href: '/features', order: 55, render: () => <FeaturesPage /> };
