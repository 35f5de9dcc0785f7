/**
 * Fold-in: one row's factor refit against the other side's factors held fixed — ALS's own
 * half-step for a single user (or item), the incremental update of a streaming model. A rating from
 * a known user refits that user; a new user is folded in the same way; a new listing gets its vector
 * from the users who rated it. The solve is the trainer's kernel (`solveBlock`, or `solveBlockCG`)
 * on a one-row ratings block, so the loss, the regularization (λ scaled by the row's number of
 * ratings, positive ones for implicit feedback) and the implicit confidence weighting are the ones
 * the model was trained with — not a re-implementation that could drift from it.
 *
 * For implicit feedback every solve needs YᵀY of the fixed side (rank × rank); it is computed once
 * per `FoldInSolver` (O(n·rank²)) and each fold-in then costs O(ratings·rank² + rank³).
 */
import { InvalidTrainingDataError } from '../errors.js';
import { gram, solveBlock, solveBlockCG, type RatingsBlock, type SolveParams } from './kernels.js';

/** How a fold-in solves the row's normal equations. */
export type FoldInSolve = 'exact' | 'cg';

/** The loss a fold-in minimizes: the trained model's parameters. */
export interface FoldInParams extends SolveParams {
  /** Conjugate-gradient steps with `solve: 'cg'` (the model's `cgSteps`). */
  cgSteps: number;
}

/** Options of one fold-in. */
export interface FoldInOptions {
  /**
   * `'exact'`: the least-squares optimum of the row (Cholesky, or NNLS for a nonnegative model);
   * `'cg'`: the model's `cgSteps` conjugate-gradient steps from `warmStart` — exactly what the
   * trainer's half-step computes for the row with solver `'cg'`. @default 'exact'
   */
  solve?: FoldInSolve;
  /** Starting factors of the row for `solve: 'cg'` (rank values). @default zeros */
  warmStart?: ArrayLike<number> | undefined;
}

/** A folded-in row. */
export interface FoldInResult {
  /** The row's new factors (rank values). */
  factors: Float32Array;
  /** Ratings that entered the solve. */
  used: number;
  /** Ids of the other side the model does not know (their ratings are left out of the solve). */
  unknown: (number | string)[];
}

/** Folds rows in against one fixed factor matrix (numRows × rank, row-major). */
export class FoldInSolver {
  private yty: Float64Array | undefined;

  constructor(
    /** The fixed side's factors. */
    readonly fixed: Float32Array,
    readonly params: FoldInParams,
  ) {
    if (fixed.length % params.rank !== 0) {
      throw new InvalidTrainingDataError(`fold-in: the fixed factors hold ${fixed.length} values, not a multiple of rank ${params.rank}`);
    }
  }

  /** Rows of the fixed side. */
  get numRows(): number {
    return this.fixed.length / this.params.rank;
  }

  /**
   * The factors of one row that rated fixed rows `rows` with `ratings` (same length; rows index
   * the fixed matrix). With no ratings the row is all zeros (b = 0: nothing pulls it anywhere).
   */
  solve(rows: Int32Array, ratings: Float32Array, options: FoldInOptions = {}): Float32Array {
    const p = this.params;
    const { rank } = p;
    if (rows.length !== ratings.length) {
      throw new InvalidTrainingDataError(`fold-in: ${rows.length} rows but ${ratings.length} ratings (they must pair up)`);
    }
    const n = this.numRows;
    for (let k = 0; k < rows.length; k++) {
      const r = rows[k]!;
      if (!Number.isInteger(r) || r < 0 || r >= n) throw new InvalidTrainingDataError(`fold-in: row ${r} at position ${k} is outside the fixed factors (0..${n - 1})`, undefined, k);
      if (!Number.isFinite(ratings[k]!)) throw new InvalidTrainingDataError(`fold-in: rating at position ${k} is ${ratings[k]} (must be a finite number)`, 'rating', k);
    }
    if (rows.length === 0) return new Float32Array(rank);
    if (p.implicitPrefs && !this.yty) this.yty = gram(this.fixed, rank);
    const block: RatingsBlock = {
      numRows: 1,
      rowPtr: Int32Array.of(0, rows.length),
      colPart: new Uint16Array(rows.length),
      colRow: rows,
      ratings,
    };
    const solve = options.solve ?? 'exact';
    if (solve === 'cg') {
      if (p.nonnegative) throw new InvalidTrainingDataError("fold-in: solve 'cg' cannot honour a nonnegative model; use solve 'exact'");
      let warm: Float32Array | undefined;
      if (options.warmStart !== undefined) {
        if (options.warmStart.length !== rank) throw new InvalidTrainingDataError(`fold-in: warmStart has ${options.warmStart.length} values, the model's rank is ${rank}`);
        warm = Float32Array.from(options.warmStart);
      }
      return solveBlockCG(block, [this.fixed], this.yty, p, warm, p.cgSteps);
    }
    if (solve !== 'exact') throw new InvalidTrainingDataError(`fold-in: solve must be 'exact' or 'cg' (got ${String(solve)})`);
    return solveBlock(block, [this.fixed], this.yty, p);
  }
}

/** The fold-in parameters of a trained model's params (`ALSModel.params`); throws when they are missing. */
export function foldInParams(rank: number, params: Record<string, unknown>): FoldInParams {
  const num = (key: string): number => {
    const v = params[key];
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new InvalidTrainingDataError(`fold-in needs the model's training parameter "${key}" (a number), found ${String(v)}`);
    return v;
  };
  const bool = (key: string): boolean => {
    const v = params[key];
    if (typeof v !== 'boolean') throw new InvalidTrainingDataError(`fold-in needs the model's training parameter "${key}" (a boolean), found ${String(v)}`);
    return v;
  };
  const implicitPrefs = bool('implicitPrefs');
  return {
    rank,
    regParam: num('regParam'),
    implicitPrefs,
    alpha: implicitPrefs ? num('alpha') : typeof params.alpha === 'number' ? params.alpha : 1,
    nonnegative: bool('nonnegative'),
    cgSteps: typeof params.cgSteps === 'number' ? params.cgSteps : 3,
  };
}
