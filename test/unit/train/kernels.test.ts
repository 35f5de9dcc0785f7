import { describe, expect, it } from 'vitest';
import { NumericalError } from '../../../src/train/errors.js';
import { choleskySolve, gatherRows, gram, initFactors, nnls, SeededRandom, solveBlock, solveBlockCG, symmetrize, topK } from '../../../src/train/als/kernels.js';

function randomSpd(n: number, rng: SeededRandom): Float64Array {
  const m = new Float64Array(n * n).map(() => rng.gaussian());
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) {
    let s = 0;
    for (let k = 0; k < n; k++) s += m[k * n + i]! * m[k * n + j]!;
    a[i * n + j] = s + (i === j ? 0.5 : 0);
  }
  return a;
}

const matVec = (a: Float64Array, x: Float64Array, n: number): Float64Array =>
  Float64Array.from({ length: n }, (_, i) => x.reduce((s, xj, j) => s + a[i * n + j]! * xj, 0));

describe('choleskySolve', () => {
  it('solves a known 3×3 system exactly', () => {
    // A = [[4,12,-16],[12,37,-43],[-16,-43,98]] (the textbook example: U = [[2,6,-8],[0,1,5],[0,0,3]]).
    const a = Float64Array.of(4, 12, -16, 12, 37, -43, -16, -43, 98);
    const x = Float64Array.of(1, -2, 3);
    const b = matVec(a, x, 3);
    choleskySolve(a, b, 3);
    expect(Array.from(b)).toEqual([expect.closeTo(1, 12), expect.closeTo(-2, 12), expect.closeTo(3, 12)]);
    expect([a[0], a[1], a[2], a[4], a[5], a[8]]).toEqual([2, 6, -8, 1, 5, 3]);
  });

  it('reads only the upper triangle', () => {
    const a = Float64Array.of(2, 1, 999, 3);
    const b = Float64Array.of(3, 4);
    choleskySolve(a, b, 2);
    expect(b[0]).toBeCloseTo(1, 12);
    expect(b[1]).toBeCloseTo(1, 12);
  });

  it('matches A·x = b on random SPD systems up to rank 64', () => {
    const rng = new SeededRandom(7);
    for (const n of [1, 2, 5, 16, 64]) {
      const a = randomSpd(n, rng);
      const x = Float64Array.from({ length: n }, () => rng.gaussian());
      const b = matVec(a, x, n);
      choleskySolve(Float64Array.from(a), b, n);
      for (let i = 0; i < n; i++) expect(b[i]).toBeCloseTo(x[i]!, 6);
    }
  });

  it('throws NumericalError on a matrix that is not positive definite', () => {
    expect(() => choleskySolve(Float64Array.of(1, 2, 2, 1), Float64Array.of(1, 1), 2)).toThrow(NumericalError);
    expect(() => choleskySolve(Float64Array.of(0), Float64Array.of(1), 1)).toThrow(/not positive definite/);
  });
});

describe('nnls', () => {
  it('equals the unconstrained solution when that is already non-negative', () => {
    const a = Float64Array.of(2, 0.5, 0.5, 1);
    const b = matVec(a, Float64Array.of(1, 2), 2);
    const x = nnls(a, b, 2);
    expect(x[0]).toBeCloseTo(1, 10);
    expect(x[1]).toBeCloseTo(2, 10);
  });

  it('solves a known constrained case: min ½xᵀx − bᵀx with b = (1, -2) gives (1, 0)', () => {
    const x = nnls(Float64Array.of(1, 0, 0, 1), Float64Array.of(1, -2), 2);
    expect(Array.from(x)).toEqual([1, 0]);
  });

  it('satisfies the KKT conditions and beats every other active set on random problems', () => {
    const rng = new SeededRandom(11);
    for (let trial = 0; trial < 30; trial++) {
      const n = 1 + (trial % 6);
      const a = randomSpd(n, rng);
      const b = Float64Array.from({ length: n }, () => rng.gaussian() * 3);
      const x = nnls(a, b, n);
      const g = matVec(a, x, n).map((v, i) => v - b[i]!); // gradient
      for (let i = 0; i < n; i++) {
        expect(x[i]).toBeGreaterThanOrEqual(0);
        if (x[i]! > 1e-9) expect(Math.abs(g[i]!)).toBeLessThan(1e-7);
        else expect(g[i]).toBeGreaterThan(-1e-7);
      }
      const objective = (v: Float64Array): number => 0.5 * v.reduce((s, vi, i) => s + vi * matVec(a, v, n)[i]!, 0) - v.reduce((s, vi, i) => s + vi * b[i]!, 0);
      // Brute force over the 2^n passive sets.
      let best = Infinity;
      for (let mask = 0; mask < 1 << n; mask++) {
        const idx = Array.from({ length: n }, (_, i) => i).filter((i) => mask & (1 << i));
        const m = idx.length;
        const sub = new Float64Array(m * m);
        const rhs = Float64Array.from(idx, (i) => b[i]!);
        idx.forEach((i, r) => idx.forEach((j, c) => (sub[r * m + c] = a[i * n + j]!)));
        if (m) choleskySolve(sub, rhs, m);
        if (rhs.some((v) => v < 0)) continue;
        const full = new Float64Array(n);
        idx.forEach((i, r) => (full[i] = rhs[r]!));
        best = Math.min(best, objective(full));
      }
      expect(objective(x)).toBeLessThanOrEqual(best + 1e-9);
    }
  });
});

