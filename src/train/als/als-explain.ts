/**
 * Why ALS recommends an item: the user's past items that contributed most to its score. The user's
 * factors are the solution of their normal equations, x_u = A_u⁻¹ b_u, with
 *
 *   implicit (Hu, Koren & Volinsky 2008, §5): A_u = YᵀY + Σ_j α|r_uj| y_j y_jᵀ + λ·n_u·I,
 *                                               b_u = Σ_{r_uj > 0} (1 + α r_uj) y_j
 *   explicit:                                  A_u = Σ_j y_j y_jᵀ + λ·n_u·I,  b_u = Σ_j r_uj y_j
 *
 * (λ scaled by the user's number of positive ratings, as the trainer's kernel does: kernels.ts
 * `solveBlock`). So the score of item i splits over the history exactly:
 *
 *   s_ui = y_iᵀ x_u = Σ_j w_uj · (y_iᵀ A_u⁻¹ y_j),   w_uj = 1 + α r_uj (implicit) or r_uj (explicit)
 *
 * — HKV's item-item form, A_u⁻¹ acting as the user's own similarity metric. One Cholesky factor of
 * A_u per user, one triangular solve per explained item. The contributions add up to the score of
 * the user's exact fold-in (fold-in.ts, `solve: 'exact'`), which is what a served model scored
 * with factors from training approximates (the last half-step may have been an item step, or
 * conjugate-gradient steps): an explanation reports both. Nonnegative (NNLS) models have no such
 * decomposition (the constraints are active) and are refused.
 */
import { InvalidTrainingDataError, NumericalError } from '../errors.js';
import { gram } from './kernels.js';
import type { FoldInParams } from './fold-in.js';

/** One past item's share of a score. */
export interface HistoryContribution {
  /** Row of the item in the item factors. */
  item: number;
  /** w_uj · y_iᵀ A_u⁻¹ y_j. */
  contribution: number;
}

/** The split of one item's score over the user's history. */
export interface ItemExplanation {
  item: number;
  /** Σ contributions = y_iᵀ x_u with x_u the user's exact fold-in. */
  score: number;
  /** Every history item's contribution, largest first. */
  contributions: HistoryContribution[];
}

type ExplainParams = Pick<FoldInParams, 'rank' | 'regParam' | 'implicitPrefs' | 'alpha' | 'nonnegative'>;

/** Explains ALS scores of one user from their history against fixed item factors (see the file header). */
export class AlsExplainer {
  private yty: Float64Array | undefined;

  constructor(
    /** Item factors (numItems × rank, row-major). */
    readonly items: Float32Array,
    readonly params: ExplainParams,
  ) {
    if (params.nonnegative) throw new InvalidTrainingDataError('ALS explanations need an unconstrained model: a nonnegative (NNLS) solve has no item-item decomposition');
    if (items.length % params.rank !== 0) throw new InvalidTrainingDataError(`ALS explanations: the item factors hold ${items.length} values, not a multiple of rank ${params.rank}`);
  }

  /**
   * Explains `targets` (item rows) for a user whose history is `history` (item rows) with
   * `ratings` (same length; stays, counts or stars as the model was trained on).
   */
  explain(history: ArrayLike<number>, ratings: ArrayLike<number>, targets: ArrayLike<number>): ItemExplanation[] {
    const { rank, regParam, implicitPrefs, alpha } = this.params;
    const n = this.items.length / rank;
    if (history.length !== ratings.length) throw new InvalidTrainingDataError(`ALS explanations: ${history.length} history items but ${ratings.length} ratings (they must pair up)`);
    const check = (what: string, rows: ArrayLike<number>): void => {
      for (let k = 0; k < rows.length; k++) {
        const r = rows[k]!;
        if (!Number.isInteger(r) || r < 0 || r >= n) throw new InvalidTrainingDataError(`ALS explanations: ${what} item ${r} at position ${k} is outside the item factors (0..${n - 1})`, undefined, k);
      }
    };
    check('history', history);
    check('target', targets);
    const a = new Float64Array(rank * rank);
    if (implicitPrefs) a.set((this.yty ??= gram(this.items, rank)));
    const w = new Float64Array(history.length);
    let positives = 0;
    for (let k = 0; k < history.length; k++) {
      const r = ratings[k]!;
      if (!Number.isFinite(r)) throw new InvalidTrainingDataError(`ALS explanations: rating at position ${k} is ${r} (must be a finite number)`, 'rating', k);
      const aw = implicitPrefs ? alpha * Math.abs(r) : 1;
      if (implicitPrefs) w[k] = r > 0 ? 1 + alpha * r : 0;
      else w[k] = r;
      if (!implicitPrefs || r > 0) positives++;
      const off = history[k]! * rank;
      for (let p = 0; p < rank; p++) for (let q = 0; q < rank; q++) a[p * rank + q]! += aw * this.items[off + p]! * this.items[off + q]!;
    }
    for (let p = 0; p < rank; p++) a[p * rank + p]! += regParam * positives;
    const l = cholesky(a, rank);
    const z = new Float64Array(rank);
    const out: ItemExplanation[] = [];
    for (let t = 0; t < targets.length; t++) {
      const i = targets[t]!;
      for (let p = 0; p < rank; p++) z[p] = this.items[i * rank + p]!;
      solveInPlace(l, rank, z);
      const contributions: HistoryContribution[] = [];
      let score = 0;
      for (let k = 0; k < history.length; k++) {
        let dot = 0;
        const off = history[k]! * rank;
        for (let p = 0; p < rank; p++) dot += z[p]! * this.items[off + p]!;
        const c = w[k]! * dot;
        score += c;
        contributions.push({ item: history[k]!, contribution: c });
      }
      contributions.sort((x, y) => y.contribution - x.contribution);
      out.push({ item: i, score, contributions });
    }
    return out;
  }
}

/** Lower Cholesky factor of a symmetric positive definite matrix (rank × rank). */
function cholesky(a: Float64Array, n: number): Float64Array {
  const l = new Float64Array(n * n);
  for (let p = 0; p < n; p++) {
    for (let q = 0; q <= p; q++) {
      let s = a[p * n + q]!;
      for (let k = 0; k < q; k++) s -= l[p * n + k]! * l[q * n + k]!;
      if (p === q) {
        if (!(s > 0)) throw new NumericalError(`ALS explanations: the user's normal equations are not positive definite (pivot ${p} is ${s}); is regParam 0 with too short a history?`);
        l[p * n + p] = Math.sqrt(s);
      } else l[p * n + q] = s / l[q * n + q]!;
    }
  }
  return l;
}

/** Solves (L Lᵀ) z = v in place. */
function solveInPlace(l: Float64Array, n: number, v: Float64Array): void {
  for (let p = 0; p < n; p++) {
    let s = v[p]!;
    for (let k = 0; k < p; k++) s -= l[p * n + k]! * v[k]!;
    v[p] = s / l[p * n + p]!;
  }
  for (let p = n - 1; p >= 0; p--) {
    let s = v[p]!;
    for (let k = p + 1; k < n; k++) s -= l[k * n + p]! * v[k]!;
    v[p] = s / l[p * n + p]!;
  }
}
