/**
 * The learned hybrid: a logistic model over what the data has — the user's last stay (neighbourhood,
 * room type, location, price band, size), their history's text and amenities, co-stays (item-kNN),
 * and popularity as a separate prior, with a "new listing" indicator and a content prior (the mean
 * popularity of its neighbourhood's listings) so that a listing nobody has stayed in yet does not
 * sink by construction (issue 21: the neural model's review-count features are zero for every new
 * listing, and cold listings ranked worse than random).
 *
 * Every feature is bilinear in a user vector and a listing vector (or a listing prior, or the kNN
 * sum), so the fitted model is one `hybrid` Scorer (scoring.ts) that evaluation and top-N run like
 * any other. The weights are learned without looking past the cut: the stays before it are split
 * again by time (the last `INNER_FRACTION` of them are the targets, the ones before the history),
 * positives are the listings users went on to discover, negatives are drawn from the whole catalogue.
 */
import type { Scorer, WeightedCsr } from './evaluate.js';
import { coStaySimilarity, historyContext, lastStay, recencyPopularity } from './baselines.js';
import { AMENITY_DIMS, TEXT_DIMS, type ListingInfo } from './listing-info.js';
import { collapse, type Interactions } from './prepare.js';

const INNER_FRACTION = 0.2;
const NEGATIVES = 20;
const LOCATION_CENTRES = 24;
const EPOCHS = 300;

interface Block {
  name: string;
  dims: number;
  /** numUsers × dims (null: the feature is a listing prior only). */
  users: Float32Array | null;
  /** numItems × dims. */
  items: Float32Array | null;
  /** numItems. */
  bias: Float32Array | null;
}

interface Features {
  blocks: Block[];
  knn: { context: WeightedCsr; similar: WeightedCsr };
  names: string[];
}

function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Radial features of each listing's location around `LOCATION_CENTRES` listings (chosen by a seeded draw), L2-normalised. */
function locationRbf(info: ListingInfo): Float32Array {
  const out = new Float32Array(info.n * LOCATION_CENTRES);
  if (!info.has.location) return out;
  const r = rng(17);
  const centres: Array<[number, number]> = [];
  for (let k = 0; k < LOCATION_CENTRES; k++) {
    const i = Math.floor(r() * info.n);
    centres.push([info.lat[i]!, info.lon[i]!]);
  }
  // Width: the median distance between centres (scale-free: the same rule on any city).
  const d: number[] = [];
  for (const a of centres) for (const b of centres) if (a !== b) d.push(Math.hypot(a[0] - b[0], a[1] - b[1]));
  d.sort((x, y) => x - y);
  const width = Math.max(1e-3, (d[Math.floor(d.length / 4)] ?? 1) / 2);
  for (let i = 0; i < info.n; i++) {
    let s = 0;
    for (let k = 0; k < LOCATION_CENTRES; k++) {
      const v = Math.exp(-((info.lat[i]! - centres[k]![0]) ** 2 + (info.lon[i]! - centres[k]![1]) ** 2) / (2 * width * width));
      out[i * LOCATION_CENTRES + k] = v;
      s += v * v;
    }
    if (s > 0) for (let k = 0; k < LOCATION_CENTRES; k++) out[i * LOCATION_CENTRES + k]! /= Math.sqrt(s);
  }
  return out;
}