describe('gram, gatherRows, initFactors', () => {
  it('gram is YᵀY', () => {
    const y = Float32Array.of(1, 2, 3, 4, 5, 6); // 3 × 2
    expect(Array.from(gram(y, 2))).toEqual([35, 44, 44, 56]);
  });

  it('gatherRows copies the listed rows in order', () => {
    expect(Array.from(gatherRows(Float32Array.of(0, 1, 10, 11, 20, 21), Int32Array.of(2, 0), 2))).toEqual([20, 21, 0, 1]);
  });

  it('initFactors is deterministic per seed, with unit rows', () => {
    const a = initFactors(5, 8, 42, 'user');
    expect(Array.from(a)).toEqual(Array.from(initFactors(5, 8, 42, 'user')));
    expect(Array.from(a)).not.toEqual(Array.from(initFactors(5, 8, 43, 'user')));
    for (let r = 0; r < 5; r++) {
      let s = 0;
      for (let f = 0; f < 8; f++) s += a[r * 8 + f]! ** 2;
      expect(s).toBeCloseTo(1, 5);
    }
  });
});

describe('solveBlock', () => {
  it('solves explicit rows with ALS-WR regularization (λ·n)', () => {
    // One row rated two sources; rank 2, λ = 0.5 → A = Σyyᵀ + 1.0·I.
    const src = Float32Array.of(1, 0, 0, 1);
    const block = { numRows: 1, rowPtr: Int32Array.of(0, 2), colPart: Uint16Array.of(0, 0), colRow: Int32Array.of(0, 1), ratings: Float32Array.of(4, 2) };
    const x = solveBlock(block, [src], undefined, { rank: 2, regParam: 0.5, implicitPrefs: false, alpha: 1, nonnegative: false });
    expect(Array.from(x)).toEqual([2, 1]); // (1+1)·x = (4, 2)
  });

  it('adds the implicit confidence corrections on top of YᵀY', () => {
    const src = Float32Array.of(1, 0, 0, 1, 1, 1); // three sources, rank 2
    const yty = gram(src, 2);
    const block = { numRows: 1, rowPtr: Int32Array.of(0, 1), colPart: Uint16Array.of(0), colRow: Int32Array.of(0), ratings: Float32Array.of(3) };
    const alpha = 2;
    const x = solveBlock(block, [src], yty, { rank: 2, regParam: 0.1, implicitPrefs: true, alpha, nonnegative: false });
    // A = YᵀY + c1·e0e0ᵀ + 0.1·I with c1 = 6, b = (1 + 6)·e0.
    const a = Float64Array.from(yty);
    a[0]! += 6 + 0.1;
    a[3]! += 0.1;
    const b = Float64Array.of(7, 0);
    choleskySolve(a, b, 2);
    expect(x[0]).toBeCloseTo(b[0]!, 6);
    expect(x[1]).toBeCloseTo(b[1]!, 6);
  });

  it('unrolled accumulation (groups of 4) equals plain accumulation', () => {
    const rng = new SeededRandom(5);
    const rank = 6;
    const src = Float32Array.from({ length: 30 * rank }, () => rng.gaussian());
    const n = 11;
    const cols = Int32Array.from({ length: n }, (_, i) => (i * 7) % 30);
    const ratings = Float32Array.from({ length: n }, () => 1 + rng.next() * 4);
    const block = { numRows: 1, rowPtr: Int32Array.of(0, n), colPart: new Uint16Array(n), colRow: cols, ratings };
    const x = solveBlock(block, [src], undefined, { rank, regParam: 0.1, implicitPrefs: false, alpha: 1, nonnegative: false });
    const a = new Float64Array(rank * rank);
    const b = new Float64Array(rank);
    for (let k = 0; k < n; k++) for (let i = 0; i < rank; i++) {
      b[i]! += ratings[k]! * src[cols[k]! * rank + i]!;
      for (let j = 0; j < rank; j++) a[i * rank + j]! += src[cols[k]! * rank + i]! * src[cols[k]! * rank + j]!;
    }
    for (let i = 0; i < rank; i++) a[i * rank + i]! += 0.1 * n;
    choleskySolve(a, b, rank);
    for (let f = 0; f < rank; f++) expect(x[f]).toBeCloseTo(b[f]!, 5);
  });

  it('nonnegative solves give factors ≥ 0', () => {
    const src = Float32Array.of(1, 0, 0, 1);
    const block = { numRows: 1, rowPtr: Int32Array.of(0, 2), colPart: Uint16Array.of(0, 0), colRow: Int32Array.of(0, 1), ratings: Float32Array.of(4, -2) };
    const x = solveBlock(block, [src], undefined, { rank: 2, regParam: 0.5, implicitPrefs: false, alpha: 1, nonnegative: true });
    expect(Array.from(x)).toEqual([2, 0]);
  });

  it('names the row and the fix when the normal equations are singular (regParam 0)', () => {
    const block = { numRows: 1, rowPtr: Int32Array.of(0, 1), colPart: Uint16Array.of(0), colRow: Int32Array.of(0), ratings: Float32Array.of(1) };
    expect(() => solveBlock(block, [Float32Array.of(1, 0)], undefined, { rank: 2, regParam: 0, implicitPrefs: false, alpha: 1, nonnegative: false }))
      .toThrow(/row 0 .*use regParam > 0/);
  });
});

