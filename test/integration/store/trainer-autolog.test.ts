/**
 * Autologging of the TF.js Trainer (src/train/autolog.ts) on a real cluster: with a run active, a
 * distributed fit logs its options as `trainer.*` params and, per epoch, the training and validation
 * loss — the same values the fit returns, at steps 1..epochs — plus its throughput; with no run
 * active it logs nothing anywhere (no run made, none written to).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tableFromArrays, type Table } from 'apache-arrow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore, withActiveRun, type Store } from 'shoal/store';
import { Trainer, type TrainerOptions } from 'shoal/train';
import { TestCluster } from '../../harness/test-cluster.js';
import { buildMlp } from '../../fixtures/train/index.js';

/** y = a − 2b + c·d on a fixed pseudo-random grid. */
function table(n: number, seed: number): Table {
  let s = seed;
  const next = (): number => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32) * 2 - 1;
  const cols = { a: new Float32Array(n), b: new Float32Array(n), c: new Float32Array(n), d: new Float32Array(n), y: new Float32Array(n) };
  for (let i = 0; i < n; i++) {
    const [a, b, c, d] = [next(), next(), next(), next()];
    cols.a[i] = a; cols.b[i] = b; cols.c[i] = c; cols.d[i] = d;
    cols.y[i] = a - 2 * b + c * d;
  }
  return tableFromArrays(cols);
}

const OPTIONS: TrainerOptions = {
  model: buildMlp, dataset: table(256, 1), validationDataset: table(128, 2), featureColumns: ['a', 'b', 'c', 'd'], labelColumns: ['y'],
  numWorkers: 2, batchSize: 32, epochs: 3, optimizer: { type: 'adam', learningRate: 0.01 }, seed: 5,
};

let cluster: TestCluster;
let dir: string;
let store: Store;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'shoal-trainer-autolog-'));
  store = await openStore({ url: join(dir, 'store.db'), artifactDir: join(dir, 'artifacts') });
  cluster = await TestCluster.start({ numCpus: 2 });
});
afterAll(async () => {
  await cluster?.stop();
  await store?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('Trainer autologging', () => {
  it('with a run active: trainer.* params, loss and val_loss per epoch (the values fit returns), throughput', async () => {
    const run = await store.startRun({ experiment: 'autolog', name: 'trainer' });
    const result = await withActiveRun(run, () => new Trainer(OPTIONS).fit());
    await run.end();
    const info = await store.getRunInfo(run.id);
    expect(info.params).toMatchObject({
      'trainer.optimizer': 'adam', 'trainer.learningRate': '0.01', 'trainer.numWorkers': '2', 'trainer.batchSize': '32', 'trainer.epochs': '3', 'trainer.seed': '5',
    });
    const loss = await store.getMetricHistory(run.id, 'trainer.loss');
    expect(loss.map((p) => p.step)).toEqual([1, 2, 3]);
    expect(loss.map((p) => p.value)).toEqual(result.lossHistory);
    const val = await store.getMetricHistory(run.id, 'trainer.val_loss');
    expect(val.map((p) => [p.step, p.value])).toEqual(result.valLossHistory.map((v, i) => [i + 1, v]));
    expect(info.metrics['trainer.samples_per_sec']).toBe(result.stats.samplesPerSec);
    expect(info.metrics['trainer.wall_ms']).toBe(result.stats.wallMs);
    expect(info.metrics['trainer.restarts']).toBe(0);
  });

  it('with no run active: the fit logs nothing — no run made, an existing run untouched', async () => {
    const idle = await store.startRun({ experiment: 'autolog', name: 'not-active' });
    const before = await store.searchRuns();
    const result = await new Trainer(OPTIONS).fit();
    expect(result.lossHistory).toHaveLength(3);
    const after = await store.searchRuns();
    expect(after.map((r) => r.id).sort()).toEqual(before.map((r) => r.id).sort());
    const info = await store.getRunInfo(idle.id);
    expect(info.params).toEqual({});
    expect(info.metrics).toEqual({});
    await idle.end();
  });
});
