/**
 * The two-tower network, as one tf.LayersModel the data-parallel `Trainer` can ship as JSON. The
 * Trainer feeds a model one dense row, so a row packs the three inputs side by side —
 * `[user index, item index + 1 (0 = "no id"), item features…]` — and the network cuts them apart
 * with standard layers only (reshape + cropping2D; a custom layer would have to be registered in
 * every worker's tfjs before `modelFromJSON`).
 *
 * - user tower: an embedding of the user index → `user_vector` (dim);
 * - item tower: features → dense layers → dim, plus (optionally) an item-id embedding initialised
 *   to zeros and added on top (`item_vector`); a bias from the same hidden layer plus an id bias
 *   (`item_bias`). Item id 0 is "no id": training replaces a share of the ids with it
 *   (`itemIdDropout`, DropoutNet's trick), so the feature path must carry the signal on its own,
 *   and a listing with no interactions is scored exactly like those rows — features + row 0.
 * - output: sigmoid(user_vector · item_vector + item_bias) — the probability of an interaction.
 *
 * A score is therefore a dot product of `[user_vector, 1]` with `[item_vector, item_bias]`: after
 * training the towers are evaluated once per user and per item and ranking is matrix algebra.
 */
import type * as TF from '@tensorflow/tfjs';
import type { Tf } from '../tfjs/tfjs-backend.js';
import type { TfLayersModel, TfModule } from '../tfjs/tfjs-types.js';

/** Names of the layers whose outputs the model reads back after training. */
export const USER_VECTOR_LAYER = 'user_vector';
export const ITEM_VECTOR_LAYER = 'item_vector';
export const ITEM_BIAS_LAYER = 'item_bias';

/** What a tower builder is given. */
export interface TwoTowerSpec {
  numUsers: number;
  /** Items with an id embedding (ids 1..numItems; 0 = "no id"). */
  numItems: number;
  /** Width of the item feature vector. */
  numFeatures: number;
  embeddingDim: number;
  hiddenUnits: readonly number[];
  itemIdEmbedding: boolean;
  seed: number;
}

/**
 * Builds the network for `spec`. Custom builders (option `buildModel`) must keep the input layout
 * (one row of width 2 + numFeatures), a sigmoid output, and the three named layers above with
 * outputs of shape [batch, dim], [batch, dim] and [batch, 1]. `tf` is the `@tensorflow/tfjs` module
 * (typed loosely, see tfjs-types.ts: annotate it `typeof import('@tensorflow/tfjs')` for its types).
 */
export type TwoTowerBuilder = (tf: TfModule, spec: TwoTowerSpec) => TfLayersModel;

/** The default two-tower network (see the file header). */
export const buildTwoTowerModel: TwoTowerBuilder = (tfModule, s) => {
  const tf: Tf = tfModule;
  const d = s.numFeatures;
  const width = 2 + d;
  const input = tf.input({ shape: [width], name: 'row' });
  const grid = tf.layers.reshape({ targetShape: [1, width, 1], name: 'row_grid' }).apply(input) as TF.SymbolicTensor;
  // Columns [from, from + len) of the row, as a [batch, len] tensor.
  const slice = (name: string, from: number, len: number): TF.SymbolicTensor => {
    const cropped = tf.layers.cropping2D({ cropping: [[0, 0], [from, width - from - len]], name: `${name}_crop` }).apply(grid) as TF.SymbolicTensor;
    return tf.layers.reshape({ targetShape: [len], name }).apply(cropped) as TF.SymbolicTensor;
  };
  const userSlot = slice('user_slot', 0, 1);
  const itemSlot = slice('item_slot', 1, 1);
  const features = slice('item_features', 2, d);
  let k = 0;
  const init = (): TF.serialization.Serializable => tf.initializers.glorotUniform({ seed: s.seed + ++k });

  const userEmb = tf.layers.embedding({
    inputDim: s.numUsers, outputDim: s.embeddingDim, embeddingsInitializer: tf.initializers.randomNormal({ mean: 0, stddev: 0.1, seed: s.seed + ++k }), name: 'user_embedding',
  }).apply(userSlot) as TF.SymbolicTensor;
  const userVector = tf.layers.flatten({ name: USER_VECTOR_LAYER }).apply(userEmb) as TF.SymbolicTensor;

  let h = features;
  s.hiddenUnits.forEach((units, j) => {
    h = tf.layers.dense({ units, activation: 'relu', kernelInitializer: init() as never, name: `item_hidden_${j}` }).apply(h) as TF.SymbolicTensor;
  });
  const featVector = tf.layers.dense({ units: s.embeddingDim, kernelInitializer: init() as never, name: 'item_feature_vector' }).apply(h) as TF.SymbolicTensor;
  const featBias = tf.layers.dense({ units: 1, kernelInitializer: init() as never, name: 'item_feature_bias' }).apply(h) as TF.SymbolicTensor;
  let itemVector: TF.SymbolicTensor;
  let itemBias: TF.SymbolicTensor;
  if (s.itemIdEmbedding) {
    const idVec = tf.layers.flatten({ name: 'item_id_vector' }).apply(
      tf.layers.embedding({ inputDim: s.numItems + 1, outputDim: s.embeddingDim, embeddingsInitializer: 'zeros', name: 'item_id_embedding' }).apply(itemSlot),
    ) as TF.SymbolicTensor;
    const idBias = tf.layers.flatten({ name: 'item_id_bias' }).apply(
      tf.layers.embedding({ inputDim: s.numItems + 1, outputDim: 1, embeddingsInitializer: 'zeros', name: 'item_id_bias_embedding' }).apply(itemSlot),
    ) as TF.SymbolicTensor;
    itemVector = tf.layers.add({ name: ITEM_VECTOR_LAYER }).apply([featVector, idVec]) as TF.SymbolicTensor;
    itemBias = tf.layers.add({ name: ITEM_BIAS_LAYER }).apply([featBias, idBias]) as TF.SymbolicTensor;
  } else {
    itemVector = tf.layers.activation({ activation: 'linear', name: ITEM_VECTOR_LAYER }).apply(featVector) as TF.SymbolicTensor;
    itemBias = tf.layers.activation({ activation: 'linear', name: ITEM_BIAS_LAYER }).apply(featBias) as TF.SymbolicTensor;
  }
  const dot = tf.layers.dot({ axes: 1, name: 'match' }).apply([userVector, itemVector]) as TF.SymbolicTensor;
  const logit = tf.layers.add({ name: 'logit' }).apply([dot, itemBias]) as TF.SymbolicTensor;
  const output = tf.layers.activation({ activation: 'sigmoid', name: 'probability' }).apply(logit) as TF.SymbolicTensor;
  return tf.model({ inputs: input, outputs: output, name: 'two_tower' });
};

