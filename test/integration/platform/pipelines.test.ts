/**
 * Pipelines on a real cluster, recorded in a real store (SQLite in a temporary folder): caching
 * (what a code, parameter or input change invalidates — exactly), a permanently failing step,
 * resume, a worker killed mid-step (retried), a timeout, fan-out/join/condition and wiring errors.
 */
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore, type Store } from 'shoal/store';
import {
  PipelineRecords, PipelineRunError, PipelineRunNotFoundError, resumePipeline, runPipeline, type PipelineRunResult, type StepRecord,
} from 'shoal/platform';
import { TestCluster, waitFor } from '../../harness/test-cluster.js';
import cacheV1 from '../../fixtures/platform/cache-v1.js';
import cacheV2 from '../../fixtures/platform/cache-v2.js';
import { failing, fan, killed, source, timeout, wiring } from '../../fixtures/platform/pipelines.js';

let cluster: TestCluster;
let dir: string;
let store: Store;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'shoal-pipelines-'));
  store = await openStore({ url: join(dir, 'store.db'), artifactDir: join(dir, 'artifacts') });
  cluster = await TestCluster.start({ numCpus: 2, numWorkers: 2 });
});
afterAll(async () => {
  await cluster?.stop();
  await store?.close();
  await rm(dir, { recursive: true, force: true });
});

/** Step name → state (map elements and the map's own row included). */
async function states(runId: string): Promise<Record<string, string>> {
  const steps = await new PipelineRecords(store).getSteps(runId);
  return Object.fromEntries(steps.map((s) => [s.step, s.state]));
}

async function stepOf(runId: string, name: string): Promise<StepRecord> {
  const s = (await new PipelineRecords(store).getSteps(runId)).find((x) => x.step === name);
  if (!s) throw new Error(`no step ${name} in ${runId}`);
  return s;
}

async function failureOf(p: Promise<PipelineRunResult>): Promise<PipelineRunError> {
  const err = await p.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(PipelineRunError);
  return err as PipelineRunError;
}

