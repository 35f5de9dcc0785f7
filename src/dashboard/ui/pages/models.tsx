/** Models page: the registry's models, their latest version and aliases. */
import type { ModelsReply } from '../../api-types.js';
import { useJson } from '../api.js';
import { time } from '../format.js';
import type { PageEntry } from '../page.js';

export function ModelsPage() {
  const reply = useJson<ModelsReply>('/api/store/models');
  const models = { error: reply.error, data: reply.data?.models };
  if (models.error) return <p class="error">{models.error}</p>;
  if (!models.data) return <p class="muted">Loading models…</p>;
  return (
    <section id="models-page">
      <h1>Models</h1>
      {models.data.length === 0 ? <p class="muted">No registered models yet.</p> : (
        <table id="models">
          <thead><tr><th>Model</th><th>Latest version</th><th>Aliases</th><th>Updated</th><th>Description</th></tr></thead>
          <tbody>{models.data.map((m) => (
            <tr key={m.name}>
              <td><a href={`/models/${encodeURIComponent(m.name)}`}>{m.name}</a></td><td>{m.latestVersion ?? '-'}</td>
              <td>{Object.entries(m.aliases).map(([a, v]) => <span class="tag" key={a}>{a} → v{v}</span>)}</td>
              <td>{time(m.updatedAt)}</td><td>{m.description ?? ''}</td>
            </tr>
          ))}</tbody>
        </table>
      )}
    </section>
  );
}

export const page: PageEntry = { path: /^\/models$/, nav: 'Models', href: '/models', order: 45, render: () => <ModelsPage /> };
