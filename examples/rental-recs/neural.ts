/**
 * The neural model of the job: shoal's two-tower `NeuralRecommender` (train layer) on the same
 * rows ALS trains on, with the listing features (featurize.ts) and the review aggregates of those
 * rows. Users and listings are the job's dense indices. The fitted towers become a `Scorer` of
 * factors (user [u, 1] · listing [v, b] = the network's logit), so evaluation and top-N run
 * through exactly the same code as ALS.
 */
import { makeData, makeVector, Table, FixedSizeList, Field, Float32, tableFromArrays } from 'apache-arrow';
import { NeuralRecommender, type NeuralRecommenderFitStats, type NeuralRecommenderOptions } from 'shoal/train';
import type { Scorer } from './evaluate.js';
import { AGGREGATES, reviewAggregates, type ListingFeatures } from './featurize.js';
import type { Interactions } from './prepare.js';

/**
 * Hyperparameters the job uses unless told otherwise (`JobOptions.neural`). Chosen on Albany's
 * validation split (fit on train, NDCG@10 on validation; 423 users, so differences of ±0.01 are
 * noise): 3 epochs 0.126, 2 epochs 0.112, 4 epochs at dim 16 0.117, batch 1024 at lr 0.005 0.113;
 * without the listing-id embedding 0.126. ALS's best grid point: 0.077.
 */
export const NEURAL_DEFAULTS: NeuralRecommenderOptions = {
  embeddingDim: 32, hiddenUnits: [64], epochs: 3, negatives: 4, batchSize: 4096, learningRate: 0.01, itemIdDropout: 0.25, numWorkers: 1, seed: 1,
};

export interface NeuralFit {
  scorer: Extract<Scorer, { kind: 'factors' }>;
  stats: NeuralRecommenderFitStats;
}

function vectors(matrix: Float32Array, n: number, width: number) {
  const child = makeData({ type: new Float32(), length: n * width, data: matrix });
  return makeData({ type: new FixedSizeList(width, new Field('f', new Float32(), false)), length: n, nullCount: 0, child });
}

/** Listing features + review aggregates of `rows`, one row per catalogue index. */
export function itemFeatureTable(x: Interactions, rows: Int32Array, listing: ListingFeatures): Table {
  const n = x.catalogue.length;
  const agg = reviewAggregates(x, rows);
  const width = listing.width + AGGREGATES;
  const m = new Float32Array(n * width);
  for (let i = 0; i < n; i++) {
    m.set(listing.matrix.subarray(i * listing.width, (i + 1) * listing.width), i * width);
    m.set(agg.subarray(i * AGGREGATES, (i + 1) * AGGREGATES), i * width + listing.width);
  }
  return new Table({ item: makeVector(Int32Array.from({ length: n }, (_, i) => i)), features: makeVector(vectors(m, n, width)) });
}

export async function fitNeural(x: Interactions, rows: Int32Array, numUsers: number, listing: ListingFeatures, options: NeuralRecommenderOptions): Promise<NeuralFit> {
  const interactions = tableFromArrays({ user: Int32Array.from(rows, (r) => x.user[r]!), item: Int32Array.from(rows, (r) => x.item[r]!) });
  const o = { ...NEURAL_DEFAULTS, ...options, userCol: 'user', itemCol: 'item', featuresCol: 'features' };
  const rec = new NeuralRecommender(o);
  const model = await rec.fit(interactions, itemFeatureTable(x, rows, listing));
  const r = model.rank;
  const users = new Float32Array(numUsers * r);
  const userValid = new Uint8Array(numUsers);
  const um = model.userFactorMatrix;
  um.ids.forEach((u, k) => {
    users.set(um.factors.subarray(k * r, (k + 1) * r), u * r);
    userValid[u] = 1;
  });
  // Every catalogue listing has features, hence a vector (ids 0..n-1 in order).
  const items = model.itemFactorMatrix.factors;
  return {
    scorer: {
      kind: 'factors', name: `neural two-tower (dim ${o.embeddingDim}, ${o.epochs} epochs)`, rank: r, users, items, userValid,
      itemValid: new Uint8Array(x.catalogue.length).fill(1),
    },
    stats: rec.lastFitStats!,
  };
}
