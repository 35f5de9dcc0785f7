/** `NeuralRecommender` options, compiled once at the boundary into a complete validated form. */
import { InvalidOptionError } from '../errors.js';
import type { EpochEvent } from '../tfjs/index.js';
import { buildTwoTowerModel, type TwoTowerBuilder } from './two-tower.js';

export interface NeuralRecommenderOptions {
  /** Width of the user and item vectors. @default 32 */
  embeddingDim?: number;
  /** Hidden layers of the item tower (ReLU), over the item features. @default [64] */
  hiddenUnits?: readonly number[];
  /** Add a per-item id embedding (and id bias) to the feature vector of items seen in training. @default true */
  itemIdEmbedding?: boolean;
  /** Share of training rows whose item id is hidden, so the features alone must score them (cold start). @default 0.25 */
  itemIdDropout?: number;
  /** Negatives sampled per interaction, uniformly from the items the user has no row for. @default 4 */
  negatives?: number;
  /** Draw the negatives (and the id dropout) afresh every epoch, seeded by seed and epoch; false: once per fit. @default true */
  resampleNegatives?: boolean;
  /** @default 8 */
  epochs?: number;
  /** Global batch (a multiple of numWorkers). @default 512 */
  batchSize?: number;
  /** Adam's learning rate. @default 0.005 */
  learningRate?: number;
  /** Data-parallel workers of the `Trainer` (on a cluster; without one the model trains in this process). @default 1 */
  numWorkers?: number;
  /** Parameter averaging interval of the `Trainer`, in local steps. @default 4 */
  syncEveryNSteps?: number;
  /** Seeds negative sampling, id dropout, initialization and shuffling. @default 0 */
  seed?: number;
  /** @default 'user' */
  userCol?: string;
  /** @default 'item' */
  itemCol?: string;
  /** The item features: a list/vector column of the item table (a featurization pipeline's output). @default 'features' */
  featuresCol?: string;
  /** Numeric columns of the item table to use as features instead of `featuresCol`. @default none */
  featureCols?: readonly string[] | undefined;
  /** Builds the network (see `TwoTowerBuilder`). @default buildTwoTowerModel */
  buildModel?: TwoTowerBuilder;
  /** Per-epoch training metrics as they arrive. */
  onEpoch?: ((event: EpochEvent) => void) | undefined;
}

export interface CompiledNeuralRecommenderOptions {
  embeddingDim: number;
  hiddenUnits: number[];
  itemIdEmbedding: boolean;
  itemIdDropout: number;
  negatives: number;
  resampleNegatives: boolean;
  epochs: number;
  batchSize: number;
  learningRate: number;
  numWorkers: number;
  syncEveryNSteps: number;
  seed: number;
  userCol: string;
  itemCol: string;
  featuresCol: string;
  featureCols: string[] | undefined;
  buildModel: TwoTowerBuilder;
  onEpoch: ((event: EpochEvent) => void) | undefined;
}

const KEYS = new Set(['embeddingDim', 'hiddenUnits', 'itemIdEmbedding', 'itemIdDropout', 'negatives', 'resampleNegatives', 'epochs', 'batchSize', 'learningRate', 'numWorkers',
  'syncEveryNSteps', 'seed', 'userCol', 'itemCol', 'featuresCol', 'featureCols', 'buildModel', 'onEpoch']);

function int(o: NeuralRecommenderOptions, key: keyof NeuralRecommenderOptions, min: number, dflt: number): number {
  const v = o[key];
  if (v === undefined) return dflt;
  if (!(Number.isInteger(v) && (v as number) >= min)) throw new InvalidOptionError(`options.${key} must be an integer ≥ ${min} (got ${String(v)})`, { option: key });
  return v as number;
}

function name(o: NeuralRecommenderOptions, key: 'userCol' | 'itemCol' | 'featuresCol', dflt: string): string {
  const v = o[key];
  if (v === undefined) return dflt;
  if (typeof v !== 'string' || v.length === 0) throw new InvalidOptionError(`options.${key} must be a non-empty column name`, { option: key });
  return v;
}

