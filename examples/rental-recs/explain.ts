/**
 * Why a listing is recommended (`GET /recommendations/{user}?explain=1`), by the kind of the served
 * model:
 *
 * - ALS: the user's past stays that contributed most to the score — the item-item split of the
 *   user's factors (shoal/train `AlsExplainer`, Hu/Koren/Volinsky's s_ui = Σ_j w_uj·y_iᵀA_u⁻¹y_j).
 *   The contributions add up to the score of the user's exact refit against the served listing
 *   factors (`explainedScore`), which the served score approximates (the trainer's last half-step
 *   and its conjugate-gradient solves); both are in the answer.
 * - the learned hybrid: attributions over its features (same neighbourhood, price like the last
 *   stay, text like the history, co-stays, popularity prior, …). The model is additive in them,
 *   score = Σ_k c_k(user, listing), so their Shapley values against a baseline are exact and
 *   closed-form: c_k(user, listing) − c_k(baseline). The baseline is the user's average listing (the
 *   mean of c_k over the catalogue): attributions say what sets this listing apart for this user,
 *   and add up to score − baselineScore (tested; sampledShapley on the same model gives the same).
 * - anything else (the neural two-tower model is served as its towers' outputs, popularity, the
 *   fallback): `{ unavailable: reason }`.
 */
import { AlsExplainer } from 'shoal/train';
import type { WeightedCsr } from './evaluate.js';
import type { ServedModel } from './served-model.js';

/** What a fitted scorer keeps to explain itself (evaluate.ts `Scorer.explain`); the snapshot adds the ALS ratings. */
export type ScorerExplain = { kind: 'als'; regParam: number; alpha: number; implicitPrefs: boolean } | { kind: 'additive'; features: AdditiveFeature[] };

/** What a served model keeps to explain itself (absent: it cannot). */
export type ServedExplain =
  | {
    kind: 'als';
    regParam: number;
    alpha: number;
    implicitPrefs: boolean;
    /** The rating of each entry of the served model's `seen` CSR (same order): what ALS trained on. */
    ratings: Float32Array;
  }
  | {
    kind: 'additive';
    /**
     * The features, each a slice of the served factors (`offset`, `dims`: the user's weighted vector
     * · the listing's vector), a per-listing weighted term (`bias`), or an item-kNN sum over the
     * user's history (`knn`, weighted); the served score is their sum.
     */
    features: AdditiveFeature[];
  };

export interface AdditiveFeature {
  name: string;
  offset: number;
  dims: number;
  bias: Float32Array | null;
  knn: WeightedCsr | null;
}

export interface HistoryReason {
  /** A listing the user stayed at. */
  listing: string;
  contribution: number;
  /** contribution / explainedScore. */
  share: number;
}

export type Explanation =
  | { method: 'als-history'; explainedScore: number; because: HistoryReason[]; historySize: number }
  | { method: 'additive-shapley'; baselineScore: number; attributions: Array<{ feature: string; value: number }> }
  | { unavailable: string };

/** How many past stays an ALS explanation lists. */
export const ALS_REASONS = 3;

/** Explains one user's recommended listings (catalogue indices) with the served model's own data. */
export class Explainer {
  private als: AlsExplainer | undefined;
  constructor(readonly m: ServedModel) {}

  explain(u: number | undefined, items: readonly number[]): Explanation[] {
    const e = this.m.explain;
    if (u === undefined) return items.map(() => ({ unavailable: 'the answer is not the model’s score of a known user (fallback or viewed listings)' }));
    if (!e) return items.map(() => ({ unavailable: `the ${this.m.id} model keeps no explanation data` }));
    if (e.kind === 'als') return this.explainAls(u, e, items);
    return this.explainAdditive(u, e.features, items);
  }

  private explainAls(u: number, e: Extract<ServedExplain, { kind: 'als' }>, items: readonly number[]): Explanation[] {
    const { item, seen, listingIds } = this.m;
    this.als ??= new AlsExplainer(item.items!, { rank: item.rank, regParam: e.regParam, alpha: e.alpha, implicitPrefs: e.implicitPrefs, nonnegative: false });
    const a = seen.ptr[u]!;
    const b = seen.ptr[u + 1]!;
    return this.als.explain(seen.idx.subarray(a, b), e.ratings.subarray(a, b), items).map((x) => ({
      method: 'als-history' as const, explainedScore: x.score, historySize: b - a,
      because: x.contributions.slice(0, ALS_REASONS).map((c) => ({ listing: listingIds[c.item]!, contribution: c.contribution, share: x.score !== 0 ? c.contribution / x.score : 0 })),
    }));
  }

  /** c_k(u, ·) of every feature k over the catalogue: row k holds feature k's term for every listing. */
  contributions(u: number, features: readonly AdditiveFeature[]): Float64Array[] {
    const { user, item, listingIds } = this.m;
    const n = listingIds.length;
    const r = item.rank;
    return features.map((f) => {
      const c = new Float64Array(n);
      if (f.bias) for (let i = 0; i < n; i++) c[i] = f.bias[i]!;
      if (f.dims > 0 && user.users && item.items) {
        for (let i = 0; i < n; i++) {
          let v = 0;
          for (let d = 0; d < f.dims; d++) v += user.users[u * r + f.offset + d]! * item.items[i * r + f.offset + d]!;
          c[i]! += v;
        }
      }
      if (f.knn && user.ctxPtr && user.ctxIdx && user.ctxVal) {
        for (let h = user.ctxPtr[u]!; h < user.ctxPtr[u + 1]!; h++) {
          const src = user.ctxIdx[h]!;
          for (let p = f.knn.ptr[src]!; p < f.knn.ptr[src + 1]!; p++) c[f.knn.idx[p]!]! += user.ctxVal[h]! * f.knn.val[p]!;
        }
      }
      return c;
    });
  }

  private explainAdditive(u: number, features: readonly AdditiveFeature[], items: readonly number[]): Explanation[] {
    const c = this.contributions(u, features);
    // The baseline: the user's average listing among those the model can recommend.
    const valid = this.m.item.valid;
    const base = c.map((row) => {
      let s = 0;
      let count = 0;
      for (let i = 0; i < row.length; i++) if (!valid || valid[i]) {
        s += row[i]!;
        count++;
      }
      return count > 0 ? s / count : 0;
    });
    const baselineScore = base.reduce((a, b) => a + b, 0);
    return items.map((i) => {
      const attributions = features.map((f, k) => ({ feature: f.name, value: c[k]![i]! - base[k]! }))
        .filter((a) => a.value !== 0).sort((a, b) => Math.abs(b.value) - Math.abs(a.value));
      return { method: 'additive-shapley' as const, baselineScore, attributions };
    });
  }
}
