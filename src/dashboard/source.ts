/**
 * Where the dashboard's data comes from: a live head (live-source.ts) or the head store of a
 * stopped cluster (history-source.ts). The HTTP side (server/) only sees this interface, so both
 * modes serve the same pages.
 */
import type { ClusterView, DatasetsView, EventView, JobView, LogChunk, MetricPoint, ServeView, TasksView } from './api-types.js';

/** Largest log chunk one read returns. */
export const MAX_LOG_CHUNK_BYTES = 256 * 1024;

export interface DashboardSource {
  readonly readOnly: boolean;
  cluster(): ClusterView;
  jobs(): JobView[];
  /** Throws DashboardNotFoundError for an unknown id. */
  job(id: string): JobView;
  /** Up to MAX_LOG_CHUNK_BYTES of a job's output from `offset`; `done` once the job ended and all is read. */
  readLog(id: string, offset: number): Promise<LogChunk>;
  tasks(): TasksView;
  events(limit: number): EventView[];
  metrics(): MetricPoint[];
  /** Serving status samples and autoscaler decisions that serve instances published. */
  serve(): ServeView;
  /** Dataset actions and their stages, as their drivers published them. */
  datasets(): DatasetsView;
  /** Calls `listener` for every event from now on (never, for history); returns the unsubscribe function. */
  onEvent(listener: (e: EventView) => void): () => void;
  /** Throws DashboardReadOnlyError on history, DashboardNotFoundError for an unknown id. */
  stopJob(id: string): JobView;
  killActor(actorId: string): void;
  /**
   * Rolls deployment `name` of the serve instance at `url` back (its canary dropped, else the previous
   * version); `url` must be one a serve instance published. Throws DashboardReadOnlyError on history.
   */
  rollbackDeployment(url: string, name: string): Promise<unknown>;
  close(): Promise<void>;
}

/** A job record as the API shows it (the server-side log path left out). */
export function jobView(j: JobView & { logFile?: string | undefined; pid?: number | undefined }): JobView {
  return {
    id: j.id, status: j.status, entrypoint: j.entrypoint, submittedAt: j.submittedAt, startedAt: j.startedAt,
    endedAt: j.endedAt, exitCode: j.exitCode, message: j.message,
  };
}

/** The view with each replica's node filled in from the cluster's actors. */
export function withReplicaNodes(view: ServeView, actors: ReadonlyArray<{ id: string; nodeId?: string | undefined }>): ServeView {
  const nodeOf = new Map(actors.map((a) => [a.id, a.nodeId]));
  const fill = (s: ServeView['samples'][number]): ServeView['samples'][number] => ({
    ...s,
    status: { ...s.status, deployments: s.status.deployments.map((d) => ({ ...d, replicas: d.replicas.map((r) => ({ ...r, nodeId: nodeOf.get(r.actorId) })) })) },
  });
  return { ...view, latest: view.latest.map(fill) };
}
