/**
 * Public surface of the dashboard: the web UI of a cluster, served by its head (as a head
 * extension), or from the head store of a stopped cluster (`shoal dashboard --history`).
 */
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../core/index.js';

/**
 * The module a head imports to serve the dashboard (pass it in `HeadOptions.extensions`): the
 * compiled one, as head processes always run from dist/.
 */
export const DASHBOARD_EXTENSION = join(PACKAGE_ROOT, 'dist', 'src', 'dashboard', 'extension.js');


export { serveHistory } from './history-server.js';
export type { HistoryDashboard, HistoryDashboardOptions } from './history-server.js';
export { DashboardError, DashboardNotFoundError, DashboardReadOnlyError, DashboardHistoryError } from './errors.js';
export type {
  ClusterView, JobView, TasksView, EventView, MetricPoint, LogChunk, NodeView, ActorView, TaskFailureView, StreamMessage,
  ServeView, DatasetsView, FeaturesView,
} from './api-types.js';
