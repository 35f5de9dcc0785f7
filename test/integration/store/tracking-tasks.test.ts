/**
 * Logging from tasks on workers into the driver's runs (the store is a SQLite file every process on
 * this host opens; a PostgreSQL URL works the same across hosts), and a run whose owner process
 * dies is marked FAILED.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { get } from 'shoal';
import { openStore, withActiveRun, type Store } from 'shoal/store';
import { ALS, grid, tune } from 'shoal/train';
import { TestCluster } from '../../harness/test-cluster.js';
import { logPoints } from '../../fixtures/store/index.js';
import { quadratic } from '../../fixtures/train/index.js';

let cluster: TestCluster;
let dir: string;
let store: Store;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'shoal-tracking-'));
  store = await openStore({ url: join(dir, 'store.db'), artifactDir: join(dir, 'artifacts') });
  cluster = await TestCluster.start({ numCpus: 2, numWorkers: 2 });
});
afterAll(async () => {
  await cluster?.stop();
  await store?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('logging from tasks', () => {
  it('8 tasks logging concurrently, one run each, lose no point', async () => {
    const n = 3_000;
    const runs = await Promise.all(Array.from({ length: 8 }, (_, i) => store.startRun({ experiment: 'from-tasks', name: `r${i}` })));
    const done = await get(runs.map((r) => logPoints.remote(r.ref(), 'x', n)));
    expect(done).toEqual(runs.map(() => n));
    for (const r of runs) {
      const h = await store.getMetricHistory(r.id, 'x');
      expect(h).toHaveLength(n);
      expect(h.map((p) => p.step)).toEqual(Array.from({ length: n }, (_, i) => i));
      expect((await store.getRunInfo(r.id)).metrics.x).toBe(n - 1);
      await r.end();
    }
  });

  it('several tasks logging into one run at once lose no point either', async () => {
    const run = await store.startRun({ experiment: 'from-tasks', name: 'shared' });
    await get(Array.from({ length: 4 }, (_, i) => logPoints.remote(run.ref(), `k${i % 2}`, 1_000)));
    expect(await store.getMetricHistory(run.id, 'k0')).toHaveLength(2_000);
    expect(await store.getMetricHistory(run.id, 'k1')).toHaveLength(2_000);
    await run.end();
  });
});

describe('a run whose owner dies', () => {
  it('is marked FAILED (owner pid gone on this host) when the store is next opened or searched', async () => {
    const storeModule = join(process.cwd(), 'dist', 'src', 'store.js');
    const script = `import { openStore } from ${JSON.stringify(storeModule)};
      const s = await openStore({ url: ${JSON.stringify(join(dir, 'store.db'))}, artifactDir: ${JSON.stringify(join(dir, 'artifacts'))} });
      const r = await s.startRun({ experiment: 'owner-death' });
      r.logMetric('loss', 1);
      await r.flush();
      console.log(r.id);
      setInterval(() => {}, 1000);`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    const runId = await new Promise<string>((resolve, reject) => {
      child.stdout.once('data', (d: Buffer) => resolve(d.toString().trim()));
      child.once('exit', (code) => reject(new Error(`child exited early with ${String(code)}`)));
    });
    expect((await store.getRunInfo(runId)).status).toBe('RUNNING');
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await exited;
    const [found] = await store.searchRuns({ experiments: ['owner-death'] });
    expect(found).toMatchObject({ id: runId, status: 'FAILED', metrics: { loss: 1 } });
    expect(found!.failure).toMatch(new RegExp(`owner process ${child.pid} .* exited without ending the run`));
  });

  it('killed between storing an artifact\'s blobs and recording them: FAILED, and no partial artifact is visible', async () => {
    // The child stops itself at the point logArtifacts reaches after every blob is stored and before
    // the rows naming them are written (the blob store's put, then nothing): the worst moment to die.
    const storeModule = join(process.cwd(), 'dist', 'src', 'store.js');
    const script = `import { openStore } from ${JSON.stringify(storeModule)};
      const s = await openStore({ url: ${JSON.stringify(join(dir, 'store.db'))}, artifactDir: ${JSON.stringify(join(dir, 'artifacts'))} });
      const r = await s.startRun({ experiment: 'owner-death', name: 'mid-artifact' });
      await r.logArtifact('first.txt', 'recorded before');
      const sha = await s.artifacts.put(new Uint8Array(1 << 20).fill(7), 'runs:/' + r.id + '/model/w.bin');
      console.log(r.id + ' ' + sha);
      setInterval(() => {}, 1000);`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    const [runId, sha] = (await new Promise<string>((resolve, reject) => {
      child.stdout.once('data', (d: Buffer) => resolve(d.toString().trim()));
      child.once('exit', (code) => reject(new Error(`child exited early with ${String(code)}`)));
    })).split(' ') as [string, string];
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await exited;
    const [found] = await store.searchRuns({ experiments: ['owner-death'], filter: "name = 'mid-artifact'" });
    expect(found).toMatchObject({ id: runId, status: 'FAILED' });
    expect((await store.listArtifacts(runId)).map((a) => a.path)).toEqual(['first.txt']);
    await expect(store.readArtifact(runId, 'model/w.bin')).rejects.toThrow(/no artifact/);
    await expect(store.loadModel(`runs:/${runId}/model`)).rejects.toThrow(/no artifact/);
    // The blob itself is whole (written to a temp file and renamed): unreferenced, never half.
    expect(Array.from(await store.artifacts.get(sha, 1 << 20, 'the orphan blob')).every((b) => b === 7)).toBe(true);
  });

  it('is marked FAILED when its heartbeat is stale (owner on another host)', async () => {
    const run = await store.startRun({ experiment: 'owner-death', name: 'remote-owner' });
    await store.db.run(`UPDATE runs SET owner_host = 'elsewhere', heartbeat_at = ? WHERE id = ?`, [Date.now() - 120_000, run.id]);
    expect(await store.markOrphanRuns()).toContain(run.id);
    expect((await store.getRunInfo(run.id)).failure).toMatch(/elsewhere sent no heartbeat for 1[12]\d s/);
  });
});

describe('autologging', () => {
  const ratings = [[1, 10, 5], [1, 11, 3], [2, 10, 4], [2, 12, 1], [3, 11, 2], [3, 12, 5]].map(([user, item, rating]) => ({ user, item, rating }));
  const fitALS = () => new ALS({ rank: 2, maxIter: 3 }).fit(ratings);

  it('ALS fit and tune() log into the active run (trials as child runs), and nowhere without one', async () => {
    const run = await store.startRun({ experiment: 'autolog' });
    await withActiveRun(run, async () => {
      await fitALS();
      await tune({ task: quadratic }, { searchSpace: { x: grid([0, 0.3]), y: grid([-1]) }, metric: 'loss', mode: 'min' });
    });
    await run.end();
    const got = await store.getRun(run.id);
    expect(got.params).toMatchObject({ 'als.rank': '2', 'als.maxIter': '3', 'tune.best.x': '0.3', 'tune.metric': 'loss' });
    expect((await store.getMetricHistory(run.id, 'als.iteration_ms')).map((p) => p.step)).toEqual([1, 2, 3]);
    expect(got.metrics['tune.best.loss']).toBe(0);
    const trials = await store.searchRuns({ parentRunId: run.id, orderBy: 'name ASC' });
    expect(trials.map((t) => [t.name, t.params.x, t.status, t.tags['tune.status']])).toEqual([['trial_0000', '0', 'FINISHED', 'completed'], ['trial_0001', '0.3', 'FINISHED', 'completed']]);
    expect(trials[1]!.metrics.loss).toBe(0);

    const before = (await store.searchRuns()).length;
    await fitALS();
    await tune({ task: quadratic }, { searchSpace: { x: grid([0]), y: grid([-1]) }, metric: 'loss', mode: 'min' });
    expect((await store.searchRuns()).length).toBe(before);
  });
});