describe('topK', () => {
  it('matches a brute-force sort across target parts, ties to the lower index', () => {
    const rng = new SeededRandom(9);
    const rank = 3;
    const q = Float32Array.from({ length: 4 * rank }, () => rng.gaussian());
    const t1 = Float32Array.from({ length: 7 * rank }, () => rng.gaussian());
    const t2 = Float32Array.from({ length: 5 * rank }, () => rng.gaussian());
    const all = new Float32Array([...t1, ...t2]);
    const { indices, k } = topK(q, [t1, t2], rank, 5);
    expect(k).toBe(5);
    for (let r = 0; r < 4; r++) {
      const scores = Array.from({ length: 12 }, (_, j) => {
        let s = 0;
        for (let f = 0; f < rank; f++) s += q[r * rank + f]! * all[j * rank + f]!;
        return { j, s };
      }).sort((x, y) => y.s - x.s || x.j - y.j);
      expect(Array.from(indices.subarray(r * 5, r * 5 + 5))).toEqual(scores.slice(0, 5).map((x) => x.j));
    }
    const ties = topK(Float32Array.of(1), [Float32Array.of(1, 1, 1)], 1, 2);
    expect(Array.from(ties.indices)).toEqual([0, 1]);
  });

  it('caps k at the number of targets', () => {
    expect(topK(Float32Array.of(1), [Float32Array.of(2)], 1, 10).k).toBe(1);
  });

  it('symmetrize mirrors the upper triangle', () => {
    const a = Float64Array.of(1, 2, 0, 3);
    symmetrize(a, 2);
    expect(Array.from(a)).toEqual([1, 2, 2, 3]);
  });
});

