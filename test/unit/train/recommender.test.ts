/**
 * The neural recommender (two-tower over item features) on synthetic implicit feedback with a known
 * structure: every item belongs to one of C categories (its features: the category one-hot and a
 * noise column), every user interacts only with items of its favourite category, and popularity is
 * flat within categories — so the features carry the signal and popularity does not. Trained in
 * this process (no cluster: the Trainer's single-replica path).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Table, tableFromArrays } from 'apache-arrow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  compileNeuralRecommenderOptions, InvalidIdError, InvalidTrainingDataError, InvalidOptionError, MissingItemFeaturesError, ModelBuildError, ModelFormatError,
  NeuralRecommender, NeuralRecommenderModel,
} from '../../../src/train/index.js';
import { trainingTable, type IndexedInteractions } from '../../../src/train/recommender/recommender-data.js';
import { seededRandom } from '../../../src/train/tune/search-space.js';

const C = 5;
const ITEMS_PER_CATEGORY = 20;
const COLD_PER_CATEGORY = 2;
const USERS = 250;
const PER_USER = 6;

interface World {
  /** Item ids 1..N (warm items first, then cold ones); category per item id. */
  category: Map<number, number>;
  favourite: Int32Array;
  train: { user: number; item: number }[];
  heldOut: Map<number, number>;
  features: Table;
  coldItems: number[];
}

function featureRow(cat: number, rand: () => number): number[] {
  return [...Array.from({ length: C }, (_, c) => (c === cat ? 1 : 0)), rand()];
}

function makeWorld(seed = 1): World {
  const rand = seededRandom(seed);
  const category = new Map<number, number>();
  const itemsOf: number[][] = Array.from({ length: C }, () => []);
  let id = 1;
  for (let c = 0; c < C; c++) for (let k = 0; k < ITEMS_PER_CATEGORY; k++, id++) (category.set(id, c), itemsOf[c]!.push(id));
  const coldItems: number[] = [];
  for (let c = 0; c < C; c++) for (let k = 0; k < COLD_PER_CATEGORY; k++, id++) (category.set(id, c), coldItems.push(id));
  const favourite = Int32Array.from({ length: USERS }, () => Math.floor(rand() * C));
  const train: World['train'] = [];
  const heldOut = new Map<number, number>();
  for (let u = 0; u < USERS; u++) {
    const pool = [...itemsOf[favourite[u]!]!];
    for (let k = 0; k < PER_USER; k++) {
      const item = pool.splice(Math.floor(rand() * pool.length), 1)[0]!;
      if (k === PER_USER - 1) heldOut.set(u + 1000, item);
      else train.push({ user: u + 1000, item });
    }
  }
  const ids = [...category.keys()];
  const rows = ids.map((i) => featureRow(category.get(i)!, rand));
  const features = tableFromArrays({ item: Int32Array.from(ids), features: rows.map((r) => Float32Array.from(r)) as unknown as Float32Array });
  return { category, favourite, train, heldOut, features, coldItems };
}

/** HR@10 of per-user top-10 lists against the held-out item. */
function hitRate(top: Map<number, number[]>, heldOut: Map<number, number>): number {
  let hits = 0;
  for (const [u, item] of heldOut) if (top.get(u)?.includes(item)) hits++;
  return hits / heldOut.size;
}

function topLists(t: Table, userCol = 'user', itemCol = 'item'): Map<number, { items: number[]; scores: number[] }> {
  const out = new Map<number, { items: number[]; scores: number[] }>();
  const users = t.getChild(userCol)!;
  const recs = t.getChild('recommendations')!;
  for (let r = 0; r < t.numRows; r++) {
    const list = recs.get(r) as { length: number; get(i: number): { [k: string]: unknown } };
    const items: number[] = [];
    const scores: number[] = [];
    for (let j = 0; j < list.length; j++) {
      const e = list.get(j);
      items.push(Number(e[itemCol]));
      scores.push(Number(e.rating));
    }
    out.set(Number(users.get(r)), { items, scores });
  }
  return out;
}

