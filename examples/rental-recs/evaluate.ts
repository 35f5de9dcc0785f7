/**
 * Scoring and metrics: top-k over the full catalogue excluding the user's rated listings (in remote
 * tasks, item factors shared once through the object store), HR@k / NDCG@k / Recall@k against the
 * held-out listings, and RMSE for explicit ratings. Models plug in as `Scorer`s: ALS factors or a
 * popularity vector today; the neural model (built elsewhere) becomes one more Scorer.
 */
import { get, put } from 'shoal';
import type { ScorerExplain } from './explain.js';
import type { Interactions } from './prepare.js';
import { scoreUser, sliceUsers, type ItemSide, type UserSide } from './scoring.js';
import { topKExcluding, type TopK } from './tasks.js';

/** Weighted listings per user, or similar listings per listing (CSR). */
export interface WeightedCsr {
  ptr: Int32Array;
  idx: Int32Array;
  val: Float32Array;
}

/**
 * What a model must provide to be evaluated and to recommend: dense factors, a popularity vector,
 * or the general form of scoring.ts (factors + a listing prior + item-kNN over the user's history).
 */
export type Scorer =
  | { kind: 'factors'; name: string; rank: number; users: Float32Array; items: Float32Array; itemValid: Uint8Array; userValid: Uint8Array; explain?: ScorerExplain }
  | { kind: 'popularity'; name: string; popularity: Float32Array }
  | {
    kind: 'hybrid'; name: string; rank: number; users: Float32Array | null; items: Float32Array | null; bias: Float32Array | null;
    /** Per user (all dense users): weighted history listings; with `similar`, their neighbours add to the score. */
    context: WeightedCsr | null; similar: WeightedCsr | null; itemValid: Uint8Array | null;
    /** The features the score is the sum of (explain.ts). */
    explain?: ScorerExplain;
  };

/** The two sides of a scorer in the form the scoring kernel takes (scoring.ts). */
export function sidesOf(s: Scorer): { user: UserSide; item: ItemSide } {
  if (s.kind === 'popularity') {
    return { user: { users: null, ctxPtr: null, ctxIdx: null, ctxVal: null }, item: { rank: 0, items: null, valid: null, bias: s.popularity, simPtr: null, simIdx: null, simVal: null } };
  }
  if (s.kind === 'factors') {
    return { user: { users: s.users, ctxPtr: null, ctxIdx: null, ctxVal: null }, item: { rank: s.rank, items: s.items, valid: s.itemValid, bias: null, simPtr: null, simIdx: null, simVal: null } };
  }
  return {
    user: { users: s.users, ctxPtr: s.context?.ptr ?? null, ctxIdx: s.context?.idx ?? null, ctxVal: s.context?.val ?? null },
    item: { rank: s.rank, items: s.items, valid: s.itemValid, bias: s.bias, simPtr: s.similar?.ptr ?? null, simIdx: s.similar?.idx ?? null, simVal: s.similar?.val ?? null },
  };
}

/** Scores of every listing for each of `users`, in the driver (rows of numItems). */
export function scoresOf(s: Scorer, users: ArrayLike<number>, numItems: number): Float32Array {
  const { user, item } = sidesOf(s);
  const chunk = sliceUsers(user, item.rank, users);
  const out = new Float32Array(users.length * numItems);
  for (let j = 0; j < users.length; j++) scoreUser(chunk, j, item, numItems, out.subarray(j * numItems, (j + 1) * numItems));
  return out;
}

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
  const { user, item } = sidesOf(s);
  const work = users.length * numItems * Math.max(1, item.rank);
  const chunks = Math.max(1, Math.min(users.length, 64, Math.ceil(work / 2e7)));
  const itemRef = put(item);
  const refs = [];
  for (let c = 0; c < chunks; c++) {
    const sub = users.subarray(Math.floor((c * users.length) / chunks), Math.floor(((c + 1) * users.length) / chunks));
    const ptr = new Int32Array(sub.length + 1);
    sub.forEach((u, j) => (ptr[j + 1] = ptr[j]! + seen.ptr[u + 1]! - seen.ptr[u]!));
    const idx = new Int32Array(ptr[sub.length]!);
    sub.forEach((u, j) => idx.set(seen.idx.subarray(seen.ptr[u]!, seen.ptr[u + 1]!), ptr[j]!));
    refs.push(topKExcluding.remote(sliceUsers(user, item.rank, sub), sub.length, itemRef, numItems, ptr, idx, k));
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

/** Per-user HR@k, NDCG@k and Recall@k (what the bootstrap resamples). */
export interface PerUserMetrics {
  users: Int32Array;
  hr: Float64Array;
  ndcg: Float64Array;
  recall: Float64Array;
}

/** HR@k, NDCG@k (binary relevance) and Recall@k of each of `users`' top-k against their held-out items. */
export async function perUserMetrics(s: Scorer, users: Int32Array, seen: Csr, heldOut: Csr, numItems: number, k: number): Promise<PerUserMetrics> {
  const top = await topKFor(s, users, seen, numItems, k);
  const out: PerUserMetrics = { users, hr: new Float64Array(users.length), ndcg: new Float64Array(users.length), recall: new Float64Array(users.length) };
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
    out.hr[j] = hits > 0 ? 1 : 0;
    out.ndcg[j] = idcg > 0 ? dcg / idcg : 0;
    out.recall[j] = held.size ? hits / held.size : 0;
  });
  return out;
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
    if (s.kind === 'hybrid') {
      skipped++;
      continue;
    }
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
