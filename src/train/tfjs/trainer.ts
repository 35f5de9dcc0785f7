/**
 * Data-parallel TensorFlow.js training on the cluster. The driver reads the data once, cuts it into
 * strided shards (see training-data.ts), reserves one bundle per worker with a placement group (gang
 * scheduling: all workers start or none), starts one worker actor per bundle and broadcasts worker
 * 0's initial weights. Then, per epoch, it calls `trainEpoch` on every worker; the workers average
 * parameters among themselves (ring or butterfly allreduce, worker to worker) — the driver only collects small
 * per-epoch reports.
 *
 * Optimizer state: the optimizer's slots (Adam's first and second moments, momentum accumulators)
 * are averaged together with the weights at every sync, so every replica restarts each interval
 * from the same weights *and* the same optimizer state; the step count is equal everywhere. With
 * SGD and syncEveryNSteps = 1 this is exactly single-process training on the global batch.
 *
 * Failures: rank 0 checkpoints (weights + optimizer state + position) every `checkpointEvery`
 * global steps and at each epoch end. When any worker call fails (an actor died, its node was
 * lost), the driver kills the other workers (their ring would hang), starts a fresh set in the same
 * placement group, loads the last checkpoint and continues from its exact step.
 */
import { autologTrainerFit } from '../autolog.js';
import { randomUUID } from 'node:crypto';
import { rm } from 'node:fs/promises';
import {
  free, get, isInitialized, kill, NotInitializedError, placementGroup, put,
  type ActorHandle, type ObjectRef, type PlacementGroup, type RemoteFunction,
} from '../../core/index.js';
import { InvalidTrainingDataError, ModelBuildError, TrainingFailedError } from '../errors.js';
import { readLatestCheckpoint } from './checkpoint.js';
import { makeTrainerTemp } from './checkpoint-temp.js';
import { assertTfjsInstalled } from './tfjs-backend.js';
import type { ReplicaState } from './replica-data.js';
import { Replica } from './tfjs-replica.js';
import { TfjsTrainWorkerActor, type TfjsTrainWorker, type WorkerEpochReport, type WorkerSpec } from './tfjs-worker.js';
import { compileTrainerOptions, type CompiledTrainerOptions, type EpochEvent, type ModelJSON, type TrainerOptions } from './trainer-options.js';
import { denseFromTable, epochDense, stridedShard, toTable, type DenseShard } from './training-data.js';

/** How long `fit()` waits for the workers' placement group before failing with InfeasibleError. */
export const PLACEMENT_TIMEOUT_MS = 60_000;

export interface TrainerResult {
  /** Mean global loss per epoch. */
  lossHistory: number[];
  /** Validation loss after each epoch (empty without validation data). */
  valLossHistory: number[];
  /** Global (worker-averaged) loss of every step, in order. */
  stepLosses: number[];
  /** Final weights and optimizer state. */
  state: ReplicaState;
  modelJSON: ModelJSON;
  /** Times the workers were restarted from a checkpoint. */
  restarts: number;
  /** Each restart: what failed and where training resumed (epoch, step within it, global step). */
  recoveries: { error: string; resumedAt: { epoch: number; step: number; globalStep: number } }[];
  stats: {
    backend: string;
    stepsPerEpoch: number;
    /** How allreduce chunks moved between the workers of the last attempt: all over in-process channels, all by actor calls, some of each, or not at all (one worker). */
    transport: 'in-process' | 'actor-calls' | 'mixed' | 'none';
    samplesPerSec: number;
    /** Per step, mean over workers: time in the model's forward/backward/update, and in allreduces. */
    computeMsPerStep: number;
    commMsPerStep: number;
    wallMs: number;
  };
}

