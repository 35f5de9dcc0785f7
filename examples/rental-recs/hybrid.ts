/**
 * The learned hybrid: a logistic model over what the data has — the user's last stay (neighbourhood,
 * room type, location, price, size), their history's text and amenities, co-stays (item-kNN), and
 * popularity as a separate prior. For a listing nobody has stayed in yet, the prior is the
 * popularity its content predicts (ridge regression on the warm listings: neighbourhood, room type,
 * location, price, size, stay rules, text, amenities, creation order by id, the host's other
 * listings' stays), on the same scale as a warm listing's and with no "new listing" term: a new
 * listing competes as a warm listing with its content would, and does not sink by construction
 * (issue 21: the neural model's review-count features are zero for every new listing, and cold
 * listings ranked worse than random; a learned "new listing" indicator did the same — it learns
 * that most never-stayed listings are inactive, and ranked the simulated cold listings at 0.38
 * (Albany) and 0.47 (Beijing) of the unrated listings, against 0.19 and 0.31 without it).
 *
 * Every feature is bilinear in a user vector and a listing vector (or a listing prior, or the kNN
 * sum), so the fitted model is one `hybrid` Scorer (scoring.ts) that evaluation and top-N run like
 * any other. The weights are learned without looking past the cut: the stays before it are split
 * again by time into `INNER_WINDOWS` windows of `INNER_FRACTION` of the stays each (the targets,
 * with the stays before each window as the history), positives are the listings users went on to
 * discover, negatives are drawn from the whole catalogue.
 */
import type { Scorer, WeightedCsr } from './evaluate.js';
import { coStaySimilarity, historyContext, lastStay, recencyPopularity } from './baselines.js';
import { AMENITY_DIMS, TEXT_DIMS, type ListingInfo } from './listing-info.js';
import { collapse, type Interactions } from './prepare.js';
import type { AdditiveFeature } from './explain.js';
import { permutationImportance, rocAuc, type PermutationImportance } from 'shoal/train';

const INNER_FRACTION = 0.2;
const INNER_WINDOWS = 3;
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
  knn: { context: WeightedCsr; similar: WeightedCsr; sameHost: WeightedCsr };
  names: string[];
}

/** Listings sharing a host (each with weight 1; at most 50 per listing). */
function sameHostCsr(info: ListingInfo): WeightedCsr {
  const byHost = new Map<number, number[]>();
  for (let i = 0; i < info.n; i++) if (info.host[i]! >= 0) {
    let l = byHost.get(info.host[i]!);
    if (!l) byHost.set(info.host[i]!, (l = []));
    l.push(i);
  }
  const ptr = new Int32Array(info.n + 1);
  const idx: number[] = [];
  for (let i = 0; i < info.n; i++) {
    if (info.host[i]! >= 0) for (const j of byHost.get(info.host[i]!)!.slice(0, 51)) if (j !== i) idx.push(j);
    ptr[i + 1] = idx.length;
  }
  return { ptr, idx: Int32Array.from(idx), val: new Float32Array(idx.length).fill(1) };
}

