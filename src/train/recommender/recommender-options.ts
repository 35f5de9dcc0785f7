/** `NeuralRecommender` options, compiled once at the boundary into a complete validated form. */
import { optionRules } from '../../core/index.js';
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

export function compileNeuralRecommenderOptions(input: NeuralRecommenderOptions = {}): CompiledNeuralRecommenderOptions {
  const rules = optionRules('NeuralRecommender');
  const o = rules.object(input);
  rules.knownKeys(o, KEYS);
  const int = (key: keyof NeuralRecommenderOptions, min: number, dflt: number): number => rules.int(key, o[key], dflt, { min });
  const name = (key: 'userCol' | 'itemCol' | 'featuresCol', dflt: string): string => rules.column(key, o[key], dflt);
  const hiddenUnits = o.hiddenUnits === undefined ? [64] : o.hiddenUnits;
  if (!Array.isArray(hiddenUnits) || !hiddenUnits.every((u) => Number.isInteger(u) && u >= 1)) rules.fail('hiddenUnits', 'must be an array of positive integers', o.hiddenUnits);
  const dropout = rules.number('itemIdDropout', o.itemIdDropout, 0.25, { min: 0, max: 1 });
  const lr = o.learningRate ?? 0.005;
  if (!(typeof lr === 'number' && lr > 0 && Number.isFinite(lr))) rules.fail('learningRate', 'must be a positive number', lr);
  const itemIdEmbedding = rules.bool('itemIdEmbedding', o.itemIdEmbedding, true);
  const resampleNegatives = rules.bool('resampleNegatives', o.resampleNegatives, true);
  const featureCols = o.featureCols === undefined ? undefined : rules.columns('featureCols', o.featureCols);
  if (o.buildModel !== undefined && typeof o.buildModel !== 'function') rules.fail('buildModel', 'must be a function (tf, spec) => tf.LayersModel', o.buildModel);
  const numWorkers = int('numWorkers', 1, 1);
  const batchSize = int('batchSize', 1, 512);
  if (batchSize % numWorkers !== 0) rules.fail('batchSize', `must be a multiple of option 'numWorkers' (${numWorkers}): it is the global batch, split evenly`, batchSize);
  return {
    embeddingDim: int('embeddingDim', 1, 32), hiddenUnits: [...hiddenUnits], itemIdEmbedding, itemIdDropout: dropout,
    negatives: int('negatives', 1, 4), resampleNegatives, epochs: int('epochs', 1, 8), batchSize, learningRate: lr, numWorkers,
    syncEveryNSteps: int('syncEveryNSteps', 1, 4), seed: int('seed', 0, 0),
    userCol: name('userCol', 'user'), itemCol: name('itemCol', 'item'), featuresCol: name('featuresCol', 'features'), featureCols,
    buildModel: o.buildModel ?? buildTwoTowerModel, onEpoch: o.onEpoch,
  };
}
