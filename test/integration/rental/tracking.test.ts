/**
 * The rental job records itself in the platform store (examples/rental-recs/tracking.ts), here in a
 * temp SHOAL_HOME: the run with its grid trials as child runs, test metrics, the reports as
 * artifacts, the data version; the served model registered and loadable by alias; a second run on
 * the same data and protocol that does not beat the champion becomes challenger.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from 'shoal/store';
import { TestCluster } from '../../harness/test-cluster.js';
import { runJob, type Grid } from '../../../examples/rental-recs/job.js';
import { servedModelFromStored } from '../../../examples/rental-recs/model-store.js';
import { writeHtmlReport, writeJsonReport } from '../../../examples/rental-recs/report.js';
import { endTracking, finishTracking, MODEL_NAME, startTracking } from '../../../examples/rental-recs/tracking.js';

const GRID: Grid = { rank: [4, 6], regParam: [0.1], maxIter: [3] };
let tc: TestCluster;
let home: string;
const oldHome = process.env.SHOAL_HOME;

beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), 'shoal-rental-tracking-'));
  process.env.SHOAL_HOME = home;
  tc = await TestCluster.start({ numCpus: 2 });
});
afterAll(async () => {
  await tc?.stop();
  if (oldHome === undefined) delete process.env.SHOAL_HOME;
  else process.env.SHOAL_HOME = oldHome;
  await rm(home, { recursive: true, force: true });
});

async function trackedRun(): Promise<Awaited<ReturnType<typeof finishTracking>>> {
  const options = { synthetic: 3_000, seed: 7, grid: GRID, neural: false as const, dataDir: join(home, 'data'), outDir: join(home, 'out'), log: () => undefined };
  const t = await startTracking(options);
  try {
    const result = await runJob({ ...options, keepModel: true });
    const outcome = await finishTracking(t, result, { html: writeHtmlReport(result, options.outDir), json: writeJsonReport(result, options.outDir) });
    await endTracking(t);
    return outcome;
  } catch (err) {
    await endTracking(t, err);
    throw err;
  }
}

describe('the rental job in the platform store', () => {
  it('records a run with child trials, metrics, reports, data and the registered model; champion moves only on a win', async () => {
    const first = await trackedRun();
    expect(first).toMatchObject({ version: 1, alias: 'champion' });
    const second = await trackedRun();
    expect(second.version).toBe(2);
    expect(second.dataVersion).toBe(first.dataVersion); // same seed, same content: the same data version

    const store = await openStore();
    try {
      const run = await store.getRun(first.runId);
      expect(run.status).toBe('FINISHED');
      expect(run.children).toHaveLength(2);
      const trials = await store.searchRuns({ parentRunId: run.id });
      expect(trials.map((r) => r.params.rank).sort()).toEqual(['4', '6']);
      // Each trial: its validation metric, and what ALS autologged while the trial was the active run.
      for (const t of trials) {
        expect(t.status).toBe('FINISHED');
        expect(Object.keys(t.metrics).sort()).toEqual(expect.arrayContaining(['als.iteration_ms', 'als.prepare_ms', expect.stringMatching(/^val\./)]));
      }
      expect(Object.keys(run.metrics)).toEqual(expect.arrayContaining(['test.als.ndcg', 'test.popular.ndcg', 'val.ndcg']));
      expect(run.artifacts.map((a) => a.path)).toEqual(expect.arrayContaining(['report.html', 'report.json', 'model/MLmodel.json']));
      expect(run.inputs).toEqual([{ kind: 'dataset', ref: first.dataVersion, role: 'training' }]);
      expect((await store.getDatasetVersion(first.dataVersion)).files.length).toBeGreaterThan(1);

      // Same data, same protocol, a deterministic job: the second does not beat the first.
      expect(second.alias).toBe('challenger');
      const model = await store.getModel(MODEL_NAME);
      expect(model.aliases).toEqual({ champion: 1, challenger: 2 });
      const served = servedModelFromStored(await store.loadModel(`models:/${MODEL_NAME}@champion`));
      expect(served.userIds.length).toBeGreaterThan(0);
      expect(served.seen.ptr.length).toBe(served.userIds.length + 1);
      const lineage = await store.lineage(`models:/${MODEL_NAME}@champion`);
      expect(lineage.run.id).toBe(first.runId);
      expect(lineage.datasets.map((d) => d.id)).toEqual([first.dataVersion]);
    } finally {
      await store.close();
    }
  });
});
