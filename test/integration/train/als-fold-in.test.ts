/**
 * ALS fold-in on the real Albany reviews (implicit feedback, α 20 — the rental job's ALS) and on
 * synthetic explicit ratings: a user's fold-in against the trained item factors equals the
 * trainer's own last user half-step for that user (exact solves, and the CG solver warm-started like
 * the trainer); a new user's and a new listing's fold-in satisfy their normal equations, checked by
 * a plain computation here; bad input gets typed errors.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALS, ALSModel, InvalidTrainingDataError } from 'shoal/train';
import { loadReviews } from '../../../bench/suites/als-albany.js';
import { albanyDataDir } from '../../../examples/albany-data.js';
import { TestCluster } from '../../harness/test-cluster.js';

type Row = { user: number; item: number; rating: number };

/** Albany reviews as (reviewer, listing, stays) rows, like the rental job's implicit ratings. */
function albanyCounts(): Row[] {
  const { reviews } = loadReviews(join(albanyDataDir(), 'reviews.csv'));
  const counts = new Map<string, Row>();
  for (const r of reviews) {
    const key = `${r.user}:${r.item}`;
    const c = counts.get(key);
    if (c) c.rating++;
    else counts.set(key, { user: r.user, item: r.item, rating: 1 });
  }
  return [...counts.values()];
}

function byUser(rows: readonly Row[]): Map<number, Row[]> {
  const m = new Map<number, Row[]>();
  for (const r of rows) {
    let l = m.get(r.user);
    if (!l) m.set(r.user, (l = []));
    l.push(r);
  }
  return m;
}

/** max |a − b| over the rank values. */
function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let k = 0; k < a.length; k++) m = Math.max(m, Math.abs(a[k]! - b[k]!));
  return m;
}

/**
 * The normal-equation residual |A·x − b|∞ / |b|∞ of one row, computed plainly: implicit
 * A = YᵀY + Σ α|r|·yyᵀ + λ·n₊·I, b = Σ_{r>0} (1 + α|r|)·y; explicit A = Σ yyᵀ + λ·n·I, b = Σ r·y.
 */
function residual(fixed: Float32Array, rank: number, rows: number[], ratings: number[], x: Float32Array, p: { regParam: number; implicit: boolean; alpha: number }): number {
  const a = new Float64Array(rank * rank);
  const b = new Float64Array(rank);
  if (p.implicit) {
    for (let s = 0; s < fixed.length / rank; s++) {
      for (let i = 0; i < rank; i++) for (let j = 0; j < rank; j++) a[i * rank + j]! += fixed[s * rank + i]! * fixed[s * rank + j]!;
    }
  }
  let n = 0;
  rows.forEach((row, k) => {
    const r = ratings[k]!;
    const wa = p.implicit ? p.alpha * Math.abs(r) : 1;
    const wb = p.implicit ? (r > 0 ? 1 + p.alpha * Math.abs(r) : 0) : r;
    if (!p.implicit || r > 0) n++;
    for (let i = 0; i < rank; i++) {
      const yi = fixed[row * rank + i]!;
      b[i]! += wb * yi;
      for (let j = 0; j < rank; j++) a[i * rank + j]! += wa * yi * fixed[row * rank + j]!;
    }
  });
  let worst = 0;
  let scale = 0;
  for (let i = 0; i < rank; i++) {
    let s = p.regParam * n * x[i]!;
    for (let j = 0; j < rank; j++) s += a[i * rank + j]! * x[j]!;
    worst = Math.max(worst, Math.abs(s - b[i]!));
    scale = Math.max(scale, Math.abs(b[i]!));
  }
  return worst / (scale || 1);
}

function userRow(model: ALSModel, user: number): Float32Array {
  const ids = model.userFactorMatrix.ids;
  const k = ids.indexOf(user);
  expect(k).toBeGreaterThanOrEqual(0);
  return model.userFactorMatrix.factors.subarray(k * model.rank, (k + 1) * model.rank);
}

let cluster: TestCluster;
let rows: Row[];
beforeAll(async () => {
  cluster = await TestCluster.start({ numCpus: 2 });
  rows = albanyCounts();
}, 120_000);
afterAll(async () => {
  await cluster?.stop();
});

