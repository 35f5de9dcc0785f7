/**
 * A two-tower neural recommender for implicit feedback, trained with the data-parallel TensorFlow.js
 * `Trainer`: the item tower reads item features (a featurization pipeline's output vector), so an
 * item with no interactions still gets a meaningful score. Positives are the interactions,
 * negatives are sampled uniformly from the items a user has no row for, the loss is binary
 * cross-entropy (NCF's objective).
 *
 * Why it fits the `Trainer` unchanged: the Trainer trains one LayersModel on dense numeric rows, so
 * a row carries [user index, item id slot, features] and the network slices it (two-tower.ts);
 * the network is shipped as JSON built here, since its sizes depend on the data. Negatives (and
 * the id dropout) are drawn afresh every epoch through the Trainer's `epochDataset` (seeded by
 * seed and epoch, so a resumed epoch draws the same rows; every epoch has as many rows), so the
 * model sees `epochs` times as many distinct negatives as a sample fixed for the fit.
 */
import type * as TF from '@tensorflow/tfjs';
import { isInitialized } from '../../core/index.js';
import type { RatingsInput } from '../als/als-data.js';
import { ModelBuildError } from '../errors.js';
import { Trainer, trainLocal, type ModelJSON, type ReplicaState, type TrainerOptions } from '../tfjs/index.js';
import { loadTf } from '../tfjs/tfjs-backend.js';
import { NeuralRecommenderModel, type NeuralRecommenderParams } from './neural-recommender-model.js';
import {
  featureColumn, featureStats, ITEM_COLUMN, LABEL_COLUMN, readInteractions, readItemFeatures, standardize, trainingTable, USER_COLUMN,
} from './recommender-data.js';
import { compileNeuralRecommenderOptions, type CompiledNeuralRecommenderOptions, type NeuralRecommenderOptions } from './recommender-options.js';
import { ITEM_BIAS_LAYER, ITEM_VECTOR_LAYER, restoreModel, towerFactors, USER_VECTOR_LAYER, type TwoTowerSpec } from './two-tower.js';

/** Timings and sizes of the last fit. */
export interface NeuralRecommenderFitStats {
  users: number;
  items: number;
  /** Items of the catalogue with no interaction (scored by features alone). */
  coldItems: number;
  trainingRows: number;
  numFeatures: number;
  /** 'cluster' (the data-parallel Trainer) or 'local' (no cluster: one replica in this process). */
  mode: 'cluster' | 'local';
  prepareMs: number;
  trainMs: number;
  /** Evaluating the towers into user and item vectors. */
  towersMs: number;
  lossHistory: number[];
  samplesPerSec: number;
}

/**
 * @example
 * ```ts
 * const model = await new NeuralRecommender({ embeddingDim: 32, epochs: 8 }).fit(
 *   stays,          // (user, item) rows: a table, plain rows or a Dataset
 *   listingVectors, // (item, features) rows: a featurization pipeline's output, one row per catalogue item
 * );
 * const top = await model.recommendForAllUsers(10, { exclude: stays });
 * ```
 */
export class NeuralRecommender {
  readonly options: CompiledNeuralRecommenderOptions;
  lastFitStats: NeuralRecommenderFitStats | undefined;

  constructor(options: NeuralRecommenderOptions = {}) {
    this.options = compileNeuralRecommenderOptions(options);
  }

