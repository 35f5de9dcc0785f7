/**
 * Scoring and metrics: top-k over the full catalogue excluding the user's rated listings (in remote
 * tasks, item factors shared once through the object store), HR@k / NDCG@k / Recall@k against the
 * held-out listings, and RMSE for explicit ratings. Models plug in as `Scorer`s: ALS factors or a
 * popularity vector today; the neural model (built elsewhere) becomes one more Scorer.
 */
import { get, put } from 'shoal';
import type { Interactions } from './prepare.js';
import { topKExcluding, type TopK } from './tasks.js';

/** What a model must provide to be evaluated and to recommend: dense factors, or a popularity vector. */
export type Scorer =
  | { kind: 'factors'; name: string; rank: number; users: Float32Array; items: Float32Array; itemValid: Uint8Array; userValid: Uint8Array }
  | { kind: 'popularity'; name: string; popularity: Float32Array };

export interface Csr {
  ptr: Int32Array;
  idx: Int32Array;
}

/** Items per user of the given rows, for users 0..numUsers-1. */
export function csrOf(x: Interactions, rows: Int32Array, numUsers: number): Csr {
  const ptr = new Int32Array(numUsers + 1);
  for (const r of rows) ptr[x.user[r]! + 1]!++;
  for (let u = 0; u < numUsers; u++) ptr[u + 1]! += ptr[u]!;
  const fill = ptr.slice(0, numUsers);
  const idx = new Int32Array(rows.length);
  for (const r of rows) idx[fill[x.user[r]!]!++] = x.item[r]!;
  return { ptr, idx };
}

/** Top-k unrated listings for each of `users` (dense indices), computed in tasks. */
export async function topKFor(s: Scorer, users: Int32Array, seen: Csr, numItems: number, k: number): Promise<TopK> {
  const rank = s.kind === 'factors' ? s.rank : 1;
  const work = users.length * numItems * rank;
  const chunks = Math.max(1, Math.min(users.length, 64, Math.ceil(work / 2e7)));
  const itemsRef = s.kind === 'factors' ? put(s.items) : null;
  const validRef = s.kind === 'factors' ? put(s.itemValid) : null;
  const popRef = s.kind === 'popularity' ? put(s.popularity) : null;
  const refs = [];
  for (let c = 0; c < chunks; c++) {
    const sub = users.subarray(Math.floor((c * users.length) / chunks), Math.floor(((c + 1) * users.length) / chunks));
    const ptr = new Int32Array(sub.length + 1);
    sub.forEach((u, j) => (ptr[j + 1] = ptr[j]! + seen.ptr[u + 1]! - seen.ptr[u]!));
    const idx = new Int32Array(ptr[sub.length]!);
    sub.forEach((u, j) => idx.set(seen.idx.subarray(seen.ptr[u]!, seen.ptr[u + 1]!), ptr[j]!));
    let uf: Float32Array | null = null;
    if (s.kind === 'factors') {
      uf = new Float32Array(sub.length * rank);
      sub.forEach((u, j) => uf!.set(s.users.subarray(u * rank, (u + 1) * rank), j * rank));
    }
    refs.push(topKExcluding.remote(uf, sub.length, rank, itemsRef, validRef, popRef, numItems, ptr, idx, k));
  }
  const parts = await get(refs);
  const indices = new Int32Array(users.length * k);
  const scores = new Float32Array(users.length * k);
  let at = 0;
  for (const p of parts) {
    indices.set(p.indices, at);
    scores.set(p.scores, at);
    at += p.indices.length;
  }
  return { indices, scores };
}

export interface RankingMetrics {
  users: number;
  hr: number;
  ndcg: number;
  recall: number;
}

/** HR@k, NDCG@k (binary relevance) and Recall@k of `users`' top-k against their held-out items. */
export async function rankingMetrics(s: Scorer, users: Int32Array, seen: Csr, heldOut: Csr, numItems: number, k: number): Promise<RankingMetrics> {
  const top = await topKFor(s, users, seen, numItems, k);
  let hr = 0;
  let ndcg = 0;
  let recall = 0;
  users.forEach((u, j) => {
    const held = new Set(heldOut.idx.subarray(heldOut.ptr[u]!, heldOut.ptr[u + 1]!));
    let hits = 0;
    let dcg = 0;
    for (let p = 0; p < k; p++) {
      if (held.has(top.indices[j * k + p]!)) {
        hits++;
        dcg += 1 / Math.log2(p + 2);
      }
    }
    let idcg = 0;
    for (let p = 0; p < Math.min(k, held.size); p++) idcg += 1 / Math.log2(p + 2);
    if (hits > 0) hr++;
    ndcg += idcg > 0 ? dcg / idcg : 0;
    recall += held.size ? hits / held.size : 0;
  });
  const n = Math.max(1, users.length);
  return { users: users.length, hr: hr / n, ndcg: ndcg / n, recall: recall / n };
}

/** RMSE of predicted ratings on `rows` (pairs with an unknown user or listing are skipped and counted). */
export function rmse(s: Scorer, x: Interactions, rows: Int32Array, itemMean?: Float32Array, globalMean = 0): { rmse: number; skipped: number } {
  let se = 0;
  let n = 0;
  let skipped = 0;
  for (const r of rows) {
    const u = x.user[r]!;
    const i = x.item[r]!;
    let p: number;
    if (s.kind === 'factors') {
      if (!s.userValid[u] || !s.itemValid[i]) {
        skipped++;
        continue;
      }
      p = 0;
      for (let f = 0; f < s.rank; f++) p += s.users[u * s.rank + f]! * s.items[i * s.rank + f]!;
    } else p = itemMean && !Number.isNaN(itemMean[i]!) ? itemMean[i]! : globalMean;
    se += (p - x.rating[r]!) ** 2;
    n++;
  }
  return { rmse: n ? Math.sqrt(se / n) : NaN, skipped };
}

/** Users (dense indices) with at least one row in `rows`, ascending; at most `max`, evenly sampled. */
export function usersOf(x: Interactions, rows: Int32Array, max = Infinity): Int32Array {
  const all = Int32Array.from(new Set(Array.from(rows, (r) => x.user[r]!))).sort();
  if (all.length <= max) return all;
  return Int32Array.from({ length: max }, (_, j) => all[Math.floor((j * all.length) / max)]!);
}
