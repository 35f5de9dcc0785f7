/** The dashboard's data from the head it runs in (through core's HeadHost). */
import { readFileSync } from 'node:fs';
import type { HeadHost, HeadStatus } from '../core/index.js';
import type { ClusterView, DatasetsView, EventView, JobView, LogChunk, MetricPoint, RemoteErrorView, ServeView, TasksView } from './api-types.js';
import { DashboardActionError, DashboardNotFoundError } from './errors.js';
import { readLogChunk } from './log-file.js';
import type { MetricSampler } from './metric-sampler.js';
import { PublishedKeeper } from './published-keeper.js';
import { jobView, withReplicaNodes, type DashboardSource } from './source.js';

/** Objects listed on the Tasks page (the largest). */
export const OBJECTS_LISTED = 50;
/**
 * Views are computed at most this often, whatever the number of open pages: the tasks view walks
 * the scheduler's table and the object directory, which a task storm fills (bench: dashboard).
 * The pages refresh once a second, so a second's cache serves them all from one computation.
 */
export const VIEW_CACHE_MS = 1_000;
/** How long a serve instance has to answer a rollback the dashboard asks for. */
export const ROLLBACK_TIMEOUT_MS = 15_000;

/** `compute`, memoized for VIEW_CACHE_MS; `invalidate()` makes the next call compute afresh. */
function cached<T>(compute: () => T): { (): T; invalidate(): void } {
  let at = -Infinity;
  let value: T | undefined;
  const get = (): T => {
    const now = Date.now();
    if (now - at >= VIEW_CACHE_MS) {
      value = compute();
      at = now;
    }
    return value!;
  };
  return Object.assign(get, { invalidate: () => void (at = -Infinity) });
}

/** The cluster view of a head status. */
export function clusterView(s: HeadStatus, readOnly: boolean, at = Date.now()): ClusterView {
  let storeBytes = 0;
  let spilledBytes = 0;
  for (const n of s.nodes) {
    if (!n.alive) continue;
    storeBytes += n.usage?.objectStoreBytes ?? 0;
    spilledBytes += n.usage?.spilledBytes ?? 0;
  }
  return {
    clusterId: s.head.clusterId, address: s.head.address, version: s.head.version, hostname: s.head.hostname, readOnly, at,
    nodes: s.nodes, tasks: s.tasks, counters: { ...s.counters }, actors: s.actors, placementGroups: s.placementGroups,
    objects: { count: s.objects.count, inlineBytes: s.objects.inlineBytes, storeBytes, spilledBytes },
    autoscaler: s.autoscaler ? { provider: s.autoscaler.provider, decisions: s.autoscaler.decisions } : undefined,
  };
}

/**
 * What the user's code threw: a task's TaskError carries the thrown error's class, message and
 * stack (the remote stack) in its context; other errors (a dead worker, a lost object) are shown as they are.
 */
export function remoteError(e: { name: string; code: string; message: string; stack?: string | undefined; context?: Record<string, unknown> | undefined }): RemoteErrorView {
  const c = e.context ?? {};
  if (e.name === 'TaskError' && typeof c.remoteStack === 'string') {
    return { name: String(c.causeName ?? 'Error'), code: e.code, message: String(c.causeMessage ?? e.message), stack: c.remoteStack };
  }
  return { name: e.name, code: e.code, message: e.message, stack: e.stack };
}

export class LiveSource implements DashboardSource {
  readonly readOnly = false;
  sampler?: MetricSampler;

  private readonly clusterCached = cached(() => clusterView(this.host.status(), false));
  private readonly tasksCached = cached((): TasksView => {
    const t = this.host.tasks();
    const failures = t.failures.map((f) => ({ ...f, error: remoteError(f.error) }));
    return { ...t, failures, actors: this.cluster().actors, objects: this.host.objects(OBJECTS_LISTED) };
  });

  readonly published: PublishedKeeper;
  private readonly unsubscribe: () => void;

  constructor(private readonly host: HeadHost) {
    this.published = new PublishedKeeper(host.stored('history-published'), host);
    this.unsubscribe = host.onEvent((e) => {
      if (e.event === 'published') this.published.take(String(e.fields.topic), e.fields.data, e.at);
      // A page refetches the tasks view when a job changes state (its failures are final when it
      // ends): a view cached from before that event would show it without them until the next event.
      else if (e.event === 'job') this.tasksCached.invalidate();
    });
  }

  cluster(): ClusterView {
    return this.clusterCached();
  }

  jobs(): JobView[] {
    return this.host.jobs().map(jobView);
  }

  job(id: string): JobView {
    return jobView(this.record(id));
  }

  private record(id: string): ReturnType<HeadHost['job']> {
    if (!this.host.jobs().some((j) => j.id === id)) throw new DashboardNotFoundError(`job ${id}`);
    return this.host.job(id);
  }

  readLog(id: string, offset: number): Promise<LogChunk> {
    const job = this.record(id);
    return readLogChunk(job.logFile, offset, !this.host.jobRunning(id) && job.status !== 'PENDING');
  }

  tasks(): TasksView {
    return this.tasksCached();
  }

  events(limit: number): EventView[] {
    return this.host.events(limit);
  }

  metrics(): MetricPoint[] {
    return this.sampler?.all() ?? [];
  }

  serve(): ServeView {
    return withReplicaNodes(this.published.serve(), this.cluster().actors);
  }

  datasets(): DatasetsView {
    return this.published.datasets();
  }

  onEvent(listener: (e: EventView) => void): () => void {
    return this.host.onEvent(listener);
  }

  stopJob(id: string): JobView {
    this.record(id);
    return jobView(this.host.stopJob(id));
  }

  killActor(actorId: string): void {
    if (!this.host.status().actors.some((a) => a.id === actorId)) throw new DashboardNotFoundError(`actor ${actorId}`);
    this.host.killActor(actorId);
  }

  /**
   * Asks the serve instance at `url` (its admin endpoint, with the cluster token) to roll deployment
   * `name` back. Only an instance that published its status here, with that deployment, is asked:
   * no URL a page sends is called otherwise.
   */
  async rollbackDeployment(url: string, name: string): Promise<unknown> {
    const instance = this.published.serve().latest.find((s) => s.url === url && s.status.deployments.some((d) => d.name === name));
    if (!instance) throw new DashboardNotFoundError(`deployment ${JSON.stringify(name)} of a serve instance at ${JSON.stringify(url)}`);
    const action = `roll back deployment ${name} at ${url}`;
    const token = readFileSync(this.host.info.tokenFile, 'utf8').trim();
    let res: Response;
    try {
      res = await fetch(new URL('/-/rollback', instance.url), {
        method: 'POST', redirect: 'error', signal: AbortSignal.timeout(ROLLBACK_TIMEOUT_MS),
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ name }),
      });
    } catch (err) {
      throw new DashboardActionError(action, 0, `the serve instance did not answer: ${(err as Error).message}`, { cause: err });
    }
    const body = (await res.json().catch(() => null)) as { error?: { message?: string } } | null;
    if (!res.ok) throw new DashboardActionError(action, res.status, body?.error?.message ?? `HTTP ${res.status}`);
    return body;
  }

  close(): Promise<void> {
    this.unsubscribe();
    this.sampler?.stop();
    return Promise.resolve();
  }
}
