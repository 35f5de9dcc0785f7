/**
 * The store REST API's pipeline endpoints (GET pipelines, pipeline-runs, pipeline-runs/:id), on
 * SQLite and on PostgreSQL, over real HTTP with the store's own handler: runs recorded by the
 * platform's writer (PipelineRecords, as the runner records them) with step runs, artifacts and
 * inputs in the store; listing, the pipeline filter and paging; a run's DAG and steps (cache hit,
 * attempts, error, input and output artifacts); a run whose process died reads FAILED; a column a
 * newer writer adds comes along; a step's log lines, paged; and the bad inputs: 404 for an unknown
 * run or step, 400 for bad page parameters, 405 for a write, 401 without the token.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  openStore, storeApi, type PipelineRunReply, type PipelineRunsReply, type PipelinesReply, type StepLogReply, type Store, type StoreApiErrorReply,
} from 'shoal/store';
import { PipelineRecords, type StepRecord } from 'shoal/platform';
import { NO_POSTGRES, skipBecause } from '../../harness/skip.js';
import { BACKENDS, storeFixture } from '../../unit/store/store-backends.js';

const TOKEN = 'pipeline-api-test-token';

function blank(step: string, state: StepRecord['state'], extra: Partial<StepRecord> = {}): StepRecord {
  return {
    step, node: step, state, runId: null, codeHash: `code-${step}`, cacheKey: `key-${step}`, cacheHit: false, cachedFrom: null, attempts: 0,
    startTime: null, endTime: null, durationMs: null, error: null, outputs: null, ...extra,
  };
}

interface Seeded {
  etl1: string;
  etl2: string;
  fan: string;
  dead: string;
  readRun: string;
  countRun: string;
}

/** Four pipeline runs: etl (all succeeded), etl again (read cached, count failed twice, report not run), fan (a map), and one whose process died. */
async function seed(store: Store): Promise<Seeded> {
  const records = new PipelineRecords(store);
  const t0 = Date.now() - 60_000;
  const etlDag = [
    { name: 'read', step: 'read', upstream: [], map: false, condition: false },
    { name: 'count', step: 'count', upstream: ['read'], map: false, condition: false },
    { name: 'report', step: 'report', upstream: ['count'], map: false, condition: true },
  ];
  const startPipeline = async (pipeline: string, dag: typeof etlDag, startTime: number) => {
    const run = await store.startRun({ experiment: 'pipelines', name: pipeline, params: { n: 3 } });
    await records.insertRun({ id: run.id, pipeline, module: null, status: 'RUNNING', params: { n: 3 }, options: { noCache: false }, dag, resumedFrom: null, startTime, endTime: null, error: null });
    return run;
  };

  // etl, first run: every step runs.
  const etl1 = await startPipeline('etl', etlDag, t0);
  const read = await store.startRun({ experiment: 'pipelines', name: 'etl/read', parentRunId: etl1.id });
  const data = await read.logArtifact('outputs/data', 'a\nb\nc\n');
  await read.end();
  const dataRef = { artifact: 'file', uri: `runs:/${read.id}/outputs/data`, sha256: data.sha256, bytes: data.bytes };
  await records.putStep(etl1.id, blank('read', 'succeeded', { runId: read.id, attempts: 1, startTime: t0 + 10, endTime: t0 + 30, durationMs: 20, outputs: { data: dataRef } }));
  const count = await store.startRun({ experiment: 'pipelines', name: 'etl/count', parentRunId: etl1.id });
  await count.logInput(read.id, { kind: 'run', role: 'data' });
  await count.end();
  await records.putStep(etl1.id, blank('count', 'succeeded', { runId: count.id, attempts: 1, startTime: t0 + 40, endTime: t0 + 90, durationMs: 50, outputs: { lines: 3 } }));
  await records.putStep(etl1.id, blank('report', 'succeeded', { attempts: 1, startTime: t0 + 95, endTime: t0 + 99, durationMs: 4, outputs: { parts: [dataRef, { note: 'x' }] } }));
  await records.endRun(etl1.id, 'FINISHED', null);
  await etl1.end();

  // etl again: read from the cache, count fails after a retry, report not run.
  const etl2 = await startPipeline('etl', etlDag, t0 + 1000);
  await records.putStep(etl2.id, blank('read', 'cached', { cacheHit: true, cachedFrom: read.id, startTime: t0 + 1010, endTime: t0 + 1010, durationMs: 0, outputs: { data: dataRef } }));
  const count2 = await store.startRun({ experiment: 'pipelines', name: 'etl/count', parentRunId: etl2.id });
  await count2.logInput(read.id, { kind: 'run', role: 'data' });
  await count2.end('FAILED', 'RangeError: boom');
  await records.putStep(etl2.id, blank('count', 'failed', { runId: count2.id, attempts: 2, startTime: t0 + 1020, endTime: t0 + 1500, durationMs: 480, error: 'RangeError: boom' }));
  await records.putStep(etl2.id, blank('report', 'not-run', { error: "upstream step 'count' did not succeed" }));
  await records.endRun(etl2.id, 'FAILED', "pipeline 'etl' run failed at step 'count': RangeError: boom");
  await etl2.end('FAILED', 'boom');

  // fan: a mapped step of two elements and the step after it.
  const fanDag = [
    { name: 'square', step: 'square', upstream: [], map: true, condition: false },
    { name: 'sum', step: 'sum', upstream: ['square'], map: false, condition: false },
  ];
  const fan = await startPipeline('fan', fanDag, t0 + 2000);
  await records.putStep(fan.id, blank('square', 'succeeded', { attempts: 2 }));
  await records.putStep(fan.id, { ...blank('square[0]', 'succeeded', { attempts: 1, startTime: t0 + 2010, endTime: t0 + 2020, durationMs: 10, outputs: { sq: 1 } }), node: 'square' });
  await records.putStep(fan.id, { ...blank('square[1]', 'cached', { cacheHit: true, startTime: t0 + 2010, endTime: t0 + 2010, durationMs: 0, outputs: { sq: 4 } }), node: 'square' });
  await records.putStep(fan.id, blank('sum', 'succeeded', { attempts: 1, startTime: t0 + 2030, endTime: t0 + 2040, durationMs: 10, outputs: { total: 5 } }));
  await records.endRun(fan.id, 'FINISHED', null);
  await fan.end();

  // A run left RUNNING by a process that died: its run in `runs` is FAILED (what the store's orphan sweep does).
  const dead = await startPipeline('fan', fanDag, t0 + 3000);
  await records.putStep(dead.id, blank('square', 'running', { startTime: t0 + 3010 }));
  await dead.end('FAILED', 'its owner process 4242 on this host exited without ending the run');

  // count's log in etl1, as platform/pipelines records a step's output (table pipeline_step_logs, migration 3).
  const lines: Array<[string, string]> = [['stdout', 'counting'], ['stderr', 'a warning'], ['log', 'lines: 3']];
  for (const [seq, [stream, line]] of lines.entries()) {
    await store.db.run(`INSERT INTO pipeline_step_logs (pipeline_run_id, step, seq, stream, line, ts) VALUES (?, ?, ?, ?, ?, ?)`, [etl1.id, 'count', seq, stream, line, t0 + 50 + seq]);
  }

  return { etl1: etl1.id, etl2: etl2.id, fan: fan.id, dead: dead.id, readRun: read.id, countRun: count.id };
}