/** a·A + b·B of two sparse listing × listing matrices. */
function mergeCsr(a: WeightedCsr, wa: number, b: WeightedCsr, wb: number, n: number): WeightedCsr {
  const ptr = new Int32Array(n + 1);
  const idx: number[] = [];
  const val: number[] = [];
  for (let i = 0; i < n; i++) {
    const m = new Map<number, number>();
    for (let p = a.ptr[i]!; p < a.ptr[i + 1]!; p++) m.set(a.idx[p]!, (m.get(a.idx[p]!) ?? 0) + wa * a.val[p]!);
    for (let p = b.ptr[i]!; p < b.ptr[i + 1]!; p++) m.set(b.idx[p]!, (m.get(b.idx[p]!) ?? 0) + wb * b.val[p]!);
    for (const [j, v] of m) {
      idx.push(j);
      val.push(v);
    }
    ptr[i + 1] = idx.length;
  }
  return { ptr, idx: Int32Array.from(idx), val: Float32Array.from(val) };
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

/**
 * Content of each listing as one row (neighbourhood, room type, location, price, size, stay rules,
 * text, amenities, id rank (creation order) and its square, the host's other listings' log
 * popularity and whether there is any, intercept).
 */
function contentRows(info: ListingInfo, rbf: Float32Array, hostPop: Float32Array): { x: Float32Array; dims: number } {
  const parts = info.nbhdNames.length + info.roomNames.length + LOCATION_CENTRES + 6 + TEXT_DIMS + AMENITY_DIMS + 4 + 1;
  const x = new Float32Array(info.n * parts);
  for (let i = 0; i < info.n; i++) {
    let o = i * parts;
    if (info.nbhd[i]! >= 0) x[o + info.nbhd[i]!] = 1;
    o += info.nbhdNames.length;
    if (info.room[i]! >= 0) x[o + info.room[i]!] = 1;
    o += info.roomNames.length;
    x.set(rbf.subarray(i * LOCATION_CENTRES, (i + 1) * LOCATION_CENTRES), o);
    o += LOCATION_CENTRES;
    x[o++] = info.price[i]!;
    x[o++] = info.price[i]! ** 2;
    x[o++] = info.size[i]!;
    x[o++] = info.minNights[i]!;
    x[o++] = info.availability[i]!;
    x[o++] = info.availability[i]! ** 2;
    x.set(info.text.subarray(i * TEXT_DIMS, (i + 1) * TEXT_DIMS), o);
    o += TEXT_DIMS;
    x.set(info.amenities.subarray(i * AMENITY_DIMS, (i + 1) * AMENITY_DIMS), o);
    o += AMENITY_DIMS;
    x[o++] = info.idRank[i]!;
    x[o++] = info.idRank[i]! ** 2;
    x[o++] = hostPop[i]!;
    x[o++] = hostPop[i]! > 0 ? 1 : 0;
    x[o] = 1;
  }
  return { x, dims: parts };
}

/** Ridge regression of log-popularity on content, fitted on the warm listings; predictions for all (≥ 0). */
function contentPrior(info: ListingInfo, rbf: Float32Array, warm: Uint8Array, logPop: Float32Array): Float32Array {
  // The host's other listings' stays: a new listing of a host whose listings are stayed in is live.
  const byHost = new Map<number, number>();
  for (let i = 0; i < info.n; i++) if (info.host[i]! >= 0) byHost.set(info.host[i]!, (byHost.get(info.host[i]!) ?? 0) + Math.expm1(logPop[i]!));
  const hostPop = Float32Array.from({ length: info.n }, (_, i) => (info.host[i]! >= 0 ? Math.log1p(Math.max(0, byHost.get(info.host[i]!)! - Math.expm1(logPop[i]!))) : 0));
  const { x, dims } = contentRows(info, rbf, hostPop);
  const a = new Float64Array(dims * dims);
  const b = new Float64Array(dims);
  let n = 0;
  for (let i = 0; i < info.n; i++) {
    if (!warm[i]) continue;
    n++;
    const row = x.subarray(i * dims, (i + 1) * dims);
    for (let p = 0; p < dims; p++) {
      const v = row[p]!;
      if (v === 0) continue;
      b[p]! += v * logPop[i]!;
      for (let q = 0; q < dims; q++) a[p * dims + q]! += v * row[q]!;
    }
  }
  const out = new Float32Array(info.n);
  if (n < 5) return out;
  for (let p = 0; p < dims; p++) a[p * dims + p]! += 1; // ridge λ = 1
  // Cholesky solve of the (symmetric positive definite) normal equations.
  const l = new Float64Array(dims * dims);
  for (let p = 0; p < dims; p++) {
    for (let q = 0; q <= p; q++) {
      let s = a[p * dims + q]!;
      for (let k = 0; k < q; k++) s -= l[p * dims + k]! * l[q * dims + k]!;
      l[p * dims + q] = p === q ? Math.sqrt(Math.max(s, 1e-12)) : s / l[q * dims + q]!;
    }
  }
  const y = new Float64Array(dims);
  for (let p = 0; p < dims; p++) {
    let s = b[p]!;
    for (let k = 0; k < p; k++) s -= l[p * dims + k]! * y[k]!;
    y[p] = s / l[p * dims + p]!;
  }
  const w = new Float64Array(dims);
  for (let p = dims - 1; p >= 0; p--) {
    let s = y[p]!;
    for (let k = p + 1; k < dims; k++) s -= l[k * dims + p]! * w[k]!;
    w[p] = s / l[p * dims + p]!;
  }
  for (let i = 0; i < info.n; i++) {
    let s = 0;
    for (let p = 0; p < dims; p++) s += w[p]! * x[i * dims + p]!;
    out[i] = Math.max(0, s);
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
  // Popularity as a separate prior: a listing's recency-weighted stays, or, for one nobody has
  // stayed in before the cut, the popularity its content predicts (a ridge fit on the warm listings)
  // — so a new listing competes on the same scale instead of sinking by construction (no "new
  // listing" term: see the header).
  const logPop = Float32Array.from(pop, (p) => Math.log1p(p));
  const predicted = contentPrior(info, rbf, warm, logPop);
  blocks.push({ name: 'popularity prior (content-predicted when new)', dims: 0, users: null, items: null, bias: Float32Array.from(logPop, (p, i) => (warm[i] ? p : predicted[i]!)) });
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
  const knn = { context: historyContext(h, numUsers), similar: coStaySimilarity(h, n), sameHost: sameHostCsr(info) };
  return { blocks, knn, names: [...blocks.map((b) => b.name), 'co-stays (item-kNN)', 'same host as the history'] };
}

/** φ(u, i): one value per block, then the kNN sum. */
function phi(f: Features, u: number, i: number, ctxSet: Map<number, number> | undefined, out: Float64Array): void {
  f.blocks.forEach((b, k) => {
    let v = b.bias ? b.bias[i]! : 0;
    if (b.users && b.items) for (let d = 0; d < b.dims; d++) v += b.users[u * b.dims + d]! * b.items[i * b.dims + d]!;
    out[k] = v;
  });
  const sparse = (sim: WeightedCsr): number => {
    let s = 0;
    if (ctxSet) for (const [src, w] of ctxSet) for (let p = sim.ptr[src]!; p < sim.ptr[src + 1]!; p++) if (sim.idx[p] === i) s += w * sim.val[p]!;
    return s;
  };
  out[f.blocks.length] = sparse(f.knn.similar);
  out[f.blocks.length + 1] = sparse(f.knn.sameHost);
}

export interface HybridFit {
  scorer: Scorer;
  weights: Array<{ feature: string; weight: number }>;
  trainingPairs: number;
  /** Permutation importance of each feature (AUC drop) on the validation pairs, when validation events were given. */
  importance: PermutationImportance | null;
}

/** Logistic regression (full-batch gradient descent on standardised features, small L2). */
function logistic(x: Float64Array[], y: Uint8Array, dims: number): Float64Array {
  const n = x.length;
  const mu = new Float64Array(dims);
  const sd = new Float64Array(dims);
  for (const row of x) for (let d = 0; d < dims; d++) mu[d]! += row[d]! / n;
  for (const row of x) for (let d = 0; d < dims; d++) sd[d]! += (row[d]! - mu[d]!) ** 2 / n;
  // A constant feature (one room type in the city, say) has a spread of rounding noise, not 0:
  // standardising by it would blow its weight up. It carries nothing: its weight is 0.
  const constant = new Uint8Array(dims);
  for (let d = 0; d < dims; d++) {
    sd[d] = Math.sqrt(sd[d]!);
    if (!(sd[d]! > 1e-6)) {
      constant[d] = 1;
      sd[d] = 1;
    }
  }
  const z = x.map((row) => Float64Array.from(row, (v, d) => (constant[d] ? 0 : (v - mu[d]!) / sd[d]!)));
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
  return Float64Array.from(w, (x2, d) => (constant[d] ? 0 : x2 / sd[d]!));
}

/**
 * Training pairs of one inner window [innerCut, windowEnd) of `h`: each discovery (a listing a user
 * with history before `innerCut` stays in for the first time) is a positive, `NEGATIVES` listings
 * drawn from the whole catalogue are its negatives; features from the stays before `innerCut`.
 */
function windowPairs(h: Interactions, innerCut: number, windowEnd: number, info: ListingInfo, rbf: Float32Array, r: () => number, xs: Float64Array[], ys: number[]): number {
  const inner = collapse(h, h.eventRows.filter((e) => h.events.day[e]! < innerCut));
  const f = features(inner, innerCut, info, rbf);
  const rows = h.eventRows.filter((e) => h.events.day[e]! >= innerCut && h.events.day[e]! < windowEnd);
  const p = discoveryPairs(f, inner, h.events, rows, info.n, r);
  for (const x of p.xs) xs.push(x);
  for (const y of p.ys) ys.push(y);
  return f.blocks.length + 2;
}

/**
 * Training (or validation) pairs: for each event of `rows` that is a discovery by a user with
 * history in `h` (a listing not in it; each pair once), φ of the listing (label 1) and of up to
 * NEGATIVES listings drawn from the catalogue (label 0).
 */
function discoveryPairs(f: Features, h: Interactions, events: Interactions['events'], rows: ArrayLike<number>, n: number, r: () => number): { xs: Float64Array[]; ys: number[] } {
  const dims = f.blocks.length + 2;
  const hist = new Map<number, Map<number, number>>();
  for (let q = 0; q < h.user.length; q++) {
    let m = hist.get(h.user[q]!);
    if (!m) hist.set(h.user[q]!, (m = new Map()));
    m.set(h.item[q]!, 1);
  }
  const xs: Float64Array[] = [];
  const ys: number[] = [];
  const seenPair = new Set<number>();
  for (let q = 0; q < rows.length; q++) {
    const e = rows[q]!;
    const u = events.user[e]!;
    const i = events.item[e]!;
    const hu = hist.get(u);
    if (!hu || hu.has(i) || seenPair.has(u * n + i)) continue; // discovery by a user with history
    seenPair.add(u * n + i);
    const pos = new Float64Array(dims);
    phi(f, u, i, hu, pos);
    xs.push(pos);
    ys.push(1);
    for (let k = 0; k < NEGATIVES; k++) {
      const j = Math.floor(r() * n);
      if (hu.has(j) || j === i) continue;
      const neg = new Float64Array(dims);
      phi(f, u, j, hu, neg);
      xs.push(neg);
      ys.push(0);
    }
  }
  return { xs, ys };
}

/**
 * Fits the weights on the stays of `h` (all before `cutDay`) and returns the scorer over the whole of
 * `h`. With `validationEvents` (rows of `h.events` after the cut), also the global importance of each
 * feature: permutation importance (shoal/train) of the fitted logit's AUC on the validation window's
 * discovery pairs, built from `h`'s histories the way training pairs are.
 */
export function fitHybrid(h: Interactions, cutDay: number, info: ListingInfo, seed = 1, validationEvents?: Int32Array): HybridFit {
  const rbf = locationRbf(info);
  const days = Int32Array.from(h.eventRows, (e) => h.events.day[e]!).sort();
  const r = rng(seed);
  const xs: Float64Array[] = [];
  const ys: number[] = [];
  let dims = 0;
  // `INNER_WINDOWS` consecutive windows back from the cut (each the next `INNER_FRACTION` of the
  // stays), each with the stays before it as the history: more discoveries to learn from.
  let windowEnd = cutDay;
  for (let k = 1; k <= INNER_WINDOWS; k++) {
    const innerCut = days[Math.floor(Math.max(0, 1 - k * INNER_FRACTION) * days.length)] ?? cutDay;
    dims = windowPairs(h, innerCut, windowEnd, info, rbf, r, xs, ys);
    windowEnd = innerCut;
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
  // The served score is the sum of these features' terms (explain.ts explains it by them).
  const explained: AdditiveFeature[] = [];
  full.blocks.forEach((b, k) => {
    const wk = w[k]!;
    const feature: AdditiveFeature = { name: b.name, offset: off, dims: 0, bias: null, knn: null };
    explained.push(feature);
    if (b.bias) {
      feature.bias = Float32Array.from(b.bias, (v) => wk * v);
      for (let i = 0; i < info.n; i++) bias[i]! += wk * b.bias[i]!;
    }
    if (!b.users || !b.items) return;
    feature.dims = b.dims;
    for (let u = 0; u < numUsers; u++) for (let d = 0; d < b.dims; d++) users[u * rank + off + d] = wk * b.users[u * b.dims + d]!;
    for (let i = 0; i < info.n; i++) for (let d = 0; d < b.dims; d++) items[i * rank + off + d] = b.items[i * b.dims + d]!;
    off += b.dims;
  });
  const scaled = (c: WeightedCsr, wk: number): WeightedCsr => ({ ptr: c.ptr, idx: c.idx, val: Float32Array.from(c.val, (v) => wk * v) });
  explained.push(
    { name: full.names[dims - 2]!, offset: 0, dims: 0, bias: null, knn: scaled(full.knn.similar, w[dims - 2]!) },
    { name: full.names[dims - 1]!, offset: 0, dims: 0, bias: null, knn: scaled(full.knn.sameHost, w[dims - 1]!) },
  );
  const similar = mergeCsr(full.knn.similar, w[dims - 2]!, full.knn.sameHost, w[dims - 1]!, info.n);
  let importance: PermutationImportance | null = null;
  if (validationEvents) {
    const val = discoveryPairs(full, h, h.events, validationEvents, info.n, rng(seed + 1));
    if (val.ys.includes(1) && val.ys.includes(0)) {
      const rows = new Float64Array(val.xs.length * dims);
      val.xs.forEach((x, k) => rows.set(x, k * dims));
      const logit = (batch: Float64Array, m: number): Float64Array => Float64Array.from({ length: m }, (_, k) => {
        let z = 0;
        for (let d = 0; d < dims; d++) z += w[d]! * batch[k * dims + d]!;
        return z;
      });
      importance = permutationImportance(logit, rows, val.xs.length, Uint8Array.from(val.ys), rocAuc, { repeats: 5, seed, names: full.names });
    }
  }
  return {
    importance,
    scorer: {
      kind: 'hybrid', name: 'hybrid (learned: content + last stay + co-stays + popularity prior)', rank, users, items, bias, context: full.knn.context, similar, itemValid: null,
      explain: { kind: 'additive', features: explained },
    },
    weights: full.names.map((feature, d) => ({ feature, weight: w[d]! })),
    trainingPairs: ys.length,
  };
}