/**
 * @example
 * ```ts
 * // model.ts (your module): export const buildMlp = remote(async function buildMlp() {
 * //   const tf = await import('@tensorflow/tfjs');
 * //   const m = tf.sequential({ layers: [tf.layers.dense({ units: 16, inputShape: [4], activation: 'relu' }), tf.layers.dense({ units: 1 })] });
 * //   return m.toJSON(null, false);
 * // });
 * const r = await new Trainer({ model: buildMlp, dataset, featureColumns: ['a', 'b', 'c', 'd'], labelColumns: ['y'],
 *   optimizer: { type: 'adam', learningRate: 0.01 }, numWorkers: 2, batchSize: 64, epochs: 5, syncEveryNSteps: 4 }).fit();
 * ```
 */
export class Trainer {
  readonly options: CompiledTrainerOptions;
  private handles: ActorHandle<TfjsTrainWorker>[] = [];

  constructor(options: TrainerOptions) {
    this.options = compileTrainerOptions(options);
  }

  /** The worker actors of the current attempt (for monitoring, or to kill one in a failure test). */
  get workers(): readonly ActorHandle<TfjsTrainWorker>[] {
    return this.handles;
  }

  async fit(): Promise<TrainerResult> {
    assertTfjsInstalled();
    // Inside a task or actor the thread's session opens on first use, so isInitialized() is still false there.
    if (!isInitialized() && !process.env.SHOAL_IN_WORKER) throw new NotInitializedError('Trainer.fit()');
    const o = this.options;
    const started = performance.now();
    const modelJSON = await resolveModel(o.model);
    const all = denseFromTable(await toTable(o.dataset, 'options.dataset'), o.featureColumns, o.labelColumns);
    if (all.n < o.numWorkers) {
      throw new InvalidTrainingDataError(`the dataset has ${all.n} rows, fewer than options.numWorkers (${o.numWorkers}): every worker needs at least one row`);
    }
    const validation = o.validationDataset ? denseFromTable(await toTable(o.validationDataset, 'options.validationDataset'), o.featureColumns, o.labelColumns) : null;
    const shardRefs: ObjectRef<DenseShard>[] = Array.from({ length: o.numWorkers }, (_, w) => put(stridedShard(all, w, o.numWorkers)));
    // With options.epochDataset: the shards of the epoch the workers train on (0 = options.dataset's, above).
    let epochShards: { epoch: number; refs: ObjectRef<DenseShard>[] } | undefined;
    let workersHold = 0;
    const valRef = validation ? put(validation) : null;
    // A folder of our own (no checkpointDir given) lives only as long as this fit.
    const ownCheckpointDir = o.checkpointDir === undefined;
    const checkpointDir = o.checkpointDir ?? (await makeTrainerTemp());
    const pg: PlacementGroup = placementGroup(Array.from({ length: o.numWorkers }, () => ({ CPU: o.cpusPerWorker })), { strategy: 'PACK' });
    const localBatch = o.batchSize / o.numWorkers;
    const runId = randomUUID();
    const specOf = (rank: number): WorkerSpec => ({
      modelJSON, loss: o.loss, optimizer: o.optimizer, localBatch, shuffle: o.shuffle, seed: o.seed, rank, worldSize: o.numWorkers,
      syncEveryNSteps: o.syncEveryNSteps, checkpointEvery: o.checkpointEvery, checkpointDir, runId, allreduce: o.allreduce, transport: o.allreduceTransport,
    });

    const stepLoss = new Map<number, number>(); // global step index → loss
    const valLossHistory: number[] = [];
    const lossHistory: number[] = [];
    let restarts = 0;
    const recoveries: TrainerResult['recoveries'] = [];
    let lastError = '';
    let backend = '';
    let stepsPerEpoch = 0;
    let transport: TrainerResult['stats']['transport'] = 'none';
    let computeMs = 0;
    let commMs = 0;
    let stepsRun = 0;
    let state: ReplicaState | undefined;
    try {
      // Gang scheduling: every worker's bundle or none; a cluster without room fails with InfeasibleError.
      await pg.ready({ timeoutMs: PLACEMENT_TIMEOUT_MS });
      let pos = { epoch: 0, step: 0, globalStep: 0 };
      let attempt = 0;
      while (pos.epoch < o.epochs) {
        try {
          if (this.handles.length === 0) {
            workersHold = 0;
            this.handles = Array.from({ length: o.numWorkers }, (_, rank) =>
              TfjsTrainWorkerActor.options({ numCpus: o.cpusPerWorker, maxConcurrency: 4, schedulingStrategy: { placementGroup: pg, bundleIndex: rank } })
                .remote(specOf(rank), shardRefs[rank]!, rank === 0 ? valRef : null),
            );
            const setups = await Promise.all(this.handles.map((h) => get(h.setup.remote())));
            backend = setups[0]!.backend;
            stepsPerEpoch = setups[0]!.stepsPerEpoch;
            const locations = setups.map((s) => s.location);
            const channelId = randomUUID();
            const inProcess = await Promise.all(this.handles.map((h) => get(h.setPeers.remote(this.handles, locations, channelId))));
            const links = inProcess.reduce((a, b) => a + b, 0);
            const all = o.numWorkers * (o.numWorkers - 1);
            transport = all === 0 ? 'none' : links === all ? 'in-process' : links === 0 ? 'actor-calls' : 'mixed';
            const ckpt = attempt > 0 ? await readLatestCheckpoint(checkpointDir, runId) : undefined;
            let init: ReplicaState;
            if (ckpt) {
              init = ckpt.state;
              pos = { epoch: ckpt.meta.epoch, step: ckpt.meta.step, globalStep: ckpt.meta.globalStep };
              ckpt.meta.epochLosses.forEach((l, i) => stepLoss.set(pos.epoch * stepsPerEpoch + i, l));
            } else {
              stepLoss.clear();
              init = await get(this.handles[0]!.getState.remote());
              pos = { epoch: 0, step: 0, globalStep: 0 };
            }
            const initRef = put(init);
            await Promise.all(this.handles.map((h) => get(h.load.remote(initRef, pos.globalStep))));
            free(initRef);
            if (attempt > 0) recoveries.push({ error: lastError, resumedAt: { ...pos } });
            if (pos.epoch >= o.epochs) break;
          }
          const want = o.epochDataset ? pos.epoch : 0;
          if (want !== workersHold) {
            if (epochShards?.epoch !== want) {
              if (epochShards) free(epochShards.refs);
              const dense = await epochDense(o.epochDataset!, want, all, o.featureColumns, o.labelColumns);
              epochShards = { epoch: want, refs: Array.from({ length: o.numWorkers }, (_, w) => put(stridedShard(dense, w, o.numWorkers))) };
            }
            const refs = epochShards.refs;
            await Promise.all(this.handles.map((h, w) => get(h.setShard.remote(refs[w]!))));
            workersHold = want;
          }
          const epochStarted = performance.now();
          const epochStart = pos.epoch * stepsPerEpoch;
          const prior = Array.from({ length: pos.step }, (_, i) => stepLoss.get(epochStart + i) ?? NaN);
          const reports = await this.runEpoch(pos.epoch, pos.step, prior);
          const wall = performance.now() - epochStarted;
          // Step losses come back already averaged over the workers (they ride along in the allreduce).
          const n = reports[0]!.losses.length;
          for (let i = 0; i < n; i++) stepLoss.set(epochStart + pos.step + i, reports[0]!.losses[i]!);
          const losses: number[] = [];
          for (let i = 0; i < stepsPerEpoch; i++) {
            const v = stepLoss.get(epochStart + i);
            if (v !== undefined) losses.push(v);
          }
          const meanCompute = reports.reduce((s, r) => s + r.computeMs, 0) / reports.length;
          const meanComm = reports.reduce((s, r) => s + r.commMs, 0) / reports.length;
          const meanRing = reports.reduce((s, r) => s + r.ringMs, 0) / reports.length;
          const chunks = reports.reduce((s, r) => s + r.chunks, 0);
          const meanDelivery = chunks ? reports.reduce((s, r) => s + r.deliveryMs, 0) / chunks : 0;
          const meanPeerWait = chunks ? reports.reduce((s, r) => s + r.peerWaitMs, 0) / chunks : 0;
          computeMs += meanCompute;
          commMs += meanComm;
          stepsRun += n;
          const samples = Math.min(o.batchSize * n, all.n);
          const event: EpochEvent = {
            epoch: pos.epoch, loss: losses.reduce((s, v) => s + v, 0) / losses.length, valLoss: reports[0]!.valLoss,
            samplesPerSec: samples / (wall / 1000), computeMs: meanCompute, commMs: meanComm, ringMs: meanRing, peerWaitMs: meanPeerWait, deliveryMs: meanDelivery,
          };
          lossHistory[pos.epoch] = event.loss;
          if (event.valLoss !== undefined) valLossHistory[pos.epoch] = event.valLoss;
          o.onEpoch?.(event);
          if (o.progress) {
            process.stderr.write(`[train] epoch ${pos.epoch + 1}/${o.epochs} ${progressBar((pos.epoch + 1) / o.epochs)} loss ${event.loss.toPrecision(4)}` +
              `${event.valLoss !== undefined ? ` val ${event.valLoss.toPrecision(4)}` : ''} ${event.samplesPerSec.toFixed(0)} samples/s\n`);
          }
          pos = { epoch: pos.epoch + 1, step: 0, globalStep: reports[0]!.globalStep };
        } catch (err) {
          // Bad data (options.epochDataset) is the caller's to fix, not a worker failure to retry.
          if (err instanceof InvalidTrainingDataError) throw err;
          attempt++;
          restarts++;
          lastError = `${(err as Error).name}: ${(err as Error).message}`;
          this.killWorkers();
          if (restarts > o.maxFailures) {
            throw new TrainingFailedError(`training failed ${restarts} times (options.maxFailures is ${o.maxFailures}); last error: ${(err as Error).message}`, restarts, { cause: err });
          }
          if (o.progress) process.stderr.write(`[train] a worker failed (${(err as Error).message}); restarting from the last checkpoint\n`);
        }
      }
      state = await get(this.handles[0]!.getState.remote());
    } finally {
      this.killWorkers();
      free([...shardRefs, ...(epochShards?.refs ?? []), ...(valRef ? [valRef] : [])]);
      await pg.remove().catch(() => undefined);
      if (ownCheckpointDir) await rm(checkpointDir, { recursive: true, force: true }).catch(() => undefined);
    }
    const wallMs = performance.now() - started;
    const result: TrainerResult = {
      lossHistory, valLossHistory, stepLosses: [...stepLoss.keys()].sort((a, b) => a - b).map((k) => stepLoss.get(k)!),
      state, modelJSON, restarts, recoveries,
      stats: {
        backend, stepsPerEpoch, transport, samplesPerSec: (stepsRun * o.batchSize) / ((computeMs + commMs) / 1000),
        computeMsPerStep: stepsRun ? computeMs / stepsRun : 0, commMsPerStep: stepsRun ? commMs / stepsRun : 0, wallMs,
      },
    };
    await autologTrainerFit(
      { loss: o.loss, optimizer: o.optimizer.type, learningRate: o.optimizer.learningRate, numWorkers: o.numWorkers, batchSize: o.batchSize, epochs: o.epochs, seed: o.seed },
      result,
    );
    return result;
  }

