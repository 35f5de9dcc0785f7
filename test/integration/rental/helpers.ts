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
