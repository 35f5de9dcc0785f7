/**
 * Helpers of the rental-recs integration tests: the PostgreSQL test server (127.0.0.1:5432, db
 * `test`, trust auth; unreachable → skip locally, FAIL when CI is set), a private schema per test
 * file, and the properties every recommendations table must have.
 */
import pg from 'pg';
import { expect } from 'vitest';

export const urlOf = (c: pg.Client): string => `postgres://${encodeURIComponent(c.user ?? 'postgres')}@${c.host}:${c.port}/${c.database ?? 'test'}`;

export { connectTestPostgres, uniqueTable as uniqueName } from '../../harness/postgres.js';

export interface RecRow {
  user_id: bigint | number | string;
  rank: number;
  listing_id: bigint | number | string;
  score: number;
}

/**
 * One row per (user, rank) with ranks exactly 1..topN for every user in `users`, no listing the
 * user rated (`rated` = "user:listing" keys), scores non-increasing by rank.
 */
export function expectValidRecommendations(recs: RecRow[], users: Set<string>, rated: Set<string>, topN = 5): void {
  const byUser = new Map<string, RecRow[]>();
  for (const r of recs) {
    const u = String(r.user_id);
    let list = byUser.get(u);
    if (!list) byUser.set(u, (list = []));
    list.push(r);
  }
  expect(byUser.size).toBe(users.size);
  for (const u of users) expect(byUser.has(u), `user ${u} has recommendations`).toBe(true);
  let ratedHits = 0;
  let orderViolations = 0;
  let rankViolations = 0;
  for (const [u, list] of byUser) {
    list.sort((a, b) => a.rank - b.rank);
    if (list.map((r) => r.rank).join(',') !== Array.from({ length: topN }, (_, i) => i + 1).join(',')) rankViolations++;
    for (let i = 0; i < list.length; i++) {
      if (rated.has(`${u}:${String(list[i]!.listing_id)}`)) ratedHits++;
      if (i > 0 && list[i]!.score > list[i - 1]!.score) orderViolations++;
    }
    expect(new Set(list.map((r) => String(r.listing_id))).size).toBe(list.length);
  }
  expect(rankViolations, 'users whose ranks are not exactly 1..N').toBe(0);
  expect(ratedHits, 'recommended listings the user already rated').toBe(0);
  expect(orderViolations, 'scores increasing with rank').toBe(0);
  expect(recs.length).toBe(users.size * topN);
}

/** One model's row of the job's metrics table (examples/rental-recs/job.ts MetricsRow). */
export interface MetricsLike {
  model: string;
  users: number;
  hr: number;
  ndcg: number;
  recall: number;
  rmse?: number | undefined;
}

/**
 * A random ranking as one more model (a popularity vector of seeded uniform noise): the floor every
 * learned model must clear on the synthetic market, whose ratings follow planted preferences.
 */
export const randomRanking = {
  extraModels: (x: { catalogue: ArrayLike<unknown> }): Promise<Array<{ kind: 'popularity'; name: string; popularity: Float32Array }>> => {
    let s = 12345;
    const next = (): number => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32);
    return Promise.resolve([{ kind: 'popularity', name: 'random', popularity: Float32Array.from({ length: x.catalogue.length }, next) }]);
  },
};

/**
 * The metrics obey their definitions (0 ≤ NDCG@k ≤ HR@k ≤ 1, Recall@k ≤ HR@k, one set of users) and
 * every learned model ranks better than the random one by `factor` on HR@10 and NDCG@10.
 */
export function expectMetricsBeatRandom(metrics: readonly MetricsLike[], learned: RegExp, factor: number): void {
  const random = metrics.find((m) => m.model === 'random');
  expect(random, 'the random-ranking model is in the metrics').toBeDefined();
  for (const m of metrics) {
    expect(m.users, m.model).toBe(metrics[0]!.users);
    expect(m.users, m.model).toBeGreaterThan(0);
    expect(m.ndcg, `${m.model}: NDCG@k ≤ HR@k`).toBeLessThanOrEqual(m.hr);
    expect(m.recall, `${m.model}: Recall@k ≤ HR@k`).toBeLessThanOrEqual(m.hr);
    expect(m.hr, m.model).toBeLessThanOrEqual(1);
    expect(m.ndcg, m.model).toBeGreaterThanOrEqual(0);
    if (m.rmse !== undefined) expect(Number.isFinite(m.rmse) && m.rmse > 0, `${m.model}: rmse ${m.rmse}`).toBe(true);
  }
  const models = metrics.filter((m) => learned.test(m.model));
  expect(models.length).toBeGreaterThan(0);
  for (const m of models) {
    expect(m.hr, `${m.model} HR@10 vs random ${random!.hr}`).toBeGreaterThan(factor * random!.hr);
    expect(m.ndcg, `${m.model} NDCG@10 vs random ${random!.ndcg}`).toBeGreaterThan(factor * random!.ndcg);
  }
}
