/**
 * Train suite: data-parallel TensorFlow.js (`Trainer`, wasm backend) on a local 2-CPU cluster —
 * samples/s with 1 and 2 workers, scaling efficiency, and per-step time in communication (ring
 * or butterfly allreduce among the worker actors) against compute. Baseline: single-process training of the
 * same model on the same data in this process (`trainLocal`), measured in the same run,
 * interleaved run by run.
 *
 * Workload: an MLP 32 → 128 → 128 → 1 (21k parameters; an allreduce averages weights and Adam's
 * two moment slots, 254 KB), 8,192 synthetic regression rows, global batch 256, 3 epochs per
 * run. Runs are capped at 3 (each run trains three times). Throughput is the median over epochs 2..3 of rows / epoch wall time at the
 * driver (epoch 1 warms up the wasm kernels); worker start-up (actor creation, loading tfjs) is
 * reported in the notes, not counted.
 *
 * Communication: chunks between workers in one process go over an in-process thread channel
 * (the default); the `comm` group also runs them through actor calls, the path through the head,
 * as the same-run baseline of the one-way delivery time.
 *
 * Groups (`--only`): `throughput`, `comm`.
 */
import { loadavg } from 'node:os';
import * as tf from '@tensorflow/tfjs';
import { tableFromArrays, type Table } from 'apache-arrow';
import { init, shutdown } from 'shoal';
import { Trainer, trainLocal, type EpochEvent, type TrainerOptions } from 'shoal/train';
import { repeat, type BenchContext } from '../lib/context.js';
import { makeResult, type BenchResult } from '../lib/result.js';
import { median } from '../lib/stats.js';
import { forceGc } from '../lib/timing.js';

const ROWS = 8_192;
const HIDDEN = 128;
const FEATURES = 32;
const BATCH = 256;
const EPOCHS = 3;

function syntheticRegression(n: number, seed: number): Table {
  let s = seed >>> 0 || 1;
  const next = (): number => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
  const cols: Record<string, Float32Array> = {};
  for (let f = 0; f < FEATURES; f++) cols[`f${f}`] = new Float32Array(n);
  const y = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    let t = 0;
    for (let f = 0; f < FEATURES; f++) {
      const v = next() * 2 - 1;
      cols[`f${f}`]![i] = v;
      t += Math.sin((f + 1) * v) / FEATURES;
    }
    y[i] = t + 0.05 * (next() - 0.5);
  }
  return tableFromArrays({ ...cols, y });
}

function modelJSON(): Record<string, unknown> {
  const m = tf.sequential({
    layers: [
      tf.layers.dense({ units: HIDDEN, inputShape: [FEATURES], activation: 'relu' }),
      tf.layers.dense({ units: HIDDEN, activation: 'relu' }),
      tf.layers.dense({ units: 1 }),
    ],
  });
  const json = m.toJSON(null, false) as Record<string, unknown>;
  m.dispose();
  return json;
}

/** Median samples/s over epochs after the first, and per-step compute/comm (ms, mean over workers). */
async function measure(opts: TrainerOptions, distributed: boolean): Promise<{ sps: number; computeMs: number; commMs: number; ringMs: number; peerWaitMs: number; deliveryMs: number; startupMs: number }> {
  const events: EpochEvent[] = [];
  const started = performance.now();
  let firstEpochAt = 0;
  const onEpoch = (e: EpochEvent): void => {
    if (events.length === 0) firstEpochAt = performance.now();
    events.push(e);
  };
  let stepsPerEpoch: number;
  if (distributed) {
    const r = await new Trainer({ ...opts, onEpoch }).fit();
    stepsPerEpoch = r.stats.stepsPerEpoch;
  } else {
    await trainLocal({ ...opts, onEpoch });
    stepsPerEpoch = Math.ceil(ROWS / BATCH);
  }
  const later = events.slice(1);
  const first = events[0]!;
  return {
    sps: median(later.map((e) => e.samplesPerSec)),
    computeMs: median(later.map((e) => e.computeMs / stepsPerEpoch)),
    commMs: median(later.map((e) => e.commMs / stepsPerEpoch)),
    ringMs: median(later.map((e) => e.ringMs / stepsPerEpoch)),
    deliveryMs: median(later.map((e) => e.deliveryMs)),
    peerWaitMs: median(later.map((e) => e.peerWaitMs)),
    startupMs: firstEpochAt - started - (ROWS / first.samplesPerSec) * 1000,
  };
}

