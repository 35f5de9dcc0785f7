/** `Trainer` options, compiled once at the boundary into a complete validated form. */
import { optionRules, type RemoteFunction } from '../../core/index.js';
import type { ArrowConvertible } from '../als/als-data.js';
import type { Table } from 'apache-arrow';

/** What `model.toJSON(null, false)` of a tf.LayersModel returns (an object or its JSON string). */
export type ModelJSON = Record<string, unknown> | string;

/**
 * The model: a remote function the user made with `remote()` at the top level of their module that
 * builds a tf.LayersModel and returns `model.toJSON(null, false)` (it runs once, as a task), or that
 * JSON itself.
 */
export type ModelBuilder = RemoteFunction<[], ModelJSON> | ModelJSON;

export type LossName = 'meanSquaredError' | 'meanAbsoluteError' | 'huberLoss' | 'binaryCrossentropy' | 'categoricalCrossentropy';
export const LOSSES: readonly LossName[] = ['meanSquaredError', 'meanAbsoluteError', 'huberLoss', 'binaryCrossentropy', 'categoricalCrossentropy'];

export interface OptimizerConfig {
  type: 'sgd' | 'momentum' | 'adam' | 'rmsprop';
  /** @default 0.01 */
  learningRate?: number;
  /** momentum / rmsprop. @default 0.9 (momentum), 0 (rmsprop) */
  momentum?: number;
  /** adam. @default 0.9 */
  beta1?: number;
  /** adam. @default 0.999 */
  beta2?: number;
  /** adam / rmsprop. @default 1e-7 */
  epsilon?: number;
}

/** A table of rows, or anything with `toArrow()` (a shoal Dataset) or `iterBatches()`. */
export type TrainingData = Table | ArrowConvertible | { iterBatches(): AsyncIterable<Table> };

/**
 * How workers average: 'ring' (bandwidth-optimal, 2·(W−1) sequential messages), 'butterfly'
 * (recursive doubling, log2(W) messages of the whole buffer; needs a power-of-two W), or 'auto'
 * (butterfly for power-of-two W and state up to 1 MiB, else ring).
 */
export type AllreduceAlgorithm = 'ring' | 'butterfly' | 'auto';

/**
 * How allreduce chunks travel: 'auto' posts them over an in-process thread channel between workers
 * whose actors share a worker process, and uses actor calls between the others; 'actor-calls'
 * always uses actor calls (through the head).
 */
export type AllreduceTransport = 'auto' | 'actor-calls';

export interface EpochEvent {
  epoch: number;
  /** Mean over the epoch's steps of the global (worker-averaged) step loss. */
  loss: number;
  /** Loss on the validation data after the epoch (when given). */
  valLoss?: number | undefined;
  samplesPerSec: number;
  /** Mean per worker, ms, this epoch. */
  computeMs: number;
  commMs: number;
  /** Part of commMs in the allreduce proper: waiting for peers, moving chunks, summing (the rest reads and writes back weights and optimizer state). */
  ringMs: number;
  /** Mean over the chunks the allreduce waited for, ms: until the peer sent it (it was still computing)… */
  peerWaitMs: number;
  /** …and from the send until it was here (0 with one worker). */
  deliveryMs: number;
}

export interface TrainerOptions {
  model: ModelBuilder;
  /** @default 'meanSquaredError' */
  loss?: LossName;
  /** @default { type: 'adam', learningRate: 0.01 } */
  optimizer?: OptimizerConfig;
  dataset: TrainingData;
  /** Numeric columns fed to the model, in order. */
  featureColumns: readonly string[];
  /** Numeric target columns, in order. */
  labelColumns: readonly string[];
  /**
   * Data of epoch e ≥ 1, when it changes from epoch to epoch (resampled negatives, augmentation);
   * epoch 0 trains on `dataset`. Same columns and as many rows as `dataset`. It is called again for
   * an epoch that resumes after a worker failure, so it must be deterministic (seed it with e).
   */
  epochDataset?: ((epoch: number) => TrainingData | Promise<TrainingData>) | undefined;
  /** Held-out rows; the validation loss is computed after every epoch. */
  validationDataset?: TrainingData | undefined;
  /** Worker actors, gang-scheduled with a placement group (one bundle each). @default 2 */
  numWorkers?: number;
  /** CPUs each worker reserves. @default 1 */
  cpusPerWorker?: number;
  /** Global batch: each step every worker trains on batchSize / numWorkers rows (must divide). @default 32 */
  batchSize?: number;
  /** @default 1 */
  epochs?: number;
  /** Parameters (and optimizer state) are averaged with a ring allreduce every N local steps, and at every epoch end. @default 1 */
  syncEveryNSteps?: number;
  /** @default 'auto' */
  allreduce?: AllreduceAlgorithm;
  /** @default 'auto' */
  allreduceTransport?: AllreduceTransport;
  /** Write a checkpoint every K global steps (a sync happens there); 0 = at every epoch end only. @default 0 */
  checkpointEvery?: number;
  /** Where checkpoints go; workers write there, so on several hosts it must be a shared filesystem. @default a fresh temp folder */
  checkpointDir?: string | undefined;
  /** Worker failures tolerated; each restarts all workers from the last checkpoint. @default 3 */
  maxFailures?: number;
  /** Shuffle each worker's shard every epoch (seeded). @default true */
  shuffle?: boolean;
  /** @default 0 */
  seed?: number;
  /** Per-epoch metrics as they arrive. */
  onEpoch?: ((event: EpochEvent) => void) | undefined;
  /** Print a progress line per epoch to stderr. @default false */
  progress?: boolean;
}

