/**
 * The dashboard's JSON API, as types shared by the server, the pages (bundled for the browser) and
 * any client such as the CLI. Self-contained on purpose: the browser bundle's type check must not
 * pull in the runtime's Node types.
 */

export type Resources = Record<string, number>;

export interface NodeView {
  id: string;
  address: string;
  hostname: string;
  alive: boolean;
  total: Resources;
  available: Resources;
  inflightTasks: number;
  uptimeS: number;
  usage?: {
    objectStoreBytes: number;
    objectStoreCapacityBytes?: number | undefined;
    spilledBytes: number;
    objects: number;
    runningTasks?: number | undefined;
    queuedTasks?: number | undefined;
    actors?: number | undefined;
  } | undefined;
}

export interface ActorView {
  id: string;
  name: string;
  className: string;
  state: string;
  nodeId?: string | undefined;
  restarts: number;
}

export interface ObjectView { id: string; size: number; state: string; locations: string[]; holders: number; producer?: string | undefined }

export interface AutoscalerDecisionView { at: number; action: string; nodeId?: string | undefined; reason: string }

export interface ClusterView {
  clusterId: string;
  address: string;
  version: string;
  hostname: string;
  /** True when the page shows the history of a stopped cluster. */
  readOnly: boolean;
  /** When the view was taken (ms since the epoch). */
  at: number;
  nodes: NodeView[];
  tasks: { pending: number; running: number };
  counters: { tasksSubmitted: number; tasksFinished: number; tasksFailed: number; tasksRetried: number; objectsReconstructed: number };
  objects: { count: number; inlineBytes: number; storeBytes: number; spilledBytes: number };
  actors: ActorView[];
  placementGroups: Array<{ id: string; state: string; nodes: string[] }>;
  autoscaler?: { provider: string; decisions: AutoscalerDecisionView[] } | undefined;
}

export type JobStatus = 'PENDING' | 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'STOPPED';

export interface JobView {
  id: string;
  status: JobStatus;
  entrypoint: string;
  submittedAt: number;
  startedAt?: number | undefined;
  endedAt?: number | undefined;
  exitCode?: number | undefined;
  message?: string | undefined;
}

export interface RemoteErrorView { name: string; code: string; message: string; stack?: string | undefined }

export interface TaskFailureView { taskId: string; name: string; jobId: string; nodeId?: string | undefined; at: number; error: RemoteErrorView }

export interface TasksView {
  /** Not finished, by name and state. */
  live: Array<{ name: string; kind: string; state: string; count: number }>;
  /** Finished, by name. */
  byName: Array<{ name: string; kind: string; finished: number; failed: number; totalMs: number; maxMs: number }>;
  failures: TaskFailureView[];
  slowest: Array<{ taskId: string; name: string; jobId: string; nodeId?: string | undefined; ms: number; at: number }>;
  actors: ActorView[];
  objects: ObjectView[];
}

export interface EventView { seq: number; at: number; event: string; fields: Record<string, unknown> }

/** One sample of the cluster's use, taken every few seconds. */
export interface MetricPoint {
  at: number;
  tasksFinished: number;
  tasksFailed: number;
  running: number;
  pending: number;
  cpuUsed: number;
  cpuTotal: number;
  objectStoreBytes: number;
  spilledBytes: number;
}

export interface LogChunk { data: string; offset: number; done: boolean }

export interface SessionView { csrf: string; readOnly: boolean }

/** The JSON body of every error reply. */
export interface ErrorReply { error: { code: string; message: string } }

/** Server-sent events of /api/stream. */
export type StreamMessage =
  | { type: 'cluster'; cluster: ClusterView; point: MetricPoint }
  | { type: 'event'; event: EventView };
