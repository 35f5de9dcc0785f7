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

// ---------------------------------------------------------------------------------------------
// The platform store's REST API (src/store's handler, mounted by the dashboard under /api/store):
// the shapes the pages read, as the store returns them (store-types.ts), copied here because the
// browser bundle imports no layer.

export type RunStatusView = 'RUNNING' | 'FINISHED' | 'FAILED' | 'KILLED';

export interface ExperimentView { id: string; name: string; description: string | null; createdAt: number }

export interface RunView {
  id: string;
  experimentId: string;
  experimentName: string;
  name: string;
  status: RunStatusView;
  startTime: number;
  endTime: number | null;
  parentRunId: string | null;
  failure: string | null;
  params: Record<string, string>;
  metrics: Record<string, number>;
  tags: Record<string, string>;
}

export interface RunDetailView extends RunView {
  artifacts: Array<{ path: string; sha256: string; bytes: number }>;
  inputs: Array<{ kind: string; ref: string; role: string }>;
  children: string[];
}

/** GET /api/store/experiments */
export interface ExperimentsReply { experiments: ExperimentView[] }

/** GET /api/store/runs: a page of the runs that match, and how many match. */
export interface RunsReply { runs: RunView[]; total: number; offset: number; limit: number }

/** GET /api/store/runs/:id/metrics/:key */
export interface MetricSeriesReply { runId: string; key: string; points: Array<{ step: number; time: number; value: number }> }

export interface ModelVersionView {
  name: string;
  version: number;
  runId: string | null;
  source: string;
  description: string | null;
  createdAt: number;
  aliases: string[];
  tags: Record<string, string>;
}

export interface RegisteredModelView {
  name: string;
  description: string | null;
  createdAt: number;
  updatedAt: number;
  latestVersion: number | null;
  aliases: Record<string, number>;
  tags: Record<string, string>;
}

/** GET /api/store/models */
export interface ModelsReply { models: RegisteredModelView[] }

export interface AliasChangeView { name: string; alias: string; version: number | null; previousVersion: number | null; setAt: number; setBy: string; reason: string | null }

/** GET /api/store/models/:name: the model, its versions and its alias history. */
export interface ModelDetailView { model: RegisteredModelView; versions: ModelVersionView[]; history: AliasChangeView[] }

/** GET /api/store/lineage?uri=: data → run → model version → deployment, as a graph (the store's lineage-graph.ts). */
export interface LineageView {
  uri: string;
  nodes: Array<{ id: string; kind: 'dataset' | 'feature-pipeline' | 'run' | 'model-version' | 'deployment'; label: string; detail: Record<string, unknown> }>;
  edges: Array<{ from: string; to: string; kind: string }>;
}

/** A pipeline run as listed (the store's pipeline-views.ts). */
export interface PipelineRunSummaryView {
  id: string;
  pipeline: string;
  module: string | null;
  status: 'RUNNING' | 'FINISHED' | 'FAILED';
  params: Record<string, unknown>;
  noCache: boolean;
  resumedFrom: string | null;
  startTime: number;
  endTime: number | null;
  durationMs: number | null;
  error: string | null;
  /** Step instances by state. */
  stepStates: Record<string, number>;
}

/** A step instance of a pipeline run; a newer store may add fields (a step's log), which the page shows when it knows them. */
export interface PipelineStepView {
  step: string;
  node: string;
  /** pending, running, succeeded, cached, reused, failed, skipped, not-run (or one a newer shoal adds). */
  state: string;
  runId: string | null;
  codeHash: string | null;
  cacheKey: string | null;
  cacheHit: boolean;
  cachedFrom: string | null;
  attempts: number;
  startTime: number | null;
  endTime: number | null;
  durationMs: number | null;
  error: string | null;
  outputs: Record<string, unknown> | null;
  inputs: Array<{ kind: string; ref: string; role: string }>;
  outputArtifacts: Array<{ output: string; artifact: string; uri: string; sha256: string; bytes: number; datasetVersion?: string | undefined }>;
  /** Lines in its log (GET /api/store/pipeline-runs/:id/logs?step=). */
  logLines: number;
  [extra: string]: unknown;
}

export interface PipelineDagNodeView { name: string; step: string; upstream: string[]; map: boolean; condition: boolean }

/** GET /api/store/pipelines */
export interface PipelinesReply { pipelines: Array<{ name: string; runs: number; lastRunId: string; lastStatus: string; lastStartTime: number }> }

/** GET /api/store/pipeline-runs: a page of runs, newest first. */
export interface PipelineRunsReply { runs: PipelineRunSummaryView[]; total: number; offset: number; limit: number }

/** GET /api/store/pipeline-runs/:id/logs?step=&offset=: lines with seq ≥ offset; `next` is the offset to ask for next. */
export interface StepLogReply { runId: string; step: string; lines: Array<{ seq: number; stream: string; line: string; ts: number }>; total: number; next: number }

/** GET /api/store/pipeline-runs/:id */
export interface PipelineRunDetailView extends PipelineRunSummaryView { dag: PipelineDagNodeView[]; steps: PipelineStepView[] }

// ---------------------------------------------------------------------------------------------
// What drivers publish to the head (core `publish`), as the dashboard keeps it: serving status
// (topic serve.status, src/serve/status-reporter.ts) and Dataset stage progress (data.progress,
// src/data/dataset/execution/progress.ts).

export interface ServeDeploymentView {
  name: string; route: string; version: string;
  replicas: Array<{ id: string; state: string; ongoing: number; actorId: string; nodeId?: string | undefined }>;
  canary?: { version: string; weight: number; replicas: number } | undefined;
  shadow?: { version: string; answers: number } | undefined;
  previousVersion?: string | undefined;
  queued: number; requests: number; errors: number; rps: number; p50Ms: number; p99Ms: number;
  batchSizes?: number[] | undefined;
}

export interface ServeDecisionView { timeMs: number; deployment: string; from: number; to: number; reason: string }

/** One status sample of a serve instance (every ~2 s). */
export interface ServeSampleView { at: number; url: string; status: { deployments: ServeDeploymentView[]; decisions: ServeDecisionView[] } }

/** GET /api/serve: the samples kept (oldest first, all instances), the autoscaler's decisions, the newest sample per instance. */
export interface ServeView { samples: ServeSampleView[]; decisions: ServeDecisionView[]; latest: ServeSampleView[] }

export interface DataStageView { label: string; done: number; total: number; rows: number; startedAt: number; endedAt: number | null }

/** A Dataset action (count, collect, write, …) and its stages, as its driver last published them. */
export interface DataActionView { action: string; startedAt: number; endedAt: number | null; updatedAt: number; stages: DataStageView[] }

/** GET /api/datasets: running actions first, then the newest finished. */
export interface DatasetsView { actions: DataActionView[] }

/** GET /api/features: the feature store's registry, with each view's freshness when an online store is known. */
export interface FeaturesView {
  registry: string;
  /** Where the high-water marks come from, or why there are none. */
  online: string;
  entities: Array<{ name: string; joinKeys: string[]; keyType: string; version: number; description: string }>;
  views: Array<{
    name: string; kind: 'featureView' | 'onDemandFeatureView'; version: number; appliedAt: string; entities: string[]; source: string;
    features: Array<{ name: string; type: string }>; ttlMs: number | null; description: string;
    /** ms since the epoch; null: never materialized; undefined: not known (no online store). */
    highWaterMark?: number | null | undefined;
  }>;
}
