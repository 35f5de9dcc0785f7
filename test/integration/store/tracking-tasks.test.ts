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
import { openStore, type Store } from 'shoal/store';
import { TestCluster } from '../../harness/test-cluster.js';
import { logPoints } from '../../fixtures/store/index.js';

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

  it('is marked FAILED when its heartbeat is stale (owner on another host)', async () => {
    const run = await store.startRun({ experiment: 'owner-death', name: 'remote-owner' });
    await store.db.run(`UPDATE runs SET owner_host = 'elsewhere', heartbeat_at = ? WHERE id = ?`, [Date.now() - 120_000, run.id]);
    expect(await store.markOrphanRuns()).toContain(run.id);
    expect((await store.getRunInfo(run.id)).failure).toMatch(/elsewhere sent no heartbeat for 1[12]\d s/);
  });
});
