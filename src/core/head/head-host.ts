/**
 * The HeadHost an extension gets (head-extension.ts), built from the head's parts. Kept apart from
 * head.ts so that what extensions may see and do is read in one place: views of the state, job
 * control, actor kill, events, and the token check, nothing that mutates the scheduler otherwise.
 */
import { timingSafeEqual } from 'node:crypto';
import type { Registry } from 'prom-client';
import { InvalidOptionError } from '../errors.js';
import type { HeadInfo } from './head.js';
import type { HeadEvents } from './head-events.js';
import type { HeadHost, HeadHttpHandler, HeadStatus } from './head-extension.js';
import type { HeadState } from './head-state.js';
import type { HeadStore, HistoryKind, StoredRecords } from './head-store.js';
import type { JobManager } from './job-manager.js';

export interface HeadHostParts {
  info: HeadInfo;
  token: string;
  state: HeadState;
  jobs: JobManager;
  events: HeadEvents;
  store: Pick<HeadStore, 'put' | 'delete'>;
  stored: StoredRecords;
  status(): HeadStatus;
  mount(prefix: string, handler: HeadHttpHandler, name: string): void;
  addMetrics(registry: Registry): void;
}

export function headHost(p: HeadHostParts): HeadHost {
  const want = Buffer.from(p.token);
  return {
    info: p.info,
    checkToken(token: string): boolean {
      const given = Buffer.from(token);
      return given.length === want.length && timingSafeEqual(given, want);
    },
    mountHttp(name: string, prefix: string, handler: HeadHttpHandler): void {
      if (!prefix.startsWith('/')) throw new InvalidOptionError(`an HTTP mount prefix must start with '/', got '${prefix}'`);
      p.mount(prefix, handler, name);
    },
    addMetrics: (registry: Registry) => p.addMetrics(registry),
    status: () => p.status(),
    tasks: () => ({ ...p.state.taskSummary.view(), live: p.state.liveTasks() }),
    objects: (limit: number) => p.state.largestObjects(limit),
    jobs: () => p.jobs.list(),
    job: (id: string) => p.jobs.get(id),
    jobRunning: (id: string) => p.jobs.isRunning(id),
    stopJob: (id: string) => p.jobs.stop(id),
    killActor(actorId: string): void {
      if (!p.state.actors.has(actorId)) throw new InvalidOptionError(`no actor ${actorId} in this cluster`);
      p.state.killActor(actorId, true, 'killed from the dashboard');
    },
    events: (limit?: number) => p.events.recent(limit),
    onEvent: (listener) => p.events.subscribe(listener),
    stored: (kind: HistoryKind) => p.stored.get(kind) ?? new Map(),
    keep: (kind: HistoryKind, key: string, value: unknown) => p.store.put(kind, key, value),
    forget: (kind: HistoryKind, key: string) => p.store.delete(kind, key),
  };
}
