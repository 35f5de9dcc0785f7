/**
 * The numeric kernels of ALS, hand-written on typed arrays (no BLAS in Node): per-row normal
 * equations, a Cholesky solve, an active-set NNLS, the Gram matrix YᵀY, and blocked top-k scoring.
 *
 * Matrices are row-major Float64Array; symmetric ones are accumulated and read through their upper
 * triangle only (entry (i, j) with j ≥ i at `i * n + j`). Factors are stored as Float32 (like Spark)
 * and every solve runs in float64.
 */
import { NumericalError } from '../errors.js';
import { cgSimd, paddedRank } from './cg-simd.js';

/**
 * Solves A·x = b for a symmetric positive definite A, in place: reads the upper triangle of `a`
 * (n × n, row-major) and overwrites it with the Cholesky factor U (A = UᵀU); `b` becomes x.
 * Throws NumericalError when A is not positive definite.
 */
export function choleskySolve(a: Float64Array, b: Float64Array, n: number): Float64Array {
  // Right-looking factorization, row-oriented so every inner loop walks contiguous memory.
  for (let i = 0; i < n; i++) {
    const ii = i * n + i;
    const d = a[ii]!;
    if (!(d > 0) || !Number.isFinite(d)) {
      throw new NumericalError(`matrix is not positive definite (pivot ${i} is ${d})`);
    }
    const s = Math.sqrt(d);
    a[ii] = s;
    const inv = 1 / s;
    for (let j = i + 1; j < n; j++) a[i * n + j]! *= inv;
    for (let k = i + 1; k < n; k++) {
      const uik = a[i * n + k]!;
      if (uik === 0) continue;
      const rowK = k * n;
      const rowI = i * n;
      for (let j = k; j < n; j++) a[rowK + j]! -= uik * a[rowI + j]!;
    }
  }
  // Uᵀ·y = b (forward), column-oriented over rows of U.
  for (let i = 0; i < n; i++) {
    const yi = b[i]! / a[i * n + i]!;
    b[i] = yi;
    const row = i * n;
    for (let j = i + 1; j < n; j++) b[j]! -= a[row + j]! * yi;
  }
  // U·x = y (backward).
  for (let i = n - 1; i >= 0; i--) {
    const row = i * n;
    let s = b[i]!;
    for (let j = i + 1; j < n; j++) s -= a[row + j]! * b[j]!;
    b[i] = s / a[row + i]!;
  }
  return b;
}

/** Copies the upper triangle of a row-major n × n matrix onto its lower triangle. */
export function symmetrize(a: Float64Array, n: number): void {
  for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) a[j * n + i] = a[i * n + j]!;
}

/**
 * Non-negative least squares in normal-equation form: minimizes ½xᵀAx − bᵀx subject to x ≥ 0 for a
 * symmetric positive definite A (full n × n, row-major; both triangles read) — Lawson–Hanson's
 * active-set method with A = MᵀM and b = Mᵀy already formed (Spark's NNLS solves the same problem
 * with projected conjugate gradients). Exact up to rounding at termination. Returns x (new array).
 */
