/**
 * A head's real parts in this process for the dashboard's unit tests: its HeadState (fake sessions
 * stand in for the driver and worker processes, as in the core head tests), its HeadEvents, a
 * JobManager (real job processes), and core's headHost() over them — with the head store's history
 * records in a Map (`kept`), which is what HeadHost.keep/forget write through to.
 */
import { join } from 'node:path';
import { HeadEvents } from '../../../src/core/head/head-events.js';
import type { HeadHost } from '../../../src/core/head/head-extension.js';
import { headHost } from '../../../src/core/head/head-host.js';
import type { HistoryKind, JobRecord } from '../../../src/core/head/head-store.js';
import type { HeadInfo } from '../../../src/core/head/head.js';
import { JobManager } from '../../../src/core/head/job-manager.js';
import { FakeCluster } from '../core/head/fake-sessions.js';

export interface HeadParts {
  fc: FakeCluster;
  events: HeadEvents;
  jobs: JobManager;
  host: HeadHost;
  /** What the head store holds, `kind/key` → value. */
  kept: Map<string, unknown>;
}

export function headParts(dir: string, options: { storedJobs?: JobRecord[]; stored?: Map<HistoryKind, Map<string, unknown>> } = {}): HeadParts {
  const fc = new FakeCluster();
  const events = new HeadEvents();
  const kept = new Map<string, unknown>();
  const store = { put: (kind: string, key: string, v: unknown) => void kept.set(`${kind}/${key}`, v), delete: (kind: string, key: string) => void kept.delete(`${kind}/${key}`) };
  fc.state.onEvent = (event, fields) => events.emit(event, fields);
  // As the head wires it (head.ts): each change of a job's record is a 'job' event.
  const jobs = new JobManager({ put: () => undefined }, join(dir, 'jobs'), () => ({}), options.storedJobs ?? [], (job) => events.emit('job', { jobId: job.id, status: job.status }));
  const info: HeadInfo = { address: '127.0.0.1:1', port: 1, metricsPort: 2, tokenFile: join(dir, 'token'), dir, store: 'memory', clusterId: 'c-test' };
  const host = headHost({
    info, token: 'token', state: fc.state, jobs, events, store, stored: options.stored ?? new Map(),
    status: () => ({ ...fc.state.status(), jobs: jobs.list(), head: { ...info, version: 'test', hostname: 'test', recovering: false }, autoscaler: undefined }),
    mount: () => undefined,
    addMetrics: () => undefined,
  });
  return { fc, events, jobs, host, kept };
}
