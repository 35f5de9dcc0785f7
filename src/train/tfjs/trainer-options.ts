/** `Trainer` options, compiled once at the boundary into a complete validated form. */
import type { RemoteFunction } from '../../core/index.js';
import type { ArrowConvertible } from '../als/als-data.js';
import { InvalidOptionError } from '../errors.js';
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

const KEYS = new Set(['model', 'loss', 'optimizer', 'dataset', 'epochDataset', 'featureColumns', 'labelColumns', 'validationDataset', 'numWorkers', 'cpusPerWorker',
  'batchSize', 'epochs', 'syncEveryNSteps', 'allreduce', 'allreduceTransport', 'checkpointEvery', 'checkpointDir', 'maxFailures', 'shuffle', 'seed', 'onEpoch', 'progress']);

function int(v: unknown, key: string, min: number): void {
  if (v !== undefined && !(Number.isInteger(v) && (v as number) >= min)) {
    throw new InvalidOptionError(`options.${key} must be an integer ≥ ${min} (got ${String(v)})`, { option: key });
  }
}

function columns(v: unknown, key: string): string[] {
  if (!Array.isArray(v) || v.length === 0 || !v.every((c) => typeof c === 'string' && c.length > 0)) {
    throw new InvalidOptionError(`options.${key} must be a non-empty array of column names`, { option: key });
  }
  return [...(v as string[])];
}

export function compileTrainerOptions(o: TrainerOptions): CompiledTrainerOptions {
  if (typeof o !== 'object' || o === null) throw new InvalidOptionError('Trainer needs an options object', { option: 'options' });
  for (const k of Object.keys(o)) if (!KEYS.has(k)) throw new InvalidOptionError(`options has an unknown key '${k}' (known: ${[...KEYS].join(', ')})`, { option: k });
  const m = o.model as unknown;
  const isBuilder = typeof m === 'object' && m !== null && typeof (m as { remote?: unknown }).remote === 'function';
  if (!isBuilder && typeof m !== 'string' && (typeof m !== 'object' || m === null)) {
    throw new InvalidOptionError('options.model must be a remote function made with remote() that returns model.toJSON(null, false), or that JSON', { option: 'model' });
  }
  if (o.loss !== undefined && !LOSSES.includes(o.loss)) throw new InvalidOptionError(`options.loss must be one of ${LOSSES.join(', ')} (got ${String(o.loss)})`, { option: 'loss' });
  const opt = o.optimizer ?? { type: 'adam' };
  if (!['sgd', 'momentum', 'adam', 'rmsprop'].includes(opt.type)) {
    throw new InvalidOptionError(`options.optimizer.type must be 'sgd', 'momentum', 'adam' or 'rmsprop' (got ${String(opt.type)})`, { option: 'optimizer' });
  }
  const lr = opt.learningRate ?? 0.01;
  if (!(typeof lr === 'number' && lr > 0 && Number.isFinite(lr))) throw new InvalidOptionError(`options.optimizer.learningRate must be a positive number (got ${String(lr)})`, { option: 'optimizer' });
  if (o.dataset === undefined || o.dataset === null || typeof o.dataset !== 'object') {
    throw new InvalidOptionError('options.dataset must be an Arrow table, a Dataset, or an object with toArrow() or iterBatches()', { option: 'dataset' });
  }
  if (o.epochDataset !== undefined && typeof o.epochDataset !== 'function') {
    throw new InvalidOptionError('options.epochDataset must be a function (epoch) => the data of that epoch', { option: 'epochDataset' });
  }
  int(o.numWorkers, 'numWorkers', 1);
  int(o.batchSize, 'batchSize', 1);
  int(o.epochs, 'epochs', 1);
  int(o.syncEveryNSteps, 'syncEveryNSteps', 1);
  int(o.checkpointEvery, 'checkpointEvery', 0);
  int(o.maxFailures, 'maxFailures', 0);
  int(o.seed, 'seed', 0);
  if (o.cpusPerWorker !== undefined && !(typeof o.cpusPerWorker === 'number' && o.cpusPerWorker > 0)) {
    throw new InvalidOptionError(`options.cpusPerWorker must be a positive number (got ${String(o.cpusPerWorker)})`, { option: 'cpusPerWorker' });
  }
  const numWorkers = o.numWorkers ?? 2;
  if (o.allreduce !== undefined && !['ring', 'butterfly', 'auto'].includes(o.allreduce)) {
    throw new InvalidOptionError(`options.allreduce must be 'ring', 'butterfly' or 'auto' (got ${String(o.allreduce)})`, { option: 'allreduce' });
  }
  if (o.allreduce === 'butterfly' && (numWorkers & (numWorkers - 1)) !== 0) {
    throw new InvalidOptionError(`options.allreduce 'butterfly' needs a power-of-two options.numWorkers (got ${numWorkers})`, { option: 'allreduce' });
  }
  if (o.allreduceTransport !== undefined && !['auto', 'actor-calls'].includes(o.allreduceTransport)) {
    throw new InvalidOptionError(`options.allreduceTransport must be 'auto' or 'actor-calls' (got ${String(o.allreduceTransport)})`, { option: 'allreduceTransport' });
  }
  const batchSize = o.batchSize ?? 32;
  if (batchSize % numWorkers !== 0) {
    throw new InvalidOptionError(`options.batchSize (${batchSize}) must be a multiple of options.numWorkers (${numWorkers}): it is the global batch, split evenly`, { option: 'batchSize' });
  }
  return {
    model: o.model, loss: o.loss ?? 'meanSquaredError',
    optimizer: {
      type: opt.type, learningRate: lr, momentum: opt.momentum ?? (opt.type === 'momentum' ? 0.9 : 0), beta1: opt.beta1 ?? 0.9,
      beta2: opt.beta2 ?? 0.999, epsilon: opt.epsilon ?? 1e-7,
    },
    dataset: o.dataset, epochDataset: o.epochDataset, featureColumns: columns(o.featureColumns, 'featureColumns'), labelColumns: columns(o.labelColumns, 'labelColumns'),
    validationDataset: o.validationDataset, numWorkers, cpusPerWorker: o.cpusPerWorker ?? 1, batchSize, epochs: o.epochs ?? 1,
    syncEveryNSteps: o.syncEveryNSteps ?? 1, allreduce: o.allreduce ?? 'auto', allreduceTransport: o.allreduceTransport ?? 'auto', checkpointEvery: o.checkpointEvery ?? 0, checkpointDir: o.checkpointDir,
    maxFailures: o.maxFailures ?? 3, shuffle: o.shuffle ?? true, seed: o.seed ?? 0, onEpoch: o.onEpoch, progress: o.progress ?? false,
  };
}
