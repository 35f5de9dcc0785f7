/**
 * The time-based split and the sets each evaluation scores. Why by time: a leave-last-out split per
 * user trains on other guests' later stays, and evaluates only users with two dates (4–7% of them
 * in a real city). Here every model is fitted on the stays before a cut date and asked about the
 * window after it, as in production.
 *
 * - Cut dates by quantiles of the stays (not by calendar length, which differs per city): the test
 *   window holds the last `testFraction` of the stays, the validation window the `validationFraction`
 *   before it. Training (for validation) = stays before the validation cut; fit for test = stays
 *   before the test cut; recommendations = all stays.
 * - Evaluated ("warm") users: a stay in the window and one before its cut. Their window listings not
 *   in their history are the discovery targets (ranked over the full catalogue minus the history,
 *   as production excludes rated listings); window stays in a listing of their history are repeats,
 *   counted and reported apart. Users with no history ("cold users") are evaluated apart, on the
 *   path they would be served by (popularity).
 */
import { collapse, type Interactions } from './prepare.js';
import type { Csr } from './evaluate.js';

export interface SplitOptions {
  /** Share of the stays in the test window (the last ones). @default 0.2 */
  testFraction?: number;
  /** Share of the stays in the validation window (just before the test window). @default 0.2 */
  validationFraction?: number;
}

export interface TimeSplit {
  /** First day (days since epoch) of the validation window and of the test window; last day of the data. */
  validationCut: number;
  testCut: number;
  lastDay: number;
  /** Stays before the validation cut (what candidates are fitted on to be chosen). */
  train: Interactions;
  /** Stays before the test cut (what candidates are fitted on to be tested). */
  fit: Interactions;
  /** Event indices (into `x.events`) of each window. */
  validationEvents: Int32Array;
  testEvents: Int32Array;
}

export class SplitError extends Error {
  readonly code = 'SPLIT_EMPTY';
  constructor(message: string) {
    super(message);
    this.name = 'SplitError';
  }
}

/** The day at quantile `q` of the stays' days. */
function dayQuantile(sortedDays: Int32Array, q: number): number {
  return sortedDays[Math.min(sortedDays.length - 1, Math.max(0, Math.floor(q * sortedDays.length)))]!;
}

export function timeSplit(x: Interactions, o: SplitOptions = {}): TimeSplit {
  const tf = o.testFraction ?? 0.2;
  const vf = o.validationFraction ?? 0.2;
  if (!(tf > 0 && vf > 0 && tf + vf < 1)) throw new RangeError(`testFraction and validationFraction must be positive with a sum below 1 (got ${tf}, ${vf})`);
  const ev = x.events;
  const sorted = Int32Array.from(ev.day).sort();
  const lastDay = sorted[sorted.length - 1]!;
  let testCut = dayQuantile(sorted, 1 - tf);
  let validationCut = dayQuantile(sorted, 1 - tf - vf);
  // Many stays on one day could put both cuts on it: keep each window at least a day long.
  if (testCut <= sorted[0]!) testCut = sorted[0]! + 1;
  if (validationCut >= testCut) validationCut = testCut - 1;
  const trainIdx: number[] = [];
  const fitIdx: number[] = [];
  const val: number[] = [];
  const test: number[] = [];
  for (let i = 0; i < ev.day.length; i++) {
    const d = ev.day[i]!;
    if (d < validationCut) trainIdx.push(i);
    if (d < testCut) fitIdx.push(i);
    if (d >= validationCut && d < testCut) val.push(i);
    if (d >= testCut) test.push(i);
  }
  if (trainIdx.length === 0 || test.length === 0) throw new SplitError(`the stays span too few days for a time split (${sorted.length} stays, ${lastDay - sorted[0]! + 1} day(s))`);
  return {
    validationCut, testCut, lastDay, train: collapse(x, Int32Array.from(trainIdx)), fit: collapse(x, Int32Array.from(fitIdx)),
    validationEvents: Int32Array.from(val), testEvents: Int32Array.from(test),
  };
}

/** Who a window evaluates, and on what. */
export interface EvalSet {
  /** Warm users (dense indices, ascending) with at least one discovery target. */
  users: Int32Array;
  /** History (the listings a user stayed in before the cut) per user: excluded from ranking. */
  seen: Csr;
  /** Discovery targets per user: window listings not in the history. */
  held: Csr;
  /** Warm users with a window stay at all, and the window stays in a listing of their history. */
  warmUsers: number;
  repeatStays: number;
  repeatUsers: number;
  /** Repeat stays in the listing of the user's most recent stay before the cut. */
  repeatOfLast: number;
  /** Users with window stays and no history: the cold-user path (no exclusions). */
  coldUsers: Int32Array;
  coldHeld: Csr;
  windowStays: number;
}

function csrFromPairs(numUsers: number, pairs: Map<number, Set<number>>): Csr {
  const ptr = new Int32Array(numUsers + 1);
  for (const [u, s] of pairs) ptr[u + 1] = s.size;
  for (let u = 0; u < numUsers; u++) ptr[u + 1]! += ptr[u]!;
  const idx = new Int32Array(ptr[numUsers]!);
  for (const [u, s] of pairs) idx.set(Int32Array.from(s).sort(), ptr[u]!);
  return { ptr, idx };
}

/** The evaluation set of a window: `history` holds the stays before its cut; `window` are event indices. */
export function evalSet(x: Interactions, history: Interactions, window: Int32Array): EvalSet {
  const numUsers = x.userIds.length;
  const hist = new Map<number, Set<number>>();
  const lastItem = new Map<number, { day: number; item: number }>();
  for (let r = 0; r < history.user.length; r++) {
    const u = history.user[r]!;
    let s = hist.get(u);
    if (!s) hist.set(u, (s = new Set()));
    s.add(history.item[r]!);
    const l = lastItem.get(u);
    if (!l || history.day[r]! > l.day || (history.day[r] === l.day && history.item[r]! > l.item)) lastItem.set(u, { day: history.day[r]!, item: history.item[r]! });
  }
  const held = new Map<number, Set<number>>();
  const coldHeld = new Map<number, Set<number>>();
  const warm = new Set<number>();
  const repeatUsers = new Set<number>();
  let repeatStays = 0;
  let repeatOfLast = 0;
  for (const e of window) {
    const u = x.events.user[e]!;
    const i = x.events.item[e]!;
    const h = hist.get(u);
    if (!h) {
      let s = coldHeld.get(u);
      if (!s) coldHeld.set(u, (s = new Set()));
      s.add(i);
      continue;
    }
    warm.add(u);
    if (h.has(i)) {
      repeatStays++;
      repeatUsers.add(u);
      if (lastItem.get(u)?.item === i) repeatOfLast++;
      continue;
    }
    let s = held.get(u);
    if (!s) held.set(u, (s = new Set()));
    s.add(i);
  }
  return {
    users: Int32Array.from(held.keys()).sort(), seen: csrFromPairs(numUsers, hist), held: csrFromPairs(numUsers, held),
    warmUsers: warm.size, repeatStays, repeatUsers: repeatUsers.size, repeatOfLast,
    coldUsers: Int32Array.from(coldHeld.keys()).sort(), coldHeld: csrFromPairs(numUsers, coldHeld), windowStays: window.length,
  };
}
