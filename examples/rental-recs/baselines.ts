/**
 * The simple baselines, each a real candidate of the model selection (issue 21: on a second city
 * the neural model was level with most-popular and not better than these):
 *
 * - most popular, recency-weighted: Σ over stays before the cut of 0.5^(age / half-life);
 * - same neighbourhood + popularity: listings in the neighbourhood of the user's last stay first,
 *   by popularity within it (users with no known neighbourhood: popularity);
 * - item-kNN on co-stays: Σ over the user's history of cosine(co-stays), popularity breaking ties.
 *
 * All are fitted on the stays before a cut (`fitEvents`), never after it.
 */
import type { Scorer, WeightedCsr } from './evaluate.js';
import type { ListingInfo } from './listing-info.js';
import type { Interactions } from './prepare.js';

/** Half-life of a stay's weight in the popularity prior, days. Not tuned per city. */
export const POPULARITY_HALF_LIFE_DAYS = 180;
/** Neighbours kept per listing in item-kNN. */
export const KNN_NEIGHBOURS = 50;
/** History listings per user counted in co-stays (the most recent). */
const KNN_MAX_HISTORY = 50;

/** Recency-weighted stays per catalogue listing, over the events of `h` before `cutDay`. */
export function recencyPopularity(h: Interactions, cutDay: number, halfLifeDays = POPULARITY_HALF_LIFE_DAYS): Float32Array {
  const pop = new Float32Array(h.catalogue.length);
  const ev = h.events;
  for (const e of h.eventRows) {
    const d = ev.day[e]!;
    if (d >= cutDay) continue;
    pop[ev.item[e]!]! += Math.pow(0.5, (cutDay - d) / halfLifeDays);
  }
  return pop;
}

/** Popularity scaled into [0, scale): a tie-breaker under a stronger signal. */
function scaled(pop: Float32Array, scale: number): Float32Array {
  let max = 0;
  for (const p of pop) max = Math.max(max, p);
  return Float32Array.from(pop, (p) => (max > 0 ? (scale * p) / (max * 1.0001) : 0));
}

export function mostPopular(h: Interactions, cutDay: number): Scorer {
  return { kind: 'popularity', name: 'most popular (recency-weighted)', popularity: recencyPopularity(h, cutDay) };
}

/** The listing of each user's latest stay in `h` (−1: none). */
export function lastStay(h: Interactions, numUsers: number): Int32Array {
  const last = new Int32Array(numUsers).fill(-1);
  const day = new Int32Array(numUsers).fill(-2147483648);
  for (let r = 0; r < h.user.length; r++) {
    const u = h.user[r]!;
    if (h.day[r]! > day[u]! || (h.day[r] === day[u] && h.item[r]! > last[u]!)) {
      day[u] = h.day[r]!;
      last[u] = h.item[r]!;
    }
  }
  return last;
}

export function sameNeighbourhood(h: Interactions, cutDay: number, info: ListingInfo): Scorer {
  const numUsers = h.userIds.length;
  const rank = Math.max(1, info.nbhdNames.length);
  const items = new Float32Array(info.n * rank);
  for (let i = 0; i < info.n; i++) if (info.nbhd[i]! >= 0) items[i * rank + info.nbhd[i]!] = 1;
  const users = new Float32Array(numUsers * rank);
  const last = lastStay(h, numUsers);
  for (let u = 0; u < numUsers; u++) if (last[u]! >= 0 && info.nbhd[last[u]!]! >= 0) users[u * rank + info.nbhd[last[u]!]!] = 1;
  return {
    kind: 'hybrid', name: 'same neighbourhood + popularity', rank, users, items, bias: scaled(recencyPopularity(h, cutDay), 0.5),
    context: null, similar: null, itemValid: null,
  };
}

/** Cosine similarity of co-stays (users who stayed in both), the top `KNN_NEIGHBOURS` per listing. */
export function coStaySimilarity(h: Interactions, numItems: number): WeightedCsr {
  const byUser = new Map<number, Array<{ item: number; day: number }>>();
  for (let r = 0; r < h.user.length; r++) {
    let l = byUser.get(h.user[r]!);
    if (!l) byUser.set(h.user[r]!, (l = []));
    l.push({ item: h.item[r]!, day: h.day[r]! });
  }
  const count = new Float64Array(numItems);
  const co = new Map<number, number>();
  for (const list of byUser.values()) {
    const items = list.sort((a, b) => b.day - a.day).slice(0, KNN_MAX_HISTORY).map((x) => x.item);
    for (const i of items) count[i]!++;
    for (let a = 0; a < items.length; a++) for (let b = 0; b < items.length; b++) {
      if (a === b) continue;
      const key = items[a]! * numItems + items[b]!;
      co.set(key, (co.get(key) ?? 0) + 1);
    }
  }
  const rows: Array<Array<[number, number]>> = Array.from({ length: numItems }, () => []);
  for (const [key, c] of co) {
    const i = Math.floor(key / numItems);
    const j = key % numItems;
    rows[i]!.push([j, c / Math.sqrt(count[i]! * count[j]!)]);
  }
  const ptr = new Int32Array(numItems + 1);
  const idx: number[] = [];
  const val: number[] = [];
  rows.forEach((r, i) => {
    r.sort((a, b) => b[1] - a[1] || a[0] - b[0]);
    for (const [j, s] of r.slice(0, KNN_NEIGHBOURS)) {
      idx.push(j);
      val.push(s);
    }
    ptr[i + 1] = idx.length;
  });
  return { ptr, idx: Int32Array.from(idx), val: Float32Array.from(val) };
}

/** Each user's history listings with weight 1 (the context item-kNN sums the neighbours of). */
export function historyContext(h: Interactions, numUsers: number): WeightedCsr {
  const ptr = new Int32Array(numUsers + 1);
  for (const u of h.user) ptr[u + 1]!++;
  for (let u = 0; u < numUsers; u++) ptr[u + 1]! += ptr[u]!;
  const fill = ptr.slice(0, numUsers);
  const idx = new Int32Array(h.user.length);
  for (let r = 0; r < h.user.length; r++) idx[fill[h.user[r]!]!++] = h.item[r]!;
  return { ptr, idx, val: new Float32Array(h.user.length).fill(1) };
}

export function itemKnn(h: Interactions, cutDay: number): Scorer {
  const numItems = h.catalogue.length;
  return {
    kind: 'hybrid', name: 'item-kNN (co-stays)', rank: 0, users: null, items: null, bias: scaled(recencyPopularity(h, cutDay), 1e-3),
    context: historyContext(h, h.userIds.length), similar: coStaySimilarity(h, numItems), itemValid: null,
  };
}
