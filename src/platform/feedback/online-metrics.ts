/**
 * The feedback loop's join: serving's exposure log (what was shown to whom, by which model version
 * and arm) with outcomes that arrive later (a stay, a review, a booking of a listing by a user),
 * giving online metrics per (model version, arm).
 *
 * Delayed labels: an outcome counts for an exposure when the same user acted on a shown item within
 * `maturityMs` after it was shown (the label window). An exposure is judged only once its window has
 * closed (`asOf − time ≥ maturityMs`); younger ones are `pending`, left out of every rate, so a
 * metric never reads low just because the outcomes have not arrived yet. Reviews arrive weeks after
 * a stay, so the rental default window is 30 days.
 *
 * Outcomes that match no exposure (the user acted on something never shown to them within the
 * window: organic traffic, another channel, an exposure log that dropped records) are counted and
 * reported, never silently dropped; a sudden rise says the log and the outcomes no longer line up.
 *
 * The holdout arm (serving's `holdoutPercent`: a slice of users by user-id hash who get the
 * non-personalised ranking) is the baseline the lift of every other group is measured against —
 * lift without the model's own feedback bias.
 */
import { optionRules } from '../../core/index.js';

/** One answered request, as the exposure log holds it (serve's ExposureRecord). */
export interface Exposure {
  requestId: string;
  timeMs: number;
  user: string;
  items: readonly string[];
  modelVersion: string;
  /** `stable`, `canary` or `holdout`. */
  arm: string;
}

/** A user acting on an item (a stay, a review, a booking), possibly long after it was shown. */
export interface Outcome {
  user: string;
  item: string;
  timeMs: number;
}

export interface OnlineMetricsOptions {
  /** The label window: an outcome within this long after an exposure counts for it. @default 30 days */
  maturityMs?: number;
  /** Judge as of this time: exposures whose window has not closed by then are pending. @default Date.now() */
  asOf?: number;
  /** Catalogue size, the denominator of coverage. @default the number of distinct items shown over all groups */
  catalogueSize?: number;
  /**
   * Item popularity before the window (item → users who interacted), for novelty (mean self-information
   * −log2 p(item) of what was shown, p = (count + 1) / (popularityUsers + 1)). @default none: novelty is null
   */
  popularity?: ReadonlyMap<string, number>;
  /** Users behind `popularity`'s counts. Required with `popularity`. */
  popularityUsers?: number;
  /** The arm that gets the non-personalised ranking (lift's baseline). @default 'holdout' */
  holdoutArm?: string;
}

/** Online metrics of one (model version, arm). */
export interface OnlineGroupMetrics {
  modelVersion: string;
  arm: string;
  /** Exposures whose label window has closed. */
  exposures: number;
  /** Exposures still inside their label window (not judged). */
  pending: number;
  /** Judged exposures after which the user acted on a shown item within the window. */
  hits: number;
  /** hits / exposures (null without judged exposures). */
  hitRate: number | null;
  /** Distinct items shown (judged exposures) / catalogue size. */
  coverage: number | null;
  distinctItems: number;
  /** Mean self-information of shown items (bits), null without popularity. */
  novelty: number | null;
  /** hitRate / holdout's hitRate − 1 (null for the holdout itself, or without a holdout). */
  lift: number | null;
}

export interface OnlineMetricsReport {
  asOf: number;
  maturityMs: number;
  groups: OnlineGroupMetrics[];
  outcomes: {
    total: number;
    /** Outcomes on an item shown to the user within the window before it. */
    matched: number;
    /** Outcomes with no matching exposure: counted and reported. */
    unmatched: number;
    /** Users with unmatched outcomes. */
    unmatchedUsers: number;
    /** A few unmatched outcomes, for the report. */
    unmatchedSample: Outcome[];
  };
  /** The holdout group's hit rate (over all versions), null without a holdout. */
  holdoutHitRate: number | null;
}

export const DEFAULT_MATURITY_MS = 30 * 24 * 3600 * 1000;

interface Compiled { maturityMs: number; asOf: number; catalogueSize: number | undefined; popularity: ReadonlyMap<string, number> | undefined; popularityUsers: number; holdoutArm: string }

function compile(options: OnlineMetricsOptions): Compiled {
  const r = optionRules('onlineMetrics()');
  const o = r.object(options);
  r.knownKeys(o, ['maturityMs', 'asOf', 'catalogueSize', 'popularity', 'popularityUsers', 'holdoutArm']);
  const maturityMs = r.number('maturityMs', o.maturityMs, DEFAULT_MATURITY_MS, { min: 0 });
  const asOf = r.number('asOf', o.asOf, Date.now(), { min: 0 });
  const catalogueSize = o.catalogueSize === undefined ? undefined : r.int('catalogueSize', o.catalogueSize, 1, { min: 1 });
  if (o.popularity !== undefined && !(o.popularity instanceof Map)) r.fail('popularity', 'must be a Map of item → count', o.popularity);
  if (o.popularity !== undefined && o.popularityUsers === undefined) r.fail('popularityUsers', 'is required with popularity (the users behind its counts)');
  const popularityUsers = o.popularity === undefined ? 0 : r.int('popularityUsers', o.popularityUsers, 1, { min: 1 });
  return { maturityMs, asOf, catalogueSize, popularity: o.popularity, popularityUsers, holdoutArm: o.holdoutArm ?? 'holdout' };
}