export function nnls(a: Float64Array, b: Float64Array, n: number): Float64Array {
  const x = new Float64Array(n);
  const z = new Float64Array(n);
  const w = new Float64Array(n);
  const passive = new Uint8Array(n);
  const idx = new Int32Array(n);
  const sub = new Float64Array(n * n);
  const rhs = new Float64Array(n);
  let scale = 0;
  for (let i = 0; i < n; i++) scale = Math.max(scale, Math.abs(b[i]!), Math.abs(a[i * n + i]!));
  const tol = 1e-12 * (scale || 1);

  const gradient = (): void => {
    for (let i = 0; i < n; i++) {
      let s = b[i]!;
      const row = i * n;
      for (let j = 0; j < n; j++) s -= a[row + j]! * x[j]!;
      w[i] = s;
    }
  };
  // Solves A_PP z_P = b_P; z is 0 off P.
  const solvePassive = (): void => {
    let m = 0;
    for (let i = 0; i < n; i++) if (passive[i]) idx[m++] = i;
    for (let r = 0; r < m; r++) {
      const ir = idx[r]!;
      rhs[r] = b[ir]!;
      for (let c = r; c < m; c++) sub[r * m + c] = a[ir * n + idx[c]!]!;
    }
    choleskySolve(sub, rhs, m);
    z.fill(0);
    for (let r = 0; r < m; r++) z[idx[r]!] = rhs[r]!;
  };

  gradient();
  for (let outer = 0; outer < 3 * n + 10; outer++) {
    let t = -1;
    let best = tol;
    for (let j = 0; j < n; j++) {
      if (!passive[j] && w[j]! > best) {
        best = w[j]!;
        t = j;
      }
    }
    if (t < 0) break;
    passive[t] = 1;
    for (let inner = 0; inner < 3 * n + 10; inner++) {
      solvePassive();
      let alpha = Infinity;
      for (let j = 0; j < n; j++) {
        if (passive[j] && z[j]! <= 0) {
          const step = x[j]! / (x[j]! - z[j]!);
          if (step < alpha) alpha = step;
        }
      }
      if (alpha === Infinity) {
        x.set(z);
        break;
      }
      for (let j = 0; j < n; j++) {
        x[j] = x[j]! + alpha * (z[j]! - x[j]!);
        if (passive[j] && x[j]! <= tol) {
          passive[j] = 0;
          x[j] = 0;
        }
      }
    }
    gradient();
  }
  return x;
}

/** Ratings of one block, CSR by the block's rows; columns point into the source factor parts. */
export interface RatingsBlock {
  /** Rows (users or items) of this block. */
  numRows: number;
  /** numRows + 1 offsets into the column arrays. */
  rowPtr: Int32Array;
  /** Which source factor part holds the column's factor row. */
  colPart: Uint16Array;
  /** Row of the column's factor within that part. */
  colRow: Int32Array;
  ratings: Float32Array;
}

/** Factor rows of one block (or the gathered rows of one block another block needs). */
export interface FactorPart {
  /** numRows × rank, row-major. */
  factors: Float32Array;
  /** YᵀY of the whole source block (rank × rank), present for implicit feedback. */
  gram?: Float64Array | undefined;
}

export interface SolveParams {
  rank: number;
  regParam: number;
  implicitPrefs: boolean;
  alpha: number;
  nonnegative: boolean;
}

/**
 * YᵀY of numRows × rank factors (full symmetric rank × rank, float64): a blocked SYRK that
 * accumulates the upper triangle 4 factor rows at a time (each entry of G is loaded and stored once
 * per 4 rows), then mirrors it.
 */
export function gram(factors: Float32Array, rank: number): Float64Array {
  const g = new Float64Array(rank * rank);
  const rows = factors.length / rank;
  const y0 = new Float64Array(rank);
  const y1 = new Float64Array(rank);
  const y2 = new Float64Array(rank);
  const y3 = new Float64Array(rank);
  let r = 0;
  for (; r + 4 <= rows; r += 4) {
    const o = r * rank;
    for (let f = 0; f < rank; f++) {
      y0[f] = factors[o + f]!;
      y1[f] = factors[o + rank + f]!;
      y2[f] = factors[o + 2 * rank + f]!;
      y3[f] = factors[o + 3 * rank + f]!;
    }
    for (let i = 0; i < rank; i++) {
      const a0 = y0[i]!, a1 = y1[i]!, a2 = y2[i]!, a3 = y3[i]!;
      const row = i * rank;
      for (let j = i; j < rank; j++) g[row + j] = g[row + j]! + (a0 * y0[j]! + a1 * y1[j]!) + (a2 * y2[j]! + a3 * y3[j]!);
    }
  }
  for (; r < rows; r++) {
    const off = r * rank;
    for (let f = 0; f < rank; f++) y0[f] = factors[off + f]!;
    for (let i = 0; i < rank; i++) {
      const yi = y0[i]!;
      if (yi === 0) continue;
      const row = i * rank;
      for (let j = i; j < rank; j++) g[row + j] = g[row + j]! + yi * y0[j]!;
    }
  }
  symmetrize(g, rank);
  return g;
}

