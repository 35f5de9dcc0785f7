/** Jobs page: every job with its status and duration, newest first. */
import type { PageEntry } from '../page.js';
import { useEffect, useState } from 'preact/hooks';
import type { JobView } from '../../api-types.js';
import { getJson } from '../api.js';
import { duration, time } from '../format.js';
import { useLive } from '../live.js';

export function JobsPage() {
  const [jobs, setJobs] = useState<JobView[] | undefined>();
  const [error, setError] = useState<string>();
  const { events } = useLive();
  const jobEvents = events.filter((e) => e.event === 'job').length;
  useEffect(() => {
    getJson<JobView[]>('/api/jobs').then(setJobs, (e: Error) => setError(e.message));
  }, [jobEvents]);
  if (error) return <p class="error">{error}</p>;
  if (!jobs) return <p class="muted">Loading jobs…</p>;
  const sorted = [...jobs].sort((a, b) => b.submittedAt - a.submittedAt);
  return (
    <section id="jobs-page">
      <h1>Jobs</h1>
      {sorted.length === 0 ? <p class="muted">No jobs yet: <code>shoal submit -- node job.js</code> runs one.</p> : (
        <table id="jobs">
          <thead><tr><th>Job</th><th>Status</th><th>Entrypoint</th><th>Submitted</th><th>Duration</th></tr></thead>
          <tbody>
            {sorted.map((j) => (
              <tr key={j.id}>
                <td><a href={`/jobs/${j.id}`}>{j.id}</a></td><td class={`status ${j.status}`}>{j.status}</td><td><code>{j.entrypoint}</code></td>
                <td>{time(j.submittedAt)}</td><td>{j.startedAt ? duration((j.endedAt ?? Date.now()) - j.startedAt) : '-'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

export const page: PageEntry = { path: /^\/jobs$/, nav: 'Jobs', href: '/jobs', order: 20, render: () => <JobsPage /> };
