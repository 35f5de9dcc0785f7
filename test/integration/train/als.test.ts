/**
 * Distributed ALS on a real 2-CPU cluster: parity with the single-process reference solver, RMSE on
 * synthetic low-rank data, ranking metrics on the real Albany Airbnb reviews, the model API, and
 * typed errors for bad input.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataType, Dictionary, Float32, Int32, Table, tableFromArrays, Utf8, vectorFromArray } from 'apache-arrow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ALS, ALSModel, InvalidIdError, InvalidTrainingDataError, InvalidOptionError, ModelFormatError, referenceALS, TrainError,
  type ALSOptions,
} from 'shoal/train';
import { leaveLastOut, loadReviews } from '../../../bench/suites/als-albany.js';
import { TestCluster } from '../../harness/test-cluster.js';
import { albanyDataDir } from '../../../examples/albany-data.js';

type Row = { user: number; item: number; rating: number };

/** Deterministic LCG + Box–Muller, so the data does not depend on the code under test. */
function rng(seed: number): { next(): number; gaussian(): number } {
  let s = seed >>> 0 || 1;
  const next = (): number => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
  return {
    next,
    gaussian: () => Math.sqrt(-2 * Math.log(next() || 1e-12)) * Math.cos(2 * Math.PI * next()),
  };
}

function lowRank(numUsers: number, numItems: number, rank: number, density: number, noise: number, seed: number, idOffset = 0): { rows: Row[]; truth: (u: number, i: number) => number } {
  const r = rng(seed);
  const U = Array.from({ length: numUsers * rank }, () => r.gaussian() / Math.sqrt(rank) * 1.5);
  const V = Array.from({ length: numItems * rank }, () => r.gaussian() / Math.sqrt(rank) * 1.5);
  const truth = (u: number, i: number): number => {
    let s = 0;
    for (let f = 0; f < rank; f++) s += U[u * rank + f]! * V[i * rank + f]!;
    return s;
  };
  const rows: Row[] = [];
  for (let u = 0; u < numUsers; u++) for (let i = 0; i < numItems; i++) {
    if (r.next() < density) rows.push({ user: u * 7 + idOffset, item: i * 3 - 50, rating: truth(u, i) + noise * r.gaussian() });
  }
  return { rows, truth };
}

function maxDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let k = 0; k < a.length; k++) m = Math.max(m, Math.abs(a[k]! - b[k]!));
  return m;
}

let cluster: TestCluster;
beforeAll(async () => {
  cluster = await TestCluster.start({ numCpus: 2 });
});
afterAll(async () => {
  await cluster?.stop();
});

