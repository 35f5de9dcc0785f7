/**
 * Quality beside speed (issue 18): replays stays in time order and asks whether recommendations
 * kept fresh by fold-in are as good as a full retrain, and better than a model never updated.
 *
 * The protocol, chosen by rules (nothing tuned to a city):
 * - The cut day is the `cutQuantile` (default 0.8) quantile of the stays' days. ALS (implicit; the
 *   caller's settings) is fitted on every stay before it: the starting model. With `grid`, its rank
 *   and λ are chosen first as the rental job chooses them — the best validation NDCG@k — on the
 *   stays before the cut alone (cut again at their own `cutQuantile` day, the window after it
 *   evaluated like the checkpoints below), so nothing after the cut decides the settings.
 * - The rest is streamed in day order, one micro-batch per day, as the live path applies it: each
 *   stay is added to its user's history (repeated stays of a pair summed, as the rental job does);
 *   every user touched by the batch is folded in — an exact solve over the user's whole history
 *   against the item factors held fixed (a new user the same way); with `foldInNewListings`, a
 *   listing the starting model did not know gets its vector by fold-in from its raters' current
 *   vectors once it has stays (it is recommendable from then on).
 * - Checkpoints: the streamed stays are divided into `checkpoints + 1` parts of equal size; at each
 *   inner boundary day Ts, before that day's batch, three models are asked about the stays from Ts
 *   to the next checkpoint (or the end): fold-in (the streamed state), a full retrain on every stay
 *   before Ts (same settings), and the starting model never updated.
 * - Evaluated: users with a history before Ts and a stay in the window in a listing outside that
 *   history (the discovery targets, as the rental job's time split). Each model excludes from its
 *   ranking the listings it knows the user stayed in (the starting model: stays before the cut) and
 *   answers a user it has no vector for with the most popular listings by the stays it has seen (the
 *   served fallback). NDCG@k with binary relevance; every listing of the catalogue ranked.
 * - Means with 95% bootstrap intervals over the evaluated (checkpoint, user) pairs, and paired
 *   comparisons (the same resampled pairs for both models): fold-in / retrain as a ratio, fold-in −
 *   never updated as a difference.
 */
import { tableFromArrays } from 'apache-arrow';
import { ALS, FoldInSolver, foldInParams, type FoldInParams } from 'shoal/train';
import { perUserMetrics, type Csr, type Scorer } from './evaluate.js';
import { bootstrapMean, pairedBootstrap, resampleCounts, type Interval, type Paired } from './stats.js';

/** Stays with dense user (0..numUsers-1) and listing (0..numItems-1) indices and their day. */
export interface Stays {
  user: Int32Array;
  item: Int32Array;
  /** Days since the epoch (any integer time unit works: the protocol only orders and groups them). */
  day: Int32Array;
  numUsers: number;
  numItems: number;
}

/** ALS settings of the replay's fits (implicit feedback). */
export interface ReplayALS {
  rank: number;
  regParam: number;
  maxIter: number;
  alpha: number;
  seed?: number;
  numUserBlocks?: number;
  numItemBlocks?: number;
}

export interface ReplayOptions {
  /** The fits' settings; with `grid`, its rank and regParam are replaced by the grid's choice. */
  als: ReplayALS;
  /** Rank × regParam choices (the rental job's tuning grid), chosen on the stays before the cut. @default none: `als` as given */
  grid?: { rank: readonly number[]; regParam: readonly number[] } | undefined;
  /** Quantile of the stays' days where the starting model is cut. @default 0.8 */
  cutQuantile?: number;
  /** Evaluation points inside the streamed part. @default 3 */
  checkpoints?: number;
  /** Top-k of the ranking metric. @default 10 */
  k?: number;
  /** Fold in listings the starting model did not know once they have stays. @default true */
  foldInNewListings?: boolean;
  /** Progress lines. */
  log?: (line: string) => void;
}

