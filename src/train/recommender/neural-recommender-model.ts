/**
 * A fitted neural recommender. After training, the towers are evaluated once per user and per
 * item, so the model ranks exactly like a factor model — score(user, item) = [u, 1]·[v, b], the
 * network's logit — and top-k recommendations reuse ALS's blocked top-k in tasks (with the same
 * `exclude` option). The network's weights stay with the model, so items that arrive later are
 * scored from their features alone (`withItems`).
 */
import type { Table } from 'apache-arrow';
import { ALSModel, type FactorMatrix, type RecommendOptions } from '../als/als-model.js';
import { lookupIds, type RatingsInput } from '../als/als-data.js';
import { MissingItemFeaturesError } from '../errors.js';
import type { ModelJSON, TensorData } from '../tfjs/index.js';
import { loadTf } from '../tfjs/tfjs-backend.js';
import { readItemFeatures, standardize } from './recommender-data.js';
import type { SaveOptions } from '../../store/index.js';
import { readNeuralRecommender, writeNeuralRecommender } from './recommender-model-io.js';
import { restoreModel, towerFactors } from './two-tower.js';

/** What the model keeps of its training: column names and hyperparameters (JSON). */
export interface NeuralRecommenderParams {
  userCol: string;
  itemCol: string;
  featuresCol: string;
  featureCols: string[] | undefined;
  [key: string]: unknown;
}

/** The network and the feature standardization it was trained with. */
export interface TowerWeights {
  modelJSON: ModelJSON;
  weights: TensorData[];
  numFeatures: number;
  featureMean: Float32Array;
  featureStd: Float32Array;
}

export class NeuralRecommenderModel {
  private readonly factors: ALSModel;

  constructor(
    /** User vectors `[user_vector, 1]`, rows in ascending id order. */
    readonly userFactorMatrix: FactorMatrix,
    /** Item vectors `[item_vector, item_bias]`, rows in ascending id order. */
    readonly itemFactorMatrix: FactorMatrix,
    /** Per item (same order): its id-embedding row, 0 when it had no interactions in training (scored by features alone). */
    readonly itemSlots: Int32Array,
    readonly towers: TowerWeights,
    readonly params: NeuralRecommenderParams,
    /** Mean training loss (binary cross-entropy) per epoch. */
    readonly lossHistory: readonly number[],
  ) {
    this.factors = new ALSModel(userFactorMatrix.rank, userFactorMatrix, itemFactorMatrix, {
      userCol: params.userCol, itemCol: params.itemCol, ratingCol: 'rating', predictionCol: 'prediction', coldStartStrategy: 'nan',
    });
  }

  /** Width of the factor rows (embedding dim + 1). */
  get rank(): number {
    return this.userFactorMatrix.rank;
  }

  /** Items (ids) that had no interactions in training: scored from their features alone. */
  get coldItems(): Float64Array {
    return this.itemFactorMatrix.ids.filter((_, i) => this.itemSlots[i] === 0);
  }

  /**
   * Scores of `items` for `user`: the network's logit (sigmoid(score) is its probability of an
   * interaction). NaN for a user or item the model does not know.
   */
  score(user: number, items: ArrayLike<number>): Float32Array {
    const r = this.rank;
    const [u] = lookupIds(this.userFactorMatrix.ids, Float64Array.of(user));
    const idx = lookupIds(this.itemFactorMatrix.ids, Float64Array.from(items));
    const U = this.userFactorMatrix.factors;
    const V = this.itemFactorMatrix.factors;
    return Float32Array.from(idx, (i) => {
      if (u! < 0 || i < 0) return NaN;
      let s = 0;
      for (let f = 0; f < r; f++) s += U[u! * r + f]! * V[i * r + f]!;
      return s;
    });
  }

  /**
   * Top `k` items for every user: `[userCol]`, `recommendations` (List<Struct<[itemCol], rating>>),
   * `rating` being the score. `exclude` (typically the training interactions) leaves those pairs out.
   */
  recommendForAllUsers(k: number, options: RecommendOptions = {}): Promise<Table> {
    return this.factors.recommendForAllUsers(k, options);
  }

  /** Top `k` items for the given users (ids, or a table with the user column); unknown users are skipped. */
  recommendForUserSubset(users: ArrayLike<number> | RatingsInput, k: number, options: RecommendOptions = {}): Promise<Table> {
    return this.factors.recommendForUserSubset(users, k, options);
  }

