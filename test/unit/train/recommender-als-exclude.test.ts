/**
 * ALSModel's `exclude` option (issue 7: never recommend an item the user already rated), on a
 * model built from known factors, ranked locally (no cluster): brute force over all pairs gives
 * the expected lists.
 */
import { describe, expect, it } from 'vitest';
import { ALSModel } from '../../../src/train/index.js';
import { seededRandom } from '../../../src/train/tune/search-space.js';

const RANK = 3;
const USERS = 12;
const ITEMS = 30;

function model(): ALSModel {
  const rand = seededRandom(5);
  const f = (n: number): Float32Array => Float32Array.from({ length: n * RANK }, () => rand() * 2 - 1);
  return new ALSModel(
    RANK,
    { ids: Float64Array.from({ length: USERS }, (_, u) => 100 + u), factors: f(USERS), rank: RANK },
    { ids: Float64Array.from({ length: ITEMS }, (_, i) => 1 + i), factors: f(ITEMS), rank: RANK },
    { userCol: 'user', itemCol: 'item', ratingCol: 'rating', predictionCol: 'prediction', coldStartStrategy: 'nan' },
  );
}

type Lists = Map<number, Array<{ id: number; rating: number }>>;

function lists(t: import('apache-arrow').Table, q: string, target: string): Lists {
  const out: Lists = new Map();
  for (const row of t.toArray()) {
    const r = JSON.parse(JSON.stringify(row.toJSON())) as Record<string, unknown>;
    out.set(r[q] as number, (r.recommendations as Array<Record<string, number>>).map((e) => ({ id: e[target]!, rating: e.rating! })));
  }
  return out;
}

function bruteForce(m: ALSModel, k: number, rated: Set<string>): Map<number, number[]> {
  const out = new Map<number, number[]>();
  for (const u of m.userFactorMatrix.ids) {
    const cands = Array.from(m.itemFactorMatrix.ids).filter((i) => !rated.has(`${u}:${i}`));
    cands.sort((a, b) => m.predict(u, b) - m.predict(u, a) || a - b);
    out.set(u, cands.slice(0, k));
  }
  return out;
}

describe('ALSModel recommendFor* with exclude', () => {
  const m = model();
  // Each user rated its own top items (the hardest case: all of its best would be excluded), plus some at random.
  const rand = seededRandom(9);
  const ratedRows: Array<{ user: number; item: number }> = [];
  for (const u of m.userFactorMatrix.ids) {
    const best = bruteForce(m, 4 + (u % 5), new Set()).get(u)!;
    for (const i of best) ratedRows.push({ user: u, item: i });
    for (let j = 0; j < 3; j++) ratedRows.push({ user: u, item: 1 + Math.floor(rand() * ITEMS) });
  }
  ratedRows.push({ user: 999, item: 1 }, { user: 100, item: 777 }); // ids the model does not know: ignored
  const rated = new Set(ratedRows.map((r) => `${r.user}:${r.item}`));

  it('recommendForAllUsers: the k best unrated items, in order, for every user', async () => {
    const got = lists(await m.recommendForAllUsers(5, { exclude: ratedRows }), 'user', 'item');
    const want = bruteForce(m, 5, rated);
    expect(got.size).toBe(USERS);
    for (const [u, l] of got) {
      expect(l.map((e) => e.id)).toEqual(want.get(u));
      for (const e of l) expect(rated.has(`${u}:${e.id}`)).toBe(false);
      for (let j = 1; j < l.length; j++) expect(l[j]!.rating).toBeLessThanOrEqual(l[j - 1]!.rating);
    }
    // Without exclude the rated top items are back.
    const plain = lists(await m.recommendForAllUsers(5), 'user', 'item');
    expect([...plain].some(([u, l]) => l.some((e) => rated.has(`${u}:${e.id}`)))).toBe(true);
  });

  it('recommendForUserSubset and recommendForAllItems honour exclude too', async () => {
    const sub = lists(await m.recommendForUserSubset([101, 105], 3, { exclude: ratedRows }), 'user', 'item');
    const want = bruteForce(m, 3, rated);
    expect([...sub.keys()]).toEqual([101, 105]);
    for (const [u, l] of sub) expect(l.map((e) => e.id)).toEqual(want.get(u));
    const byItem = lists(await m.recommendForAllItems(4, { exclude: ratedRows }), 'item', 'user');
    // Every item, and for each the 4 best users who did not rate it, by brute force over all pairs.
    expect(byItem.size).toBe(ITEMS);
    for (const [i, l] of byItem) {
      const users = Array.from(m.userFactorMatrix.ids).filter((u) => !rated.has(`${u}:${i}`));
      users.sort((a, b) => m.predict(b, i) - m.predict(a, i) || a - b);
      expect(l.map((e) => e.id), `item ${i}`).toEqual(users.slice(0, 4));
      l.forEach((e) => expect(e.rating).toBeCloseTo(m.predict(e.id, i), 4));
    }
  });

  it('a user who rated every item gets an empty list; k larger than what is left gives what is left', async () => {
    const all = Array.from(m.itemFactorMatrix.ids, (i) => ({ user: 100, item: i }));
    const partial = Array.from(m.itemFactorMatrix.ids.subarray(0, ITEMS - 2), (i) => ({ user: 101, item: i }));
    const got = lists(await m.recommendForAllUsers(5, { exclude: [...all, ...partial] }), 'user', 'item');
    expect(got.get(100)).toEqual([]);
    expect(got.get(101)!.map((e) => e.id).sort((a, b) => a - b)).toEqual([ITEMS - 1, ITEMS]);
    expect(got.get(102)).toHaveLength(5);
  });
});
