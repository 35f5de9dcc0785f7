/**
 * Data-parallel TensorFlow.js training on a real 2-CPU cluster: parity with single-process training
 * (exact with SGD and a sync every step; within 2% of the final validation loss with Adam and
 * infrequent syncs), recovery from a worker actor killed mid-run, and typed errors for bad input.
 */
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tableFromArrays, type Table } from 'apache-arrow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kill } from 'shoal';
import { InvalidTrainingDataError, InvalidOptionError, ModelBuildError, Trainer, TrainingFailedError, trainLocal, type TrainerOptions } from 'shoal/train';
import { TestCluster } from '../../harness/test-cluster.js';
import { buildBroken, buildMlp } from '../../fixtures/train/index.js';

/** y = sin(2 a) + b·c − 0.5 d + noise, features uniform in [−1, 1]. */
function regression(n: number, seed: number, noise = 0.1): Table {
  let s = seed >>> 0 || 1;
  const next = (): number => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
  const cols = { a: new Float32Array(n), b: new Float32Array(n), c: new Float32Array(n), d: new Float32Array(n), y: new Float32Array(n) };
  for (let i = 0; i < n; i++) {
    const [a, b, c, d] = [next() * 2 - 1, next() * 2 - 1, next() * 2 - 1, next() * 2 - 1];
    const g = Math.sqrt(-2 * Math.log(next() || 1e-12)) * Math.cos(2 * Math.PI * next());
    cols.a[i] = a; cols.b[i] = b; cols.c[i] = c; cols.d[i] = d;
    cols.y[i] = Math.sin(2 * a) + b * c - 0.5 * d + noise * g;
  }
  return tableFromArrays(cols);
}

const base = (over: Partial<TrainerOptions>): TrainerOptions => ({
  model: buildMlp, dataset: regression(1024, 1), validationDataset: regression(512, 2), featureColumns: ['a', 'b', 'c', 'd'], labelColumns: ['y'],
  numWorkers: 2, batchSize: 32, epochs: 3, ...over,
});

let cluster: TestCluster;
beforeAll(async () => {
  cluster = await TestCluster.start({ numCpus: 2 });
});
afterAll(async () => {
  await cluster?.stop();
});