for (const backend of BACKENDS) {
  describe(`store REST API: pipeline runs (${backend})`, () => {
    let fixture: Awaited<ReturnType<typeof storeFixture>>;
    let store: Store;
    let server: Server;
    let base: string;
    let s: Seeded;

    beforeAll(async () => {
      fixture = await storeFixture(backend, 'pipeapi');
      if (!fixture) return;
      store = await openStore(fixture.options);
      s = await seed(store);
      const api = storeApi(store, { authorize: (req) => req.headers.authorization === `Bearer ${TOKEN}` });
      server = createServer((req, res) => void api(req, res));
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/store/`;
    }, 60_000);
    afterAll(async () => {
      await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
      await store?.close();
      await fixture?.cleanup();
    });

    const api = (path: string, init: RequestInit = {}, token: string | null = TOKEN): Promise<Response> =>
      fetch(new URL(path, base), { ...init, headers: token === null ? {} : { authorization: `Bearer ${token}` } });
    const json = async <T>(path: string, status = 200, init: RequestInit = {}): Promise<T> => {
      const res = await api(path, init);
      const body = (await res.json()) as T;
      expect({ path, status: res.status, body }).toMatchObject({ status });
      return body;
    };
    const error = async (path: string, status: number, init: RequestInit = {}): Promise<StoreApiErrorReply['error']> => (await json<StoreApiErrorReply>(path, status, init)).error;

    it('GET pipelines: each pipeline with its run count and newest run', async (ctx) => {
      if (!fixture) return skipBecause(ctx, NO_POSTGRES);
      const { pipelines } = await json<PipelinesReply>('pipelines');
      expect(pipelines).toEqual([
        { name: 'etl', runs: 2, lastRunId: s.etl2, lastStatus: 'FAILED', lastStartTime: expect.any(Number) },
        { name: 'fan', runs: 2, lastRunId: s.dead, lastStatus: 'FAILED', lastStartTime: expect.any(Number) },
      ]);
    });

    it('GET pipeline-runs: newest first with step counts by state; filtered by pipeline; paged', async (ctx) => {
      if (!fixture) return skipBecause(ctx, NO_POSTGRES);
      const all = await json<PipelineRunsReply>('pipeline-runs');
      expect(all).toMatchObject({ total: 4, offset: 0, limit: 50 });
      expect(all.runs.map((r) => r.id)).toEqual([s.dead, s.fan, s.etl2, s.etl1]);
      const byId = Object.fromEntries(all.runs.map((r) => [r.id, r]));
      expect(byId[s.etl1]).toMatchObject({ pipeline: 'etl', status: 'FINISHED', params: { n: 3 }, noCache: false, error: null, stepStates: { succeeded: 3 } });
      expect(byId[s.etl1]!.durationMs).toBe(byId[s.etl1]!.endTime! - byId[s.etl1]!.startTime);
      expect(byId[s.etl2]).toMatchObject({ status: 'FAILED', stepStates: { cached: 1, failed: 1, 'not-run': 1 } });
      expect(byId[s.etl2]!.error).toContain("step 'count'");
      // The map's own row is not counted beside its elements.
      expect(byId[s.fan]!.stepStates).toEqual({ succeeded: 2, cached: 1 });

      const etl = await json<PipelineRunsReply>('pipeline-runs?pipeline=etl');
      expect(etl.total).toBe(2);
      expect(etl.runs.map((r) => r.id)).toEqual([s.etl2, s.etl1]);
      expect(await json<PipelineRunsReply>('pipeline-runs?pipeline=nope')).toMatchObject({ total: 0, runs: [] });
      const page = await json<PipelineRunsReply>('pipeline-runs?limit=2&offset=1');
      expect(page).toMatchObject({ total: 4, offset: 1, limit: 2 });
      expect(page.runs.map((r) => r.id)).toEqual([s.fan, s.etl2]);
      expect((await json<PipelineRunsReply>('pipeline-runs?offset=10')).runs).toEqual([]);
    });

    it('GET pipeline-runs/:id: the DAG and every step with state, times, cache hit, attempts, error and artifacts; by prefix too', async (ctx) => {
      if (!fixture) return skipBecause(ctx, NO_POSTGRES);
      const r = await json<PipelineRunReply>(`pipeline-runs/${s.etl2}`);
      expect(r).toMatchObject({ id: s.etl2, pipeline: 'etl', status: 'FAILED' });
      expect(r.dag.map((n) => [n.name, n.upstream])).toEqual([['read', []], ['count', ['read']], ['report', ['count']]]);
      const step = Object.fromEntries(r.steps.map((x) => [x.step, x]));
      expect(step.read).toMatchObject({ state: 'cached', cacheHit: true, cachedFrom: s.readRun, runId: null, durationMs: 0 });
      expect(step.read!.outputArtifacts).toEqual([{ output: 'data', artifact: 'file', uri: `runs:/${s.readRun}/outputs/data`, sha256: expect.stringMatching(/^[0-9a-f]{64}$/), bytes: 6 }]);
      expect(step.count).toMatchObject({ state: 'failed', cacheHit: false, attempts: 2, durationMs: 480, error: 'RangeError: boom', outputs: null, outputArtifacts: [] });
      expect(step.count!.inputs).toEqual([{ kind: 'run', ref: s.readRun, role: 'data' }]);
      expect(step.report).toMatchObject({ state: 'not-run', startTime: null, durationMs: null });
      expect(step.report!.error).toContain("'count'");

      const first = await json<PipelineRunReply>(`pipeline-runs/${s.etl1.slice(0, 12)}`);
      expect(first.id).toBe(s.etl1);
      const report = first.steps.find((x) => x.step === 'report')!;
      expect(report.outputArtifacts.map((a) => a.output)).toEqual(['parts[0]']);
      expect(first.steps.find((x) => x.step === 'count')).toMatchObject({ runId: s.countRun, inputs: [{ kind: 'run', ref: s.readRun, role: 'data' }] });
    });

    it("GET pipeline-runs/:id/logs?step=: a step's log lines from an offset, paged; its count in the run's view", async (ctx) => {
      if (!fixture) return skipBecause(ctx, NO_POSTGRES);
      const run = await json<PipelineRunReply>(`pipeline-runs/${s.etl1}`);
      expect(Object.fromEntries(run.steps.map((x) => [x.step, x.logLines]))).toEqual({ read: 0, count: 3, report: 0 });
      const all = await json<StepLogReply>(`pipeline-runs/${s.etl1}/logs?step=count`);
      expect(all).toMatchObject({ runId: s.etl1, step: 'count', total: 3, next: 3 });
      expect(all.lines.map((l) => [l.seq, l.stream, l.line])).toEqual([[0, 'stdout', 'counting'], [1, 'stderr', 'a warning'], [2, 'log', 'lines: 3']]);
      const page = await json<StepLogReply>(`pipeline-runs/${s.etl1.slice(0, 10)}/logs?step=count&offset=1&limit=1`);
      expect(page).toMatchObject({ runId: s.etl1, total: 3, next: 2, lines: [{ seq: 1, line: 'a warning' }] });
      expect(await json<StepLogReply>(`pipeline-runs/${s.etl1}/logs?step=count&offset=3`)).toMatchObject({ lines: [], next: 3 });
      expect(await json<StepLogReply>(`pipeline-runs/${s.etl1}/logs?step=read`)).toMatchObject({ lines: [], total: 0, next: 0 });
      expect((await error(`pipeline-runs/${s.etl1}/logs?step=nope`, 404)).context).toMatchObject({ what: 'pipeline step', key: 'nope' });
      expect((await error(`pipeline-runs/${'f'.repeat(32)}/logs?step=count`, 404)).context).toMatchObject({ what: 'pipeline run' });
      expect((await error(`pipeline-runs/${s.etl1}/logs`, 400)).message).toContain("query parameter 'step' is required");
      expect((await error(`pipeline-runs/${s.etl1}/logs?step=count&offset=x`, 400)).message).toContain("'offset'");
      expect((await error(`pipeline-runs/${s.etl1}/logs?step=count&limit=10001`, 400)).message).toContain("'limit'");
    });

    it('a pipeline run whose process died reads FAILED with the reason', async (ctx) => {
      if (!fixture) return skipBecause(ctx, NO_POSTGRES);
      const r = await json<PipelineRunReply>(`pipeline-runs/${s.dead}`);
      expect(r.status).toBe('FAILED');
      expect(r.error).toMatch(/^the process running it stopped: .*exited without ending the run/);
      expect(r.endTime).toEqual(expect.any(Number));
    });

    it('a column a newer writer adds to the steps comes along, camelCase (a *_json one parsed)', async (ctx) => {
      if (!fixture) return skipBecause(ctx, NO_POSTGRES);
      await store.db.run(`ALTER TABLE pipeline_steps ADD COLUMN log_tail TEXT`);
      await store.db.run(`ALTER TABLE pipeline_steps ADD COLUMN retry_json TEXT`);
      await store.db.run(`UPDATE pipeline_steps SET log_tail = ?, retry_json = ? WHERE pipeline_run_id = ? AND step = 'count'`, ['counting 3 lines\n', '{"backoffMs":10}', s.etl1]);
      const r = await json<PipelineRunReply>(`pipeline-runs/${s.etl1}`);
      expect(r.steps.find((x) => x.step === 'count')).toMatchObject({ logTail: 'counting 3 lines\n', retry: { backoffMs: 10 } });
      expect(r.steps.find((x) => x.step === 'read')).toMatchObject({ logTail: null, retry: null });
    });

    it('bad inputs: 404 for an unknown run, 400 for bad page parameters, 405 for a write, 401 without the token', async (ctx) => {
      if (!fixture) return skipBecause(ctx, NO_POSTGRES);
      const missing = await error(`pipeline-runs/${'f'.repeat(32)}`, 404);
      expect(missing).toMatchObject({ code: 'STORE_NOT_FOUND', context: { what: 'pipeline run', key: 'f'.repeat(32) } });
      expect(missing.message).toContain('no pipeline run');
      expect((await error('pipeline-runs/abc', 404)).code).toBe('STORE_NOT_FOUND');
      expect((await error('pipeline-runs?limit=0', 400)).message).toContain("query parameter 'limit' must be an integer from 1 to 500");
      expect((await error('pipeline-runs?limit=ten', 400)).code).toBe('STORE_BAD_REQUEST');
      expect((await error('pipeline-runs?offset=-1', 400)).message).toContain("'offset'");
      expect((await error('pipeline-runs?limit=501', 400)).message).toContain("'limit'");
      expect((await error('pipeline-runs?page=2', 400)).message).toContain("query parameter 'page' is not one this path takes (pipeline, limit, offset)");
      expect((await error('pipeline-runs?pipeline=a&pipeline=b', 400)).message).toContain('must be given once');
      expect((await error(`pipeline-runs?pipeline=${'x'.repeat(201)}`, 400)).message).toContain('at most 200 characters');
      expect((await error(`pipeline-runs/${s.etl1}?x=1`, 400)).message).toContain('this path takes none');
      expect((await error('pipelines?x=1', 400)).message).toContain('this path takes none');
      expect((await error(`pipeline-runs/${s.etl1}/steps`, 404)).code).toBe('STORE_API_NOT_FOUND');
      expect((await error('pipeline-runs', 405, { method: 'POST', body: '{}' })).message).toContain('method POST is not allowed');
      expect((await api('pipeline-runs', {}, null)).status).toBe(401);
      expect((await api(`pipeline-runs/${s.etl1}`, {}, 'wrong')).status).toBe(401);
    });
  });
}