describe('caching', () => {
  let data: string;
  const run = (p = cacheV1, params: Record<string, unknown> = {}, noCache = false): Promise<PipelineRunResult> =>
    runPipeline(p, { store, params: { path: data, ...params }, noCache });

  beforeAll(async () => {
    data = join(dir, 'data.txt');
    await writeFile(data, 'a\nb\nc\n');
  });

  it('a first run runs every step and records outputs, child runs and lineage', async () => {
    const r = await run();
    expect(await states(r.runId)).toEqual({ read: 'succeeded', count: 'succeeded', report: 'succeeded', label: 'succeeded' });
    expect(r.outputs).toMatchObject({ count: { lines: 3 }, report: { value: 3 }, label: { text: 'X' } });
    const count = await stepOf(r.runId, 'count');
    expect(count).toMatchObject({ cacheHit: false, attempts: 1, error: null });
    expect(count.durationMs).toBeGreaterThanOrEqual(0);
    const child = await store.getRun(count.runId!);
    expect(child.parentRunId).toBe(r.runId);
    expect(child.status).toBe('FINISHED');
    // Lineage: count's input is the artifact read made; its output is an artifact of its own run.
    const readRun = (await stepOf(r.runId, 'read')).runId!;
    expect(child.inputs).toEqual([{ kind: 'run', ref: readRun, role: 'data' }]);
    expect(child.artifacts.map((a) => a.path)).toEqual(['outputs/counts']);
    expect(JSON.parse(new TextDecoder().decode(await store.readArtifact(count.runId!, 'outputs/counts')))).toEqual({ lines: 3 });
    expect((await store.getRun(r.runId)).children).toHaveLength(4);
  });

  it('an unchanged second run takes every cacheable step from the cache (read opted out)', async () => {
    const r = await run();
    expect(await states(r.runId)).toEqual({ read: 'succeeded', count: 'cached', report: 'cached', label: 'cached' });
    expect(await stepOf(r.runId, 'count')).toMatchObject({ cacheHit: true, runId: null, attempts: 0 });
    expect(r.outputs).toMatchObject({ report: { value: 3 } });
  });

  it('a parameter change invalidates only the steps that take it', async () => {
    const r = await run(cacheV1, { scale: 2 });
    expect(await states(r.runId)).toEqual({ read: 'succeeded', count: 'cached', report: 'succeeded', label: 'cached' });
    expect(r.outputs).toMatchObject({ report: { value: 6 } });
  });

  it('an input change invalidates the step that reads it, and downstream only where its outputs changed', async () => {
    // Same number of lines, other content: count runs again, yields the same `lines`, so report (scale 2) is a hit.
    await writeFile(data, 'x\ny\nz\n');
    let r = await run(cacheV1, { scale: 2 });
    expect(await states(r.runId)).toEqual({ read: 'succeeded', count: 'succeeded', report: 'cached', label: 'cached' });
    await writeFile(data, 'x\ny\nz\nw\n');
    r = await run(cacheV1, { scale: 2 });
    expect(await states(r.runId)).toEqual({ read: 'succeeded', count: 'succeeded', report: 'succeeded', label: 'cached' });
    expect(r.outputs).toMatchObject({ report: { value: 8 } });
  });

  it('a code change invalidates exactly the changed step', async () => {
    expect(cacheV2.nodes.find((n) => n.name === 'report')!.step.codeHash).not.toBe(cacheV1.nodes.find((n) => n.name === 'report')!.step.codeHash);
    const r = await run(cacheV2, { scale: 2 });
    expect(await states(r.runId)).toEqual({ read: 'succeeded', count: 'cached', report: 'succeeded', label: 'cached' });
    expect(r.outputs).toMatchObject({ report: { value: 8 } });
  });

  it('noCache runs every step', async () => {
    const r = await run(cacheV1, { scale: 2 }, true);
    expect(await states(r.runId)).toEqual({ read: 'succeeded', count: 'succeeded', report: 'succeeded', label: 'succeeded' });
  });

  it('a step reading an external source is keyed on the source version: cached while unchanged, run again when it changed', async () => {
    const path = join(dir, 'source.txt');
    await writeFile(path, 'p\nq\n');
    let r = await runPipeline(source, { store, params: { path } });
    expect(await states(r.runId)).toEqual({ snapshot: 'succeeded', count: 'succeeded' });
    r = await runPipeline(source, { store, params: { path } });
    expect(await states(r.runId)).toEqual({ snapshot: 'cached', count: 'cached' });
    await writeFile(path, 'p\nq\nr\n');
    r = await runPipeline(source, { store, params: { path } });
    expect(await states(r.runId)).toEqual({ snapshot: 'succeeded', count: 'succeeded' });
    expect(r.outputs).toMatchObject({ count: { lines: 3 } });
    const err = await failureOf(runPipeline(source, { store, params: { path: join(dir, 'missing.txt') } }));
    expect(err.step).toBe('snapshot');
    expect((await stepOf(err.runId, 'snapshot')).error).toMatch(/^Error: ENOENT/);
  });

  it('bad parameters are refused before anything runs, naming the parameter', async () => {
    const before = (await new PipelineRecords(store).listRuns()).length;
    await expect(run(cacheV1, { scale: 0 })).rejects.toThrow(/pipeline 'cache-demo' option 'params.scale' must be within \[1, ∞\]; got 0/);
    await expect(run(cacheV1, { scael: 2 })).rejects.toThrow(/'params.scael' is not a parameter of the pipeline \(it has: path, scale, text\)/);
    await expect(runPipeline(cacheV1, { store })).rejects.toThrow(/'params.path' is required/);
    expect((await new PipelineRecords(store).listRuns()).length).toBe(before);
  });
});

describe('a failing step, and resume', () => {
  let runId: string;
  const flag = (): string => join(dir, 'boom-ok');

  it('fails the run naming the step; downstream does not run, upstream and independent steps keep their outputs; no retry of a user exception', async () => {
    const err = await failureOf(runPipeline(failing, { store, params: { flag: flag() } }));
    expect(err).toMatchObject({ code: 'PIPELINE_RUN_FAILED', pipeline: 'fail-demo', step: 'boom', failedSteps: ['boom'] });
    expect(err.message).toMatch(/failed at step 'boom': .*RangeError.*boom: no /);
    runId = err.runId;
    expect(await states(runId)).toEqual({ first: 'succeeded', boom: 'failed', after: 'not-run', side: 'succeeded' });
    expect(await stepOf(runId, 'boom')).toMatchObject({ attempts: 1 });
    const first = await stepOf(runId, 'first');
    expect(new TextDecoder().decode(await store.readArtifact(first.runId!, 'outputs/numbers'))).toBe('4\n');
    const rec = await new PipelineRecords(store).getRun(runId);
    expect(rec).toMatchObject({ status: 'FAILED', pipeline: 'fail-demo', params: { flag: flag(), n: 4 } });
    expect((await store.getRunInfo(runId)).status).toBe('FAILED');
    expect((await store.getRunInfo((await stepOf(runId, 'boom')).runId!)).status).toBe('FAILED');
  });

  it('resume re-runs only the failed and downstream steps, reusing the rest', async () => {
    await writeFile(flag(), '');
    const r = await resumePipeline(failing, runId, { store });
    expect(r.runId).not.toBe(runId);
    expect(await states(r.runId)).toEqual({ first: 'reused', side: 'reused', boom: 'succeeded', after: 'succeeded' });
    expect(await stepOf(r.runId, 'first')).toMatchObject({ cachedFrom: (await stepOf(runId, 'first')).runId });
    expect(r.outputs).toMatchObject({ boom: { n: 5 }, after: { n: 50 } });
    expect((await new PipelineRecords(store).getRun(r.runId)).resumedFrom).toBe(runId);
  });

  it('a pipeline run whose process died (its store run marked FAILED by the store) reads as FAILED, with the reason', async () => {
    const r = await runPipeline(failing, { store, params: { flag: flag() } });
    // As left by a driver killed mid-run: pipeline row RUNNING, its run found orphaned by the store's sweep.
    await store.db.run(`UPDATE pipeline_runs SET status = 'RUNNING', end_time = NULL, error = NULL WHERE id = ?`, [r.runId]);
    await store.db.run(`UPDATE runs SET status = 'FAILED', failure = 'its owner process 123 on h exited without ending the run' WHERE id = ?`, [r.runId]);
    const rec = await new PipelineRecords(store).getRun(r.runId);
    expect(rec).toMatchObject({ status: 'FAILED', error: 'the process running it stopped: its owner process 123 on h exited without ending the run' });
    expect((await new PipelineRecords(store).listRuns({ pipeline: 'fail-demo', limit: 1 }))[0]).toMatchObject({ id: r.runId, status: 'FAILED' });
  });

  it('resume of an unknown run is a typed error', async () => {
    await expect(resumePipeline(failing, 'nope-not-a-run', { store })).rejects.toBeInstanceOf(PipelineRunNotFoundError);
  });
});

