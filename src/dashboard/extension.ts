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

export function mountHead(host: HeadHost): void {
  const source = new LiveSource(host);
  const keeper = new HistoryKeeper(host, source);
  source.sampler = new MetricSampler(() => source.cluster(), (p) => keeper.metric(p), keeper.storedMetrics());
  source.sampler.start();
  keeper.start();
  const router = new DashboardRouter(source, new DashboardAuth((t) => host.checkToken(t)), new Assets());
  host.mountHttp('dashboard', '/', (req, res) => router.handle(req, res));
}