describe('Trainer', () => {
  it('with SGD, the ring allreduce and syncEveryNSteps = 1 follows the single-process loss curve on the same global batches', async () => {
    const opts = base({ optimizer: { type: 'sgd', learningRate: 0.1 }, syncEveryNSteps: 1, shuffle: false, epochs: 2, allreduce: 'ring' });
    const [dist, local] = [await new Trainer(opts).fit(), await trainLocal(opts)];
    expect(dist.stepLosses.length).toBe(local.stepLosses.length);
    expect(dist.stepLosses.length).toBe(64);
    for (let i = 0; i < local.stepLosses.length; i++) expect(Math.abs(dist.stepLosses[i]! - local.stepLosses[i]!)).toBeLessThan(1e-4 * Math.max(1, local.stepLosses[i]!));
    expect(dist.lossHistory[1]!).toBeLessThan(dist.lossHistory[0]!);
    expect(Math.abs(dist.valLossHistory[1]! - local.valLossHistory[1]!)).toBeLessThan(1e-4);
    expect(dist.stats.backend).toMatch(/wasm|tensorflow/);
    expect(dist.stats.commMsPerStep).toBeGreaterThan(0);
    // Issue 13: the checkpoint folder the Trainer made for itself is gone once fit() returns.
    expect((await readdir(tmpdir())).filter((n) => n.startsWith(`shoal-trainer-${process.pid}-`))).toEqual([]);
  });

  it('with Adam, syncing every 8 steps (butterfly under auto), ends within 2% of single-process validation loss', async () => {
    const opts = base({ optimizer: { type: 'adam', learningRate: 0.01 }, syncEveryNSteps: 8, epochs: 15, batchSize: 64, dataset: regression(2048, 3, 0.3), validationDataset: regression(1024, 4, 0.3) });
    const t0 = performance.now();
    const [dist, local] = [await new Trainer(opts).fit(), await trainLocal(opts)];
    console.log(`both trainings: ${(performance.now() - t0).toFixed(0)} ms; distributed wall ${dist.stats.wallMs.toFixed(0)} ms`);
    const d = dist.valLossHistory.at(-1)!;
    const l = local.valLossHistory.at(-1)!;
    console.log(`final validation loss: distributed ${d.toFixed(5)}, single-process ${l.toFixed(5)}`);
    expect(Math.abs(d - l) / l).toBeLessThan(0.02);
  });

  it('moves chunks between workers of one process over the in-process channel, with the same losses as through actor calls', async () => {
    const opts = base({ optimizer: { type: 'adam', learningRate: 0.01 }, syncEveryNSteps: 2, epochs: 2, batchSize: 64 });
    const deliveries: number[] = [];
    const direct = await new Trainer({ ...opts, onEpoch: (e) => deliveries.push(e.deliveryMs, e.peerWaitMs) }).fit();
    const viaHead = await new Trainer({ ...opts, allreduceTransport: 'actor-calls' }).fit();
    expect(direct.stats.transport).toBe('in-process'); // one worker process: both actors are threads of it
    expect(viaHead.stats.transport).toBe('actor-calls');
    expect(direct.stepLosses).toEqual(viaHead.stepLosses); // the same averaging, bit for bit
    expect(direct.state.weights.map((w) => [...w.data])).toEqual(viaHead.state.weights.map((w) => [...w.data]));
    expect(deliveries.every((ms) => Number.isFinite(ms) && ms >= 0)).toBe(true);
  });

  it('trains epoch e ≥ 1 on options.epochDataset(e), matching single-process training on the same per-epoch data', async () => {
    const calls: number[] = [];
    const epochDataset = (e: number): Table => {
      calls.push(e);
      return regression(1024, 100 + e);
    };
    const opts = base({ optimizer: { type: 'sgd', learningRate: 0.1 }, syncEveryNSteps: 1, shuffle: false, epochs: 3, allreduce: 'ring', epochDataset });
    const dist = await new Trainer(opts).fit();
    expect(calls).toEqual([1, 2]);
    const local = await trainLocal(opts);
    const fixed = await trainLocal({ ...opts, epochDataset: undefined });
    expect(dist.stepLosses).toHaveLength(3 * 32);
    for (let i = 0; i < local.stepLosses.length; i++) expect(Math.abs(dist.stepLosses[i]! - local.stepLosses[i]!)).toBeLessThan(1e-4 * Math.max(1, local.stepLosses[i]!));
    // Epoch 0 is the same data either way; later epochs saw other rows.
    expect(local.stepLosses.slice(0, 32)).toEqual(fixed.stepLosses.slice(0, 32));
    expect(local.stepLosses.slice(32)).not.toEqual(fixed.stepLosses.slice(32));
  });

  it('resumes from the last checkpoint when a worker actor is killed mid-run, and finishes', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'shoal-tfjs-ckpt-'));
    try {
      let killed = false;
      // Data given as a stream of batches (what a Dataset's iterBatches() yields).
      const rows = regression(1024, 1);
      const stream = { async *iterBatches() { yield rows.slice(0, 500); yield rows.slice(500); } };
      const trainer: Trainer = new Trainer(base({
        dataset: stream,
        optimizer: { type: 'adam', learningRate: 0.01 }, syncEveryNSteps: 2, checkpointEvery: 8, checkpointDir: dir, epochs: 4, batchSize: 16,
        onEpoch: (e) => {
          if (e.epoch === 0 && !killed) {
            const victim = trainer.workers[1]!;
            // Kill once a checkpoint inside epoch 1 exists, so training must resume mid-epoch.
            const poll = setInterval(() => {
              readFile(join(dir, 'latest.json'), 'utf8').then((text) => {
                if ((JSON.parse(text) as { step: number }).step > 0 && killed === false) {
                  killed = true;
                  clearInterval(poll);
                  kill(victim);
                }
              }, () => undefined);
            }, 5);
          }
        },
      }));
      const r = await trainer.fit();
      expect(killed).toBe(true);
      expect(r.restarts).toBeGreaterThanOrEqual(1);
      expect(r.recoveries[0]!.error).toMatch(/ActorDied|died|killed/i);
      console.log(`recoveries: ${JSON.stringify(r.recoveries)}`);
      expect(r.recoveries[0]!.resumedAt.step).toBeGreaterThan(0); // mid-epoch, from a step checkpoint
      expect(r.stepLosses.every((l) => Number.isFinite(l))).toBe(true); // the steps before the checkpoint kept their losses
      expect(r.lossHistory).toHaveLength(4);
      expect(r.stepLosses).toHaveLength(4 * 64); // 1024 rows / 2 workers / 8 rows per worker step
      expect(r.lossHistory[3]!).toBeLessThan(r.lossHistory[0]!);
      expect((await readdir(dir)).some((f) => f === 'latest.json')).toBe(true);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('with maxFailures 0 a worker killed mid-run fails the fit with TrainingFailedError (the death as its cause)', async () => {
    let killed = false;
    const trainer: Trainer = new Trainer(base({
      maxFailures: 0,
      onEpoch: (e) => {
        if (e.epoch === 0 && !killed) {
          killed = true;
          kill(trainer.workers[1]!);
        }
      },
    }));
    const err = await trainer.fit().catch((e: unknown) => e);
    expect(killed).toBe(true);
    expect(err).toBeInstanceOf(TrainingFailedError);
    expect(err).toMatchObject({ code: 'TRAIN_FAILED', failures: 1 });
    expect((err as Error).message).toMatch(/^training failed 1 times \(options\.maxFailures is 0\); last error: /);
    expect(String((err as Error).cause)).toMatch(/ActorDied|died|killed/i);
  }, 240_000);

  it('rejects a model function that throws, a dataset smaller than numWorkers, and bad options', async () => {
    await expect(new Trainer(base({ model: buildBroken })).fit()).rejects.toThrow(ModelBuildError);
    await expect(new Trainer(base({ model: buildBroken })).fit()).rejects.toThrow(/buildBroken.*no model today/);
    await expect(new Trainer(base({ dataset: regression(1, 5), batchSize: 2 })).fit()).rejects.toThrow(InvalidTrainingDataError);
    expect(() => new Trainer(base({ batchSize: 33 }))).toThrow("Trainer option 'batchSize' (33) must be a multiple of numWorkers (2)");
    expect(() => new Trainer(base({ numWorkers: 0 }))).toThrow(InvalidOptionError);
    expect(() => new Trainer(base({ numWorkers: 3, batchSize: 30, allreduce: 'butterfly' }))).toThrow("Trainer option 'allreduce' 'butterfly' needs a power-of-two numWorkers (numWorkers is 3)");
    const withNull = tableFromArrays({ a: [1, 2, 3], b: [1, 2, 3], c: [1, 2, 3], d: [1, 2, null as unknown as number], y: [1, 2, 3] });
    await expect(new Trainer(base({ dataset: withNull, batchSize: 2 })).fit()).rejects.toThrow(/column 'd' at row 2 must be a number/);
    const withNaN = tableFromArrays({ a: [1, 2, 3], b: [1, NaN, 3], c: [1, 2, 3], d: [1, 2, 3], y: [1, 2, 3] });
    await expect(new Trainer(base({ dataset: withNaN, batchSize: 2 })).fit()).rejects.toThrow(/column 'b' at row 1 must be a number \(got NaN\)/);
    await expect(new Trainer(base({ epochs: 2, epochDataset: () => regression(1000, 9) })).fit())
      .rejects.toThrow('options.epochDataset(1) has 1000 rows, options.dataset has 1024: every epoch must have as many rows (the steps per epoch are fixed)');
    await expect(new Trainer(base({ epochs: 2, epochDataset: () => { throw new Error('no data for you'); } })).fit())
      .rejects.toThrow(/options.epochDataset\(1\) threw: no data for you/);
    expect(() => new Trainer(base({ epochDataset: 5 as unknown as () => Table }))).toThrow("Trainer option 'epochDataset' must be a function (epoch) => the data of that epoch; got 5");
    expect(() => new Trainer(base({ allreduceTransport: 'tcp' as 'auto' }))).toThrow("Trainer option 'allreduceTransport' must be one of 'auto', 'actor-calls'; got \"tcp\"");
  });
});
