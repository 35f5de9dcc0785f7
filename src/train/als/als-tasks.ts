/**
 * ALS's built-in remote functions. Workers import this compiled module from their own
 * installation (dist/src/train/als/als-tasks.js), so it stays free of side effects beyond the
 * definitions. Factor parts and ratings blocks arrive as zero-copy typed-array views when their
 * objects live on the task's node.
 */
import { remote } from '../../core/index.js';
import { gatherRows, gram, solveBlock, solveBlockCG, topK, type FactorPart, type RatingsBlock, type SolveParams } from './kernels.js';

export interface SolveTaskParams extends SolveParams {
  /** Also return YᵀY of the solved block (the other side's next half-iteration needs it when implicit). */
  computeGram: boolean;
  /** Conjugate-gradient steps, warm-started from `prev`; 0 for exact Cholesky solves. */
  cgSteps: number;
}

/** One ALS half-iteration for one block: solve its rows against the source parts (in block order). */
export const solveBlockTask = remote(function alsSolveBlock(block: RatingsBlock, params: SolveTaskParams, prev: FactorPart | null, ...parts: FactorPart[]): FactorPart {
  let yty: Float64Array | undefined;
  if (params.implicitPrefs) {
    yty = new Float64Array(params.rank * params.rank);
    for (const p of parts) {
      const g = p.gram;
      if (!g) throw new Error('implicit ALS: a source factor part arrived without its Gram matrix');
      for (let i = 0; i < g.length; i++) yty[i]! += g[i]!;
    }
  }
  const srcs = parts.map((p) => p.factors);
  const factors = params.cgSteps > 0
    ? solveBlockCG(block, srcs, yty, params, prev?.factors, params.cgSteps)
    : solveBlock(block, srcs, yty, params);
  return params.computeGram ? { factors, gram: gram(factors, params.rank) } : { factors };
});

/** Spark's out-block: the rows of one source block that one destination block needs. */
export const gatherRowsTask = remote(function alsGatherRows(part: FactorPart, rows: Int32Array, rank: number): FactorPart {
  const factors = gatherRows(part.factors, rows, rank);
  return part.gram ? { factors, gram: part.gram } : { factors };
});

/** Top-k targets by dot product for a block of query rows (blocked matrix multiply + heap). */
export const topKTask = remote(function alsTopK(queries: Float32Array, rank: number, k: number, ...targets: Float32Array[]) {
  return topK(queries, targets, rank, k);
});