  /** All workers' reports; on the first failure the others are killed (their ring cannot finish). */
  private async runEpoch(epoch: number, fromStep: number, priorLosses: number[]): Promise<WorkerEpochReport[]> {
    const calls = this.handles.map((h) => get(h.trainEpoch.remote(epoch, fromStep, priorLosses)));
    try {
      return await Promise.all(calls);
    } catch (err) {
      this.killWorkers();
      await Promise.allSettled(calls);
      throw err;
    }
  }

  private killWorkers(): void {
    for (const h of this.handles) {
      try {
        kill(h);
      } catch {
        /* already gone */
      }
    }
    this.handles = [];
  }
}

async function resolveModel(model: CompiledTrainerOptions['model']): Promise<ModelJSON> {
  const isBuilder = typeof model === 'object' && model !== null && typeof (model as { remote?: unknown }).remote === 'function';
  if (!isBuilder) return model as ModelJSON;
  const fn = model as RemoteFunction<[], ModelJSON>;
  let json: unknown;
  try {
    json = await get(fn.remote());
  } catch (err) {
    throw new ModelBuildError(fn.name, `it threw: ${(err as Error).message}`, { cause: err });
  }
  if (typeof json === 'string') {
    try {
      json = JSON.parse(json) as unknown;
    } catch (err) {
      throw new ModelBuildError(fn.name, 'it returned a string that is not JSON (return model.toJSON(null, false))', { cause: err });
    }
  }
  if (typeof json !== 'object' || json === null || !('class_name' in json || 'modelTopology' in json)) {
    throw new ModelBuildError(fn.name, `it must return model.toJSON(null, false) of a tf.LayersModel (got ${json === null ? 'null' : typeof json})`);
  }
  return json as ModelJSON;
}