/** Joins exposures with outcomes (see the file header). Exposures and outcomes may come in any order. */
export function onlineMetrics(exposures: readonly Exposure[], outcomes: readonly Outcome[], options: OnlineMetricsOptions = {}): OnlineMetricsReport {
  const o = compile(options);
  // Exposures per user, by time: an outcome looks back over its user's exposures within the window.
  const byUser = new Map<string, Array<{ e: Exposure; items: Set<string>; hit: boolean }>>();
  for (const e of exposures) {
    let list = byUser.get(e.user);
    if (!list) byUser.set(e.user, (list = []));
    list.push({ e, items: new Set(e.items), hit: false });
  }
  for (const list of byUser.values()) list.sort((a, b) => a.e.timeMs - b.e.timeMs);

  let matched = 0;
  const unmatched: Outcome[] = [];
  const unmatchedUsers = new Set<string>();
  for (const out of outcomes) {
    const list = byUser.get(out.user);
    let found = false;
    if (list) {
      // Every exposure that showed the item within the window before the outcome gets the hit.
      for (const x of list) {
        if (x.e.timeMs > out.timeMs) break;
        if (out.timeMs - x.e.timeMs <= o.maturityMs && x.items.has(out.item)) {
          x.hit = true;
          found = true;
        }
      }
    }
    if (found) matched++;
    else {
      unmatched.push(out);
      unmatchedUsers.add(out.user);
    }
  }

  interface Acc { modelVersion: string; arm: string; exposures: number; pending: number; hits: number; items: Set<string>; info: number; shown: number }
  const groups = new Map<string, Acc>();
  const allItems = new Set<string>();
  for (const list of byUser.values()) {
    for (const x of list) {
      const key = `${x.e.modelVersion}\u0000${x.e.arm}`;
      let g = groups.get(key);
      if (!g) groups.set(key, (g = { modelVersion: x.e.modelVersion, arm: x.e.arm, exposures: 0, pending: 0, hits: 0, items: new Set(), info: 0, shown: 0 }));
      if (o.asOf - x.e.timeMs < o.maturityMs) {
        g.pending++;
        continue;
      }
      g.exposures++;
      if (x.hit) g.hits++;
      for (const item of x.items) {
        g.items.add(item);
        allItems.add(item);
        if (o.popularity) {
          g.info += -Math.log2(((o.popularity.get(item) ?? 0) + 1) / (o.popularityUsers + 1));
          g.shown++;
        }
      }
    }
  }
  const catalogue = o.catalogueSize ?? allItems.size;
  const holdout = [...groups.values()].filter((g) => g.arm === o.holdoutArm);
  const holdoutN = holdout.reduce((s, g) => s + g.exposures, 0);
  const holdoutHitRate = holdoutN ? holdout.reduce((s, g) => s + g.hits, 0) / holdoutN : null;
  const out: OnlineGroupMetrics[] = [...groups.values()]
    .sort((a, b) => (a.modelVersion < b.modelVersion ? -1 : a.modelVersion > b.modelVersion ? 1 : a.arm < b.arm ? -1 : a.arm > b.arm ? 1 : 0))
    .map((g) => {
      const hitRate = g.exposures ? g.hits / g.exposures : null;
      return {
        modelVersion: g.modelVersion, arm: g.arm, exposures: g.exposures, pending: g.pending, hits: g.hits, hitRate,
        coverage: g.exposures && catalogue ? g.items.size / catalogue : null, distinctItems: g.items.size,
        novelty: o.popularity && g.shown ? g.info / g.shown : null,
        lift: g.arm !== o.holdoutArm && hitRate !== null && holdoutHitRate ? hitRate / holdoutHitRate - 1 : null,
      };
    });
  return {
    asOf: o.asOf, maturityMs: o.maturityMs, groups: out,
    outcomes: { total: outcomes.length, matched, unmatched: unmatched.length, unmatchedUsers: unmatchedUsers.size, unmatchedSample: unmatched.slice(0, 10) },
    holdoutHitRate,
  };
}

/**
 * Training weights for outcomes (the documented choice on exposure-driven outcomes): an outcome on
 * an item the model itself showed the user within the window before it (a non-holdout arm) is partly
 * the model's own doing, so it gets `exposedWeight`; organic outcomes and those after a holdout
 * (non-personalised) exposure keep weight 1. A constant factor rather than inverse propensity:
 * serving logs no propensities, and a constant keeps the feedback loop from amplifying what the model
 * already shows without discarding the signal. @returns one weight per outcome, in order
 */
export function outcomeWeights(exposures: readonly Exposure[], outcomes: readonly Outcome[], options: { maturityMs?: number; exposedWeight?: number; holdoutArm?: string } = {}): Float64Array {
  const r = optionRules('outcomeWeights()');
  const maturityMs = r.number('maturityMs', options.maturityMs, DEFAULT_MATURITY_MS, { min: 0 });
  const w = r.number('exposedWeight', options.exposedWeight, 0.5, { min: 0, max: 1 });
  const holdoutArm = options.holdoutArm ?? 'holdout';
  const byUser = new Map<string, Exposure[]>();
  for (const e of exposures) {
    if (e.arm === holdoutArm) continue;
    let list = byUser.get(e.user);
    if (!list) byUser.set(e.user, (list = []));
    list.push(e);
  }
  const weights = new Float64Array(outcomes.length).fill(1);
  outcomes.forEach((out, i) => {
    const shown = byUser.get(out.user)?.some((e) => e.timeMs <= out.timeMs && out.timeMs - e.timeMs <= maturityMs && e.items.includes(out.item));
    if (shown) weights[i] = w;
  });
  return weights;
}
