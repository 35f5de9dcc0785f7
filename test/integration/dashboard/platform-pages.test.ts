/**
 * The platform pages of the dashboard in Chromium against a live cluster: Runs (filter, sort,
 * compare), Run (metric charts), Models and Model (versions, alias history, set an alias, the
 * lineage graph), Serving (a real serve instance publishing its status; a rollback from the page), Datasets (a Dataset
 * action's stages) and Feature store (views, types, freshness from Redis). The store API is the
 * store's own handler behind the dashboard's login: 401 without the cookie, 403 for the write
 * without the CSRF header. After the cluster stops, the history dashboard still shows runs,
 * models and the serving samples. Screenshots land in test/output/dashboard.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { publish, shutdown } from 'shoal';
import { col, fromRows } from 'shoal/data';
import { DASHBOARD_EXTENSION, serveHistory, type HistoryDashboard } from 'shoal/dashboard';
import { defineEntity, defineFeatureView, FeatureStore } from 'shoal/features';
import { createServeKey, startServe, type Serve } from 'shoal/serve';
import { openStore, STORE_EXTENSION, type Store } from 'shoal/store';
import { chromiumAvailable, launchBrowser, NO_CHROMIUM, type Browser } from '../../harness/browser.js';
import { REDIS_URL, redisAvailable, uniquePrefix } from '../../harness/redis.js';
import { TestCluster, waitFor } from '../../harness/test-cluster.js';
import { Echo } from '../../fixtures/serve/apps.js';
import { call } from '../../fixtures/serve/http-client.js';

const canRun = chromiumAvailable();
const hasRedis = await redisAvailable();

describe.skipIf(!canRun || !hasRedis)(`dashboard platform pages in Chromium${canRun ? (hasRedis ? '' : ' (skipped: Redis is not reachable)') : ` (skipped: ${NO_CHROMIUM})`}`, () => {
  const home = mkdtempSync(join(tmpdir(), 'shoal-dashboard-platform-'));
  const prefix = uniquePrefix('dashboard');
  const saved = { SHOAL_HOME: process.env.SHOAL_HOME, SHOAL_FEATURES_REDIS_URL: process.env.SHOAL_FEATURES_REDIS_URL, SHOAL_FEATURES_REDIS_PREFIX: process.env.SHOAL_FEATURES_REDIS_PREFIX, SHOAL_KEEP_SESSION: process.env.SHOAL_KEEP_SESSION };
  let tc: TestCluster;
  let browser: Browser;
  let url: string;
  let store: Store;
  let serve: Serve | undefined;
  let features: FeatureStore | undefined;
  let history: HistoryDashboard | undefined;
  const runIds: Record<string, string> = {};

  beforeAll(async () => {
    // The head inherits these: the store under this SHOAL_HOME, the feature registry beside it, Redis for
    // freshness; the cluster's folder (its head store) stays after stop for the history test (tc.stop() removes it).
    Object.assign(process.env, { SHOAL_HOME: home, SHOAL_FEATURES_REDIS_URL: REDIS_URL, SHOAL_FEATURES_REDIS_PREFIX: prefix, SHOAL_KEEP_SESSION: '1' });
    tc = await TestCluster.start({ numWorkers: 1, numCpus: 2, headOptions: { extensions: [STORE_EXTENSION, DASHBOARD_EXTENSION] } });
    url = (tc.cluster.head as { httpMounts?: Record<string, string> }).httpMounts?.dashboard ?? '';
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);

    store = await openStore();
    const ds = await store.logDatasetFiles('ratings', [{ path: 'ratings.csv', sha256: 'b'.repeat(64), bytes: 4321 }], { rowCount: 250 });
    for (const [name, rank, loss] of [['als-r8', 8, 0.9], ['als-r16', 16, 0.4], ['als-r32', 32, 0.6]] as const) {
      const run = await store.startRun({ experiment: 'dash-recs', name, params: { rank } });
      await run.logInput(ds, { role: 'train' });
      for (let step = 0; step < 6; step++) run.logMetric('loss', loss + (6 - step) / 10, step);
      runIds[name] = run.id;
      if (name === 'als-r16') {
        const uri = await run.logModel('model', { flavor: 'demo', tensors: { w: new Float32Array([1, 2]) } });
        await store.registerModel('dash-model', uri, { description: 'ALS for the dashboard test' });
        await store.registerModel('dash-model', uri);
        await store.setAlias('dash-model', 'champion', 1, { reason: 'first', by: 'test' });
      }
      await run.end();
    }

    const listing = defineEntity({ name: 'listing', joinKeys: 'listing_id' });
    const now = Date.now();
    features = new FeatureStore({ online: { redis: { url: REDIS_URL, prefix } } });
    await features.apply([defineFeatureView({
      name: 'listing_prices', entities: [listing], timestampField: 'ts', features: { price: 'float64', nights: 'int64' },
      source: { kind: 'dataset', dataset: fromRows([{ listing_id: 1, ts: now - 60_000, price: 90, nights: 2 }, { listing_id: 2, ts: now - 30_000, price: 120, nights: 3 }]) },
    })]);
    await features.materialize(now - 3_600_000, now);

    // A Dataset action whose stages the driver publishes (data.progress).
    const rows = Array.from({ length: 400 }, (_, i) => ({ id: i, v: i % 7 }));
    expect(await fromRows(rows, { numPartitions: 4 }).filter(col('v').gt(2)).count()).toBeGreaterThan(0);

    const keysFile = join(home, 'serve-keys.json');
    const key = createServeKey({ file: keysFile });
    serve = await startServe({ port: 0, clusterToken: tc.token, serveKeysFile: keysFile });
    await serve.run(Echo.bind());
    for (let i = 0; i < 5; i++) expect((await call(`${serve.url}/echo/x${i}`, { key })).status).toBe(200);
    browser = await launchBrowser();
  }, 120_000);

  afterAll(async () => {
    await history?.close();
    await browser?.close();
    await serve?.shutdown().catch(() => undefined);
    await features?.close().catch(() => undefined);
    await store?.close();
    await tc?.stop();
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    rmSync(home, { recursive: true, force: true });
  });

  const api = (path: string, init: RequestInit = {}): Promise<Response> => fetch(new URL(path, url), init);

  async function loggedIn(path: string) {
    const tracked = await browser.page();
    await tracked.page.goto(`${url}login?next=${encodeURIComponent(path)}`);
    await tracked.page.fill('#token', tc.token);
    await tracked.page.click('button[type=submit]');
    await tracked.page.waitForURL((u) => u.pathname === path.split('?')[0]);
    return tracked;
  }

  it('serves the store API behind the login: 401 without the cookie, 403 for a write without CSRF, the write with it', async () => {
    expect((await api('/api/store/runs')).status).toBe(401);
    expect((await api('/api/store/models', { headers: { cookie: 'shoal_session=made-up' } })).status).toBe(401);
    expect((await api('/api/store/models', { headers: { authorization: `Bearer ${tc.token}` } })).status).toBe(200);
    const { page: p } = await loggedIn('/models');
    const out = await p.evaluate(async () => {
      const body = JSON.stringify({ version: 2, reason: 'from the test' });
      const bare = await fetch('/api/store/models/dash-model/aliases/staging', { method: 'POST', body, headers: { 'content-type': 'application/json' } });
      const { csrf } = (await (await fetch('/api/session')).json()) as { csrf: string };
      const ok = await fetch('/api/store/models/dash-model/aliases/staging', { method: 'POST', body, headers: { 'content-type': 'application/json', 'x-shoal-csrf': csrf } });
      const bad = await fetch('/api/store/models/dash-model/aliases/staging', { method: 'POST', body: JSON.stringify({ version: 'two' }), headers: { 'x-shoal-csrf': csrf } });
      return { bare: bare.status, ok: ok.status, reply: await ok.json(), bad: bad.status, badMessage: ((await bad.json()) as { error: { message: string } }).error.message };
    });
    expect(out.bare).toBe(403);
    expect(out.ok).toBe(200);
    expect(out.reply).toMatchObject({ name: 'dash-model', alias: 'staging', version: 2 });
    expect(out.bad).toBe(400);
    expect(out.badMessage).toMatch(/version/);
    await p.close();
  });

  it('Runs page lists the runs, filters and sorts them, and compares two', async () => {
    const { page: p, problems } = await loggedIn('/runs');
    const table = p.locator('#runs');
    for (const name of ['als-r8', 'als-r16', 'als-r32']) await table.getByText(name).waitFor();
    await p.fill('#run-filter', 'metrics.loss < 0.8');
    await p.click('form.toolbar button[type=submit]');
    await waitFor('the filter to apply', async () => (await table.locator('tbody tr').count()) === 2);
    expect(await table.getByText('als-r8').count()).toBe(0);
    await p.click('th[data-column="metrics.loss"]');
    await waitFor('sorted by loss, descending', async () => (await table.locator('tbody tr').first().getAttribute('data-run')) === runIds['als-r32']);
    await p.click('th[data-column="metrics.loss"]');
    await waitFor('sorted by loss, ascending', async () => (await table.locator('tbody tr').first().getAttribute('data-run')) === runIds['als-r16']);
    await browser.screenshot(p, 'runs');
    await p.fill('#run-filter', 'metrics.loss <');
    await p.click('form.toolbar button[type=submit]');
    await p.locator('#runs-error').waitFor();
    await p.fill('#run-filter', '');
    await p.click('form.toolbar button[type=submit]');
    await table.getByText('als-r8').waitFor();
    await p.locator(`tr[data-run="${runIds['als-r8']}"] input.pick`).check();
    await p.locator(`tr[data-run="${runIds['als-r16']}"] input.pick`).check();
    await p.click('#compare-link');
    await p.waitForURL(/\/runs\/compare\?runs=/);
    await p.locator('#compare').getByText('als-r8').waitFor();
    await p.locator('#compare tr.differs').getByText('rank').waitFor();
    await p.locator('#compare-loss canvas').waitFor();
    await browser.screenshot(p, 'compare');
    // 400 of the bad filter: the page said so; nothing else went wrong.
    expect(problems.filter((m) => !m.includes('400'))).toEqual([]);
    await p.close();
  });

  it('Run page shows params and a chart per metric', async () => {
    const { page: p, problems } = await loggedIn(`/runs/${runIds['als-r16']}`);
    await p.locator('#run-params').getByText('16').waitFor();
    await p.locator('#metric-loss canvas').waitFor();
    await p.locator('#run-inputs').getByText(/ratings@/).waitFor();
    await browser.screenshot(p, 'run');
    expect(problems).toEqual([]);
    await p.close();
  });

  it('Models and Model pages show versions, alias history and the lineage graph, and set an alias', async () => {
    const { page: p, problems } = await loggedIn('/models');
    await p.locator('#models').getByText('dash-model').click();
    await p.waitForURL(/\/models\/dash-model$/);
    await p.locator('#model-versions').getByText('v2').waitFor();
    await p.locator('#alias-history').getByText('champion').waitFor();
    await p.locator('#lineage g.node.dataset').waitFor();
    expect(await p.locator('#lineage g.node.run').count()).toBe(1);
    expect(await p.locator('#lineage g.node.model-version').count()).toBe(1);
    expect(await p.locator('#lineage line.edge').count()).toBeGreaterThanOrEqual(2);
    await p.fill('#alias-name', 'canary');
    await p.selectOption('#alias-version', '1');
    await p.click('#set-alias button[type=submit]');
    await p.locator('#alias-history').getByText('canary').waitFor();
    await browser.screenshot(p, 'model');
    expect(problems).toEqual([]);
    await p.close();
  });

  it('Serving page shows the deployment, its replicas and their nodes, and the charts', async () => {
    await waitFor('two serve.status samples at the head', async () => {
      const v = (await (await api('/api/serve', { headers: { authorization: `Bearer ${tc.token}` } })).json()) as { samples: unknown[] };
      return v.samples.length >= 2;
    }, 20_000);
    const { page: p, problems } = await loggedIn('/serving');
    const row = p.locator('tr[data-deployment="echo"]');
    await row.waitFor();
    await expect(row.locator('td.rollout').textContent()).resolves.toBe('stable 100%');
    await p.locator('.replicas').getByText(tc.nodeId(0)).first().waitFor();
    await p.locator('#chart-rps canvas').waitFor();
    await p.locator('#chart-latency canvas').waitFor();
    await browser.screenshot(p, 'serving');
    expect(problems).toEqual([]);
    await p.close();
  });

  it('Serving page rolls a deployment back (the serve instance asked, with the CSRF header); bad requests are refused', async () => {
    const bearer = { authorization: `Bearer ${tc.token}` };
    const echoOf = async () => {
      const v = (await (await api('/api/serve', { headers: bearer })).json()) as { latest: Array<{ url: string; status: { deployments: Array<{ name: string; version: string; previousVersion?: string }> } }> };
      return v.latest.find((x) => x.url === serve!.url)?.status.deployments.find((d) => d.name === 'echo');
    };
    const before = (await echoOf())!.version;
    await serve!.run(Echo.bind());
    const swapped = await waitFor('the new version published', async () => {
      const d = await echoOf();
      return d && d.version !== before && d.previousVersion === before ? d : undefined;
    }, 30_000);
    const { page: p, problems } = await loggedIn('/serving');
    const row = p.locator('tr[data-deployment="echo"]');
    await row.getByText(`(before: ${before})`).waitFor();
    const refused = await p.evaluate(async (url) => {
      const post = (body: string, csrf?: string) => fetch('/api/serve/deployments/echo/rollback', { method: 'POST', body, headers: csrf ? { 'x-shoal-csrf': csrf } : {} });
      const { csrf } = (await (await fetch('/api/session')).json()) as { csrf: string };
      return {
        noCsrf: (await post(JSON.stringify({ url }))).status,
        otherUrl: (await post(JSON.stringify({ url: 'http://127.0.0.1:9/' }), csrf)).status,
        badBody: (await post('{"url": 7}', csrf)).status,
      };
    }, serve!.url);
    expect(refused).toEqual({ noCsrf: 403, otherUrl: 404, badBody: 400 });
    await row.locator('button.rollback').click();
    await row.locator('.rollback-done').getByText(`back to ${before}`).waitFor({ timeout: 20_000 });
    await waitFor('the rolled-back version published', async () => (await echoOf())?.version === before, 30_000);
    expect(swapped.version).not.toBe(before);
    await browser.screenshot(p, 'serving-rollback');
    // The three refusals asked for above are the only problems.
    expect(problems.filter((m) => !/40[034]/.test(m))).toEqual([]);
    await p.close();
  });

  it("Datasets page shows the action's stages with rows", async () => {
    const { page: p, problems } = await loggedIn('/datasets');
    const action = p.locator('.data-action').first();
    await action.getByText('done').waitFor();
    await action.locator('.stages').getByText('4/4').first().waitFor();
    await browser.screenshot(p, 'datasets');
    expect(problems).toEqual([]);
    await p.close();
  });

  it('Feature store page shows the view, its typed features and its freshness', async () => {
    const { page: p, problems } = await loggedIn('/features');
    const row = p.locator('tr[data-view="listing_prices"]');
    await row.getByText('price: float64').waitFor();
    await row.getByText('nights: int64').waitFor();
    await expect(row.locator('td.freshness').textContent()).resolves.toMatch(/\d.* \(up to /);
    await browser.screenshot(p, 'features');
    expect(problems).toEqual([]);
    await p.close();
  });

  it('refuses a published message over the size limit, or with a bad topic, with a typed error naming it', async () => {
    await expect(publish('serve.status', 'x'.repeat(20_000))).rejects.toThrow(/publish 'serve.status': data is 20002 bytes of JSON, over the limit of 16384/);
    await expect(publish('Not A Topic', {})).rejects.toMatchObject({ code: 'INVALID_CONTROL_REQUEST', message: expect.stringMatching(/topic: must be a topic name/) });
    // The head is fine and takes the next one.
    await expect(publish('serve.status', { at: 1 })).resolves.toBe(true);
  });

  it('after the cluster stops, the history dashboard still serves runs, models and the serving samples, read-only', async () => {
    await serve?.shutdown();
    serve = undefined;
    await shutdown();
    await tc.cluster.stop();
    history = await serveHistory(join(tc.cluster.dir, 'head.sqlite'));
    const bearer = { authorization: `Bearer ${history.token ?? tc.token}` };
    const runs = (await (await fetch(new URL('/api/store/runs', history.url), { headers: bearer })).json()) as { total: number };
    expect(runs.total).toBe(3);
    const serving = (await (await fetch(new URL('/api/serve', history.url), { headers: bearer })).json()) as { latest: Array<{ status: { deployments: Array<{ name: string }> } }> };
    expect(serving.latest[0]?.status.deployments.map((d) => d.name)).toEqual(['echo']);
    const write = await fetch(new URL('/api/store/models/dash-model/aliases/x', history.url), { method: 'POST', headers: bearer, body: '{"version":1}' });
    expect(write.status).toBe(409);
    const rollback = await fetch(new URL('/api/serve/deployments/echo/rollback', history.url), { method: 'POST', headers: bearer, body: JSON.stringify({ url: 'http://127.0.0.1:9/' }) });
    expect(rollback.status).toBe(409);

    const { page: p, problems } = await browser.page();
    await p.goto(`${history.url}login?next=/models/dash-model`);
    await p.fill('#token', history.token ?? tc.token);
    await p.click('button[type=submit]');
    await p.locator('#model-versions').getByText('v2').waitFor();
    await p.locator('#read-only').waitFor();
    expect(await p.locator('#set-alias').count()).toBe(0);
    await p.goto(`${history.url}serving`);
    await p.locator('tr[data-deployment="echo"]').waitFor();
    await browser.screenshot(p, 'history-serving');
    expect(problems).toEqual([]);
    await p.close();
  });
});