/**
 * Solves every row of a ratings block against the source factors (ALS half-iteration for one
 * block). Explicit: A = Σ yyᵀ + λ·n·I, b = Σ r·y. Implicit (Hu–Koren–Volinsky, as Spark extends it
 * to negative ratings): A = YᵀY + Σ c₁·yyᵀ + λ·n₊·I, b = Σ_{r>0} (1 + c₁)·y with c₁ = α·|r| and
 * n₊ the number of positive ratings — YᵀY (`yty`) is computed once per half-iteration and only the
 * confidence corrections of rated items are added per row. Returns numRows × rank Float32 factors.
 */
export function solveBlock(block: RatingsBlock, parts: readonly Float32Array[], yty: Float64Array | undefined, p: SolveParams): Float32Array {
  const { rank } = p;
  const { rowPtr, colPart, colRow, ratings } = block;
  const out = new Float32Array(block.numRows * rank);
  const a = new Float64Array(rank * rank);
  const b = new Float64Array(rank);
  // Up to 4 source rows at a time, already weighted, so each entry of A is loaded and stored once per 4 ratings.
  const y0 = new Float64Array(rank);
  const y1 = new Float64Array(rank);
  const y2 = new Float64Array(rank);
  const y3 = new Float64Array(rank);
  const ys = [y0, y1, y2, y3];
  const wa = new Float64Array(4);
  if (p.implicitPrefs && !yty) throw new NumericalError('implicit feedback needs YᵀY of the source factors');
  for (let r = 0; r < block.numRows; r++) {
    if (yty) a.set(yty);
    else a.fill(0);
    b.fill(0);
    let numExplicit = 0;
    const end = rowPtr[r + 1]!;
    let k = rowPtr[r]!;
    while (k < end) {
      const m = Math.min(4, end - k);
      for (let t = 0; t < m; t++, k++) {
        const src = parts[colPart[k]!]!;
        const off = colRow[k]! * rank;
        const rating = ratings[k]!;
        let aw: number;
        let bw: number;
        if (p.implicitPrefs) {
          const c1 = p.alpha * Math.abs(rating);
          aw = c1;
          if (rating > 0) {
            numExplicit++;
            bw = 1 + c1;
          } else bw = 0;
        } else {
          aw = 1;
          bw = rating;
          numExplicit++;
        }
        const y = ys[t]!;
        for (let f = 0; f < rank; f++) {
          const v = src[off + f]!;
          y[f] = v;
          b[f]! += bw * v;
        }
        wa[t] = aw;
      }
      if (m === 4) {
        const w0 = wa[0]!, w1 = wa[1]!, w2 = wa[2]!, w3 = wa[3]!;
        for (let i = 0; i < rank; i++) {
          const a0 = w0 * y0[i]!, a1 = w1 * y1[i]!, a2 = w2 * y2[i]!, a3 = w3 * y3[i]!;
          const row = i * rank;
          for (let j = i; j < rank; j++) a[row + j]! += a0 * y0[j]! + a1 * y1[j]! + a2 * y2[j]! + a3 * y3[j]!;
        }
      } else {
        for (let t = 0; t < m; t++) {
          const y = ys[t]!;
          const w = wa[t]!;
          if (w === 0) continue;
          for (let i = 0; i < rank; i++) {
            const ai = w * y[i]!;
            const row = i * rank;
            for (let j = i; j < rank; j++) a[row + j]! += ai * y[j]!;
          }
        }
      }
    }
    const lambda = p.regParam * numExplicit;
    for (let i = 0; i < rank; i++) a[i * rank + i]! += lambda;
    let x: Float64Array;
    try {
      if (p.nonnegative) {
        symmetrize(a, rank);
        x = nnls(a, b, rank);
      } else x = choleskySolve(a, b, rank);
    } catch (err) {
      throw new NumericalError(
        `the normal equations of row ${r} of this block are not positive definite ` +
          `(${rowPtr[r + 1]! - rowPtr[r]!} ratings, rank ${rank}, regParam ${p.regParam}): use regParam > 0`,
        { cause: err },
      );
    }
    const o = r * rank;
    for (let f = 0; f < rank; f++) out[o + f] = x[f]!;
  }
  return out;
}