  /**
   * Trains on `interactions` ((userCol, itemCol) rows; repeated pairs count once) with the features
   * of `itemFeatures` (one row per item: itemCol and featuresCol, or featureCols). The catalogue is
   * the item-feature table: its items without interactions are ranked too. On a cluster (`init()`)
   * training runs on the data-parallel Trainer's workers, otherwise in this process.
   */
  async fit(interactions: RatingsInput, itemFeatures: RatingsInput): Promise<NeuralRecommenderModel> {
    const o = this.options;
    const t0 = performance.now();
    const catalogue = await readItemFeatures(itemFeatures, o.itemCol, o.featuresCol, o.featureCols);
    const x = await readInteractions(interactions, o.userCol, o.itemCol, catalogue.ids);
    const numItems = catalogue.ids.length;
    const d = catalogue.numFeatures;
    const { mean, std } = featureStats(catalogue);
    const features = standardize(catalogue.features, d, mean, std);
    const counts = new Int32Array(numItems);
    for (const i of x.items) counts[i]!++;
    const slots = Int32Array.from(counts, (c, i) => (c > 0 && o.itemIdEmbedding ? i + 1 : 0));
    const sample = { negatives: o.negatives, idDropout: o.itemIdEmbedding ? o.itemIdDropout : 0, seed: o.seed };
    const table = trainingTable(x, numItems, features, d, slots, sample);
    const epochDataset = o.resampleNegatives ? (epoch: number) => trainingTable(x, numItems, features, d, slots, { ...sample, epoch }) : undefined;
    const spec: TwoTowerSpec = {
      numUsers: x.userIds.length, numItems, numFeatures: d, embeddingDim: o.embeddingDim, hiddenUnits: o.hiddenUnits, itemIdEmbedding: o.itemIdEmbedding, seed: o.seed,
    };
    const { tf } = await loadTf();
    const modelJSON = buildModelJSON(tf, o, spec);
    const prepareMs = performance.now() - t0;

    const t1 = performance.now();
    const trainerOptions: TrainerOptions = {
      model: modelJSON, loss: 'binaryCrossentropy', optimizer: { type: 'adam', learningRate: o.learningRate }, dataset: table, epochDataset,
      featureColumns: [USER_COLUMN, ITEM_COLUMN, ...Array.from({ length: d }, (_, j) => featureColumn(j))], labelColumns: [LABEL_COLUMN],
      numWorkers: o.numWorkers, batchSize: o.batchSize, epochs: o.epochs, syncEveryNSteps: o.syncEveryNSteps, seed: o.seed, onEpoch: o.onEpoch,
    };
    const mode = isInitialized() ? 'cluster' : 'local';
    let state: ReplicaState;
    let lossHistory: number[];
    let samplesPerSec: number;
    if (mode === 'cluster') {
      const r = await new Trainer(trainerOptions).fit();
      ({ state, lossHistory } = r);
      samplesPerSec = r.stats.samplesPerSec;
    } else {
      const r = await trainLocal(trainerOptions);
      ({ state, lossHistory, samplesPerSec } = r);
    }
    const trainMs = performance.now() - t1;

    const t2 = performance.now();
    const net = await restoreModel(tf, modelJSON, state.weights);
    const f = towerFactors(tf, net, x.userIds.length, features, slots, d);
    net.dispose();
    const towersMs = performance.now() - t2;
    const params: NeuralRecommenderParams = {
      userCol: o.userCol, itemCol: o.itemCol, featuresCol: o.featuresCol, featureCols: o.featureCols, embeddingDim: o.embeddingDim, hiddenUnits: o.hiddenUnits,
      itemIdEmbedding: o.itemIdEmbedding, itemIdDropout: o.itemIdDropout, negatives: o.negatives, resampleNegatives: o.resampleNegatives, epochs: o.epochs, batchSize: o.batchSize,
      learningRate: o.learningRate, numWorkers: o.numWorkers, syncEveryNSteps: o.syncEveryNSteps, seed: o.seed,
    };
    let cold = 0;
    for (const c of counts) if (c === 0) cold++;
    this.lastFitStats = {
      users: x.userIds.length, items: numItems, coldItems: cold, trainingRows: table.numRows, numFeatures: d, mode, prepareMs, trainMs, towersMs, lossHistory, samplesPerSec,
    };
    return new NeuralRecommenderModel(
      { ids: x.userIds, factors: f.users, rank: f.rank }, { ids: catalogue.ids, factors: f.items, rank: f.rank }, slots,
      { modelJSON, weights: state.weights, numFeatures: d, featureMean: mean, featureStd: std }, params, lossHistory,
    );
  }
}

/** Runs the builder and checks what it built; anything wrong is a ModelBuildError naming the builder. */
function buildModelJSON(tf: Awaited<ReturnType<typeof loadTf>>['tf'], o: CompiledNeuralRecommenderOptions, spec: TwoTowerSpec): ModelJSON {
  const name = o.buildModel.name || 'buildModel';
  let model: TF.LayersModel;
  try {
    model = o.buildModel(tf, spec) as TF.LayersModel; // checked below
  } catch (err) {
    throw new ModelBuildError(name, `it threw: ${(err as Error).message}`, { cause: err });
  }
  if (typeof model !== 'object' || model === null || typeof (model as { toJSON?: unknown }).toJSON !== 'function' || typeof model.getLayer !== 'function') {
    throw new ModelBuildError(name, `it must return a tf.LayersModel (got ${model === null ? 'null' : typeof model})`);
  }
  try {
    const width = (model.inputs[0]?.shape ?? [])[1];
    if (model.inputs.length !== 1 || width !== 2 + spec.numFeatures) throw new Error(`the model must have one input of width ${2 + spec.numFeatures} (2 + numFeatures), got ${JSON.stringify(model.inputs.map((i) => i.shape))}`);
    for (const layer of [USER_VECTOR_LAYER, ITEM_VECTOR_LAYER, ITEM_BIAS_LAYER]) {
      let l: TF.layers.Layer;
      try {
        l = model.getLayer(layer);
      } catch {
        throw new Error(`it has no layer named '${layer}' (the towers are read back through ${USER_VECTOR_LAYER}, ${ITEM_VECTOR_LAYER}, ${ITEM_BIAS_LAYER})`);
      }
      const shape = (l.output as TF.SymbolicTensor).shape;
      const want = layer === ITEM_BIAS_LAYER ? 1 : spec.embeddingDim;
      if (shape.length !== 2 || shape[1] !== want) throw new Error(`layer '${layer}' must output [batch, ${want}] (got ${JSON.stringify(shape)})`);
    }
    return model.toJSON(null, false) as ModelJSON;
  } catch (err) {
    throw new ModelBuildError(name, (err as Error).message, { cause: err });
  } finally {
    model.dispose();
  }
}