/** The feature blocks of users' histories in `h` (stays before `cutDay`). */
function features(h: Interactions, cutDay: number, info: ListingInfo, rbf: Float32Array): Features {
  const numUsers = h.userIds.length;
  const n = info.n;
  const last = lastStay(h, numUsers);
  const blocks: Block[] = [];
  const pop = recencyPopularity(h, cutDay);
  const warm = new Uint8Array(n);
  for (const i of h.item) warm[i] = 1;
  blocks.push({ name: 'popularity', dims: 0, users: null, items: null, bias: Float32Array.from(pop, (p) => Math.log1p(p)) });
  blocks.push({ name: 'new listing', dims: 0, users: null, items: null, bias: Float32Array.from(warm, (w) => (w ? 0 : 1)) });
  // Content prior of a new listing: the mean log-popularity of the warm listings of its neighbourhood.
  const nbSum = new Float64Array(info.nbhdNames.length + 1);
  const nbCnt = new Float64Array(info.nbhdNames.length + 1);
  for (let i = 0; i < n; i++) if (warm[i]) {
    const g = info.nbhd[i]! + 1;
    nbSum[g]! += Math.log1p(pop[i]!);
    nbCnt[g]!++;
  }
  blocks.push({
    name: 'new listing × neighbourhood prior', dims: 0, users: null, items: null,
    bias: Float32Array.from({ length: n }, (_, i) => (warm[i] ? 0 : nbCnt[info.nbhd[i]! + 1]! ? nbSum[info.nbhd[i]! + 1]! / nbCnt[info.nbhd[i]! + 1]! : 0)),
  });
  const oneHot = (name: string, of: Int32Array, dims: number): void => {
    if (dims === 0) return;
    const items = new Float32Array(n * dims);
    for (let i = 0; i < n; i++) if (of[i]! >= 0) items[i * dims + of[i]!] = 1;
    const users = new Float32Array(numUsers * dims);
    for (let u = 0; u < numUsers; u++) if (last[u]! >= 0 && of[last[u]!]! >= 0) users[u * dims + of[last[u]!]!] = 1;
    blocks.push({ name, dims, users, items, bias: null });
  };
  oneHot('same neighbourhood', info.nbhd, info.nbhdNames.length);
  oneHot('same room type', info.room, info.roomNames.length);
  const copyLast = (name: string, per: Float32Array, dims: number): void => {
    const users = new Float32Array(numUsers * dims);
    for (let u = 0; u < numUsers; u++) if (last[u]! >= 0) users.set(per.subarray(last[u]! * dims, (last[u]! + 1) * dims), u * dims);
    blocks.push({ name, dims, users, items: per, bias: null });
  };
  if (info.has.location) copyLast('near the last stay', rbf, LOCATION_CENTRES);
  // −(a − b)² = 2ab − b² − a² (a² is the same for every listing of a user: dropped).
  const closeness = (name: string, v: Float32Array): void => {
    const users = new Float32Array(numUsers);
    for (let u = 0; u < numUsers; u++) if (last[u]! >= 0) users[u] = 2 * v[last[u]!]!;
    blocks.push({ name, dims: 1, users, items: v, bias: Float32Array.from(v, (x) => -x * x) });
  };
  if (info.has.price) closeness('price like the last stay', info.price);
  if (info.has.size) closeness('size like the last stay', info.size);
  const historyMean = (name: string, per: Float32Array, dims: number): void => {
    const users = new Float32Array(numUsers * dims);
    for (let r = 0; r < h.user.length; r++) {
      const u = h.user[r]!;
      const i = h.item[r]!;
      for (let d = 0; d < dims; d++) users[u * dims + d]! += per[i * dims + d]!;
    }
    for (let u = 0; u < numUsers; u++) {
      let s = 0;
      for (let d = 0; d < dims; d++) s += users[u * dims + d]! ** 2;
      if (s > 0) for (let d = 0; d < dims; d++) users[u * dims + d]! /= Math.sqrt(s);
    }
    blocks.push({ name, dims, users, items: per, bias: null });
  };
  if (info.has.text) historyMean('text like the history', info.text, TEXT_DIMS);
  if (info.has.amenities) historyMean('amenities like the history', info.amenities, AMENITY_DIMS);
  const knn = { context: historyContext(h, numUsers), similar: coStaySimilarity(h, n) };
  return { blocks, knn, names: [...blocks.map((b) => b.name), 'co-stays (item-kNN)'] };
}

/** φ(u, i): one value per block, then the kNN sum. */
function phi(f: Features, u: number, i: number, ctxSet: Map<number, number> | undefined, out: Float64Array): void {
  f.blocks.forEach((b, k) => {
    let v = b.bias ? b.bias[i]! : 0;
    if (b.users && b.items) for (let d = 0; d < b.dims; d++) v += b.users[u * b.dims + d]! * b.items[i * b.dims + d]!;
    out[k] = v;
  });
  let s = 0;
  if (ctxSet) {
    const sim = f.knn.similar;
    for (const [src, w] of ctxSet) for (let p = sim.ptr[src]!; p < sim.ptr[src + 1]!; p++) if (sim.idx[p] === i) s += w * sim.val[p]!;
  }
  out[f.blocks.length] = s;
}

export interface HybridFit {
  scorer: Scorer;
  weights: Array<{ feature: string; weight: number }>;
  trainingPairs: number;
}