/** Copies the listed rows (`rows`, indices into `factors`) into a new compact array. */
export function gatherRows(factors: Float32Array, rows: Int32Array, rank: number): Float32Array {
  const out = new Float32Array(rows.length * rank);
  for (let i = 0; i < rows.length; i++) out.set(factors.subarray(rows[i]! * rank, (rows[i]! + 1) * rank), i * rank);
  return out;
}

/**
 * Top-k by dot product of each query row against all target rows (targets given as parts, whose
 * rows are numbered consecutively). Returns, per query row, k target indices and scores, best first
 * (ties broken by the lower index); k is capped at the number of targets.
 */
export function topK(queries: Float32Array, targets: readonly Float32Array[], rank: number, k: number): { indices: Int32Array; scores: Float32Array; k: number } {
  const numQ = queries.length / rank;
  const numT = targets.reduce((s, t) => s + t.length / rank, 0);
  const kk = Math.min(k, numT);
  const indices = new Int32Array(numQ * kk);
  const scores = new Float32Array(numQ * kk);
  const heapS = new Float64Array(kk);
  const heapI = new Int32Array(kk);
  const q = new Float64Array(rank);
  // Worse-first ordering of the min-heap: lower score, or equal score and higher index.
  const worse = (s1: number, i1: number, s2: number, i2: number): boolean => s1 < s2 || (s1 === s2 && i1 > i2);
  const siftDown = (n: number, at: number): void => {
    let i = at;
    for (;;) {
      const l = 2 * i + 1;
      const rr = l + 1;
      let m = i;
      if (l < n && worse(heapS[l]!, heapI[l]!, heapS[m]!, heapI[m]!)) m = l;
      if (rr < n && worse(heapS[rr]!, heapI[rr]!, heapS[m]!, heapI[m]!)) m = rr;
      if (m === i) return;
      const ts = heapS[i]!, ti = heapI[i]!;
      heapS[i] = heapS[m]!;
      heapI[i] = heapI[m]!;
      heapS[m] = ts;
      heapI[m] = ti;
      i = m;
    }
  };
  for (let r = 0; r < numQ; r++) {
    for (let f = 0; f < rank; f++) q[f] = queries[r * rank + f]!;
    let size = 0;
    let base = 0;
    for (const t of targets) {
      const n = t.length / rank;
      for (let j = 0; j < n; j++) {
        const off = j * rank;
        let s = 0;
        for (let f = 0; f < rank; f++) s += q[f]! * t[off + f]!;
        const gi = base + j;
        if (size < kk) {
          // Sift up.
          let i = size++;
          heapS[i] = s;
          heapI[i] = gi;
          while (i > 0) {
            const parent = (i - 1) >> 1;
            if (!worse(heapS[i]!, heapI[i]!, heapS[parent]!, heapI[parent]!)) break;
            const ts = heapS[i]!, ti = heapI[i]!;
            heapS[i] = heapS[parent]!;
            heapI[i] = heapI[parent]!;
            heapS[parent] = ts;
            heapI[parent] = ti;
            i = parent;
          }
        } else if (kk > 0 && worse(heapS[0]!, heapI[0]!, s, gi)) {
          heapS[0] = s;
          heapI[0] = gi;
          siftDown(size, 0);
        }
      }
      base += n;
    }
    // Pop worst-first into the tail of the row's slot.
    for (let n = size; n > 0; n--) {
      indices[r * kk + n - 1] = heapI[0]!;
      scores[r * kk + n - 1] = heapS[0]!;
      heapS[0] = heapS[n - 1]!;
      heapI[0] = heapI[n - 1]!;
      siftDown(n - 1, 0);
    }
  }
  return { indices, scores, k: kk };
}

/** Deterministic pseudo-random numbers (xoshiro128**, seeded by splitmix32) with Gaussian draws. */
export class SeededRandom {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;
  private spare: number | undefined;

