/**
 * The store's REST API on a real head: a head process started with the `shoal/store` extension
 * (STORE_EXTENSION) finds the platform store through SHOAL_METADATA_URL as the CLI does, and serves
 * it at /api/store/ behind the cluster token. Real HTTP, on SQLite and on PostgreSQL (same tests);
 * the bad inputs (no or wrong token, bad filter, bad query parameters, unknown run/model/alias,
 * traversal-looking paths, bad bodies) are answered with typed JSON errors; and a head whose
 * database is unreachable starts anyway and answers 503 naming the store.
 */
import { request } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  openStore, STORE_EXTENSION, type LineageGraph, type MetricSeriesReply, type RegisteredModel, type RunComparison, type RunInfo, type RunReply, type Store,
  type StoreApiErrorReply, type StoreOptions,
} from 'shoal/store';
import { NO_POSTGRES, skipBecause } from '../../harness/skip.js';
import { TestCluster } from '../../harness/test-cluster.js';
import { BACKENDS, storeFixture } from '../../unit/store/store-backends.js';

/** Starts a head (no workers) with the store extension and `env` set while it spawns. */
async function headWith(env: Record<string, string>): Promise<{ tc: TestCluster; base: string }> {
  const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  Object.assign(process.env, env);
  try {
    const tc = await TestCluster.start({ numWorkers: 0, connect: false, headOptions: { extensions: [STORE_EXTENSION] } });
    const mounts = (tc.cluster.head as { httpMounts?: Record<string, string> }).httpMounts;
    const base = mounts?.store ?? '';
    expect(base).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/api\/store\/$/);
    return { tc, base };
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

/** A raw GET (fetch would normalize `..` segments away; this sends the path as written). */
function rawGet(base: string, path: string, token: string): Promise<{ status: number; body: unknown }> {
  const u = new URL(base);
  return new Promise((resolve, reject) => {
    const req = request({ host: u.hostname, port: u.port, path, method: 'GET', headers: { authorization: `Bearer ${token}` } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown }));
    });
    req.on('error', reject);
    req.end();
  });
}

interface Seeded {
  parent: RunInfo;
  child: RunInfo;
  other: RunInfo;
  datasetId: string;
}

/** Two experiments, a parent run with a child, a dataset input, a model with two versions and aliases. */
async function seed(store: Store): Promise<Seeded> {
  const parent = await store.startRun({ experiment: 'api-recs', name: 'search', params: { rank: 16, reg: 0.1 }, tags: { team: 'recs' }, gitCommit: 'abc123' });
  const ds = await store.logDatasetFiles('ratings', [{ path: 'ratings.csv', sha256: 'a'.repeat(64), bytes: 1234 }], { rowCount: 100, schema: { user: 'int32' } });
  await parent.logInput(ds, { role: 'train' });
  for (let step = 0; step < 5; step++) {
    parent.logMetric('loss', 1 / (step + 1), step);
    parent.logMetric('val/ndcg', 0.1 + step / 100, step);
  }
  const signature = { inputs: [{ name: 'user', type: 'int32' }], outputs: [{ name: 'scores', type: 'float32', shape: [null, 10] }] };
  const uri = await parent.logModel('model', { flavor: 'demo', tensors: { w: new Float32Array([1, 2, 3]) }, signature });
  const child = await store.startRun({ parentRunId: parent.id, name: 'trial-0', params: { rank: 8 } });
  child.logMetric('loss', 0.7, 0);
  await child.end();
  await parent.end();
  const other = await store.startRun({ experiment: 'api-other', name: 'baseline', params: { rank: 32 } });
  other.logMetric('loss', 0.3, 0);
  other.logMetric('val/ndcg', 0.2, 0);
  await other.end();
  const v1 = await store.registerModel('api-model', uri, { description: 'the demo' });
  await store.registerModel('api-model', uri);
  await store.setAlias('api-model', 'champion', v1.version, { reason: 'first', by: 'seed' });
  return { parent: await store.getRunInfo(parent.id), child: await store.getRunInfo(child.id), other: await store.getRunInfo(other.id), datasetId: ds.id };
}

