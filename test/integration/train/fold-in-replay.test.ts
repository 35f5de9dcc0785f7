/**
 * The freshness bench's quality replay (examples/rental-recs/fold-in-replay.ts) on a short synthetic
 * history with known structure: four groups of listings, every guest staying mostly in one group,
 * guests arriving all along. A model never updated answers the guests who arrive after its cut with
 * the popular listings; fold-in gives them vectors from their first stays, so it must rank their
 * group's listings higher. And the streamed user vectors are exact: each solves the user's normal
 * equations over the whole history against the item factors held fixed — the trainer's user
 * half-step for that user — checked by a plain computation here. (Not by importing the trainer's
 * kernel from src/: a second copy of the runtime in this process breaks the cluster's scoring tasks.)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { foldInReplay, ReplayError, type ReplayResult, type Stays } from '../../../examples/rental-recs/fold-in-replay.js';
import { TestCluster } from '../../harness/test-cluster.js';

const GROUPS = 4;
const PER_GROUP = 10;

/** Seeded synthetic stays: `numUsers` guests, each with 3–6 stays over days 0..119, 90% in their own group. */
function synthetic(numUsers: number, seed: number): Stays {
  let a = seed >>> 0;
  const rnd = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const user: number[] = [];
  const item: number[] = [];
  const day: number[] = [];
  for (let u = 0; u < numUsers; u++) {
    const group = u % GROUPS;
    let d = Math.floor(rnd() * 90);
    const stays = 3 + Math.floor(rnd() * 4);
    for (let k = 0; k < stays; k++) {
      const g = rnd() < 0.9 ? group : Math.floor(rnd() * GROUPS);
      user.push(u);
      item.push(g * PER_GROUP + Math.floor(rnd() * PER_GROUP));
      day.push(d);
      d += 1 + Math.floor(rnd() * 8);
    }
  }
  return { user: Int32Array.from(user), item: Int32Array.from(item), day: Int32Array.from(day), numUsers, numItems: GROUPS * PER_GROUP };
}

const ALS_SETTINGS = { rank: 8, regParam: 0.1, maxIter: 8, alpha: 20, seed: 1 };

let cluster: TestCluster;
let result: ReplayResult;
beforeAll(async () => {
  cluster = await TestCluster.start({ numCpus: 2 });
  result = await foldInReplay(synthetic(600, 11), { als: ALS_SETTINGS });
}, 120_000);
afterAll(async () => {
  await cluster?.stop();
});

describe('fold-in replay (synthetic stays in four listing groups)', () => {
  it('streams the stays after the 0.8 quantile day and evaluates at every checkpoint', () => {
    expect(result.checkpoints).toHaveLength(3);
    expect(result.trainStays + result.streamedStays).toBe(synthetic(600, 11).user.length);
    expect(result.streamedStays / (result.trainStays + result.streamedStays)).toBeGreaterThan(0.1);
    expect(result.userFoldIns).toBeGreaterThan(0);
    // Every listing has stays before the cut: nothing to fold in on the listing side.
    expect(result.listingFoldIns).toBe(0);
    for (const c of result.checkpoints) {
      expect(c.day).toBeGreaterThan(result.cutDay);
      expect(c.users).toBeGreaterThan(0);
    }
    expect(result.units.user.length).toBe(result.checkpoints.reduce((s, c) => s + c.users, 0));
  });

  it('fold-in beats the model never updated (paired bootstrap interval above zero)', () => {
    const { foldInVsNever, ndcg } = result;
    expect(ndcg.foldIn.mean).toBeGreaterThan(ndcg.never.mean);
    expect(foldInVsNever.diff.lo).toBeGreaterThan(0);
    expect(result.updated).not.toBeNull();
    expect(result.updated!.foldInVsNever.diff.mean).toBeGreaterThan(0);
  });

  it("every streamed user vector solves the user's normal equations (the trainer's user half-step) over the whole history", () => {
    const { state } = result;
    const { rank, regParam, alpha } = state.params;
    const users = [...state.foldedUsers];
    expect(users.length).toBeGreaterThan(50);
    // Implicit ALS: (YᵀY + Σ α·r·y yᵀ + λ·n·I) x = Σ (1 + α·r)·y over the user's n listings.
    const yty = new Float64Array(rank * rank);
    for (let i = 0; i < state.items.length / rank; i++) {
      for (let a = 0; a < rank; a++) for (let b = 0; b < rank; b++) yty[a * rank + b]! += state.items[i * rank + a]! * state.items[i * rank + b]!;
    }
    let worst = 0;
    for (const u of users) {
      const h = state.history.get(u)!;
      const m = Float64Array.from(yty);
      const rhs = new Float64Array(rank);
      for (const [i, stays] of h) {
        const y = state.items.subarray(i * rank, (i + 1) * rank);
        for (let a = 0; a < rank; a++) {
          rhs[a]! += (1 + alpha * stays) * y[a]!;
          for (let b = 0; b < rank; b++) m[a * rank + b]! += alpha * stays * y[a]! * y[b]!;
        }
      }
      const x = state.users.subarray(u * rank, (u + 1) * rank);
      let err = 0;
      let scale = 0;
      for (let a = 0; a < rank; a++) {
        let lhs = regParam * h.size * x[a]!;
        for (let b = 0; b < rank; b++) lhs += m[a * rank + b]! * x[b]!;
        err = Math.max(err, Math.abs(lhs - rhs[a]!));
        scale = Math.max(scale, Math.abs(rhs[a]!));
      }
      worst = Math.max(worst, err / scale);
    }
    expect(worst).toBeLessThan(1e-5); // float32 factors: ~4e-8 here; 0.1% off in every value gives 1e-3
  });

  it('is deterministic: a second replay (through a one-point tuning grid) gives the same per-user NDCG', async () => {
    const again = await foldInReplay(synthetic(600, 11), { als: { ...ALS_SETTINGS, rank: 4 }, grid: { rank: [ALS_SETTINGS.rank], regParam: [ALS_SETTINGS.regParam] } });
    expect(again.tuning).toHaveLength(1);
    expect(again.tuning[0]!.users).toBeGreaterThan(0);
    expect(again.als.rank).toBe(ALS_SETTINGS.rank);
    expect(Array.from(again.units.foldIn)).toEqual(Array.from(result.units.foldIn));
    expect(Array.from(again.units.retrain)).toEqual(Array.from(result.units.retrain));
    expect(Array.from(again.units.never)).toEqual(Array.from(result.units.never));
  }, 60_000);

  it('says what is wrong with stays it cannot replay', async () => {
    const oneDay: Stays = { user: Int32Array.of(0, 1), item: Int32Array.of(0, 1), day: Int32Array.of(5, 5), numUsers: 2, numItems: 2 };
    await expect(foldInReplay(oneDay, { als: ALS_SETTINGS })).rejects.toThrow(ReplayError);
    await expect(foldInReplay(oneDay, { als: ALS_SETTINGS })).rejects.toThrow(/too few days to cut at the 0.8 quantile/);
    const bad: Stays = { ...oneDay, item: Int32Array.of(0, 7) };
    await expect(foldInReplay(bad, { als: ALS_SETTINGS })).rejects.toThrow(/stay 1: listing index 7 is outside 0..1/);
  });
});
