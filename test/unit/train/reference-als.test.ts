import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ArtifactExistsError, InvalidTrainingDataError, ModelFormatError, ModelVersionError } from '../../../src/train/errors.js';
import { ALSModel } from '../../../src/train/als/als-model.js';
import { referenceALS } from '../../../src/train/als/reference-als.js';
import { SeededRandom } from '../../../src/train/als/kernels.js';

function lowRank(numUsers: number, numItems: number, rank: number, density: number, noise: number, seed: number) {
  const rng = new SeededRandom(seed);
  const U = Array.from({ length: numUsers * rank }, () => rng.gaussian());
  const V = Array.from({ length: numItems * rank }, () => rng.gaussian());
  const rows: { user: number; item: number; rating: number }[] = [];
  for (let u = 0; u < numUsers; u++) for (let i = 0; i < numItems; i++) {
    if (rng.next() >= density) continue;
    let s = 0;
    for (let f = 0; f < rank; f++) s += U[u * rank + f]! * V[i * rank + f]!;
    rows.push({ user: u, item: i, rating: s + noise * rng.gaussian() });
  }
  return rows;
}

function rmse(rows: { user: number; item: number; rating: number }[], r: Awaited<ReturnType<typeof referenceALS>>): number {
  let s = 0;
  for (const { user, item, rating } of rows) {
    let p = 0;
    for (let f = 0; f < r.rank; f++) p += r.userFactors[user * r.rank + f]! * r.itemFactors[item * r.rank + f]!;
    s += (p - rating) ** 2;
  }
  return Math.sqrt(s / rows.length);
}

describe('referenceALS', () => {
  it('fits exact low-rank data (training RMSE near 0 with small λ)', async () => {
    const rows = lowRank(40, 30, 2, 0.5, 0, 1);
    const r = await referenceALS(rows, { rank: 2, regParam: 0.001, maxIter: 20, seed: 1 });
    expect(rmse(rows, r)).toBeLessThan(0.02);
  });

  it('the training RMSE never rises between iterations (each half-step minimizes exactly)', async () => {
    const rows = lowRank(30, 25, 3, 0.4, 0.1, 2);
    let last = Infinity;
    for (const maxIter of [1, 2, 4, 8]) {
      const err = rmse(rows, await referenceALS(rows, { rank: 3, regParam: 0.01, maxIter, seed: 4 }));
      expect(err).toBeLessThanOrEqual(last + 1e-6);
      last = err;
    }
  });

  it('implicit: scores observed pairs above unobserved ones on average', async () => {
    const rows = lowRank(40, 30, 2, 0.3, 0, 3).map((x) => ({ ...x, rating: 1 }));
    const r = await referenceALS(rows, { rank: 4, implicitPrefs: true, alpha: 10, maxIter: 10, seed: 5 });
    const seen = new Set(rows.map((x) => `${x.user}:${x.item}`));
    let inS = 0, inN = 0, outS = 0, outN = 0;
    for (let u = 0; u < r.userIds.length; u++) for (let i = 0; i < r.itemIds.length; i++) {
      let p = 0;
      for (let f = 0; f < r.rank; f++) p += r.userFactors[u * r.rank + f]! * r.itemFactors[i * r.rank + f]!;
      if (seen.has(`${r.userIds[u]}:${r.itemIds[i]}`)) (inS += p, inN++);
      else (outS += p, outN++);
    }
    expect(inS / inN).toBeGreaterThan(outS / outN + 0.3);
  });

  it("solver 'cg' with enough steps reproduces the exact implicit solves", async () => {
    const rows = lowRank(25, 20, 2, 0.4, 0, 8).map((x, k) => ({ ...x, rating: (k % 4) + 1 }));
    const base = { rank: 3, implicitPrefs: true, alpha: 2, maxIter: 4, seed: 2 } as const;
    const exact = await referenceALS(rows, { ...base, solver: 'cholesky' });
    const cg = await referenceALS(rows, { ...base, solver: 'cg', cgSteps: 12 });
    for (let k = 0; k < exact.userFactors.length; k++) expect(cg.userFactors[k]).toBeCloseTo(exact.userFactors[k]!, 4);
    for (let k = 0; k < exact.itemFactors.length; k++) expect(cg.itemFactors[k]).toBeCloseTo(exact.itemFactors[k]!, 4);
  });

  it('nonnegative keeps every factor ≥ 0', async () => {
    const r = await referenceALS(lowRank(20, 15, 2, 0.5, 0.1, 6), { rank: 3, nonnegative: true, maxIter: 5 });
    expect(r.userFactors.every((v) => v >= 0) && r.itemFactors.every((v) => v >= 0)).toBe(true);
  });

  it('rejects empty input', async () => {
    await expect(referenceALS([])).rejects.toThrow(InvalidTrainingDataError);
  });
});

