/**
 * The dashboard's data from the head store of a stopped cluster (`shoal dashboard --history`):
 * the last cluster and tasks views, jobs with their kept output, events and metric samples, read
 * once at start. Read-only: actions answer DashboardReadOnlyError.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { openHeadStore, type JobRecord, type StoredRecords } from '../core/index.js';
import type { ClusterView, DatasetsView, EventView, JobView, LogChunk, MetricPoint, ServeView, TasksView } from './api-types.js';
import { DashboardHistoryError, DashboardNotFoundError, DashboardReadOnlyError } from './errors.js';
import type { StoredJobLog } from './history-keeper.js';
import { PublishedKeeper } from './published-keeper.js';
import { jobView, MAX_LOG_CHUNK_BYTES, withReplicaNodes, type DashboardSource } from './source.js';

/**
 * The head store a `--history` value names: a database URL as given; a head store file; a
 * cluster folder holding head.sqlite; or a SHOAL_HOME, whose newest session's store is taken.
 */
export function findHistoryStore(spec: string): string {
  if (/^postgres(ql)?:\/\//.test(spec)) return spec;
  const path = resolve(spec);
  if (!existsSync(path)) throw new DashboardHistoryError(path, 'no such file or folder');
  if (statSync(path).isFile()) return path;
  if (existsSync(join(path, 'head.sqlite'))) return join(path, 'head.sqlite');
  const sessions = join(path, 'sessions');
  const stores = existsSync(sessions)
    ? readdirSync(sessions).map((s) => join(sessions, s, 'head.sqlite')).filter((f) => existsSync(f))
    : [];
  if (stores.length === 0) {
    throw new DashboardHistoryError(path, 'it holds no head store (head.sqlite, or sessions/*/head.sqlite under a SHOAL_HOME); pass the store file or a postgres:// URL');
  }
  return stores.sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs)[0]!;
}

export class HistorySource implements DashboardSource {
  readonly readOnly = true;

  private readonly published: PublishedKeeper;

  private constructor(readonly store: string, private readonly records: StoredRecords) {
    this.published = new PublishedKeeper(this.table('history-published'));
  }

  static async open(spec: string): Promise<HistorySource> {
    const store = findHistoryStore(spec);
    const s = await openHeadStore(store);
    let records: StoredRecords;
    try {
      records = await s.open();
    } catch (err) {
      await s.close().catch(() => undefined);
      throw new DashboardHistoryError(store, (err as Error).message, { cause: err });
    }
    await s.close();
    if (!records.get('meta')?.has('cluster')) throw new DashboardHistoryError(store, 'it holds no cluster (an empty or new head store)');
    return new HistorySource(store, records);
  }

  private table(kind: Parameters<StoredRecords['get']>[0]): Map<string, unknown> {
    return this.records.get(kind) ?? new Map();
  }

  cluster(): ClusterView {
    const last = this.table('history-view').get('cluster') as ClusterView | undefined;
    const meta = this.table('meta').get('cluster') as { clusterId: string };
    const empty: ClusterView = {
      clusterId: meta.clusterId, address: '', version: '', hostname: '', readOnly: true, at: 0, nodes: [], tasks: { pending: 0, running: 0 },
      counters: { tasksSubmitted: 0, tasksFinished: 0, tasksFailed: 0, tasksRetried: 0, objectsReconstructed: 0 },
      objects: { count: 0, inlineBytes: 0, storeBytes: 0, spilledBytes: 0 }, actors: [], placementGroups: [],
    };
    return { ...(last ?? empty), readOnly: true };
  }

  jobs(): JobView[] {
    return [...this.table('job').values()].map((j) => jobView(j as JobRecord));
  }

  job(id: string): JobView {
    const j = this.table('job').get(id) as JobRecord | undefined;
    if (!j) throw new DashboardNotFoundError(`job ${id}`);
    return jobView(j);
  }

  readLog(id: string, offset: number): Promise<LogChunk> {
    this.job(id);
    const kept = this.table('history-job-log').get(id) as StoredJobLog | undefined;
    const all = Buffer.from(kept ? (kept.skippedBytes ? `[… ${kept.skippedBytes} earlier bytes not kept …]\n` : '') + kept.data : '');
    const end = Math.min(all.length, offset + MAX_LOG_CHUNK_BYTES);
    return Promise.resolve({ data: all.subarray(offset, end).toString('utf8'), offset: end, done: end >= all.length });
  }

  tasks(): TasksView {
    const last = this.table('history-view').get('tasks') as TasksView | undefined;
    return last ?? { live: [], byName: [], failures: [], slowest: [], actors: [], objects: [] };
  }

  events(limit: number): EventView[] {
    const t = this.table('history-event');
    return [...t.keys()].sort().slice(-limit).map((k) => t.get(k) as EventView);
  }

  metrics(): MetricPoint[] {
    const t = this.table('history-metric');
    return [...t.keys()].sort().map((k) => t.get(k) as MetricPoint);
  }

  serve(): ServeView {
    return withReplicaNodes(this.published.serve(), this.cluster().actors);
  }

  datasets(): DatasetsView {
    return this.published.datasets();
  }

  onEvent(): () => void {
    return () => {};
  }

  stopJob(): JobView {
    throw new DashboardReadOnlyError('stop a job');
  }

  killActor(): void {
    throw new DashboardReadOnlyError('kill an actor');
  }

  rollbackDeployment(): Promise<unknown> {
    return Promise.reject(new DashboardReadOnlyError('roll back a deployment'));
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
