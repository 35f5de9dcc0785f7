/** Job page: its status, its output streaming live, its tasks by function, their failures with the remote stack, and stop. */
import type { PageEntry } from '../page.js';
import { useEffect, useRef, useState } from 'preact/hooks';
import type { JobView, LogChunk, TasksView } from '../../api-types.js';
import { getJson, openStream, postAction } from '../api.js';
import { duration, time } from '../format.js';
import { useLive } from '../live.js';
import { FailureList, TaskCountsRow } from './tasks.js';

export function JobPage({ id }: { id: string }) {
  const [job, setJob] = useState<JobView>();
  const [log, setLog] = useState('');
  const [error, setError] = useState<string>();
  const [tasks, setTasks] = useState<TasksView>();
  const [readOnly, setReadOnly] = useState(true);
  const { events } = useLive();
  const logEl = useRef<HTMLPreElement>(null);
  const jobEvents = events.filter((e) => e.event === 'job' && e.fields.jobId === id).length;
  useEffect(() => {
    getJson<JobView>(`/api/jobs/${id}`).then(setJob, (e: Error) => setError(e.message));
    getJson<TasksView>('/api/tasks').then(setTasks, () => undefined);
  }, [id, jobEvents]);
  useEffect(() => {
    getJson<{ readOnly: boolean }>('/api/session').then((s) => setReadOnly(s.readOnly), () => undefined);
    return openStream(`/api/jobs/${id}/logs/stream`, {
      message: (d) => setLog((l) => l + (d as LogChunk).data),
      end: (d) => setJob((d as { job: JobView }).job),
    });
  }, [id]);
  useEffect(() => {
    logEl.current?.scrollTo({ top: logEl.current.scrollHeight });
  }, [log]);
  if (error) return <p class="error">{error}</p>;
  if (!job) return <p class="muted">Loading job {id}…</p>;
  const running = job.status === 'RUNNING' || job.status === 'PENDING';
  const stop = (): void => void postAction<JobView>(`/api/jobs/${id}/stop`).then(setJob, (e: Error) => setError(e.message));
  const failures = tasks?.failures.filter((f) => f.jobId === id) ?? [];
  const counts = [...(tasks?.byJob?.find((j) => j.jobId === id)?.tasks ?? [])];
  const live = tasks?.live.filter((l) => l.jobId === id) ?? [];
  // Functions only running so far have no finished counts yet: list them too.
  const names = new Set(counts.map((t) => t.name));
  for (const l of live) {
    if (names.has(l.name)) continue;
    names.add(l.name);
    counts.push({ name: l.name, kind: l.kind, finished: 0, failed: 0, totalMs: 0, maxMs: 0 });
  }
  return (
    <section id="job-page">
      <h1>Job {job.id} <span id="job-status" class={`status ${job.status}`}>{job.status}</span></h1>
      <p><code>{job.entrypoint}</code> · submitted {time(job.submittedAt)}
        {job.startedAt ? ` · ran ${duration((job.endedAt ?? Date.now()) - job.startedAt)}` : ''}
        {job.message ? ` · ${job.message}` : ''}</p>
      {running && !readOnly && <button id="stop-job" onClick={stop}>Stop job</button>}
      <h2>Output</h2>
      <pre id="job-log" class="log" ref={logEl}>{log}</pre>
      <h2>Tasks</h2>
      {counts.length === 0 ? <p class="muted">No task of this job has run on the cluster yet.</p> : (
        <table id="job-tasks">
          <thead><tr><th>Name</th><th>Kind</th><th>Now</th><th>Finished</th><th>Failed</th><th>Mean</th><th>Max</th></tr></thead>
          <tbody>{counts.map((t) => <TaskCountsRow key={t.name} t={t} live={live} />)}</tbody>
        </table>
      )}
      <h2>Failed tasks</h2>
      <FailureList failures={failures} />
    </section>
  );
}

export const page: PageEntry = { path: /^\/jobs\/([\w.-]+)$/, order: 21, render: ([id]) => <JobPage id={id!} /> };