describe('ALSModel save/load', () => {
  const model = (): ALSModel =>
    new ALSModel(
      2,
      { ids: Float64Array.of(10, 20), factors: Float32Array.of(1, 0, 0, 1), rank: 2 },
      { ids: Float64Array.of(5, 6, 7), factors: Float32Array.of(1, 1, 2, 0, 0, 3), rank: 2 },
      { userCol: 'user', itemCol: 'item', ratingCol: 'rating', predictionCol: 'prediction', coldStartStrategy: 'nan' },
    );

  it('round-trips, and reports corrupt, truncated and newer-version files with typed errors', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'als-model-'));
    try {
      await model().save(dir);
      const back = await ALSModel.load(dir);
      expect(back.predict(20, 7)).toBe(3);
      expect(Array.from(back.itemFactorMatrix.factors)).toEqual([1, 1, 2, 0, 0, 3]);

      const factors = join(dir, 'item-factors.f32');
      const bytes = await readFile(factors);
      bytes[0] = (bytes[0] ?? 0) ^ 0xff;
      await writeFile(factors, bytes);
      await expect(ALSModel.load(dir)).rejects.toThrow(/checksum mismatch/);
      await writeFile(factors, bytes.subarray(0, 8));
      await expect(ALSModel.load(dir)).rejects.toThrow(ModelFormatError);

      const metaPath = join(dir, 'metadata.json');
      const meta = JSON.parse(await readFile(metaPath, 'utf8')) as { version: number };
      await writeFile(metaPath, JSON.stringify({ ...meta, version: 99 }));
      await expect(ALSModel.load(dir)).rejects.toThrow(ModelVersionError);
      await writeFile(metaPath, '{ not json');
      await expect(ALSModel.load(dir)).rejects.toThrow(/not valid JSON/);
      await expect(ALSModel.load(join(dir, 'nope'))).rejects.toThrow(ModelFormatError);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('save() refuses to overwrite a saved model unless { overwrite: true }', async () => {
    const parent = await mkdtemp(join(tmpdir(), 'als-overwrite-'));
    const dir = join(parent, 'model');
    try {
      await model().save(dir);
      const other = new ALSModel(
        1, { ids: Float64Array.of(1), factors: Float32Array.of(2), rank: 1 }, { ids: Float64Array.of(1), factors: Float32Array.of(3), rank: 1 },
        { userCol: 'user', itemCol: 'item', ratingCol: 'rating', predictionCol: 'prediction', coldStartStrategy: 'nan' },
      );
      const err = await other.save(dir).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ArtifactExistsError);
      expect((err as Error).message).toContain(dir);
      expect((err as Error).message).toContain('overwrite: true');
      // The first model is untouched, and no staging folder is left behind.
      expect((await ALSModel.load(dir)).predict(20, 7)).toBe(3);
      expect(await readdir(parent)).toEqual(['model']);

      await other.save(dir, { overwrite: true });
      expect((await ALSModel.load(dir)).predict(1, 1)).toBe(6);
      expect(await readdir(parent)).toEqual(['model']);
    } finally {
      await rm(parent, { recursive: true, force: true });
    }
  });

  it('transform adds predictions; cold start gives NaN or drops the row', async () => {
    const m = model();
    const rows = [{ user: 10, item: 5 }, { user: 99, item: 5 }];
    const nan = await m.transform(rows);
    expect(nan.toArray().map((r) => r.toJSON())).toEqual([{ user: 10, item: 5, prediction: 1 }, { user: 99, item: 5, prediction: NaN }]);
    const dropped = await m.transform(rows, { coldStartStrategy: 'drop' });
    expect(dropped.numRows).toBe(1);
  });

  it('recommends locally without a cluster (same result as the tasks compute)', async () => {
    const t = await model().recommendForAllUsers(2);
    expect(t.toArray().map((r) => JSON.parse(JSON.stringify(r.toJSON())))).toEqual([
      { user: 10, recommendations: [{ item: 6, rating: 2 }, { item: 5, rating: 1 }] },
      { user: 20, recommendations: [{ item: 7, rating: 3 }, { item: 5, rating: 1 }] },
    ]);
    expect(JSON.parse(JSON.stringify(model().userFactors.get(1)!.toJSON()))).toEqual({ id: 20, features: [0, 1] });
  });
});