/** Logistic regression (full-batch gradient descent on standardised features, small L2). */
function logistic(x: Float64Array[], y: Uint8Array, dims: number): Float64Array {
  const n = x.length;
  const mu = new Float64Array(dims);
  const sd = new Float64Array(dims);
  for (const row of x) for (let d = 0; d < dims; d++) mu[d]! += row[d]! / n;
  for (const row of x) for (let d = 0; d < dims; d++) sd[d]! += (row[d]! - mu[d]!) ** 2 / n;
  for (let d = 0; d < dims; d++) sd[d] = Math.sqrt(sd[d]!) || 1;
  const z = x.map((row) => Float64Array.from(row, (v, d) => (v - mu[d]!) / sd[d]!));
  const w = new Float64Array(dims);
  let b = 0;
  const m = new Float64Array(dims + 1);
  const v = new Float64Array(dims + 1);
  const lr = 0.05;
  for (let it = 1; it <= EPOCHS; it++) {
    const g = new Float64Array(dims + 1);
    for (let r = 0; r < n; r++) {
      let s = b;
      for (let d = 0; d < dims; d++) s += w[d]! * z[r]![d]!;
      const err = 1 / (1 + Math.exp(-s)) - y[r]!;
      for (let d = 0; d < dims; d++) g[d]! += (err * z[r]![d]!) / n;
      g[dims]! += err / n;
    }
    for (let d = 0; d < dims; d++) g[d]! += 1e-3 * w[d]!;
    // Adam.
    for (let d = 0; d <= dims; d++) {
      m[d] = 0.9 * m[d]! + 0.1 * g[d]!;
      v[d] = 0.999 * v[d]! + 0.001 * g[d]! ** 2;
      const step = (lr * (m[d]! / (1 - 0.9 ** it))) / (Math.sqrt(v[d]! / (1 - 0.999 ** it)) + 1e-8);
      if (d < dims) w[d]! -= step;
      else b -= step;
    }
  }
  return Float64Array.from(w, (x2, d) => x2 / sd[d]!);
}

/** Fits the weights on the stays of `h` (all before `cutDay`) and returns the scorer over the whole of `h`. */
export function fitHybrid(h: Interactions, cutDay: number, info: ListingInfo, seed = 1): HybridFit {
  const rbf = locationRbf(info);
  const days = Int32Array.from(h.eventRows, (e) => h.events.day[e]!).sort();
  const innerCut = days[Math.floor((1 - INNER_FRACTION) * days.length)] ?? cutDay;
  const innerRows = h.eventRows.filter((e) => h.events.day[e]! < innerCut);
  const inner = collapse(h, innerRows);
  const f = features(inner, innerCut, info, rbf);
  const dims = f.blocks.length + 1;
  const hist = new Map<number, Map<number, number>>();
  for (let r = 0; r < inner.user.length; r++) {
    let m = hist.get(inner.user[r]!);
    if (!m) hist.set(inner.user[r]!, (m = new Map()));
    m.set(inner.item[r]!, 1);
  }
  const r = rng(seed);
  const xs: Float64Array[] = [];
  const ys: number[] = [];
  const seenPair = new Set<number>();
  for (const e of h.eventRows) {
    if (h.events.day[e]! < innerCut) continue;
    const u = h.events.user[e]!;
    const i = h.events.item[e]!;
    const hu = hist.get(u);
    if (!hu || hu.has(i) || seenPair.has(u * info.n + i)) continue; // discovery by a user with history
    seenPair.add(u * info.n + i);
    const pos = new Float64Array(dims);
    phi(f, u, i, hu, pos);
    xs.push(pos);
    ys.push(1);
    for (let k = 0; k < NEGATIVES; k++) {
      const j = Math.floor(r() * info.n);
      if (hu.has(j) || j === i) continue;
      const neg = new Float64Array(dims);
      phi(f, u, j, hu, neg);
      xs.push(neg);
      ys.push(0);
    }
  }
  // Too few discoveries to learn from: popularity alone (weight 1), the rest off.
  const w = ys.filter((y) => y === 1).length >= 10 ? logistic(xs, Uint8Array.from(ys), dims) : Float64Array.from({ length: dims }, (_, d) => (d === 0 ? 1 : 0));
  // The scorer: the same features over the whole of h, weighted.
  const full = features(h, cutDay, info, rbf);
  const numUsers = h.userIds.length;
  const rank = full.blocks.reduce((s, b) => s + (b.users && b.items ? b.dims : 0), 0);
  const users = new Float32Array(numUsers * rank);
  const items = new Float32Array(info.n * rank);
  const bias = new Float32Array(info.n);
  let off = 0;
  full.blocks.forEach((b, k) => {
    const wk = w[k]!;
    if (b.bias) for (let i = 0; i < info.n; i++) bias[i]! += wk * b.bias[i]!;
    if (!b.users || !b.items) return;
    for (let u = 0; u < numUsers; u++) for (let d = 0; d < b.dims; d++) users[u * rank + off + d] = wk * b.users[u * b.dims + d]!;
    for (let i = 0; i < info.n; i++) for (let d = 0; d < b.dims; d++) items[i * rank + off + d] = b.items[i * b.dims + d]!;
    off += b.dims;
  });
  const wk = w[dims - 1]!;
  const context = { ...full.knn.context, val: Float32Array.from(full.knn.context.val, (v) => v * wk) };
  return {
    scorer: { kind: 'hybrid', name: 'hybrid (learned: content + last stay + co-stays + popularity prior)', rank, users, items, bias, context, similar: full.knn.similar, itemValid: null },
    weights: full.names.map((feature, d) => ({ feature, weight: w[d]! })),
    trainingPairs: ys.length,
  };
}