export interface CompiledTrainerOptions {
  model: ModelBuilder;
  loss: LossName;
  optimizer: Required<OptimizerConfig>;
  dataset: TrainingData;
  epochDataset: TrainerOptions['epochDataset'];
  featureColumns: string[];
  labelColumns: string[];
  validationDataset: TrainingData | undefined;
  numWorkers: number;
  cpusPerWorker: number;
  batchSize: number;
  epochs: number;
  syncEveryNSteps: number;
  allreduce: AllreduceAlgorithm;
  allreduceTransport: AllreduceTransport;
  checkpointEvery: number;
  checkpointDir: string | undefined;
  maxFailures: number;
  shuffle: boolean;
  seed: number;
  onEpoch: TrainerOptions['onEpoch'];
  progress: boolean;
}

const KEYS = ['model', 'loss', 'optimizer', 'dataset', 'epochDataset', 'featureColumns', 'labelColumns', 'validationDataset', 'numWorkers', 'cpusPerWorker',
  'batchSize', 'epochs', 'syncEveryNSteps', 'allreduce', 'allreduceTransport', 'checkpointEvery', 'checkpointDir', 'maxFailures', 'shuffle', 'seed', 'onEpoch', 'progress'];
const OPTIMIZERS: readonly OptimizerConfig['type'][] = ['sgd', 'momentum', 'adam', 'rmsprop'];

export function compileTrainerOptions(options: TrainerOptions): CompiledTrainerOptions {
  const r = optionRules('Trainer');
  if (options === undefined) r.fail('options', 'are required (model, dataset, featureColumns, labelColumns)');
  const o = r.object(options);
  r.knownKeys(o, KEYS);
  const m = o.model as unknown;
  const isBuilder = typeof m === 'object' && m !== null && typeof (m as { remote?: unknown }).remote === 'function';
  if (!isBuilder && typeof m !== 'string' && (typeof m !== 'object' || m === null)) {
    r.fail('model', 'must be a remote function made with remote() that returns model.toJSON(null, false), or that JSON', m);
  }
  const opt = o.optimizer ?? { type: 'adam' };
  const type = r.oneOf('optimizer.type', opt.type, OPTIMIZERS, 'adam');
  const lr = r.positive('optimizer.learningRate', opt.learningRate, 0.01);
  if (o.dataset === undefined || o.dataset === null || typeof o.dataset !== 'object') {
    r.fail('dataset', 'must be an Arrow table, a Dataset, or an object with toArrow() or iterBatches()', o.dataset);
  }
  if (o.epochDataset !== undefined && typeof o.epochDataset !== 'function') r.fail('epochDataset', 'must be a function (epoch) => the data of that epoch', o.epochDataset);
  const numWorkers = r.int('numWorkers', o.numWorkers, 2);
  const allreduce = r.oneOf('allreduce', o.allreduce, ['ring', 'butterfly', 'auto'], 'auto');
  if (allreduce === 'butterfly' && (numWorkers & (numWorkers - 1)) !== 0) r.fail('allreduce', `'butterfly' needs a power-of-two numWorkers (numWorkers is ${numWorkers})`);
  const batchSize = r.int('batchSize', o.batchSize, 32);
  if (batchSize % numWorkers !== 0) r.fail('batchSize', `(${batchSize}) must be a multiple of numWorkers (${numWorkers}): it is the global batch, split evenly`);
  return {
    model: o.model, loss: r.oneOf('loss', o.loss, LOSSES, 'meanSquaredError'),
    optimizer: {
      type, learningRate: lr, momentum: opt.momentum ?? (type === 'momentum' ? 0.9 : 0), beta1: opt.beta1 ?? 0.9,
      beta2: opt.beta2 ?? 0.999, epsilon: opt.epsilon ?? 1e-7,
    },
    dataset: o.dataset, epochDataset: o.epochDataset, featureColumns: r.columns('featureColumns', o.featureColumns), labelColumns: r.columns('labelColumns', o.labelColumns),
    validationDataset: o.validationDataset, numWorkers, cpusPerWorker: r.positive('cpusPerWorker', o.cpusPerWorker, 1), batchSize, epochs: r.int('epochs', o.epochs, 1),
    syncEveryNSteps: r.int('syncEveryNSteps', o.syncEveryNSteps, 1), allreduce, allreduceTransport: r.oneOf('allreduceTransport', o.allreduceTransport, ['auto', 'actor-calls'], 'auto'),
    checkpointEvery: r.int('checkpointEvery', o.checkpointEvery, 0, { min: 0 }), checkpointDir: o.checkpointDir,
    maxFailures: r.int('maxFailures', o.maxFailures, 3, { min: 0 }), shuffle: r.bool('shuffle', o.shuffle, true), seed: r.int('seed', o.seed, 0, { min: 0 }),
    onEpoch: r.fn('onEpoch', o.onEpoch), progress: r.bool('progress', o.progress, false),
  };
}