describe('distributed ALS matches the reference solver', () => {
  const { rows } = lowRank(30, 24, 3, 0.35, 0.2, 1, 1000);
  const implicitRows = rows.map((r, k) => ({ ...r, rating: (k % 5) - 1 })); // counts, some ≤ 0
  const cases: Array<[string, Row[], ALSOptions]> = [
    ['explicit, 1×1 blocks', rows, { numUserBlocks: 1, numItemBlocks: 1 }],
    ['explicit, 3×4 blocks, gather', rows, { numUserBlocks: 3, numItemBlocks: 4, factorExchange: 'gather' }],
    ['explicit, more blocks than users and items', rows, { numUserBlocks: 50, numItemBlocks: 40 }],
    ['implicit Cholesky, 2×3 blocks', implicitRows, { implicitPrefs: true, solver: 'cholesky', alpha: 2, numUserBlocks: 2, numItemBlocks: 3 }],
    ['implicit Cholesky, 7×5 blocks, gather', implicitRows, { implicitPrefs: true, solver: 'cholesky', numUserBlocks: 7, numItemBlocks: 5, factorExchange: 'gather' }],
    ['implicit, default solver (CG), 2×3 blocks', implicitRows, { implicitPrefs: true, alpha: 2, numUserBlocks: 2, numItemBlocks: 3 }],
    ['explicit nonnegative, 4×4 blocks', rows, { nonnegative: true, numUserBlocks: 4, numItemBlocks: 4 }],
    ['implicit CG, 3×2 blocks', implicitRows, { implicitPrefs: true, alpha: 2, solver: 'cg', cgSteps: 3, numUserBlocks: 3, numItemBlocks: 2 }],
    ['implicit CG, 4×5 blocks, gather', implicitRows, { implicitPrefs: true, solver: 'cg', cgSteps: 2, numUserBlocks: 4, numItemBlocks: 5, factorExchange: 'gather' }],
    ['explicit CG, 2×2 blocks', rows, { solver: 'cg', cgSteps: 4, numUserBlocks: 2, numItemBlocks: 2 }],
  ];
  it.each(cases)('%s: factors and predictions within 1e-4 after the same iterations', async (_name, data, extra) => {
    const options: ALSOptions = { rank: 4, maxIter: 6, regParam: 0.05, seed: 17, ...extra };
    const ref = await referenceALS(data, options);
    const model = await new ALS(options).fit(data);
    expect(Array.from(model.userFactorMatrix.ids)).toEqual(Array.from(ref.userIds));
    expect(maxDiff(model.userFactorMatrix.factors, ref.userFactors)).toBeLessThan(1e-4);
    expect(maxDiff(model.itemFactorMatrix.factors, ref.itemFactors)).toBeLessThan(1e-4);
    const scored = await model.transform(data.slice(0, 50));
    const pred = scored.getChild('prediction')!.toArray() as Float32Array;
    data.slice(0, 50).forEach((r, k) => {
      const u = ref.userIds.indexOf(r.user);
      const i = ref.itemIds.indexOf(r.item);
      let p = 0;
      for (let f = 0; f < 4; f++) p += ref.userFactors[u * 4 + f]! * ref.itemFactors[i * 4 + f]!;
      expect(Math.abs(pred[k]! - p)).toBeLessThan(1e-4);
    });
  });
});