describe('solveBlockCG (implicit CG, A never formed)', () => {
  /** A random block of `rows` rows over `numSrc` source rows in two parts, with counts 0–4 (some ≤ 0). */
  function randomBlock(rank: number, rows: number, numSrc: number, seed: number) {
    const rng = new SeededRandom(seed);
    const half = Math.floor(numSrc / 2);
    const parts = [
      Float32Array.from({ length: half * rank }, () => rng.gaussian() * 0.5),
      Float32Array.from({ length: (numSrc - half) * rank }, () => rng.gaussian() * 0.5),
    ];
    const rowPtr = new Int32Array(rows + 1);
    const colPart: number[] = [], colRow: number[] = [], ratings: number[] = [];
    for (let r = 0; r < rows; r++) {
      const n = 1 + Math.floor(rng.next() * 9);
      for (let k = 0; k < n; k++) {
        const c = Math.floor(rng.next() * numSrc);
        colPart.push(c < half ? 0 : 1);
        colRow.push(c < half ? c : c - half);
        ratings.push(Math.floor(rng.next() * 6) - 1);
      }
      rowPtr[r + 1] = ratings.length;
    }
    const block = { numRows: rows, rowPtr, colPart: Uint16Array.from(colPart), colRow: Int32Array.from(colRow), ratings: Float32Array.from(ratings) };
    const yty = new Float64Array(rank * rank);
    for (const p of parts) gram(p, rank).forEach((v, i) => (yty[i]! += v));
    return { block, parts, yty };
  }

  it.each([[5], [8], [13]])('with ≥ rank steps it converges to the exact Cholesky solve (rank %i)', (rank) => {
    const { block, parts, yty } = randomBlock(rank, 12, 23, rank);
    const p = { rank, regParam: 0.1, implicitPrefs: true, alpha: 2, nonnegative: false };
    const exact = solveBlock(block, parts, yty, p);
    const prev = Float32Array.from({ length: 12 * rank }, (_, i) => Math.sin(i));
    const cg = solveBlockCG(block, parts, yty, p, prev, 4 * rank);
    for (let k = 0; k < exact.length; k++) expect(cg[k]).toBeCloseTo(exact[k]!, 4);
  });

  it('explicit feedback too (no YᵀY), from zeros', () => {
    const rank = 6;
    const { block, parts } = randomBlock(rank, 9, 20, 3);
    const p = { rank, regParam: 0.2, implicitPrefs: false, alpha: 1, nonnegative: false };
    const exact = solveBlock(block, parts, undefined, p);
    const cg = solveBlockCG(block, parts, undefined, p, undefined, 4 * rank);
    for (let k = 0; k < exact.length; k++) expect(cg[k]).toBeCloseTo(exact[k]!, 4);
  });

  it('a few warm-started steps reduce the error of the previous factors', () => {
    const rank = 16;
    const { block, parts, yty } = randomBlock(rank, 20, 60, 9);
    const p = { rank, regParam: 0.1, implicitPrefs: true, alpha: 1, nonnegative: false };
    const exact = solveBlock(block, parts, yty, p);
    const prev = Float32Array.from(exact, (v, i) => v + 0.1 * Math.cos(i));
    const cg = solveBlockCG(block, parts, yty, p, prev, 3);
    const err = (x: Float32Array): number => Math.hypot(...Array.from(x, (v, i) => v - exact[i]!));
    expect(err(cg)).toBeLessThan(0.5 * err(prev));
  });

  it('reuses its scratch safely across ranks', () => {
    for (const rank of [7, 3, 7]) {
      const { block, parts, yty } = randomBlock(rank, 4, 10, 1);
      const p = { rank, regParam: 0.1, implicitPrefs: true, alpha: 1, nonnegative: false };
      const exact = solveBlock(block, parts, yty, p);
      const cg = solveBlockCG(block, parts, yty, p, undefined, 4 * rank);
      for (let k = 0; k < exact.length; k++) expect(cg[k]).toBeCloseTo(exact[k]!, 4);
    }
  });
});

describe('gram (blocked SYRK)', () => {
  it.each([[1], [3], [4], [9], [17]])('equals the plain sum of outer products for %i rows', (rows) => {
    const rng = new SeededRandom(rows);
    const rank = 5;
    const y = Float32Array.from({ length: rows * rank }, () => rng.gaussian());
    const g = gram(y, rank);
    for (let i = 0; i < rank; i++) for (let j = 0; j < rank; j++) {
      let s = 0;
      for (let r = 0; r < rows; r++) s += y[r * rank + i]! * y[r * rank + j]!;
      expect(g[i * rank + j]).toBeCloseTo(s, 10);
    }
  });
});