const FAST = { embeddingDim: 8, hiddenUnits: [16], epochs: 12, batchSize: 128, learningRate: 0.01, negatives: 4, seed: 3 } as const;

describe('NeuralRecommender on data where the features carry the signal', () => {
  const w = makeWorld();
  let model: NeuralRecommenderModel;
  let rec: NeuralRecommender;
  const dirs: string[] = [];

  beforeAll(async () => {
    rec = new NeuralRecommender(FAST);
    model = await rec.fit(w.train, w.features);
  }, 120_000);

  afterAll(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  it('trains (the loss falls) in this process and ranks the held-out item far better than random and most-popular', async () => {
    const s = rec.lastFitStats!;
    expect(s.mode).toBe('local');
    expect(s.users).toBe(USERS);
    expect(s.coldItems).toBe(C * COLD_PER_CATEGORY);
    expect(s.lossHistory).toHaveLength(FAST.epochs);
    expect(s.lossHistory.at(-1)!).toBeLessThan(s.lossHistory[0]! * 0.8);

    const top = topLists(await model.recommendForAllUsers(10, { exclude: w.train }));
    const neural = hitRate(new Map([...top].map(([u, l]) => [u, l.items])), w.heldOut);

    // Most popular (training counts), excluding each user's training items.
    const count = new Map<number, number>();
    for (const r of w.train) count.set(r.item, (count.get(r.item) ?? 0) + 1);
    const byPop = [...w.category.keys()].sort((a, b) => (count.get(b) ?? 0) - (count.get(a) ?? 0) || a - b);
    const seen = new Map<number, Set<number>>();
    for (const r of w.train) (seen.get(r.user) ?? seen.set(r.user, new Set()).get(r.user)!).add(r.item);
    const popTop = new Map([...w.heldOut.keys()].map((u) => [u, byPop.filter((i) => !seen.get(u)!.has(i)).slice(0, 10)]));
    const popular = hitRate(popTop, w.heldOut);
    // Random: 10 of the unseen catalogue.
    const random = 10 / (w.category.size - (PER_USER - 1));

    expect(neural).toBeGreaterThan(2 * popular);
    expect(neural).toBeGreaterThan(3 * random);
    // 10 slots among the 15 unseen items of the favourite category (+ its 2 cold ones) → about 0.6 is the ceiling.
    expect(neural).toBeGreaterThan(0.4);
  });

  it('recommends no item the user already has, one list of k per user, scores in order', async () => {
    const top = topLists(await model.recommendForAllUsers(7, { exclude: w.train }));
    expect(top.size).toBe(USERS);
    const seen = new Set(w.train.map((r) => `${r.user}:${r.item}`));
    for (const [u, l] of top) {
      expect(l.items).toHaveLength(7);
      expect(new Set(l.items).size).toBe(7);
      for (const i of l.items) expect(seen.has(`${u}:${i}`)).toBe(false);
      for (let j = 1; j < l.scores.length; j++) expect(l.scores[j]!).toBeLessThanOrEqual(l.scores[j - 1]!);
    }
    // Without `exclude`, rated items do come back (the favourite category's items score highest).
    const raw = topLists(await model.recommendForAllUsers(7));
    let ratedInRaw = 0;
    for (const [u, l] of raw) for (const i of l.items) if (seen.has(`${u}:${i}`)) ratedInRaw++;
    expect(ratedInRaw).toBeGreaterThan(0);
  });

  it('scores items with no interactions (cold start) by their features: higher for users whose favourite category they are in', () => {
    expect(Array.from(model.coldItems).sort((a, b) => a - b)).toEqual(w.coldItems);
    let right = 0;
    for (const cold of w.coldItems) {
      const cat = w.category.get(cold)!;
      const fans: number[] = [];
      const others: number[] = [];
      for (let u = 0; u < USERS; u++) (w.favourite[u] === cat ? fans : others).push(model.score(u + 1000, [cold])[0]!);
      const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
      expect(fans.every(Number.isFinite) && others.every(Number.isFinite)).toBe(true);
      // Not degenerate: scores differ across users.
      const all = [...fans, ...others];
      const m = mean(all);
      expect(Math.sqrt(mean(all.map((x) => (x - m) ** 2)))).toBeGreaterThan(1e-3);
      if (mean(fans) > mean(others)) right++;
    }
    expect(right).toBe(w.coldItems.length);
  });

  it('scores a brand-new item (withItems) from its features alone', async () => {
    const rand = seededRandom(99);
    const newId = 5000;
    const grown = await model.withItems(tableFromArrays({ item: Int32Array.of(newId), features: [Float32Array.from(featureRow(2, rand))] as unknown as Float32Array }));
    expect(grown.itemFactorMatrix.ids.length).toBe(model.itemFactorMatrix.ids.length + 1);
    expect(Number.isNaN(model.score(1000, [newId])[0]!)).toBe(true);
    const fan = [...w.favourite].findIndex((c) => c === 2) + 1000;
    const other = [...w.favourite].findIndex((c) => c !== 2) + 1000;
    expect(grown.score(fan, [newId])[0]!).toBeGreaterThan(grown.score(other, [newId])[0]!);
    // The old items keep their vectors.
    expect(grown.score(1000, [1, 2, 3])).toEqual(model.score(1000, [1, 2, 3]));
  });

  it('saves and loads: same scores; a corrupt file is a ModelFormatError', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'neural-rec-'));
    dirs.push(dir);
    await model.save(dir);
    const back = await NeuralRecommenderModel.load(dir);
    expect(back.score(1001, [1, 50, 101])).toEqual(model.score(1001, [1, 50, 101]));
    expect(back.lossHistory).toEqual(model.lossHistory);
    const again = await back.withItems(tableFromArrays({ item: Int32Array.of(7000), features: [Float32Array.from([0, 0, 1, 0, 0, 0.5])] as unknown as Float32Array }));
    expect(Number.isFinite(again.score(1001, [7000])[0]!)).toBe(true);
    await writeFile(join(dir, 'item-factors.f32'), new Uint8Array(8));
    await expect(NeuralRecommenderModel.load(dir)).rejects.toBeInstanceOf(ModelFormatError);
    await expect(NeuralRecommenderModel.load(join(dir, 'nope'))).rejects.toThrow(/cannot read metadata.json \(is this a saved neural recommender folder\?\)/);
  });
});