  constructor(seed: number) {
    let x = (Math.floor(seed) ^ Math.floor(seed / 2 ** 32)) >>> 0;
    const next = (): number => {
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.s0 = next();
    this.s1 = next();
    this.s2 = next();
    this.s3 = next() | 1;
  }

  /** Uniform in [0, 1). */
  next(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result / 2 ** 32;
  }

  /** Standard normal (Box–Muller). */
  gaussian(): number {
    if (this.spare !== undefined) {
      const s = this.spare;
      this.spare = undefined;
      return s;
    }
    let u = 0;
    while (u === 0) u = this.next();
    const v = this.next();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }
}

const rotl = (x: number, k: number): number => ((x << k) | (x >>> (32 - k))) >>> 0;

/**
 * Initial factors like Spark's: Gaussian entries, each row scaled to unit L2 norm, drawn in row
 * order from one stream seeded by (seed, side) — independent of how rows are blocked.
 */
export function initFactors(numRows: number, rank: number, seed: number, side: 'user' | 'item'): Float32Array {
  const rng = new SeededRandom(seed * 2 + (side === 'user' ? 0 : 1));
  const out = new Float32Array(numRows * rank);
  for (let r = 0; r < numRows; r++) {
    let norm = 0;
    const off = r * rank;
    for (let f = 0; f < rank; f++) {
      const g = rng.gaussian();
      out[off + f] = g;
      norm += g * g;
    }
    const inv = 1 / Math.sqrt(norm);
    for (let f = 0; f < rank; f++) out[off + f]! *= inv;
  }
  return out;
}

/** Byte size rounded up to 16 (v128 alignment). */
const align16 = (bytes: number): number => (bytes + 15) & ~15;

/**
 * Like `solveBlock`, but each row's normal equations are solved approximately by `steps` steps of
 * conjugate gradient started from the row's previous factors (`prev`; zeros without them) — the
 * solver of Takács et al. and benfred/implicit. A is never formed: A·v = YᵀY·v + Σ c₁·(y·v)·y + λn·v,
 * so a row costs O(steps·(rank² + n·rank)) instead of O(n·rank² + rank³): the residual b − A·x
 * takes one pass over the row's ratings (Σ (b_w − c₁·(y·x))·y), and each step one more (Σ c₁·(y·d)·y).
 * Not an exact solve: the factors differ from Spark's Cholesky solves; use it for speed on large
 * implicit data. `referenceSolveRowCG` is the same algorithm written plainly.
 *
 * The passes over the ratings and YᵀY·v run in the SIMD module of `cg-simd.ts`, on a copy of the
 * source factors in its memory (float32, rows padded to a multiple of 4); the O(rank) vector
 * updates of CG stay here.
 */
export function solveBlockCG(
  block: RatingsBlock, parts: readonly Float32Array[], yty: Float64Array | undefined, p: SolveParams, prev: Float32Array | undefined, steps: number,
): Float32Array {
  const { rank } = p;
  const { rowPtr, colPart, colRow, ratings } = block;
  const out = new Float32Array(block.numRows * rank);
  if (p.implicitPrefs && !yty) throw new NumericalError('implicit feedback needs YᵀY of the source factors');
  const implicit = p.implicitPrefs;
  const alpha = p.alpha;
  const rp = paddedRank(rank);
  let maxN = 0;
  for (let row = 0; row < block.numRows; row++) maxN = Math.max(maxN, rowPtr[row + 1]! - rowPtr[row]!);
  // Memory layout (byte addresses): S | x r d ad | coef base | idx | factor parts.
  const sAddr = 16;
  const xAddr = sAddr + align16(rp * rp * 8);
  const rAddr = xAddr + rp * 8;
  const dAddr = rAddr + rp * 8;
  const adAddr = dAddr + rp * 8;
  const cAddr = adAddr + rp * 8;
  const bwAddr = cAddr + align16(maxN * 8);
  const idxAddr = bwAddr + align16(maxN * 8);
  const partAddr: number[] = [];
  let end = idxAddr + align16(maxN * 4);
  for (const part of parts) {
    partAddr.push(end);
    end += align16((part.length / rank) * rp * 4);
  }
  const m = cgSimd();
  const have = m.memory.buffer.byteLength;
  if (end > have) m.memory.grow(Math.ceil((end - have) / 65536));
  const buf = m.memory.buffer;
  const f64 = new Float64Array(buf);
  const f32 = new Float32Array(buf);
  const i32 = new Int32Array(buf);
  // S (zero padding) and the vectors; x, r, d, ad keep zeros in their padding throughout.
  f64.fill(0, sAddr / 8, cAddr / 8);
  if (yty) for (let i = 0; i < rank; i++) f64.set(yty.subarray(i * rank, (i + 1) * rank), sAddr / 8 + i * rp);
  parts.forEach((part, s) => {
    const at = partAddr[s]! / 4;
    if (rp === rank) f32.set(part, at);
    else {
      const rows = part.length / rank;
      f32.fill(0, at, at + rows * rp);
      for (let i = 0; i < rows; i++) f32.set(part.subarray(i * rank, (i + 1) * rank), at + i * rp);
    }
  });
  const rowBytes = rp * 4;
  const x = f64.subarray(xAddr / 8, xAddr / 8 + rank);
  const r = f64.subarray(rAddr / 8, rAddr / 8 + rank);
  const d = f64.subarray(dAddr / 8, dAddr / 8 + rank);
  const ad = f64.subarray(adAddr / 8, adAddr / 8 + rank);
  const c0 = cAddr / 8;
  const bw0 = bwAddr / 8;
  const idx0 = idxAddr / 4;
  for (let row = 0; row < block.numRows; row++) {
    const k1 = rowPtr[row + 1]!;
    let n = 0;
    let numExplicit = 0;
    for (let k = rowPtr[row]!; k < k1; k++) {
      const rating = ratings[k]!;
      let aw: number, bw: number;
      if (implicit) {
        aw = alpha * Math.abs(rating);
        bw = rating > 0 ? 1 + aw : 0;
        if (rating > 0) numExplicit++;
      } else {
        aw = 1;
        bw = rating;
        numExplicit++;
      }
      if (aw === 0 && bw === 0) continue;
      i32[idx0 + n] = partAddr[colPart[k]!]! + colRow[k]! * rowBytes;
      f64[c0 + n] = aw;
      f64[bw0 + n] = bw;
      n++;
    }
    const o = row * rank;
    if (prev) for (let f = 0; f < rank; f++) x[f] = prev[o + f]!;
    else x.fill(0);
    const lambda = p.regParam * numExplicit;
    // r = b − A·x = −(YᵀY + λI)·x + Σ (b_w − c₁·(y·x))·y
    m.symv(sAddr, xAddr, rAddr, rp, lambda);
    for (let f = 0; f < rank; f++) r[f] = -r[f]!;
    m.pass(idxAddr, n, cAddr, bwAddr, 1, -1, xAddr, rAddr, rp);
    let rs = 0;
    for (let f = 0; f < rank; f++) {
      d[f] = r[f]!;
      rs += r[f]! * r[f]!;
    }
    for (let it = 0; it < steps && rs > 1e-20; it++) {
      // ad = A·d
      m.symv(sAddr, dAddr, adAddr, rp, lambda);
      m.pass(idxAddr, n, cAddr, bwAddr, 0, 1, dAddr, adAddr, rp);
      let dad = 0;
      for (let f = 0; f < rank; f++) dad += d[f]! * ad[f]!;
      if (!(dad > 0)) break;
      const a = rs / dad;
      let rsNew = 0;
      for (let f = 0; f < rank; f++) {
        x[f] = x[f]! + a * d[f]!;
        const rf = r[f]! - a * ad[f]!;
        r[f] = rf;
        rsNew += rf * rf;
      }
      const beta = rsNew / rs;
      for (let f = 0; f < rank; f++) d[f] = r[f]! + beta * d[f]!;
      rs = rsNew;
    }
    for (let f = 0; f < rank; f++) out[o + f] = x[f]!;
  }
  return out;
}