for (const backend of BACKENDS) {
  describe(`store REST API on a head (${backend})`, () => {
    let fixture: Awaited<ReturnType<typeof storeFixture>>;
    let store: Store;
    let tc: TestCluster;
    let base: string;
    let s: Seeded;

    beforeAll(async () => {
      fixture = await storeFixture(backend, 'api');
      if (!fixture) return;
      const options: StoreOptions = fixture.options;
      store = await openStore(options);
      s = await seed(store);
      ({ tc, base } = await headWith({ SHOAL_METADATA_URL: options.url!, SHOAL_ARTIFACT_DIR: options.artifactDir! }));
    });
    afterAll(async () => {
      await tc?.stop();
      await store?.close();
      await fixture?.cleanup();
    });

    const api = (path: string, init: RequestInit = {}, token: string | null = tc.token): Promise<Response> =>
      fetch(new URL(path, base), { ...init, headers: { ...(token === null ? {} : { authorization: `Bearer ${token}` }), ...(init.headers as Record<string, string> | undefined) } });
    const json = async <T>(path: string, status = 200, init: RequestInit = {}): Promise<T> => {
      const res = await api(path, init);
      const body = (await res.json()) as T;
      expect({ path, status: res.status, body }).toMatchObject({ status });
      return body;
    };
    const error = async (path: string, status: number, init: RequestInit = {}): Promise<StoreApiErrorReply['error']> => (await json<StoreApiErrorReply>(path, status, init)).error;
    const post = (version: unknown, extra: Record<string, unknown> = {}): RequestInit => ({ method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ version, ...extra }) });

    it('answers 401 without the token, with a wrong one, and with another scheme — before anything else', async (ctx) => {
      if (!fixture) return skipBecause(ctx, NO_POSTGRES);
      for (const [path, token] of [['experiments', null], ['runs', 'not-the-token'], ['models/api-model', `${tc.token}x`], ['no/such/path', null]] as const) {
        const res = await api(path, {}, token);
        expect(res.status).toBe(401);
        expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/);
        expect(((await res.json()) as StoreApiErrorReply).error.code).toBe('UNAUTHORIZED');
      }
      const basic = await api('experiments', { headers: { authorization: `Basic ${Buffer.from(`x:${tc.token}`).toString('base64')}` } }, null);
      expect(basic.status).toBe(401);
      const res = await api('models/api-model/aliases/champion', post(2), null);
      expect(res.status).toBe(401);
      expect((await store.getModel('api-model')).aliases.champion).toBe(1);
    });

    it('GET experiments and runs: filter, experiment, order, limit and offset', async (ctx) => {
      if (!fixture) return skipBecause(ctx, NO_POSTGRES);
      const { experiments } = await json<{ experiments: Array<{ name: string }> }>('experiments');
      expect(experiments.map((e) => e.name).sort()).toEqual(['api-other', 'api-recs']);

      const all = await json<{ runs: RunInfo[]; total: number; offset: number; limit: number }>('runs');
      expect(all.total).toBe(3);
      expect(all.limit).toBe(100);
      const recs = await json<{ runs: RunInfo[]; total: number }>('runs?experiment=api-recs');
      expect(recs.runs.map((r) => r.id).sort()).toEqual([s.parent.id, s.child.id].sort());
      const both = await json<{ total: number }>('runs?experiment=api-recs&experiment=api-other');
      expect(both.total).toBe(3);
      const filtered = await json<{ runs: RunInfo[] }>(`runs?filter=${encodeURIComponent("metrics.loss < 0.5 and params.rank = '32'")}`);
      expect(filtered.runs.map((r) => r.id)).toEqual([s.other.id]);
      expect(filtered.runs[0]!.params).toEqual({ rank: '32' });
      const ordered = await json<{ runs: RunInfo[] }>(`runs?order=${encodeURIComponent('metrics.loss ASC')}`);
      expect(ordered.runs.map((r) => r.metrics.loss)).toEqual([0.2, 0.3, 0.7]);
      const page = await json<{ runs: RunInfo[]; total: number; offset: number; limit: number }>(`runs?order=${encodeURIComponent('metrics.loss ASC')}&limit=1&offset=1`);
      expect(page).toMatchObject({ total: 3, offset: 1, limit: 1 });
      expect(page.runs.map((r) => r.id)).toEqual([s.other.id]);
    });

    it('GET runs: a bad filter is a 400 naming the token; bad query parameters are 400s; an unknown experiment is a 404', async (ctx) => {
      if (!fixture) return skipBecause(ctx, NO_POSTGRES);
      const bad = await error(`runs?filter=${encodeURIComponent('metrics.loss << 2')}`, 400);
      expect(bad.code).toBe('FILTER_SYNTAX');
      expect(bad.message).toContain('"<"');
      expect(bad.context).toMatchObject({ token: '<' });
      expect((await error('runs?limit=0', 400)).message).toContain("query parameter 'limit' must be an integer from 1 to 1000");
      expect((await error('runs?limit=ten', 400)).code).toBe('STORE_BAD_REQUEST');
      expect((await error('runs?offset=-1', 400)).message).toContain("'offset'");
      expect((await error('runs?limit=5&limit=6', 400)).message).toContain('must be given once');
      expect((await error('runs?sort=name', 400)).message).toContain("query parameter 'sort' is not one this path takes");
      expect((await error('runs?order=bogus', 400)).code).toBe('INVALID_OPTION');
      expect((await error('runs?experiment=..%2Fetc', 400)).code).toBe('INVALID_NAME');
      const missing = await error('runs?experiment=nope', 404);
      expect(missing).toMatchObject({ code: 'EXPERIMENT_NOT_FOUND', context: { key: 'nope' } });
      expect((await error('experiments?x=1', 400)).message).toContain('this path takes none');
    });

    it('GET runs/:id: params, tags, latest metrics, children, dataset inputs and artifacts; by prefix too', async (ctx) => {
      if (!fixture) return skipBecause(ctx, NO_POSTGRES);
      const r = await json<RunReply>(`runs/${s.parent.id}`);
      expect(r).toMatchObject({ id: s.parent.id, name: 'search', experimentName: 'api-recs', status: 'FINISHED', gitCommit: 'abc123', params: { rank: '16', reg: '0.1' }, tags: { team: 'recs' } });
      expect(r.metrics).toEqual({ loss: 0.2, 'val/ndcg': 0.14 });
      expect(r.children).toEqual([s.child.id]);
      expect(r.inputs).toEqual([{ kind: 'dataset', ref: s.datasetId, role: 'train' }]);
      expect(r.datasets).toHaveLength(1);
      expect(r.datasets[0]).toMatchObject({ id: s.datasetId, name: 'ratings', kind: 'files', rowCount: 100, role: 'train' });
      expect(r.artifacts.map((a) => a.path)).toContain('model/MLmodel.json');
      expect(r.artifacts.every((a) => /^[0-9a-f]{64}$/.test(a.sha256))).toBe(true);
      const byPrefix = await json<RunReply>(`runs/${s.child.id.slice(0, 10)}`);
      expect(byPrefix).toMatchObject({ id: s.child.id, parentRunId: s.parent.id });
      const missing = await error(`runs/${'0'.repeat(32)}`, 404);
      expect(missing).toMatchObject({ code: 'RUN_NOT_FOUND', context: { what: 'run', key: '0'.repeat(32) } });
      expect(missing.message).toContain('0'.repeat(32));
    });

    it('GET runs/:id/metrics/:key: the series with step, time and value, for keys with a slash too', async (ctx) => {
      if (!fixture) return skipBecause(ctx, NO_POSTGRES);
      const loss = await json<MetricSeriesReply>(`runs/${s.parent.id}/metrics/loss`);
      expect(loss.key).toBe('loss');
      expect(loss.points.map((p) => [p.step, p.value])).toEqual([[0, 1], [1, 0.5], [2, 1 / 3], [3, 0.25], [4, 0.2]]);
      expect(loss.points.every((p) => typeof p.time === 'number' && p.time > 0)).toBe(true);
      for (const path of [`runs/${s.parent.id}/metrics/val/ndcg`, `runs/${s.parent.id}/metrics/val%2Fndcg`]) {
        const ndcg = await json<MetricSeriesReply>(path);
        expect(ndcg.key).toBe('val/ndcg');
        expect(ndcg.points).toHaveLength(5);
      }
      expect((await json<MetricSeriesReply>(`runs/${s.parent.id}/metrics/never-logged`)).points).toEqual([]);
      expect((await error(`runs/${'f'.repeat(32)}/metrics/loss`, 404)).code).toBe('RUN_NOT_FOUND');
    });

    it('GET compare: the two runs and the history of each metric both logged; exactly two runs', async (ctx) => {
      if (!fixture) return skipBecause(ctx, NO_POSTGRES);
      const c = await json<RunComparison>(`compare?runs=${s.parent.id},${s.other.id}`);
      expect(c.a.id).toBe(s.parent.id);
      expect(c.b.id).toBe(s.other.id);
      expect(Object.keys(c.histories)).toEqual(['loss', 'val/ndcg']);
      expect(c.histories.loss!.a).toHaveLength(5);
      expect(c.histories.loss!.b.map((p) => p.value)).toEqual([0.3]);
      expect((await error(`compare?runs=${s.parent.id}`, 400)).message).toContain('exactly two runs');
      expect((await error('compare', 400)).message).toContain("'runs'");
      expect((await error(`compare?runs=${s.parent.id},${'e'.repeat(32)}`, 404)).code).toBe('RUN_NOT_FOUND');
    });

    it('GET models and models/:name: versions, aliases, alias history, tags; unknown and bad names', async (ctx) => {
      if (!fixture) return skipBecause(ctx, NO_POSTGRES);
      const { models } = await json<{ models: RegisteredModel[] }>('models');
      expect(models.map((m) => m.name)).toEqual(['api-model']);
      expect(models[0]).toMatchObject({ latestVersion: 2, aliases: { champion: 1 } });
      const m = await json<{ model: RegisteredModel; versions: Array<{ version: number; signature: unknown; runId: string; description: string | null }>; history: Array<{ alias: string; reason: string; setBy: string }> }>('models/api-model');
      expect(m.model.name).toBe('api-model');
      expect(m.versions.map((v) => v.version)).toEqual([1, 2]);
      expect(m.versions[0]).toMatchObject({ runId: s.parent.id, description: 'the demo', signature: { inputs: [{ name: 'user', type: 'int32' }] } });
      expect(m.history).toEqual([expect.objectContaining({ alias: 'champion', version: 1, previousVersion: null, reason: 'first', setBy: 'seed' })]);
      expect((await error('models/nope', 404))).toMatchObject({ code: 'MODEL_NOT_FOUND', context: { key: 'nope' } });
      expect((await error('models/..%2F..%2Fetc', 400)).code).toBe('INVALID_NAME');
      expect((await error('models/a%2', 400)).message).toContain('percent-encoding');
    });

    it('GET lineage: nodes and edges from the data to the run to the model version', async (ctx) => {
      if (!fixture) return skipBecause(ctx, NO_POSTGRES);
      const l = await json<LineageGraph & { uri: string; run: RunInfo; modelVersion: { version: number } }>(`lineage?uri=${encodeURIComponent('models:/api-model@champion')}`);
      expect(l.uri).toBe('models:/api-model@champion');
      expect(l.run.id).toBe(s.parent.id);
      expect(l.modelVersion.version).toBe(1);
      expect(l.nodes.map((n) => n.id).sort()).toEqual([`dataset:${s.datasetId}`, 'model-version:api-model/1', `run:${s.parent.id}`].sort());
      expect(l.edges).toEqual(expect.arrayContaining([
        { from: `dataset:${s.datasetId}`, to: `run:${s.parent.id}`, kind: 'input:train' },
        { from: `run:${s.parent.id}`, to: 'model-version:api-model/1', kind: 'produced' },
      ]));
      const child = await json<LineageGraph>(`lineage?uri=${s.child.id}`);
      expect(child.edges).toEqual(expect.arrayContaining([{ from: `run:${s.parent.id}`, to: `run:${s.child.id}`, kind: 'parent' }]));
      expect((await error(`lineage?uri=${encodeURIComponent('models:/api-model@nobody')}`, 404))).toMatchObject({ code: 'ALIAS_NOT_FOUND', context: { key: 'api-model@nobody' } });
      expect((await error(`lineage?uri=${encodeURIComponent('models:/api-model/9')}`, 404)).code).toBe('MODEL_VERSION_NOT_FOUND');
      expect((await error(`lineage?uri=${encodeURIComponent('file:///etc/passwd')}`, 400)).code).toBe('INVALID_MODEL_URI');
      expect((await error('lineage', 400)).message).toContain("query parameter 'uri' is required");
    });

    it('POST models/:name/aliases/:alias moves the alias with who and why; bad bodies, unknown versions, a moved alias', async (ctx) => {
      if (!fixture) return skipBecause(ctx, NO_POSTGRES);
      const moved = await json<{ previousVersion: number | null }>('models/api-model/aliases/champion', 200, post(2, { reason: 'beats v1' }));
      expect(moved).toEqual({ name: 'api-model', alias: 'champion', version: 2, previousVersion: 1 });
      expect((await store.getModel('api-model')).aliases.champion).toBe(2);
      const last = (await store.aliasHistory('api-model', 'champion')).at(-1)!;
      expect(last).toMatchObject({ version: 2, previousVersion: 1, reason: 'beats v1' });
      expect(last.setBy).toMatch(/^rest-api \(cluster /);

      const conflict = await error('models/api-model/aliases/champion', 409, post(1, { ifCurrent: 1 }));
      expect(conflict).toMatchObject({ code: 'ALIAS_CONFLICT', context: { expected: 1, actual: 2 } });
      expect((await error('models/api-model/aliases/champion', 404, post(7))).code).toBe('MODEL_VERSION_NOT_FOUND');
      expect((await error('models/nope/aliases/champion', 404, post(1))).code).toBe('MODEL_NOT_FOUND');
      expect((await error('models/api-model/aliases/champion', 400, post('2'))).message).toContain("body field 'version' must be a positive integer");
      expect((await error('models/api-model/aliases/champion', 400, post(1.5))).code).toBe('STORE_BAD_REQUEST');
      expect((await error('models/api-model/aliases/champion', 400, post(1, { by: 'mallory' }))).message).toContain("body field 'by' is not known");
      expect((await error('models/api-model/aliases/champion', 400, { method: 'POST', body: '{"version": 1' })).message).toContain('must be a JSON object');
      expect((await error('models/api-model/aliases/champion', 400, { method: 'POST', body: '[1]' })).message).toContain('must be a JSON object');
      expect((await error('models/api-model/aliases/7', 400, post(1))).code).toBe('INVALID_NAME');
      expect((await error('models/api-model/aliases/champion', 413, { method: 'POST', body: JSON.stringify({ version: 1, reason: 'x'.repeat(20_000) }) })).code).toBe('STORE_BAD_REQUEST');
      expect((await error('models/api-model/aliases/champion', 405)).message).toContain('method GET is not allowed');
      expect((await error('runs', 405, { method: 'POST', body: '{}' })).code).toBe('STORE_BAD_REQUEST');
      expect((await store.getModel('api-model')).aliases.champion).toBe(2);
      expect((await store.aliasHistory('api-model', 'champion'))).toHaveLength(2);
    });

    it('paths that look like traversal are lookups that find nothing, never files', async (ctx) => {
      if (!fixture) return skipBecause(ctx, NO_POSTGRES);
      for (const path of ['/api/store/../../etc/passwd', '/api/store/runs/../../../etc/passwd', '/api/store/%2e%2e/%2e%2e/etc/passwd', '/api/store/runs/..%2F..%2Fetc%2Fpasswd']) {
        const { status, body } = await rawGet(base, path, tc.token);
        expect({ path, status }).toEqual({ path, status: 404 });
        expect(JSON.stringify(body)).not.toContain('root:');
      }
      const { status, body } = await rawGet(base, '/api/store/runs/..%5C..%5Cwindows/metrics/x', tc.token);
      expect(status).toBe(404);
      expect((body as StoreApiErrorReply).error.code).toBe('RUN_NOT_FOUND');
    });
  });
}

describe('store REST API with the database down', () => {
  let tc: TestCluster;
  let base: string;
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'shoal-store-api-down-'));
    // Port 1 on loopback refuses at once: the head must still start, and say why the store is unavailable.
    ({ tc, base } = await headWith({ SHOAL_METADATA_URL: 'postgres://nobody@127.0.0.1:1/none', SHOAL_ARTIFACT_DIR: join(dir, 'artifacts') }));
  });
  afterAll(async () => {
    await tc?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('the head starts and each request answers 503 STORE_UNAVAILABLE naming the database', async () => {
    for (let i = 0; i < 2; i++) {
      const res = await fetch(new URL('runs', base), { headers: { authorization: `Bearer ${tc.token}` } });
      expect(res.status).toBe(503);
      const { error } = (await res.json()) as StoreApiErrorReply;
      expect(error.code).toBe('STORE_UNAVAILABLE');
      expect(error.message).toContain('127.0.0.1:1');
    }
    expect((await fetch(new URL('runs', base))).status).toBe(401);
  });
});