describe('negative sampling', () => {
  // 3 users over 12 items; user u has items 4u..4u+2.
  const x: IndexedInteractions = {
    userIds: Float64Array.of(10, 11, 12), ptr: Int32Array.of(0, 3, 6, 9), items: Int32Array.of(0, 1, 2, 4, 5, 6, 8, 9, 10),
  };
  const features = Float32Array.from({ length: 12 }, (_, i) => i);
  const slots = Int32Array.from({ length: 12 }, (_, i) => i + 1);
  const table = (epoch: number | undefined, seed = 1): Table => trainingTable(x, 12, features, 1, slots, { negatives: 3, idDropout: 0, seed, epoch });
  const negatives = (t: Table): string[] => {
    const out: string[] = [];
    for (let r = 0; r < t.numRows; r++) if (t.getChild('label')!.get(r) === 0) out.push(`${t.getChild('user_index')!.get(r)}:${t.getChild('f0')!.get(r)}`);
    return out;
  };

  it('draws a new sample each epoch, reproducibly, with the same rows count, never an item of the user', () => {
    expect(negatives(table(0))).toEqual(negatives(table(undefined))); // epoch 0 = the sample of a fit without resampling
    expect(negatives(table(1))).toEqual(negatives(table(1)));
    expect(negatives(table(1))).not.toEqual(negatives(table(0)));
    expect(negatives(table(2))).not.toEqual(negatives(table(1)));
    expect(negatives(table(1, 2))).not.toEqual(negatives(table(1, 1)));
    for (const e of [0, 1, 2]) {
      const t = table(e);
      expect(t.numRows).toBe(9 * 4);
      for (const n of negatives(t)) {
        const [u, item] = n.split(':').map(Number) as [number, number];
        expect(Array.from(x.items.subarray(x.ptr[u]!, x.ptr[u + 1]!))).not.toContain(item);
      }
    }
  });

  it('a fit is reproducible from its seed, and resampling changes what it trains on', async () => {
    const w = makeWorld(4);
    const o = { ...FAST, epochs: 3 };
    const a = new NeuralRecommender(o);
    const b = new NeuralRecommender(o);
    const once = new NeuralRecommender({ ...o, resampleNegatives: false });
    await a.fit(w.train, w.features);
    await b.fit(w.train, w.features);
    await once.fit(w.train, w.features);
    expect(a.lastFitStats!.lossHistory).toEqual(b.lastFitStats!.lossHistory);
    expect(a.lastFitStats!.lossHistory[0]).toBe(once.lastFitStats!.lossHistory[0]); // epoch 0: the same sample
    expect(a.lastFitStats!.lossHistory.slice(1)).not.toEqual(once.lastFitStats!.lossHistory.slice(1));
  }, 120_000);
});