/** A network built from its JSON with the given weights (in `model.getWeights()` order). */
export async function restoreModel(tfModule: TfModule, modelJSON: unknown, weights: readonly { shape: number[]; data: Float32Array }[]): Promise<TfLayersModel> {
  const tf: Tf = tfModule;
  const json: unknown = typeof modelJSON === 'string' ? JSON.parse(modelJSON) : modelJSON;
  const model = await tf.models.modelFromJSON(json as TF.io.ModelJSON);
  const ts = weights.map((w) => tf.tensor(w.data, w.shape));
  model.setWeights(ts);
  tf.dispose(ts);
  return model;
}

const EVAL_BATCH = 4096;

/**
 * The towers' outputs as factor rows of width dim + 1: users `[user_vector, 1]`, items
 * `[item_vector, item_bias]`, so that user·item is the network's logit. `itemFeatures` are
 * standardized rows (numItems × d), `itemSlots` their id-embedding rows (0 = none).
 */
export function towerFactors(
  tfModule: TfModule, layersModel: TfLayersModel, numUsers: number, itemFeatures: Float32Array, itemSlots: Int32Array, d: number,
): { users: Float32Array; items: Float32Array; rank: number } {
  const tf: Tf = tfModule;
  const model = layersModel as TF.LayersModel;
  const towers = tf.model({ inputs: model.inputs, outputs: [USER_VECTOR_LAYER, ITEM_VECTOR_LAYER, ITEM_BIAS_LAYER].map((n) => model.getLayer(n).output as TF.SymbolicTensor) });
  const width = 2 + d;
  const dim = (model.getLayer(USER_VECTOR_LAYER).output as TF.SymbolicTensor).shape[1]!;
  const rank = dim + 1;
  const run = (n: number, fill: (row: Float32Array, r: number) => void, take: (outs: Float32Array[], r: number, at: number) => void): void => {
    for (let from = 0; from < n; from += EVAL_BATCH) {
      const m = Math.min(EVAL_BATCH, n - from);
      const x = new Float32Array(m * width);
      for (let r = 0; r < m; r++) fill(x.subarray(r * width, (r + 1) * width), from + r);
      const outs = tf.tidy(() => (towers.predict(tf.tensor2d(x, [m, width])) as TF.Tensor[]).map((t) => t.dataSync() as Float32Array));
      for (let r = 0; r < m; r++) take(outs, r, from + r);
    }
  };
  const users = new Float32Array(numUsers * rank);
  run(numUsers, (row, u) => (row[0] = u), (outs, r, u) => {
    users.set(outs[0]!.subarray(r * dim, (r + 1) * dim), u * rank);
    users[u * rank + dim] = 1;
  });
  const numItems = itemSlots.length;
  const items = new Float32Array(numItems * rank);
  run(numItems, (row, i) => {
    row[1] = itemSlots[i]!;
    row.set(itemFeatures.subarray(i * d, (i + 1) * d), 2);
  }, (outs, r, i) => {
    items.set(outs[1]!.subarray(r * dim, (r + 1) * dim), i * rank);
    items[i * rank + dim] = outs[2]![r]!;
  });
  return { users, items, rank };
}