/** One checkpoint's evaluation. */
export interface ReplayCheckpoint {
  day: number;
  /** Last day (inclusive) of its evaluation window. */
  windowEnd: number;
  /** Stays streamed (applied by fold-in) before this checkpoint. */
  streamed: number;
  users: number;
  /** Evaluated users whose vector fold-in changed since the cut (touched by the stream). */
  updatedUsers: number;
  /** Evaluated users the starting model had no vector for. */
  newUsers: number;
  retrainMs: number;
  ndcg: { foldIn: number; retrain: number; never: number };
}

/** Per (checkpoint, user) pair, in checkpoint then user order: what the bootstrap resamples. */
export interface ReplayUnits {
  checkpoint: Int32Array;
  user: Int32Array;
  updated: Uint8Array;
  foldIn: Float64Array;
  retrain: Float64Array;
  never: Float64Array;
}

export interface ReplayResult {
  k: number;
  /** The settings of every fit (after the grid's choice). */
  als: ReplayALS;
  /** Each grid point's validation NDCG@k (empty without a grid). */
  tuning: { rank: number; regParam: number; ndcg: number; users: number }[];
  cutDay: number;
  lastDay: number;
  trainStays: number;
  streamedStays: number;
  microBatches: number;
  userFoldIns: number;
  listingFoldIns: number;
  /** Wall time of all fold-ins (user and listing solves, Gram matrices), ms. */
  foldInMs: number;
  /** Fit of the starting model, ms. */
  startFitMs: number;
  checkpoints: ReplayCheckpoint[];
  units: ReplayUnits;
  /** Mean NDCG@k of each model with its 95% interval, over all evaluated pairs. */
  ndcg: { foldIn: Interval; retrain: Interval; never: Interval };
  /** fold-in against retrain (read `ratio`) and against never updated (read `diff`). */
  foldInVsRetrain: Paired;
  foldInVsNever: Paired;
  /** The same two comparisons over the pairs whose user fold-in updated (null when there are none). */
  updated: { foldInVsRetrain: Paired; foldInVsNever: Paired } | null;
  /** The streamed state at the end: user and listing factors (row-major, rank wide) and which rows hold a vector. */
  state: ReplayState;
}

/** Factors the replay holds (dense indices). */
export interface ReplayState {
  rank: number;
  params: FoldInParams;
  users: Float32Array;
  items: Float32Array;
  userValid: Uint8Array;
  itemValid: Uint8Array;
  /** Stays per (user, listing) applied so far. */
  history: Map<number, Map<number, number>>;
  /** Users folded in since the cut. */
  foldedUsers: Set<number>;
  /** Listings folded in since the cut. */
  foldedItems: Set<number>;
}

export class ReplayError extends Error {
  readonly code = 'REPLAY_INVALID';
  constructor(message: string) {
    super(message);
    this.name = 'ReplayError';
  }
}

interface Fitted {
  users: Float32Array;
  items: Float32Array;
  userValid: Uint8Array;
  itemValid: Uint8Array;
  params: FoldInParams;
  ms: number;
}

async function fit(history: Map<number, Map<number, number>>, s: Stays, o: ReplayALS): Promise<Fitted> {
  const u: number[] = [];
  const i: number[] = [];
  const r: number[] = [];
  for (const [user, h] of history) {
    for (const [item, stays] of h) {
      u.push(user);
      i.push(item);
      r.push(stays);
    }
  }
  const t0 = performance.now();
  const model = await new ALS({
    rank: o.rank, regParam: o.regParam, maxIter: o.maxIter, implicitPrefs: true, alpha: o.alpha, seed: o.seed ?? 1,
    numUserBlocks: o.numUserBlocks ?? 2, numItemBlocks: o.numItemBlocks ?? 2,
  }).fit(tableFromArrays({ user: Int32Array.from(u), item: Int32Array.from(i), rating: Float32Array.from(r) }));
  const ms = performance.now() - t0;
  const rank = model.rank;
  const out: Fitted = {
    users: new Float32Array(s.numUsers * rank), items: new Float32Array(s.numItems * rank),
    userValid: new Uint8Array(s.numUsers), itemValid: new Uint8Array(s.numItems), params: foldInParams(rank, model.params), ms,
  };
  const um = model.userFactorMatrix;
  um.ids.forEach((id, k) => {
    out.users.set(um.factors.subarray(k * rank, (k + 1) * rank), Number(id) * rank);
    out.userValid[Number(id)] = 1;
  });
  const im = model.itemFactorMatrix;
  im.ids.forEach((id, k) => {
    out.items.set(im.factors.subarray(k * rank, (k + 1) * rank), Number(id) * rank);
    out.itemValid[Number(id)] = 1;
  });
  return out;
}

