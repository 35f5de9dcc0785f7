/**
 * `shoal/dashboard` — the web UI of a cluster: the module a head serves it from, and the types of
 * its JSON API (which the CLI and other programs can read with the cluster token as Bearer).
 */
export {
  DASHBOARD_EXTENSION, DashboardError, DashboardNotFoundError, DashboardReadOnlyError, DashboardHistoryError, serveHistory,
} from './dashboard/index.js';
export type {
  ClusterView, JobView, TasksView, EventView, MetricPoint, LogChunk, NodeView, ActorView, TaskFailureView, StreamMessage,
  HistoryDashboard, HistoryDashboardOptions, ServeView, DatasetsView, FeaturesView,
} from './dashboard/index.js';