describe('bad input', () => {
  const w = makeWorld(2);
  const tiny = { ...FAST, epochs: 1 };

  it('a rated item with no feature row → MissingItemFeaturesError naming it', async () => {
    const err = await new NeuralRecommender(tiny).fit([...w.train, { user: 1000, item: 424242 }], w.features).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MissingItemFeaturesError);
    expect((err as MissingItemFeaturesError).items).toEqual([424242]);
    expect((err as Error).message).toMatch(/1 rated item\(s\) have no row in the item-feature table \(first: 424242\)/);
  });

  it('null or mis-sized features → MissingItemFeaturesError; a missing column and duplicate items → InvalidTrainingDataError', async () => {
    const rows = [{ item: 1, features: [1, 0] }, { item: 2, features: null }, { item: 3, features: [1] }];
    const err = await new NeuralRecommender(tiny).fit([{ user: 1, item: 1 }], rows).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MissingItemFeaturesError);
    expect((err as MissingItemFeaturesError).items).toEqual([2, 3]);
    await expect(new NeuralRecommender({ ...tiny, featuresCol: 'vec' }).fit([{ user: 1, item: 1 }], [{ item: 1, features: [1] }])).rejects.toThrow(/has no column 'vec'/);
    await expect(new NeuralRecommender(tiny).fit([{ user: 1, item: 1 }], [{ item: 1, features: [1] }, { item: 1, features: [2] }])).rejects.toThrow(/more than one row for item 1/);
    await expect(new NeuralRecommender({ ...tiny, featureCols: ['a', 'b'] }).fit([{ user: 1, item: 1 }], [{ item: 1, a: 1, b: NaN }])).rejects.toBeInstanceOf(MissingItemFeaturesError);
    await expect(new NeuralRecommender({ ...tiny, featureCols: ['a', 'b'] }).fit([{ user: 1, item: 1 }], [{ item: 1, a: 1, b: 2 }, { item: 2, a: null, b: 2 }]))
      .rejects.toThrow(/1 item\(s\) have null, NaN or mis-sized features in columns a, b \(first: item 2\)/);
  });

  it('interactions with a null, NaN or string id → InvalidIdError naming the row', async () => {
    await expect(new NeuralRecommender(tiny).fit([{ user: 1, item: 1 }, { user: null, item: 1 }], w.features)).rejects.toThrow('user at row 1 must be an integer id (got null)');
    await expect(new NeuralRecommender(tiny).fit([{ user: 1, item: NaN }], w.features)).rejects.toThrow(InvalidIdError);
    await expect(new NeuralRecommender(tiny).fit([{ user: 'ann', item: 1 }], w.features)).rejects.toThrow('user at row 0 must be an integer id (got the string "ann")');
  });

  it('no interactions or no items → InvalidTrainingDataError', async () => {
    await expect(new NeuralRecommender(tiny).fit([], w.features)).rejects.toThrow(/no interactions to train on/);
    await expect(new NeuralRecommender(tiny).fit([], w.features)).rejects.toBeInstanceOf(InvalidTrainingDataError);
    await expect(new NeuralRecommender(tiny).fit(w.train, [])).rejects.toThrow(/item-feature table is empty/);
  });

  it('a model function that throws, or builds the wrong network → ModelBuildError', async () => {
    const throwing = new NeuralRecommender({ ...tiny, buildModel: function brokenTowers() { throw new Error('out of ideas'); } });
    const err = await throwing.fit(w.train, w.features).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModelBuildError);
    expect((err as Error).message).toBe("model-building function 'brokenTowers': it threw: out of ideas");
    const noTowers = new NeuralRecommender({
      ...tiny,
      buildModel: function plainMlp(tf, spec) {
        return tf.sequential({ layers: [tf.layers.dense({ units: 1, inputShape: [2 + spec.numFeatures], activation: 'sigmoid' })] });
      },
    });
    await expect(noTowers.fit(w.train, w.features)).rejects.toThrow(/'plainMlp': it has no layer named 'user_vector'/);
  });

  it('option validation names the option and the rule', () => {
    const msg = (o: object): string => {
      try {
        compileNeuralRecommenderOptions(o);
        return 'no error';
      } catch (e) {
        expect(e).toBeInstanceOf(InvalidOptionError);
        return (e as Error).message;
      }
    };
    expect(msg({ embeddingDim: 0 })).toBe("NeuralRecommender option 'embeddingDim' must be a positive integer; got 0");
    expect(msg({ negatives: 1.5 })).toBe("NeuralRecommender option 'negatives' must be a positive integer; got 1.5");
    expect(msg({ epochs: -1 })).toBe("NeuralRecommender option 'epochs' must be a positive integer; got -1");
    expect(msg({ hiddenUnits: [8, 0] })).toBe("NeuralRecommender option 'hiddenUnits' must be an array of positive integers; got [8,0]");
    expect(msg({ itemIdDropout: 2 })).toBe("NeuralRecommender option 'itemIdDropout' must be a finite number in [0, 1]; got 2");
    expect(msg({ learningRate: 0 })).toBe("NeuralRecommender option 'learningRate' must be a positive number; got 0");
    expect(msg({ numWorkers: 2, batchSize: 5 })).toBe("NeuralRecommender option 'batchSize' must be a multiple of option 'numWorkers' (2): it is the global batch, split evenly; got 5");
    expect(msg({ featureCols: [] })).toBe("NeuralRecommender option 'featureCols' must be a non-empty list of column names; got []");
    expect(msg({ itemCol: '' })).toBe(`NeuralRecommender option 'itemCol' must be a non-empty column name; got ""`);
    expect(msg({ buildModel: 3 })).toBe("NeuralRecommender option 'buildModel' must be a function (tf, spec) => tf.LayersModel; got 3");
    expect(msg({ itemIdEmbedding: 'yes' })).toBe(`NeuralRecommender option 'itemIdEmbedding' must be a boolean; got "yes"`);
    expect(msg({ resampleNegatives: 1 })).toBe("NeuralRecommender option 'resampleNegatives' must be a boolean; got 1");
    expect(msg({ rank: 3 })).toMatch(/^NeuralRecommender option 'rank' is not an option of NeuralRecommender/);
    expect(msg({})).toBe('no error');
  });
});