export async function run(outer: BenchContext): Promise<BenchResult[]> {
  const ctx: BenchContext = { ...outer, runs: Math.min(outer.runs, 3) };
  const results: BenchResult[] = [];
  const data = syntheticRegression(ROWS, 1);
  const base: TrainerOptions = {
    model: modelJSON(), dataset: data, featureColumns: Array.from({ length: FEATURES }, (_, f) => `f${f}`), labelColumns: ['y'],
    batchSize: BATCH, epochs: EPOCHS, optimizer: { type: 'adam', learningRate: 0.001 }, shuffle: true,
  };
  await init({ numCpus: 2 });
  try {
    if (ctx.enabled('throughput')) {
      ctx.log('[train] throughput: single process, 1 worker, 2 workers (sync every 4 steps)');
      const startup: number[] = [];
      const load = [loadavg()[0]!];
      const r = await repeat(ctx, 'throughput', async () => {
        const local = await measure(base, false);
        forceGc();
        const one = await measure({ ...base, numWorkers: 1, syncEveryNSteps: 4 }, true);
        forceGc();
        const two = await measure({ ...base, numWorkers: 2, syncEveryNSteps: 4 }, true);
        startup.push(one.startupMs, two.startupMs);
        load.push(loadavg()[0]!);
        return {
          local: local.sps, one: one.sps, two: two.sps, eff: two.sps / (2 * one.sps), effLocal: two.sps / (2 * local.sps),
          localCompute: local.computeMs, oneCompute: one.computeMs, twoCompute: two.computeMs, twoComm: two.commMs,
        };
      });
      const backend = tf.getBackend(); // trainLocal ran in this process: the backend the workers use too
      const common = `MLP ${FEATURES}→${HIDDEN}→${HIDDEN}→1, Adam, ${ROWS} rows, global batch ${BATCH}, backend ${backend}; median over epochs 2..${EPOCHS} of rows / epoch wall time at the driver; local cluster init({ numCpus: 2 }), 1 CPU per worker; worker start-up (not counted) median ${median(startup).toFixed(0)} ms; 1-min load average ${Math.min(...load).toFixed(1)}–${Math.max(...load).toFixed(1)} during the runs`;
      results.push(makeResult({ metric: 'Trainer, 1 worker, samples/s', unit: 'samples/s', better: 'higher', samples: r.one, baseline: 'single-process training (trainLocal, same run)', baselineSamples: r.local, notes: common }));
      results.push(makeResult({ metric: 'Trainer, 2 workers (sync every 4 steps), samples/s', unit: 'samples/s', better: 'higher', samples: r.two, baseline: 'single-process training (trainLocal, same run)', baselineSamples: r.local, notes: common }));
      results.push(makeResult({
        metric: 'scaling efficiency 1 → 2 workers (samples/s₂ / (2 · samples/s₁))', unit: 'ratio', better: 'higher', target: 0.7, samples: r.eff,
        baseline: 'same against 2 × single-process samples/s', baselineSamples: r.effLocal,
        notes: `${common}; per step (median): single process computes ${median(r.localCompute).toFixed(1)} ms, 1 worker ${median(r.oneCompute).toFixed(1)} ms (batch ${BATCH}); ` +
          `2 workers compute ${median(r.twoCompute).toFixed(1)} ms each (batch ${BATCH / 2}) and average for ${median(r.twoComm).toFixed(1)} ms per step (one sync every 4 steps); ` +
          'on a 2-core machine the head, the worker process and the driver share the two cores with both replicas',
      }));
    }
    if (ctx.enabled('comm')) {
      ctx.log('[train] communication vs compute per step, 2 workers, sync every step; chunks over the in-process channel vs actor calls');
      const ring: number[] = [];
      const moved: number[] = [];
      const ringDelivery: number[] = [];
      const load = [loadavg()[0]!];
      const r = await repeat(ctx, 'comm', async () => {
        const two = await measure({ ...base, numWorkers: 2, syncEveryNSteps: 1, epochs: 2, allreduce: 'ring' }, true);
        const bf = await measure({ ...base, numWorkers: 2, syncEveryNSteps: 1, epochs: 2, allreduce: 'butterfly' }, true);
        const viaHead = await measure({ ...base, numWorkers: 2, syncEveryNSteps: 1, epochs: 2, allreduce: 'butterfly', allreduceTransport: 'actor-calls' }, true);
        ring.push(two.ringMs);
        moved.push(bf.ringMs);
        ringDelivery.push(two.deliveryMs);
        load.push(loadavg()[0]!);
        return {
          comm: two.commMs, compute: two.computeMs, bfComm: bf.commMs, bfCompute: bf.computeMs,
          delivery: bf.deliveryMs, deliveryViaHead: viaHead.deliveryMs, commViaHead: viaHead.commMs,
          peerWait: bf.peerWaitMs, peerWaitViaHead: viaHead.peerWaitMs,
        };
      });
      const loadNote = `; 1-min load average ${Math.min(...load).toFixed(1)}–${Math.max(...load).toFixed(1)} during the runs`;
      results.push(makeResult({
        metric: 'time in communication per step (ring allreduce of weights + Adam moments, 2 workers, sync every step)', unit: 'ms', better: 'lower', samples: r.comm,
        baseline: 'time in compute per step (forward, backward, update; same workers, same run)', baselineSamples: r.compute,
        notes: `per worker, mean over the epoch; communication = flatten state, 2·(W−1) chunk sends over the in-process channel, mailbox receive, write back; ~254 KB averaged per sync; of which the allreduce proper (waiting for the peer, moving, summing): median ${median(ring).toFixed(1)} ms; one-way delivery of a 127 KB chunk: median ${median(ringDelivery).toFixed(2)} ms${loadNote}`,
      }));
      results.push(makeResult({
        metric: 'time in communication per step (butterfly allreduce, the default for 2 workers and this size; sync every step)', unit: 'ms', better: 'lower', samples: r.bfComm,
        baseline: 'time in compute per step (same workers, same run)', baselineSamples: r.bfCompute,
        notes: `one swap of the whole state with the partner instead of two ring rounds of halves; of which the allreduce proper: median ${median(moved).toFixed(1)} ms; with actor calls instead of the in-process channel (same run): ${median(r.commViaHead).toFixed(1)} ms per step${loadNote}`,
      }));
      results.push(makeResult({
        metric: 'one-way delivery of the 254 KB state between the 2 workers (in-process channel)', unit: 'ms', better: 'lower', samples: r.delivery,
        baseline: 'the same through actor calls (worker thread → head → worker process → peer thread; same run)', baselineSamples: r.deliveryViaHead,
        notes: 'butterfly, sync every step; mean over the chunks the allreduce waited for, from max(the receiver starting to wait, the sender posting) to the chunk in the receiver\'s mailbox (wall clock, both ends in one process); median over epochs after the first. ' +
          `Before that, waiting for the partner to finish its step and send: median ${median(r.peerWait).toFixed(2)} ms per chunk (${median(r.peerWaitViaHead).toFixed(2)} ms with actor calls)${loadNote}`,
      }));
    }
  } finally {
    await shutdown();
  }
  return results;
}