function csrOfSets(numUsers: number, sets: Map<number, Iterable<number>>): Csr {
  const lists = new Map<number, Int32Array>();
  for (const [u, s] of sets) lists.set(u, Int32Array.from(s).sort());
  const ptr = new Int32Array(numUsers + 1);
  for (const [u, l] of lists) ptr[u + 1] = l.length;
  for (let u = 0; u < numUsers; u++) ptr[u + 1]! += ptr[u]!;
  const idx = new Int32Array(ptr[numUsers]!);
  for (const [u, l] of lists) idx.set(l, ptr[u]!);
  return { ptr, idx };
}

function popularity(history: Map<number, Map<number, number>>, numItems: number): Float32Array {
  const p = new Float32Array(numItems);
  for (const h of history.values()) for (const [item, stays] of h) p[item]! += stays;
  return p;
}

function cloneHistory(h: Map<number, Map<number, number>>): Map<number, Map<number, number>> {
  return new Map([...h].map(([u, m]) => [u, new Map(m)]));
}

/**
 * NDCG@k of one model for `users` (ascending): factors where it has a vector for the user, its
 * popularity fallback otherwise; `seen` is what it excludes.
 */
async function ndcgOf(
  name: string, m: { rank: number; users: Float32Array; items: Float32Array; userValid: Uint8Array; itemValid: Uint8Array; popularity: Float32Array },
  users: Int32Array, seen: Csr, held: Csr, numItems: number, k: number,
): Promise<Float64Array> {
  const out = new Float64Array(users.length);
  const known = users.filter((u) => m.userValid[u] === 1);
  const unknown = users.filter((u) => m.userValid[u] !== 1);
  const pos = new Map<number, number>();
  users.forEach((u, j) => pos.set(u, j));
  if (known.length > 0) {
    const s: Scorer = { kind: 'factors', name, rank: m.rank, users: m.users, items: m.items, itemValid: m.itemValid, userValid: m.userValid };
    const r = await perUserMetrics(s, known, seen, held, numItems, k);
    known.forEach((u, j) => (out[pos.get(u)!] = r.ndcg[j]!));
  }
  if (unknown.length > 0) {
    const r = await perUserMetrics({ kind: 'popularity', name: `${name} fallback`, popularity: m.popularity }, unknown, seen, held, numItems, k);
    unknown.forEach((u, j) => (out[pos.get(u)!] = r.ndcg[j]!));
  }
  return out;
}