  /**
   * A model whose catalogue also holds the items of `itemFeatures` (same item and feature columns
   * as in training), their vectors computed by the item tower: items the model knows keep their id
   * embedding, new ones are scored by their features alone (cold start). Runs in this process.
   */
  async withItems(itemFeatures: RatingsInput): Promise<NeuralRecommenderModel> {
    const p = this.params;
    const f = await readItemFeatures(itemFeatures, p.itemCol, p.featuresCol, p.featureCols);
    const t = this.towers;
    if (f.numFeatures !== t.numFeatures) {
      throw new MissingItemFeaturesError(`the new items have ${f.numFeatures} features, the model was trained on ${t.numFeatures}`, Array.from(f.ids.slice(0, 10)), f.ids.length);
    }
    const known = lookupIds(this.itemFactorMatrix.ids, f.ids);
    const slots = Int32Array.from(known, (k) => (k >= 0 ? this.itemSlots[k]! : 0));
    const { tf } = await loadTf();
    const net = await restoreModel(tf, t.modelJSON, t.weights);
    const fresh = towerFactors(tf, net, 0, standardize(f.features, f.numFeatures, t.featureMean, t.featureStd), slots, f.numFeatures);
    net.dispose();
    // Merge: the old catalogue minus the re-featurized items, plus the new rows, in id order.
    const r = this.rank;
    const old = this.itemFactorMatrix;
    const replaced = new Set(known.filter((k) => k >= 0));
    const rows: { id: number; src: Float32Array; slot: number }[] = [];
    old.ids.forEach((id, i) => {
      if (!replaced.has(i)) rows.push({ id, src: old.factors.subarray(i * r, (i + 1) * r), slot: this.itemSlots[i]! });
    });
    f.ids.forEach((id, i) => rows.push({ id, src: fresh.items.subarray(i * r, (i + 1) * r), slot: slots[i]! }));
    rows.sort((a, b) => a.id - b.id);
    const factors = new Float32Array(rows.length * r);
    rows.forEach((row, i) => factors.set(row.src, i * r));
    return new NeuralRecommenderModel(
      this.userFactorMatrix, { ids: Float64Array.from(rows, (x) => x.id), factors, rank: r }, Int32Array.from(rows, (x) => x.slot), t, p, this.lossHistory,
    );
  }

  /**
   * Writes the model to `dir` (see recommender-model-io.ts), all at once. Throws
   * `ArtifactExistsError`, writing nothing, when `dir` already holds something, unless `{ overwrite: true }`.
   */
  async save(dir: string, options: SaveOptions = {}): Promise<void> {
    const t = this.towers;
    await writeNeuralRecommender(dir, {
      rank: this.rank, numFeatures: t.numFeatures, params: this.params, history: { loss: [...this.lossHistory] }, modelJSON: t.modelJSON, weights: t.weights,
      userIds: this.userFactorMatrix.ids, userFactors: this.userFactorMatrix.factors, itemIds: this.itemFactorMatrix.ids,
      itemFactors: this.itemFactorMatrix.factors, itemSlots: this.itemSlots, featureMean: t.featureMean, featureStd: t.featureStd,
    }, options);
  }

  /** Reads a model saved with `save()`. Throws ModelFormatError (missing, truncated, corrupt) or ModelVersionError (newer format). */
  static async load(dir: string): Promise<NeuralRecommenderModel> {
    const m = await readNeuralRecommender(dir);
    const p = m.params;
    const str = (k: string, d: string): string => (typeof p[k] === 'string' ? (p[k] as string) : d);
    const params: NeuralRecommenderParams = {
      ...p, userCol: str('userCol', 'user'), itemCol: str('itemCol', 'item'), featuresCol: str('featuresCol', 'features'),
      featureCols: Array.isArray(p.featureCols) ? (p.featureCols as string[]) : undefined,
    };
    return new NeuralRecommenderModel(
      { ids: m.userIds, factors: m.userFactors, rank: m.rank }, { ids: m.itemIds, factors: m.itemFactors, rank: m.rank }, m.itemSlots,
      { modelJSON: m.modelJSON, weights: m.weights, numFeatures: m.numFeatures, featureMean: m.featureMean, featureStd: m.featureStd },
      params, m.history.loss,
    );
  }
}

