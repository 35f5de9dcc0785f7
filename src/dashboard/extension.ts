/**
 * The dashboard as a head extension (core's head-extension.ts): the head process imports this
 * module when started with it in `extensions`, and the dashboard is served at the root of the
 * head's HTTP server, beside /metrics.
 */
import type { HeadHost } from '../core/index.js';
import { HistoryKeeper } from './history-keeper.js';
import { LiveSource } from './live-source.js';
import { MetricSampler } from './metric-sampler.js';
import { Assets } from './server/assets.js';
import { DashboardAuth } from './server/auth.js';
import { DashboardRouter } from './server/router.js';
import { mountStore } from './store-mount.js';

export function mountHead(host: HeadHost): void {
  const source = new LiveSource(host);
  const keeper = new HistoryKeeper(host, source);
  source.sampler = new MetricSampler(() => source.cluster(), (p) => keeper.metric(p), keeper.storedMetrics());
  source.sampler.start();
  keeper.start();
  const auth = new DashboardAuth((t) => host.checkToken(t));
  const store = mountStore(auth, { actor: `cluster ${host.info.clusterId}` });
  const router = new DashboardRouter(source, auth, new Assets(), { store: store.handler });
  host.mountHttp('dashboard', '/', (req, res) => router.handle(req, res));
  // The store extension (src/store/extension.ts), when loaded before, serves /api/store/ behind the
  // Bearer token only; the same prefix mounted again here replaces it, so the pages' cookie works.
  host.mountHttp('store', '/api/store/', (req, res) => router.handle(req, res));
}