export function compileNeuralRecommenderOptions(o: NeuralRecommenderOptions = {}): CompiledNeuralRecommenderOptions {
  if (typeof o !== 'object' || o === null) throw new InvalidOptionError('NeuralRecommender needs an options object', { option: 'options' });
  for (const k of Object.keys(o)) if (!KEYS.has(k)) throw new InvalidOptionError(`options has an unknown key '${k}' (known: ${[...KEYS].join(', ')})`, { option: k });
  const hiddenUnits = o.hiddenUnits === undefined ? [64] : [...o.hiddenUnits];
  if (!Array.isArray(o.hiddenUnits ?? []) || !hiddenUnits.every((u) => Number.isInteger(u) && u >= 1)) {
    throw new InvalidOptionError(`options.hiddenUnits must be an array of positive integers (got ${JSON.stringify(o.hiddenUnits)})`, { option: 'hiddenUnits' });
  }
  const dropout = o.itemIdDropout ?? 0.25;
  if (!(typeof dropout === 'number' && dropout >= 0 && dropout <= 1)) {
    throw new InvalidOptionError(`options.itemIdDropout must be a number in [0, 1] (got ${String(o.itemIdDropout)})`, { option: 'itemIdDropout' });
  }
  const lr = o.learningRate ?? 0.005;
  if (!(typeof lr === 'number' && lr > 0 && Number.isFinite(lr))) throw new InvalidOptionError(`options.learningRate must be a positive number (got ${String(lr)})`, { option: 'learningRate' });
  if (o.itemIdEmbedding !== undefined && typeof o.itemIdEmbedding !== 'boolean') {
    throw new InvalidOptionError(`options.itemIdEmbedding must be a boolean (got ${String(o.itemIdEmbedding)})`, { option: 'itemIdEmbedding' });
  }
  if (o.resampleNegatives !== undefined && typeof o.resampleNegatives !== 'boolean') {
    throw new InvalidOptionError(`options.resampleNegatives must be a boolean (got ${String(o.resampleNegatives)})`, { option: 'resampleNegatives' });
  }
  let featureCols: string[] | undefined;
  if (o.featureCols !== undefined) {
    if (!Array.isArray(o.featureCols) || o.featureCols.length === 0 || !o.featureCols.every((c) => typeof c === 'string' && c.length > 0)) {
      throw new InvalidOptionError('options.featureCols must be a non-empty array of column names', { option: 'featureCols' });
    }
    featureCols = [...o.featureCols];
  }
  if (o.buildModel !== undefined && typeof o.buildModel !== 'function') {
    throw new InvalidOptionError('options.buildModel must be a function (tf, spec) => tf.LayersModel', { option: 'buildModel' });
  }
  const numWorkers = int(o, 'numWorkers', 1, 1);
  const batchSize = int(o, 'batchSize', 1, 512);
  if (batchSize % numWorkers !== 0) {
    throw new InvalidOptionError(`options.batchSize (${batchSize}) must be a multiple of options.numWorkers (${numWorkers}): it is the global batch, split evenly`, { option: 'batchSize' });
  }
  return {
    embeddingDim: int(o, 'embeddingDim', 1, 32), hiddenUnits, itemIdEmbedding: o.itemIdEmbedding ?? true, itemIdDropout: dropout,
    negatives: int(o, 'negatives', 1, 4), resampleNegatives: o.resampleNegatives ?? true, epochs: int(o, 'epochs', 1, 8), batchSize, learningRate: lr, numWorkers,
    syncEveryNSteps: int(o, 'syncEveryNSteps', 1, 4), seed: int(o, 'seed', 0, 0),
    userCol: name(o, 'userCol', 'user'), itemCol: name(o, 'itemCol', 'item'), featuresCol: name(o, 'featuresCol', 'features'), featureCols,
    buildModel: o.buildModel ?? buildTwoTowerModel, onEpoch: o.onEpoch,
  };
}