describe('ALS fold-in (Albany reviews, implicit α 20)', () => {
  it('exact fold-in of every user equals the trainer\'s last user half-step (Cholesky solver) to 1e-6', async () => {
    const model = await new ALS({ rank: 16, maxIter: 3, regParam: 0.1, implicitPrefs: true, alpha: 20, solver: 'cholesky', seed: 1, numUserBlocks: 3, numItemBlocks: 2 }).fit(rows);
    const users = byUser(rows);
    expect(users.size).toBeGreaterThan(10_000);
    let worst = 0;
    for (const [user, list] of users) {
      const f = model.foldInUser(list.map((r) => r.item), list.map((r) => r.rating));
      expect(f.used).toBe(list.length);
      expect(f.unknown).toEqual([]);
      worst = Math.max(worst, maxDiff(f.factors, userRow(model, user)));
    }
    console.log(`Albany: ${users.size} users folded in, max |fold-in − trainer| = ${worst.toExponential(2)}`);
    expect(worst).toBeLessThan(1e-6);
  }, 300_000);

  it("CG fold-in warm-started like the trainer equals the rental job's default solver (CG) half-step to 1e-6", async () => {
    // Iteration 2's user half-step starts from iteration 1's user factors (its checkpoint).
    const dir = await mkdtemp(join(tmpdir(), 'shoal-fold-in-'));
    try {
      const model = await new ALS({ rank: 16, maxIter: 2, regParam: 0.1, implicitPrefs: true, alpha: 20, seed: 1, numUserBlocks: 2, numItemBlocks: 2, checkpointDir: dir, checkpointInterval: 1 }).fit(rows);
      expect(model.params.solver).toBe('cg');
      const first = await ALSModel.load(join(dir, 'iter-1'));
      const users = byUser(rows);
      let worst = 0;
      let checked = 0;
      model.userFactorMatrix.ids.forEach((user, k) => {
        if (k % 5 !== 0) return; // a fifth of the users keeps this quick under load
        const list = users.get(user)!;
        const f = model.foldInUser(list.map((r) => r.item), list.map((r) => r.rating), { solve: 'cg', warmStart: userRow(first, user) });
        worst = Math.max(worst, maxDiff(f.factors, userRow(model, user)));
        checked++;
      });
      expect(checked).toBeGreaterThan(1000);
      expect(worst).toBeLessThan(1e-6);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 300_000);

  it('a new user and a new listing folded in solve their normal equations; unknown ids are reported, not used', async () => {
    const users = byUser(rows);
    // The reviewer with the most listings becomes "new": trained without them.
    const [newUser, theirs] = [...users].reduce((a, b) => (b[1].length > a[1].length ? b : a));
    // A listing with several reviewers becomes "new" too.
    const perItem = new Map<number, Row[]>();
    for (const r of rows) {
      if (r.user === newUser) continue;
      let l = perItem.get(r.item);
      if (!l) perItem.set(r.item, (l = []));
      l.push(r);
    }
    const [newItem, itemRatings] = [...perItem].find(([, l]) => l.length >= 8)!;
    const train = rows.filter((r) => r.user !== newUser && r.item !== newItem);
    const model = await new ALS({ rank: 8, maxIter: 4, regParam: 0.1, implicitPrefs: true, alpha: 20, seed: 1, numUserBlocks: 2, numItemBlocks: 2 }).fit(train);
    expect(model.userFactorMatrix.ids.includes(newUser)).toBe(false);

    const u = model.foldInUser(theirs.map((r) => r.item), theirs.map((r) => r.rating));
    const itemIds = Array.from(model.itemFactorMatrix.ids);
    const known = theirs.filter((r) => itemIds.includes(r.item));
    expect(u.used).toBe(known.length);
    expect(u.unknown.length).toBe(theirs.length - known.length);
    const p = { regParam: 0.1, implicit: true, alpha: 20 };
    expect(residual(model.itemFactorMatrix.factors, 8, known.map((r) => itemIds.indexOf(r.item)), known.map((r) => r.rating), u.factors, p)).toBeLessThan(1e-5);

    const userIds = Array.from(model.userFactorMatrix.ids);
    const raters = itemRatings.filter((r) => userIds.includes(r.user));
    const v = model.foldInItem(itemRatings.map((r) => r.user), itemRatings.map((r) => r.rating));
    expect(v.used).toBe(raters.length);
    expect(residual(model.userFactorMatrix.factors, 8, raters.map((r) => userIds.indexOf(r.user)), raters.map((r) => r.rating), v.factors, p)).toBeLessThan(1e-5);
    // Its raters now score the new listing above the average listing.
    const score = (user: number, item: Float32Array): number => {
      const x = userRow(model, user);
      let s = 0;
      for (let f = 0; f < 8; f++) s += x[f]! * item[f]!;
      return s;
    };
    const V = model.itemFactorMatrix.factors;
    let above = 0;
    for (const r of raters) {
      let mean = 0;
      for (let i = 0; i < V.length / 8; i++) mean += score(r.user, V.subarray(i * 8, (i + 1) * 8));
      mean /= V.length / 8;
      if (score(r.user, v.factors) > mean) above++;
    }
    expect(above).toBeGreaterThan(raters.length / 2);
  }, 300_000);
});

describe('ALS fold-in (explicit ratings)', () => {
  it('equals the trainer\'s user half-step and refuses bad input with typed errors', async () => {
    const explicit: Row[] = [];
    let s = 7;
    const rnd = (): number => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
    for (let u = 0; u < 60; u++) for (let i = 0; i < 40; i++) if (rnd() < 0.3) explicit.push({ user: u, item: i, rating: 1 + Math.floor(rnd() * 5) });
    const model = await new ALS({ rank: 6, maxIter: 3, regParam: 0.2, seed: 3, numUserBlocks: 2, numItemBlocks: 2 }).fit(explicit);
    const users = byUser(explicit);
    let worst = 0;
    for (const [user, list] of users) {
      const f = model.foldInUser(list.map((r) => r.item), list.map((r) => r.rating));
      worst = Math.max(worst, maxDiff(f.factors, userRow(model, user)));
    }
    expect(worst).toBeLessThan(1e-6);
    // No known ratings: nothing to fit, zeros (as the trainer gives a row without ratings).
    expect(Array.from(model.foldInUser([999], [4]).factors)).toEqual(new Array(6).fill(0));

    expect(() => model.foldInUser([1, 2], [3])).toThrow(InvalidTrainingDataError);
    expect(() => model.foldInUser([1, 2], [3])).toThrow(/2 item ids but 1 ratings/);
    expect(() => model.foldInUser([1, 'a'], [3, 4])).toThrow(/mix numbers and strings/);
    expect(() => model.foldInUser(['a'], [3])).toThrow(/integer ids/);
    expect(() => model.foldInUser([1], [Number.NaN])).toThrow(/rating at position 0 is NaN/);
    expect(() => model.foldInUser([1], [3], { solve: 'cg', warmStart: [1, 2] })).toThrow(/warmStart has 2 values, the model's rank is 6/);
    expect(() => model.foldInUser([1], [3], { solve: 'newton' as 'cg' })).toThrow(/solve must be 'exact' or 'cg'/);
  }, 300_000);
});