describe('accuracy', () => {
  it('rank-5 model + N(0, 0.1²) noise: held-out RMSE approaches the noise level', async () => {
    const { rows } = lowRank(200, 150, 5, 0.35, 0.1, 7);
    const r = rng(3);
    const train: Row[] = [];
    const test: Row[] = [];
    for (const row of rows) (r.next() < 0.1 ? test : train).push(row);
    const model = await new ALS({ rank: 5, maxIter: 15, regParam: 0.02, numUserBlocks: 4, numItemBlocks: 4, coldStartStrategy: 'drop' }).fit(train);
    const scored = await model.transform(test);
    const pred = scored.getChild('prediction')!.toArray() as Float32Array;
    const rating = scored.getChild('rating')!.toArray() as Float64Array;
    let s = 0;
    for (let k = 0; k < pred.length; k++) s += (pred[k]! - rating[k]!) ** 2;
    const rmse = Math.sqrt(s / pred.length);
    console.log(`synthetic rank-5, σ=0.1: held-out RMSE ${rmse.toFixed(4)} on ${pred.length} ratings (${train.length} train)`);
    expect(pred.length).toBeGreaterThan(test.length * 0.95);
    expect(rmse).toBeLessThan(0.15);
  });

  it('real Airbnb reviews (implicit, leave-last-out, full catalogue): HR@10, NDCG@10, Recall@10 beside most-popular', async () => {
    // The same loader and leave-last-out split as the `als-albany` bench suite.
    const { reviews, catalogue } = loadReviews(join(albanyDataDir(), 'reviews.csv'));
    const { train, heldOut } = leaveLastOut(reviews);
    const seen = new Map<number, Set<number>>();
    for (const r of train) {
      let s = seen.get(r.user);
      if (!s) seen.set(r.user, (s = new Set()));
      s.add(r.item);
    }
    const popularity = new Float64Array(catalogue);
    for (const r of train) popularity[r.item]! += 1;

    const model = await new ALS({ rank: 32, maxIter: 10, regParam: 0.1, implicitPrefs: true, alpha: 20, seed: 1, numUserBlocks: 4, numItemBlocks: 2 }).fit(train);
    const uIdx = new Map(Array.from(model.userFactorMatrix.ids, (id, k) => [id, k]));
    const iIdx = new Map(Array.from(model.itemFactorMatrix.ids, (id, k) => [id, k]));
    const U = model.userFactorMatrix.factors;
    const V = model.itemFactorMatrix.factors;
    const rank = model.rank;
    const metrics = (score: (u: number, item: number) => number) => {
      let hits = 0;
      let ndcg = 0;
      for (const [u, target] of heldOut) {
        const exclude = seen.get(u) ?? new Set<number>();
        const t = score(u, target);
        let better = 0;
        if (Number.isNaN(t)) better = Infinity; // unseen listing: cannot be ranked
        else for (let item = 0; item < catalogue; item++) {
          if (item === target || exclude.has(item)) continue;
          const s = score(u, item);
          if (s > t || (s === t && item < target)) better++;
        }
        if (better < 10) {
          hits++;
          ndcg += 1 / Math.log2(better + 2);
        }
      }
      const n = heldOut.size;
      // One held-out item per user: Recall@10 equals HR@10.
      return { hr: hits / n, ndcg: ndcg / n, recall: hits / n };
    };
    const als = metrics((u, item) => {
      const a = uIdx.get(u);
      const b = iIdx.get(item);
      if (a === undefined || b === undefined) return b === undefined ? NaN : -Infinity;
      let s = 0;
      for (let f = 0; f < rank; f++) s += U[a * rank + f]! * V[b * rank + f]!;
      return s;
    });
    const pop = metrics((_u, item) => (popularity[item]! > 0 ? popularity[item]! : NaN));
    const fmt = (m: { hr: number; ndcg: number; recall: number }): string => `HR@10 ${m.hr.toFixed(4)}  NDCG@10 ${m.ndcg.toFixed(4)}  Recall@10 ${m.recall.toFixed(4)}`;
    console.log(`Airbnb Albany, ${heldOut.size} test users, ${catalogue} listings, ${train.length} train pairs\n  ALS (rank 32, α 20): ${fmt(als)}\n  most popular:        ${fmt(pop)}`);
    // A uniformly random ranking of each user's candidates, exactly: the target lands at each of the
    // M candidate positions with probability 1/M.
    let randomHr = 0;
    let randomNdcg = 0;
    for (const [u, target] of heldOut) {
      const exclude = seen.get(u) ?? new Set<number>();
      const m = catalogue - exclude.size + (exclude.has(target) ? 1 : 0);
      for (let r = 0; r < Math.min(10, m); r++) randomNdcg += 1 / Math.log2(r + 2) / m;
      randomHr += Math.min(10, m) / m;
    }
    randomHr /= heldOut.size;
    randomNdcg /= heldOut.size;
    console.log(`  random ranking:      HR@10 ${randomHr.toFixed(4)}  NDCG@10 ${randomNdcg.toFixed(4)}`);
    expect(heldOut.size).toBeGreaterThan(1500);
    // ALS learns: well above a random ranking (measured: HR 0.104 vs 0.027, NDCG 0.056 vs 0.012).
    expect(als.hr).toBeGreaterThan(3 * randomHr);
    expect(als.ndcg).toBeGreaterThan(3 * randomNdcg);
    // On this data ALS with these settings trails most-popular (NDCG 0.056 vs 0.087 measured; the
    // tuned als-albany bench gets 0.96× popular): a floor that catches a regression, not a claim of a win.
    expect(als.ndcg).toBeGreaterThan(0.5 * pop.ndcg);
  });
});

