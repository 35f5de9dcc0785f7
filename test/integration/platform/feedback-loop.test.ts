/**
 * The feedback loop end to end on a real cluster, a real store (SQLite in a temporary folder), real
 * serving over HTTP and a real webhook receiver: drift results and alerts (a reference too small to
 * judge is not an alert; a column that disappeared is a data-quality alert naming it), the holdout
 * slice getting the non-personalised ranking, online metrics from the exposure log, and the
 * retraining loop — first model promoted, a worse candidate rejected offline, a canary promoted, a
 * failing retrain leaving the champion with an alert, a worse canary rolled back — each decision in
 * the store and in the Prometheus metrics.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tableFromArrays } from 'apache-arrow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DecisionRecords, detectDriftInProcess, MonitorRecords, monitoringMetrics, readExposures, recordDrift, RetrainingLoop, runFeedbackMonitor, serveCanary,
  webhookNotifier, type AlertWebhookBody, type Exposure, type Outcome, type RetrainingPolicy,
} from 'shoal/platform';
import { createServeKey, ParquetExposureLog, startServe, type Serve } from 'shoal/serve';
import { openStore, type ModelVersion, type Store } from 'shoal/store';
import { TestCluster, waitFor } from '../../harness/test-cluster.js';
import { call } from '../../fixtures/serve/http-client.js';
import retrainPipeline, { Recs } from '../../fixtures/platform/retrain.js';

let dir: string;
let store: Store;
let receiver: Server;
let hookUrl: string;
const received: AlertWebhookBody[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'shoal-loop-'));
  store = await openStore({ url: join(dir, 'store.db'), artifactDir: join(dir, 'artifacts') });
  receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push(JSON.parse(Buffer.concat(chunks).toString('utf8')) as AlertWebhookBody);
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', () => r()));
  hookUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
});
afterAll(async () => {
  await store?.close();
  await new Promise((r) => receiver?.close(r));
  await rm(dir, { recursive: true, force: true });
});

describe('drift monitors and alerts', () => {
  it('a reference too small to judge is recorded as cannot-judge, never alerted', async () => {
    const before = received.length;
    const ref = tableFromArrays({ price: Float64Array.from([1, 2, 3, 4, 5]) });
    const cur = tableFromArrays({ price: Float64Array.from([50, 60, 70, 80, 90]) });
    const { result, alerts } = await recordDrift(store, 'tiny', await detectDriftInProcess(ref, cur), { notifier: webhookNotifier(hookUrl) });
    expect(result.status).toBe('cannot-judge');
    expect(result.summary).toMatch(/cannot judge: price \(the reference has 5 non-null values of 'price'; at least 100 are needed/);
    expect(alerts).toEqual([]);
    expect(received.length).toBe(before);
  });

  it('a column that disappeared is a data-quality alert naming it, delivered to the webhook', async () => {
    const n = 400;
    const ref = tableFromArrays({ price: Float64Array.from({ length: n }, (_, i) => i % 97), stays: Float64Array.from({ length: n }, (_, i) => i % 13) });
    const cur = tableFromArrays({ stays: Float64Array.from({ length: n }, (_, i) => (i * 7) % 13) });
    const { result, alerts } = await recordDrift(store, 'listings', await detectDriftInProcess(ref, cur), { notifier: webhookNotifier(hookUrl) });
    expect(result.status).toBe('alert');
    expect(alerts.map((a) => a.kind)).toEqual(['data-quality']);
    expect(alerts[0]!.message).toMatch(/column-missing price/);
    expect(alerts[0]!.notified).toMatch(/^webhook http:\/\/127\.0\.0\.1:\d+\/hook 204$/);
    const got = await waitFor('the webhook', () => received.find((b) => b.alert.seq === alerts[0]!.seq));
    expect(got).toMatchObject({ source: 'shoal', alert: { source: 'listings', kind: 'data-quality', severity: 'warning' } });
  });

  it('a receiver that fails leaves the alert recorded with the failure', async () => {
    const broken = createServer((_req, res) => res.writeHead(503).end());
    await new Promise<void>((r) => broken.listen(0, '127.0.0.1', () => r()));
    try {
      const url = `http://127.0.0.1:${(broken.address() as AddressInfo).port}/`;
      const ref = tableFromArrays({ price: Float64Array.from({ length: 400 }, (_, i) => i % 97) });
      const cur = tableFromArrays({ price: Float64Array.from({ length: 400 }, (_, i) => 500 + (i % 97)) });
      const { alerts } = await recordDrift(store, 'prices', await detectDriftInProcess(ref, cur), { notifier: webhookNotifier(url) });
      expect(alerts[0]).toMatchObject({ kind: 'drift', notified: `failed: webhook ${url} answered 503` });
      expect((await new MonitorRecords(store).alerts()).find((a) => a.seq === alerts[0]!.seq)?.notified).toBe(`failed: webhook ${url} answered 503`);
    } finally {
      await new Promise((r) => broken.close(r));
    }
  });
});

describe('serving holdout, online metrics and the retraining loop', () => {
  let cluster: TestCluster;
  let serve: Serve;
  let key: string;
  let exposure: ParquetExposureLog;
  const model = 'loop-recs';
  const served = (v: ModelVersion): string => `v${v.version}`;
  const canary = () => serveCanary(serve.controller, 'recs', (v) => Recs.options({ version: served(v) }).bind(served(v)), { routePrefix: '/recs', holdoutPercent: 20 });
  let rows = 0;
  const policies: RetrainingPolicy[] = [{ kind: 'data-volume', minNewRows: 100, newRows: () => Promise.resolve(rows) }];
  const loop = (params: Record<string, unknown>) => new RetrainingLoop({
    store, model, pipeline: retrainPipeline, params, policies, gate: { metric: 'ndcg' }, canary: canary(), canaryWeightPct: 50, minExposures: 40,
    notifier: webhookNotifier(hookUrl), servingVersion: served,
  });

  beforeAll(async () => {
    cluster = await TestCluster.start({ numCpus: 2, numWorkers: 1 });
    key = createServeKey({ file: join(dir, 'serve-keys.json') });
    exposure = new ParquetExposureLog(join(dir, 'exposures'), { flushIntervalMs: 100 });
    serve = await startServe({ port: 0, clusterToken: cluster.token, serveKeysFile: join(dir, 'serve-keys.json'), exposureLog: exposure });
  }, 120_000);
  afterAll(async () => {
    await serve?.shutdown();
    await cluster?.stop();
  });

  /** One request per user; resolves with the exposures they left in the log. */
  async function traffic(users: string[]): Promise<Exposure[]> {
    const from = Date.now();
    for (const u of users) expect((await call(`${serve.url}/recs/${u}`, { key })).status).toBe(200);
    await exposure.flush();
    return readExposures({ dir: join(dir, 'exposures') }, { from });
  }
  const users = Array.from({ length: 300 }, (_, i) => `user-${i}`);
  /** Outcomes at exposure time (labels mature at once: maturityMs 0): even-numbered users act on the first item shown, `silent` arms never do. */
  const outcomesFor = (exposures: Exposure[], silent: string[] = []): Outcome[] =>
    exposures.filter((e) => Number(e.user.split('-')[1]) % 2 === 0 && !silent.includes(e.arm)).map((e) => ({ user: e.user, item: e.items[0]!, timeMs: e.timeMs }));
  const decisions = async () => (await new DecisionRecords(store).list({ model })).map((d) => d.decision);

  it('the first retrain, with no champion, goes live; no policy firing means no decision', async () => {
    expect(await loop({ quality: 0.5 }).tick()).toEqual([]);
    rows = 150;
    const d = await loop({ quality: 0.5 }).tick();
    expect(d.map((x) => x.decision)).toEqual(['retrain-started', 'promoted']);
    expect(d[0]!.reason).toMatch(/^150 new rows since .* \(at least 100\)$/);
    expect(d[1]).toMatchObject({ policy: 'data-volume', candidateVersion: 1, championVersion: null });
    expect((await store.getModel(model)).aliases.champion).toBe(1);
    expect(serve.controller.get('recs').stable.version).toBe('v1');
  }, 120_000);

  it('holdout users get the non-personalised ranking, recorded as arm holdout', async () => {
    const exposures = await traffic(users);
    const holdout = exposures.filter((e) => e.arm === 'holdout');
    // 20 % of users by hash: the share is fixed by the user ids; within a wide band of 20 %.
    expect(holdout.length).toBeGreaterThan(30);
    expect(holdout.length).toBeLessThan(90);
    for (const e of holdout) expect(e.items).toEqual(['popular-1', 'popular-2', 'popular-3']);
    for (const e of exposures.filter((x) => x.arm === 'stable')) expect(e.items[0]).toBe('v1-a');
    const again = await call(`${serve.url}/recs/${holdout[0]!.user}`, { key });
    expect(again.headers['x-shoal-arm']).toBe('holdout');
    expect(again.body).toMatchObject({ holdout: true });
  }, 60_000);

  it('a candidate worse offline is rejected; the champion stays', async () => {
    rows = 300;
    const d = await loop({ quality: 0.4 }).tick();
    expect(d.map((x) => x.decision)).toEqual(['retrain-started', 'gate-rejected']);
    expect(d[1]!.reason).toMatch(/^candidate v2 ndcg 0\.4000 against champion v1 0\.5000: not higher by 0; the champion stays$/);
    expect((await store.getModel(model)).aliases.champion).toBe(1);
  }, 120_000);

  it('a better candidate goes out as a canary and is promoted when its hit rate is not worse', async () => {
    rows = 450;
    const started = await loop({ quality: 0.6 }).tick();
    expect(started.map((x) => x.decision)).toEqual(['retrain-started', 'canary-started']);
    expect(serve.controller.get('recs').canary?.state.version).toBe('v3');
    // Not enough judged exposures yet: the loop waits.
    const waiting = await loop({ quality: 0.6 }).tick();
    expect(waiting.map((x) => x.decision)).toEqual(['canary-waiting']);
    const exposures = await traffic(users);
    const { report } = await runFeedbackMonitor(store, { exposures, outcomes: [...outcomesFor(exposures), { user: 'nobody', item: 'x', timeMs: Date.now() }], maturityMs: 0 });
    expect(report.outcomes.unmatched).toBe(1);
    expect(report.groups.find((g) => g.arm === 'canary')).toMatchObject({ modelVersion: 'v3' });
    const d = await loop({ quality: 0.6 }).tick();
    expect(d.map((x) => x.decision)).toEqual(['promoted']);
    expect(d[0]!.reason).toMatch(/the canary is not worse than the champion \(canary .* one-sided p .* ≥ α 0\.05\): promoted/);
    expect((await store.getModel(model)).aliases.champion).toBe(3);
    await waitFor('v3 stable', () => serve.controller.get('recs').stable.version === 'v3' && !serve.controller.get('recs').canary);
  }, 120_000);

  it('a failing retrain leaves the champion and raises an alert', async () => {
    rows = 600;
    const d = await loop({ fail: true }).tick();
    expect(d.map((x) => x.decision)).toEqual(['retrain-started', 'retrain-failed']);
    expect(d[1]!.reason).toMatch(/the pipeline retrain-test failed: .*training diverged: loss is NaN.*; the champion v3 stays$/);
    expect((await store.getModel(model)).aliases.champion).toBe(3);
    const alert = await waitFor('the alert at the webhook', () => received.find((b) => b.alert.kind === 'retraining-failed'));
    expect(alert.alert).toMatchObject({ source: `retraining:${model}`, severity: 'critical' });
    expect(serve.controller.get('recs').stable.version).toBe('v3');
  }, 120_000);

  it('a canary whose hit rate is lower is rolled back', async () => {
    rows = 750;
    const started = await loop({ quality: 0.7 }).tick();
    expect(started.map((x) => x.decision)).toEqual(['retrain-started', 'canary-started']);
    const exposures = await traffic(users);
    await runFeedbackMonitor(store, { exposures, outcomes: outcomesFor(exposures, ['canary']), maturityMs: 0 });
    const d = await loop({ quality: 0.7 }).tick();
    expect(d.map((x) => x.decision)).toEqual(['rolled-back']);
    expect(d[0]!.reason).toMatch(/^the canary's hit rate is lower than the champion's \(canary 0\.00% of \d+, champion .* < α 0\.05\): rolled back$/);
    expect(serve.controller.get('recs').canary).toBeUndefined();
    expect((await store.getModel(model)).aliases.champion).toBe(3);
    expect(await decisions()).toEqual([
      'retrain-started', 'promoted', 'retrain-started', 'gate-rejected', 'retrain-started', 'canary-started', 'canary-waiting', 'promoted',
      'retrain-started', 'retrain-failed', 'retrain-started', 'canary-started', 'rolled-back',
    ]);
  }, 120_000);

  it('every monitor and decision is in the Prometheus metrics', async () => {
    const text = await monitoringMetrics(() => Promise.resolve(store)).metrics();
    expect(text).toMatch(/shoal_monitor_status\{monitor="listings",kind="drift"\} 1/);
    expect(text).toMatch(/shoal_monitor_status\{monitor="tiny",kind="drift"\} -1/);
    expect(text).toMatch(/shoal_online_hit_rate\{monitor="feedback",model_version="v4",arm="canary"\} 0\n/);
    expect(text).toMatch(/shoal_online_exposures\{monitor="feedback",model_version="v3",arm="holdout"\} \d+/);
    expect(text).toMatch(/shoal_retraining_decisions_total\{model="loop-recs",decision="rolled-back"\} 1/);
    expect(text).toMatch(/shoal_retraining_decisions_total\{model="loop-recs",decision="retrain-started"\} 5/);
    expect(text).toMatch(/shoal_monitor_alerts_total\{source="retraining:loop-recs",kind="retraining-failed",severity="critical"\} 1/);
    expect(text).toMatch(/shoal_online_unmatched_outcomes\{monitor="feedback"\} 0/);
  });
});