describe('fan-out, join and condition', () => {
  it('maps over a list, joins the outputs in order, and runs a step only when its condition holds', async () => {
    const r = await runPipeline(fan, { store });
    expect(await states(r.runId)).toEqual({
      square: 'succeeded', 'square[0]': 'succeeded', 'square[1]': 'succeeded', 'square[2]': 'succeeded', sum: 'succeeded', deploy: 'succeeded', readBack: 'succeeded',
    });
    expect(r.outputs).toMatchObject({ square: [{ sq: 1 }, { sq: 4 }, { sq: 9 }], sum: { total: 14 }, readBack: { total: 14 } });
    const skipped = await runPipeline(fan, { store, params: { threshold: 20 } });
    expect(await states(skipped.runId)).toMatchObject({ 'square[0]': 'cached', sum: 'cached', deploy: 'skipped', readBack: 'skipped' });
    expect(skipped.outputs).not.toHaveProperty('deploy');
  });

  it('wiring errors found at run time fail the step naming the output; a non-object result fails its step', async () => {
    const err = await failureOf(runPipeline(wiring, { store }));
    const s = await states(err.runId);
    expect(s).toEqual({ empty: 'succeeded', bad: 'failed', after: 'failed', side: 'succeeded' });
    expect((await stepOf(err.runId, 'after')).error).toMatch(/input 'n' names output 'missing' of step 'empty', which it did not return \(it returned: nothing\)/);
    expect((await stepOf(err.runId, 'bad')).error).toMatch(/must return a plain object of named outputs .*it returned an array/);
    expect(err.failedSteps).toEqual(expect.arrayContaining(['bad', 'after']));
  });
});

describe('timeouts', () => {
  it('a step past its timeout is cancelled and fails the run (not retried)', async () => {
    const err = await failureOf(runPipeline(timeout, { store, params: { dir } }));
    expect(err.step).toBe('slow');
    const s = await stepOf(err.runId, 'slow');
    expect(s).toMatchObject({ state: 'failed', attempts: 1 });
    expect(s.error).toMatch(/StepTimeoutError: step 'slow' did not finish within its timeout of 500 ms/);
  });
});

describe('a worker killed mid-step', () => {
  it('the step is retried (a system failure) on the surviving worker and the run succeeds', async () => {
    const work = join(dir, 'victim');
    await rm(work, { recursive: true, force: true });
    const { mkdir } = await import('node:fs/promises');
    await mkdir(work);
    const running = runPipeline(killed, { store, params: { dir: work } });
    running.catch(() => undefined);
    const pidFile = join(work, 'attempt-1.pid');
    await waitFor('the first attempt running', () => existsSync(pidFile), 30_000);
    const pid = Number(readFileSync(pidFile, 'utf8'));
    const index = cluster.workers.findIndex((w) => w.child.pid === pid);
    expect(index).toBeGreaterThanOrEqual(0);
    await cluster.killWorker(index);
    const r = await running;
    const victim = await stepOf(r.runId, 'victim');
    expect(victim).toMatchObject({ state: 'succeeded', attempts: 2 });
    expect(r.outputs).toMatchObject({ victim: { attempt: 2 }, after: { n: 20 } });
    expect((r.outputs.victim as { pid: number }).pid).not.toBe(pid);
  });
});