function progressBar(frac: number, width = 20): string {
  const n = Math.round(frac * width);
  return `[${'#'.repeat(n)}${'.'.repeat(width - n)}]`;
}

/**
 * Trains the same model on the same data in this process, one replica, no sharding (the reference
 * data-parallel training is compared with, and the benchmark's baseline). Same options as `Trainer`
 * (numWorkers, syncEveryNSteps and checkpoints are ignored); `batchSize` is the global batch.
 */
export async function trainLocal(options: TrainerOptions): Promise<{ lossHistory: number[]; valLossHistory: number[]; stepLosses: number[]; state: ReplicaState; samplesPerSec: number; computeMsPerStep: number }> {
  assertTfjsInstalled();
  const o = compileTrainerOptions({ ...options, numWorkers: 1 });
  const modelJSON = await resolveModel(o.model);
  const all = denseFromTable(await toTable(o.dataset, 'options.dataset'), o.featureColumns, o.labelColumns);
  const validation = o.validationDataset ? denseFromTable(await toTable(o.validationDataset, 'options.validationDataset'), o.featureColumns, o.labelColumns) : null;
  const r = await Replica.create({ modelJSON, loss: o.loss, optimizer: o.optimizer, localBatch: o.batchSize, shuffle: o.shuffle, seed: o.seed, rank: 0 }, all, validation);
  const stepLosses: number[] = [];
  const lossHistory: number[] = [];
  const valLossHistory: number[] = [];
  let ms = 0;
  for (let e = 0; e < o.epochs; e++) {
    if (o.epochDataset && e > 0) r.setShard(await epochDense(o.epochDataset, e, all, o.featureColumns, o.labelColumns));
    const order = r.order(e);
    const losses: number[] = [];
    const t0 = performance.now();
    for (let s = 0; s < r.stepsPerEpoch; s++) losses.push(r.trainStep(order, s));
    ms += performance.now() - t0;
    stepLosses.push(...losses);
    lossHistory.push(losses.reduce((a, b) => a + b, 0) / losses.length);
    const v = r.validationLoss();
    if (v !== undefined) valLossHistory.push(v);
    o.onEpoch?.({ epoch: e, loss: lossHistory[e]!, valLoss: v, samplesPerSec: (all.n / (performance.now() - t0)) * 1000, computeMs: performance.now() - t0, commMs: 0, ringMs: 0, peerWaitMs: 0, deliveryMs: 0 });
  }
  return { lossHistory, valLossHistory, stepLosses, state: await r.getState(), samplesPerSec: (all.n * o.epochs) / (ms / 1000), computeMsPerStep: ms / stepLosses.length };
}