describe('model API', () => {
  const { rows } = lowRank(25, 20, 3, 0.5, 0.1, 11);
  let model: ALSModel;
  beforeAll(async () => {
    model = await new ALS({ rank: 3, maxIter: 5, numUserBlocks: 3, numItemBlocks: 2 }).fit(tableFromArrays({
      user: Int32Array.from(rows, (r) => r.user), item: Int32Array.from(rows, (r) => r.item), rating: Float32Array.from(rows, (r) => r.rating),
    }));
  });

  it('recommendForAllUsers / UserSubset / AllItems agree with brute force over the factors', async () => {
    const all = await model.recommendForAllUsers(4);
    expect(all.numRows).toBe(model.userFactorMatrix.ids.length);
    const first = all.get(0)!.toJSON() as { user: number; recommendations: { toArray(): { item: number; rating: number }[] } };
    const recs = first.recommendations.toArray().map((x) => ({ ...x }));
    const scores = Array.from(model.itemFactorMatrix.ids, (item) => ({ item, rating: model.predict(first.user, item) })).sort((a, b) => b.rating - a.rating);
    expect(recs.map((r) => r.item)).toEqual(scores.slice(0, 4).map((s) => s.item));
    recs.forEach((r, k) => expect(r.rating).toBeCloseTo(scores[k]!.rating, 4));

    const subset = await model.recommendForUserSubset([first.user, 123456], 4);
    expect(subset.numRows).toBe(1);
    expect(JSON.stringify(subset.get(0))).toBe(JSON.stringify(all.get(0)));
    const items = await model.recommendForAllItems(2);
    expect(items.numRows).toBe(model.itemFactorMatrix.ids.length);
    expect(items.schema.fields.map((f) => f.name)).toEqual(['item', 'recommendations']);
  });

  it('factors as Arrow tables; save/load round trip; accepts a Dataset (toArrow)', async () => {
    expect(model.userFactors.schema.fields.map((f) => f.name)).toEqual(['id', 'features']);
    const dir = await mkdtemp(join(tmpdir(), 'als-it-'));
    try {
      await model.save(dir);
      const back = await ALSModel.load(dir);
      expect(back.predict(rows[0]!.user, rows[0]!.item)).toBe(model.predict(rows[0]!.user, rows[0]!.item));
      await writeFile(join(dir, 'metadata.json'), '{"format": "shoal.als-model", "version": 1, "rank": 3');
      await expect(ALSModel.load(dir)).rejects.toThrow(ModelFormatError);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    const viaDataset = await new ALS({ rank: 3, maxIter: 5, numUserBlocks: 3, numItemBlocks: 2 }).fit({ toArrow: () => tableFromArrays({
      user: Int32Array.from(rows, (r) => r.user), item: Int32Array.from(rows, (r) => r.item), rating: Float32Array.from(rows, (r) => r.rating),
    }) });
    expect(Array.from(viaDataset.userFactorMatrix.factors)).toEqual(Array.from(model.userFactorMatrix.factors));
  });

  it('checkpoints factors every N iterations', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'als-ckpt-'));
    try {
      const m = await new ALS({ rank: 3, maxIter: 4, checkpointInterval: 2, checkpointDir: dir, numUserBlocks: 2, numItemBlocks: 2 }).fit(rows);
      const at2 = await ALSModel.load(join(dir, 'iter-2'));
      const at4 = await ALSModel.load(join(dir, 'iter-4'));
      expect(at2.params.iteration).toBe(2);
      expect(Array.from(at4.userFactorMatrix.factors)).toEqual(Array.from(m.userFactorMatrix.factors));
      const ref2 = await referenceALS(rows, { rank: 3, maxIter: 2 });
      expect(maxDiff(at2.userFactorMatrix.factors, ref2.userFactors)).toBeLessThan(1e-4);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("solver 'cg' approaches the exact solution", async () => {
    const exact = await referenceALS(rows, { rank: 3, maxIter: 8, implicitPrefs: true, solver: 'cholesky' });
    const cg = await new ALS({ rank: 3, maxIter: 8, implicitPrefs: true, solver: 'cg', cgSteps: 3, numUserBlocks: 2, numItemBlocks: 2 }).fit(rows);
    const a = Array.from(rows.slice(0, 40), (r) => cg.predict(r.user, r.item));
    const uI = (u: number): number => exact.userIds.indexOf(u);
    const iI = (i: number): number => exact.itemIds.indexOf(i);
    const b = Array.from(rows.slice(0, 40), (r) => [0, 1, 2].reduce((s, f) => s + exact.userFactors[uI(r.user) * 3 + f]! * exact.itemFactors[iI(r.item) * 3 + f]!, 0));
    const err = Math.max(...a.map((x, k) => Math.abs(x - b[k]!)));
    expect(err).toBeLessThan(0.05);
  });
});

describe('string ids are indexed automatically', () => {
  const { rows } = lowRank(20, 16, 3, 0.5, 0.1, 5);
  // One-to-one labels whose sorted order is the integer order, so both models index alike.
  const labelsOf = (ids: number[], prefix: string): Map<number, string> =>
    new Map([...new Set(ids)].sort((a, b) => a - b).map((id, k) => [id, `${prefix}-${String(k).padStart(4, '0')}`]));
  const userLabel = labelsOf(rows.map((r) => r.user), 'user');
  const itemLabel = labelsOf(rows.map((r) => r.item), 'item');
  const toInt = (m: Map<number, string>): Map<string, number> => new Map([...m].map(([n, l]) => [l, n]));
  const userInt = toInt(userLabel);
  const itemInt = toInt(itemLabel);
  const strRows = rows.map((r) => ({ user: userLabel.get(r.user)!, item: itemLabel.get(r.item)!, rating: r.rating }));
  const options: ALSOptions = { rank: 3, maxIter: 5, seed: 9, numUserBlocks: 3, numItemBlocks: 2 };
  let intModel: ALSModel;
  let strModel: ALSModel;
  beforeAll(async () => {
    intModel = await new ALS(options).fit(rows);
    // Users as a utf8 column, items as dictionary-of-utf8 (what tableFromArrays makes of strings).
    strModel = await new ALS(options).fit(new Table({
      user: vectorFromArray(strRows.map((r) => r.user), new Utf8()),
      item: vectorFromArray(strRows.map((r) => r.item), new Dictionary(new Utf8(), new Int32())),
      rating: vectorFromArray(strRows.map((r) => r.rating), new Float32()),
    }));
  });

  it('gives the same factors and predictions as the same data with integer ids', async () => {
    expect(strModel.userFactorMatrix.labels).toEqual([...userLabel.values()]);
    expect(strModel.itemFactorMatrix.labels).toEqual([...itemLabel.values()]);
    expect(Array.from(strModel.userFactorMatrix.factors)).toEqual(Array.from(intModel.userFactorMatrix.factors));
    expect(Array.from(strModel.itemFactorMatrix.factors)).toEqual(Array.from(intModel.itemFactorMatrix.factors));
    const scored = await strModel.transform(strRows.slice(0, 30));
    const expected = (await intModel.transform(rows.slice(0, 30))).getChild('prediction')!.toArray() as Float32Array;
    expect(Array.from(scored.getChild('prediction')!.toArray() as Float32Array)).toEqual(Array.from(expected));
    expect(scored.getChild('user')!.get(0)).toBe(strRows[0]!.user);
    expect(strModel.predict(strRows[3]!.user, strRows[3]!.item)).toBe(intModel.predict(rows[3]!.user, rows[3]!.item));
  });

  it('transform: unseen string ids get NaN or are dropped (coldStartStrategy)', async () => {
    const query = [strRows[0]!, { user: 'nobody', item: strRows[0]!.item, rating: 1 }, { user: strRows[1]!.user, item: 'nothing', rating: 1 }, strRows[2]!];
    const nan = await strModel.transform(query, { coldStartStrategy: 'nan' });
    const p = Array.from(nan.getChild('prediction')!.toArray() as Float32Array);
    expect(p.map(Number.isNaN)).toEqual([false, true, true, false]);
    expect(p[0]).toBe(strModel.predict(strRows[0]!.user, strRows[0]!.item));
    const drop = await strModel.transform(query, { coldStartStrategy: 'drop' });
    expect(drop.numRows).toBe(2);
    expect([...drop.getChild('user')!]).toEqual([strRows[0]!.user, strRows[2]!.user]);
    await expect(strModel.transform([{ user: 1, item: 2 }])).rejects.toThrow('column "user" holds numbers but the model was trained on string ids');
  });

  it('recommend* return the original strings, and agree with the integer model', async () => {
    type Rec = Record<string, unknown> & { recommendations: { toArray(): Array<Record<string, unknown>> } };
    const plain = (t: Table, q: string, tgt: string, map: (side: string, v: unknown) => unknown) =>
      t.toArray().map((r) => {
        const row = r as unknown as Rec;
        return { q: map(q, row[q]), recs: row.recommendations.toArray().map((x) => ({ id: map(tgt, x[tgt]), rating: x.rating })) };
      });
    const back = (side: string, v: unknown): unknown => (side === 'user' ? userInt.get(v as string) : itemInt.get(v as string));
    const same = (_side: string, v: unknown): unknown => v;

    const users = await strModel.recommendForAllUsers(3);
    expect(DataType.isUtf8(users.schema.fields[0]!.type)).toBe(true);
    expect(users.getChild('user')!.get(0)).toBe(strModel.userFactorMatrix.labels![0]);
    expect(plain(users, 'user', 'item', back)).toEqual(plain(await intModel.recommendForAllUsers(3), 'user', 'item', same));
    const items = await strModel.recommendForAllItems(2);
    expect(plain(items, 'item', 'user', back)).toEqual(plain(await intModel.recommendForAllItems(2), 'item', 'user', same));
    const subset = await strModel.recommendForUserSubset([strRows[5]!.user, 'nobody'], 3);
    expect(subset.numRows).toBe(1);
    expect(plain(subset, 'user', 'item', back)).toEqual(plain(await intModel.recommendForUserSubset([rows[5]!.user], 3), 'user', 'item', same));
    const viaTable = await strModel.recommendForUserSubset(tableFromArrays({ user: [strRows[5]!.user] }), 3);
    expect(JSON.stringify(viaTable.get(0))).toBe(JSON.stringify(subset.get(0)));
    const excluded = await strModel.recommendForAllUsers(3, { exclude: strRows });
    expect(plain(excluded, 'user', 'item', back)).toEqual(plain(await intModel.recommendForAllUsers(3, { exclude: rows }), 'user', 'item', same));
  });

  it('factor tables carry the strings; save/load round trip keeps them', async () => {
    const uf = strModel.userFactors;
    expect(DataType.isUtf8(uf.schema.fields[0]!.type)).toBe(true);
    expect([...uf.getChild('id')!]).toEqual(strModel.userFactorMatrix.labels);
    expect(strModel.itemFactors.getChild('id')!.get(0)).toBe(strModel.itemFactorMatrix.labels![0]);
    const dir = await mkdtemp(join(tmpdir(), 'als-str-'));
    try {
      await strModel.save(dir);
      const meta = JSON.parse(await readFile(join(dir, 'metadata.json'), 'utf8')) as { version: number };
      expect(meta.version).toBe(2);
      const back = await ALSModel.load(dir);
      expect(back.userFactorMatrix.labels).toEqual(strModel.userFactorMatrix.labels);
      expect(back.itemFactorMatrix.labels).toEqual(strModel.itemFactorMatrix.labels);
      expect(back.predict(strRows[0]!.user, strRows[0]!.item)).toBe(strModel.predict(strRows[0]!.user, strRows[0]!.item));
      expect(JSON.stringify((await back.recommendForAllUsers(2)).toArray())).toBe(JSON.stringify((await strModel.recommendForAllUsers(2)).toArray()));
      await writeFile(join(dir, 'user-labels.json'), '["x"]');
      await expect(ALSModel.load(dir)).rejects.toThrow(ModelFormatError);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('a model saved in the previous format (version 1, no label files) still loads', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'als-v1-'));
    try {
      // Written by hand as version 1 wrote it: metadata.json beside four little-endian arrays.
      const arrays = {
        'user-ids.f64': Float64Array.of(3, 10), 'user-factors.f32': Float32Array.of(1, 2, 3, 4),
        'item-ids.f64': Float64Array.of(-1, 5, 8), 'item-factors.f32': Float32Array.of(0.5, 1, -1, 0, 2, 2),
      };
      const files: Record<string, { bytes: number; sha256: string }> = {};
      for (const [name, a] of Object.entries(arrays)) {
        const b = new Uint8Array(a.buffer);
        await writeFile(join(dir, name), b);
        files[name] = { bytes: b.byteLength, sha256: createHash('sha256').update(b).digest('hex') };
      }
      await writeFile(join(dir, 'metadata.json'), JSON.stringify({
        format: 'shoal.als-model', version: 1, rank: 2, numUsers: 2, numItems: 3,
        params: { userCol: 'user', itemCol: 'item', ratingCol: 'rating', predictionCol: 'prediction', coldStartStrategy: 'nan' },
        files, savedAt: '2026-01-01T00:00:00.000Z',
      }));
      const m = await ALSModel.load(dir);
      expect(m.userFactorMatrix.labels).toBeUndefined();
      expect(m.predict(10, 8)).toBe(3 * 2 + 4 * 2);
      expect(Array.from(m.userFactors.getChild('id')!.toArray() as Int32Array)).toEqual([3, 10]);
      const top = (await m.recommendForAllUsers(1)).get(0)!.toJSON() as { user: number; recommendations: { toArray(): Array<{ item: number }> } };
      expect(top.user).toBe(3);
      expect(top.recommendations.toArray()[0]!.item).toBe(8);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('bad input gives typed errors', () => {
  it('negative rank', () => {
    expect(() => new ALS({ rank: -3 })).toThrow(InvalidOptionError);
    expect(() => new ALS({ rank: -3 })).toThrow("ALS option 'rank' must be a positive integer; got -3");
  });
  it('rank 0', () => {
    expect(() => new ALS({ rank: 0 })).toThrow("ALS option 'rank' must be a positive integer; got 0");
  });
  it('ratings with nulls or NaN name the row', async () => {
    await expect(new ALS().fit([{ user: 1, item: 2, rating: 1 }, { user: 1, item: 3, rating: null }])).rejects.toThrow('rating at row 1 must be a finite number (got null)');
    const nan = tableFromArrays({ user: Int32Array.of(1, 2), item: Int32Array.of(1, 1), rating: Float64Array.of(1, NaN) });
    const err = await new ALS().fit(nan).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidTrainingDataError);
    expect((err as Error).message).toBe('rating at row 1 must be a finite number (got NaN)');
    await expect(new ALS().fit([{ user: null, item: 2, rating: 1 }])).rejects.toThrow(InvalidIdError);
  });
  it('a column mixing string and integer ids is a typed error naming the row', async () => {
    await expect(new ALS().fit([{ user: 'ann', item: 2, rating: 1 }, { user: 5, item: 2, rating: 1 }]))
      .rejects.toThrow('user at row 1 must be an integer id (got 5): ids must be integers or strings, not both in one column');
  });
  it('float ids that are not integers name the column and row and the rule', async () => {
    const t = tableFromArrays({ user: Int32Array.of(1, 2, 3), item: Float64Array.of(4, 5, 6.5), rating: Float32Array.of(1, 2, 3) });
    const err = await new ALS().fit(t).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidIdError);
    expect((err as InvalidIdError).column).toBe('item');
    expect((err as InvalidIdError).row).toBe(2);
    expect((err as Error).message).toBe('item at row 2 must be an integer id (got 6.5): ids must be integers or strings');
  });
  it('fewer users and items than blocks still trains: empty blocks hold no rows', async () => {
    const m = await new ALS({ rank: 2, maxIter: 2, numUserBlocks: 4, numItemBlocks: 4 }).fit([{ user: 7, item: 1, rating: 1 }, { user: 9, item: 1, rating: 2 }]);
    expect(Array.from(m.userFactorMatrix.ids)).toEqual([7, 9]);
    expect(Array.from(m.userFactorMatrix.factors).every(Number.isFinite)).toBe(true);
  });
  it('empty input', async () => {
    await expect(new ALS().fit([])).rejects.toThrow(InvalidTrainingDataError);
  });
  it('non-numeric ratings', async () => {
    const err = await new ALS().fit([{ user: 1, item: 2, rating: 'five' }]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidTrainingDataError);
    expect(err).toBeInstanceOf(TrainError);
    expect((err as InvalidTrainingDataError).row).toBe(0);
  });
  it('user id not an integer', async () => {
    await expect(new ALS().fit([{ user: 1.25, item: 2, rating: 1 }])).rejects.toThrow(InvalidIdError);
    await expect(new ALS().fit([{ user: 1.25, item: 2, rating: 1 }])).rejects.toThrow('user at row 0 must be an integer id (got 1.25)');
  });
  it('load of a corrupt model', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'als-bad-'));
    try {
      await writeFile(join(dir, 'metadata.json'), 'garbage');
      const err = await ALSModel.load(dir).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ModelFormatError);
      expect((err as ModelFormatError).code).toBe('TRAIN_MODEL_FORMAT');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
