/**
 * One scoring form for every candidate, so that evaluation, the cold-start simulation and the
 * recommendations score a model the same way (in the driver or in remote tasks):
 *
 *   score(u, i) = U[u] · V[i]  +  bias[i]  +  Σ_{(j, w) ∈ context(u)} w · sim(j, i)
 *
 * - factors (ALS, the neural towers; the hybrid's bilinear features): U, V;
 * - a per-listing prior (popularity, recency-weighted): bias;
 * - item-kNN: the user's history as weighted context, and a sparse listing × listing similarity.
 * Listings with `valid[i] = 0` are never recommended (ALS has no factors for unseen listings).
 */

/** The listing side of a scorer (shared by every chunk of users). */
export interface ItemSide {
  rank: number;
  items: Float32Array | null;
  valid: Uint8Array | null;
  bias: Float32Array | null;
  simPtr: Int32Array | null;
  simIdx: Int32Array | null;
  simVal: Float32Array | null;
}

/** The user side of a scorer for a chunk of users (row j of each = the chunk's j-th user). */
export interface UserSide {
  users: Float32Array | null;
  ctxPtr: Int32Array | null;
  ctxIdx: Int32Array | null;
  ctxVal: Float32Array | null;
}

/** Writes the scores of the chunk's user `j` for every listing into `out` (−Infinity: never recommended). */
export function scoreUser(us: UserSide, j: number, it: ItemSide, numItems: number, out: Float32Array): void {
  const r = it.rank;
  if (us.users && it.items && r > 0) {
    const off = j * r;
    for (let i = 0; i < numItems; i++) {
      let s = 0;
      const io = i * r;
      for (let f = 0; f < r; f++) s += us.users[off + f]! * it.items[io + f]!;
      out[i] = s;
    }
  } else out.fill(0, 0, numItems);
  if (it.bias) for (let i = 0; i < numItems; i++) out[i]! += it.bias[i]!;
  if (us.ctxPtr && us.ctxIdx && us.ctxVal && it.simPtr && it.simIdx && it.simVal) {
    for (let c = us.ctxPtr[j]!; c < us.ctxPtr[j + 1]!; c++) {
      const src = us.ctxIdx[c]!;
      const w = us.ctxVal[c]!;
      for (let p = it.simPtr[src]!; p < it.simPtr[src + 1]!; p++) out[it.simIdx[p]!]! += w * it.simVal[p]!;
    }
  }
  if (it.valid) for (let i = 0; i < numItems; i++) if (!it.valid[i]) out[i] = -Infinity;
}

/** The user side of the chunk `users` (dense indices) taken from a whole-population user side. */
export function sliceUsers(all: UserSide, rank: number, users: ArrayLike<number>): UserSide {
  let uf: Float32Array | null = null;
  if (all.users && rank > 0) {
    uf = new Float32Array(users.length * rank);
    for (let j = 0; j < users.length; j++) uf.set(all.users.subarray(users[j]! * rank, (users[j]! + 1) * rank), j * rank);
  }
  if (!all.ctxPtr || !all.ctxIdx || !all.ctxVal) return { users: uf, ctxPtr: null, ctxIdx: null, ctxVal: null };
  const ptr = new Int32Array(users.length + 1);
  for (let j = 0; j < users.length; j++) ptr[j + 1] = ptr[j]! + all.ctxPtr[users[j]! + 1]! - all.ctxPtr[users[j]!]!;
  const idx = new Int32Array(ptr[users.length]!);
  const val = new Float32Array(ptr[users.length]!);
  for (let j = 0; j < users.length; j++) {
    const a = all.ctxPtr[users[j]!]!;
    const b = all.ctxPtr[users[j]! + 1]!;
    idx.set(all.ctxIdx.subarray(a, b), ptr[j]!);
    val.set(all.ctxVal.subarray(a, b), ptr[j]!);
  }
  return { users: uf, ctxPtr: ptr, ctxIdx: idx, ctxVal: val };
}