/** Runs the replay (see the file header). Needs a running cluster (`init()`): fits and rankings run as tasks. */
export async function foldInReplay(s: Stays, o: ReplayOptions): Promise<ReplayResult> {
  const n = s.user.length;
  if (s.item.length !== n || s.day.length !== n) throw new ReplayError(`stays: user, item and day must have one value per stay (${n}, ${s.item.length}, ${s.day.length})`);
  for (let e = 0; e < n; e++) {
    const u = s.user[e]!;
    const i = s.item[e]!;
    if (u < 0 || u >= s.numUsers) throw new ReplayError(`stay ${e}: user index ${u} is outside 0..${s.numUsers - 1}`);
    if (i < 0 || i >= s.numItems) throw new ReplayError(`stay ${e}: listing index ${i} is outside 0..${s.numItems - 1}`);
  }
  const q = o.cutQuantile ?? 0.8;
  const numCheckpoints = o.checkpoints ?? 3;
  const k = o.k ?? 10;
  const foldInNewListings = o.foldInNewListings ?? true;
  const log = o.log ?? (() => undefined);
  if (!(q > 0 && q < 1)) throw new ReplayError(`cutQuantile must be between 0 and 1 (got ${q})`);
  if (!(Number.isInteger(numCheckpoints) && numCheckpoints >= 1)) throw new ReplayError(`checkpoints must be a positive integer (got ${numCheckpoints})`);

  // Stays in time order (input order within a day); the cut and the checkpoints by quantiles.
  const order = Int32Array.from({ length: n }, (_, e) => e).sort((a, b) => s.day[a]! - s.day[b]! || a - b);
  const dayAt = (p: number): number => s.day[order[p]!]!;
  const cutDay = dayAt(Math.min(n - 1, Math.floor(q * n)));
  let first = 0;
  while (first < n && dayAt(first) < cutDay) first++;
  if (first === 0 || first === n) throw new ReplayError(`the stays span too few days to cut at the ${q} quantile (${n} stays, days ${n ? dayAt(0) : '-'}..${n ? dayAt(n - 1) : '-'})`);
  const lastDay = dayAt(n - 1);
  const streamed = n - first;
  const checkpointDays: number[] = [];
  for (let c = 1; c <= numCheckpoints; c++) {
    const d = dayAt(first + Math.floor((c * streamed) / (numCheckpoints + 1)));
    if (d > (checkpointDays.at(-1) ?? cutDay)) checkpointDays.push(d);
  }
  if (checkpointDays.length === 0) throw new ReplayError(`the streamed stays (days ${cutDay}..${lastDay}) span too few days for a checkpoint`);

  // The settings: as given, or the grid's best on the stays before the cut.
  let als = o.als;
  const tuning: ReplayResult['tuning'] = [];
  if (o.grid) {
    const valCut = dayAt(Math.floor(q * first));
    let trainEnd = 0;
    while (trainEnd < first && dayAt(trainEnd) < valCut) trainEnd++;
    if (trainEnd === 0) throw new ReplayError(`the stays before the cut (days ${dayAt(0)}..${cutDay - 1}) span too few days to tune on`);
    const h = new Map<number, Map<number, number>>();
    for (let p = 0; p < trainEnd; p++) {
      const u = s.user[order[p]!]!;
      let m = h.get(u);
      if (!m) h.set(u, (m = new Map()));
      m.set(s.item[order[p]!]!, (m.get(s.item[order[p]!]!) ?? 0) + 1);
    }
    const held = new Map<number, Set<number>>();
    for (let p = trainEnd; p < first; p++) {
      const u = s.user[order[p]!]!;
      const i = s.item[order[p]!]!;
      const m = h.get(u);
      if (!m || m.has(i)) continue;
      let t = held.get(u);
      if (!t) held.set(u, (t = new Set()));
      t.add(i);
    }
    const users = Int32Array.from(held.keys()).sort();
    if (users.length === 0) throw new ReplayError(`no user had a history and a new listing in the tuning window (days ${valCut}..${cutDay - 1})`);
    const seen = csrOfSets(s.numUsers, new Map([...h].map(([u, m]) => [u, m.keys()])));
    const heldCsr = csrOfSets(s.numUsers, held);
    const popT = popularity(h, s.numItems);
    let best = -Infinity;
    for (const rank of o.grid.rank) {
      for (const regParam of o.grid.regParam) {
        const f = await fit(h, s, { ...o.als, rank, regParam });
        const v = await ndcgOf('tuning', { ...f, rank, popularity: popT }, users, seen, heldCsr, s.numItems, k);
        const ndcg = v.reduce((a, b) => a + b, 0) / v.length;
        tuning.push({ rank, regParam, ndcg, users: users.length });
        log(`replay: tuning rank ${rank}, λ ${regParam}: validation NDCG@${k} ${ndcg.toFixed(4)} (${users.length} users, fit ${(f.ms / 1000).toFixed(1)} s)`);
        if (ndcg > best) {
          best = ndcg;
          als = { ...o.als, rank, regParam };
        }
      }
    }
  }

  // The starting model.
  const history = new Map<number, Map<number, number>>();
  const add = (u: number, i: number): void => {
    let h = history.get(u);
    if (!h) history.set(u, (h = new Map()));
    h.set(i, (h.get(i) ?? 0) + 1);
  };
  for (let p = 0; p < first; p++) add(s.user[order[p]!]!, s.item[order[p]!]!);
  const history0 = cloneHistory(history);
  const start = await fit(history, s, als);
  const rank = start.params.rank;
  const pop0 = popularity(history0, s.numItems);
  log(`replay: starting model on ${first} stays before day ${cutDay} (${(start.ms / 1000).toFixed(1)} s); streaming ${streamed} stays to day ${lastDay}, checkpoints at days ${checkpointDays.join(', ')}`);

  const state: ReplayState = {
    rank, params: start.params, users: start.users.slice(), items: start.items.slice(), userValid: start.userValid.slice(), itemValid: start.itemValid.slice(),
    history, foldedUsers: new Set(), foldedItems: new Set(),
  };
  const pop = pop0.slice();
  /** Raters of listings the starting model does not know. */
  const newItemRaters = new Map<number, Map<number, number>>();
  let userSolver = new FoldInSolver(state.items, start.params);
  let itemsChanged = false;
  let userFoldIns = 0;
  let listingFoldIns = 0;
  let foldInMs = 0;
  let microBatches = 0;

  const checkpoints: ReplayCheckpoint[] = [];
  const unitCp: number[] = [];
  const unitUser: number[] = [];
  const unitUpdated: number[] = [];
  const unitF: number[] = [];
  const unitR: number[] = [];
  const unitN: number[] = [];

  const evaluate = async (c: number, at: number): Promise<void> => {
    const day = checkpointDays[c]!;
    const windowEnd = c + 1 < checkpointDays.length ? checkpointDays[c + 1]! - 1 : lastDay;
    const held = new Map<number, Set<number>>();
    for (let p = at; p < n && dayAt(p) <= windowEnd; p++) {
      const u = s.user[order[p]!]!;
      const i = s.item[order[p]!]!;
      const h = history.get(u);
      if (!h || h.has(i)) continue;
      let t = held.get(u);
      if (!t) held.set(u, (t = new Set()));
      t.add(i);
    }
    const users = Int32Array.from(held.keys()).sort();
    const heldCsr = csrOfSets(s.numUsers, held);
    const seenNow = csrOfSets(s.numUsers, new Map([...history].map(([u, h]) => [u, h.keys()])));
    const seen0 = csrOfSets(s.numUsers, new Map([...history0].map(([u, h]) => [u, h.keys()])));
    const retrain = await fit(history, s, als);
    const popNow = pop.slice();
    const f = await ndcgOf('fold-in', { ...state, popularity: popNow }, users, seenNow, heldCsr, s.numItems, k);
    const r = await ndcgOf('retrain', { ...retrain, rank, popularity: popNow }, users, seenNow, heldCsr, s.numItems, k);
    const nv = await ndcgOf('never updated', { ...start, rank, popularity: pop0 }, users, seen0, heldCsr, s.numItems, k);
    let updatedUsers = 0;
    let newUsers = 0;
    users.forEach((u, j) => {
      const updated = state.foldedUsers.has(u);
      if (updated) updatedUsers++;
      if (start.userValid[u] !== 1) newUsers++;
      unitCp.push(c);
      unitUser.push(u);
      unitUpdated.push(updated ? 1 : 0);
      unitF.push(f[j]!);
      unitR.push(r[j]!);
      unitN.push(nv[j]!);
    });
    const mean = (v: Float64Array): number => (v.length ? v.reduce((a, b) => a + b, 0) / v.length : NaN);
    const cp: ReplayCheckpoint = {
      day, windowEnd, streamed: at - first, users: users.length, updatedUsers, newUsers, retrainMs: retrain.ms,
      ndcg: { foldIn: mean(f), retrain: mean(r), never: mean(nv) },
    };
    checkpoints.push(cp);
    log(`replay: checkpoint day ${day} (${cp.streamed} stays streamed): ${cp.users} users (${updatedUsers} updated, ${newUsers} new), NDCG@${k} fold-in ${cp.ndcg.foldIn.toFixed(4)}, retrain ${cp.ndcg.retrain.toFixed(4)} (fit ${(retrain.ms / 1000).toFixed(1)} s), never updated ${cp.ndcg.never.toFixed(4)}`);
  };

  let next = 0;
  for (let at = first; at < n;) {
    const day = dayAt(at);
    while (next < checkpointDays.length && day >= checkpointDays[next]!) await evaluate(next++, at);
    let end = at;
    while (end < n && dayAt(end) === day) end++;
    // One micro-batch: the day's stays.
    const t0 = performance.now();
    const touchedUsers = new Set<number>();
    const touchedItems = new Set<number>();
    for (let p = at; p < end; p++) {
      const u = s.user[order[p]!]!;
      const i = s.item[order[p]!]!;
      add(u, i);
      pop[i]!++;
      touchedUsers.add(u);
      if (start.itemValid[i] !== 1) {
        let raters = newItemRaters.get(i);
        if (!raters) newItemRaters.set(i, (raters = new Map()));
        raters.set(u, (raters.get(u) ?? 0) + 1);
        touchedItems.add(i);
      }
    }
    if (itemsChanged) {
      userSolver = new FoldInSolver(state.items, start.params);
      itemsChanged = false;
    }
    for (const u of touchedUsers) {
      const rows: number[] = [];
      const ratings: number[] = [];
      for (const [i, stays] of history.get(u)!) {
        if (state.itemValid[i] !== 1) continue;
        rows.push(i);
        ratings.push(stays);
      }
      if (rows.length === 0) continue; // only listings without a vector yet: nothing to fold in against
      state.users.set(userSolver.solve(Int32Array.from(rows), Float32Array.from(ratings)), u * rank);
      state.userValid[u] = 1;
      state.foldedUsers.add(u);
      userFoldIns++;
    }
    if (foldInNewListings && touchedItems.size > 0) {
      const itemSolver = new FoldInSolver(state.users, start.params);
      for (const i of touchedItems) {
        const rows: number[] = [];
        const ratings: number[] = [];
        for (const [u, stays] of newItemRaters.get(i)!) {
          if (state.userValid[u] !== 1) continue;
          rows.push(u);
          ratings.push(stays);
        }
        if (rows.length === 0) continue;
        state.items.set(itemSolver.solve(Int32Array.from(rows), Float32Array.from(ratings)), i * rank);
        state.itemValid[i] = 1;
        state.foldedItems.add(i);
        itemsChanged = true;
        listingFoldIns++;
      }
    }
    foldInMs += performance.now() - t0;
    microBatches++;
    at = end;
  }

  const units: ReplayUnits = {
    checkpoint: Int32Array.from(unitCp), user: Int32Array.from(unitUser), updated: Uint8Array.from(unitUpdated),
    foldIn: Float64Array.from(unitF), retrain: Float64Array.from(unitR), never: Float64Array.from(unitN),
  };
  if (units.user.length === 0) throw new ReplayError(`no user had a history and a new listing in an evaluation window (checkpoints at days ${checkpointDays.join(', ')})`);
  const resamples = resampleCounts(units.user.length);
  const pick = (v: Float64Array): Float64Array => v.filter((_, j) => units.updated[j] === 1);
  const updatedCount = units.updated.reduce((a, b) => a + b, 0);
  return {
    k, als, tuning, cutDay, lastDay, trainStays: first, streamedStays: streamed, microBatches, userFoldIns, listingFoldIns, foldInMs, startFitMs: start.ms,
    checkpoints, units,
    ndcg: { foldIn: bootstrapMean(units.foldIn, resamples), retrain: bootstrapMean(units.retrain, resamples), never: bootstrapMean(units.never, resamples) },
    foldInVsRetrain: pairedBootstrap('fold-in', units.foldIn, 'retrain', units.retrain, resamples),
    foldInVsNever: pairedBootstrap('fold-in', units.foldIn, 'never updated', units.never, resamples),
    updated: updatedCount === 0 ? null : {
      foldInVsRetrain: pairedBootstrap('fold-in', pick(units.foldIn), 'retrain', pick(units.retrain)),
      foldInVsNever: pairedBootstrap('fold-in', pick(units.foldIn), 'never updated', pick(units.never)),
    },
    state,
  };
}
