/**
 * The two inner loops of the implicit CG solver as a small WebAssembly module with 128-bit SIMD
 * (f64x2), assembled here from its opcodes: Node has no BLAS and V8 does not vectorize JavaScript,
 * so these loops ran scalar and were nearly all of ALS's time (rank 64: ~2.5 · 10¹⁰ multiply-adds
 * per MovieLens-20M iteration). There is no WebAssembly toolchain in the build, and the module is a
 * few hundred bytes, so it is written out by hand with the text format beside each function.
 *
 * Numbers stay as in the JavaScript kernels: factors are float32 in memory and every product and
 * sum runs in float64 (f64x2.promote_low_f32x4), so results agree with them to rounding.
 *
 * Layout: vectors and matrices use a row stride `rp` = rank rounded up to a multiple of 4, padded
 * with zeros (padding coordinates stay zero through CG, so they change nothing).
 */

/** Rank rounded up to a multiple of 4: the stride of every vector, matrix row and factor row here. */
export const paddedRank = (rank: number): number => (rank + 3) & ~3;

const I32 = 0x7f;
const F64 = 0x7c;
const V128 = 0x7b;

/** Unsigned LEB128. */
function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
}

const vec = (items: number[][]): number[] => [...uleb(items.length), ...items.flat()];
const section = (id: number, body: number[]): number[] => [id, ...uleb(body.length), ...body];
const name = (s: string): number[] => [...uleb(s.length), ...Array.from(s, (c) => c.charCodeAt(0))];

// Instructions (only those used). Memory arguments are (align log2, offset).
const get = (i: number): number[] => [0x20, ...uleb(i)];
const set = (i: number): number[] => [0x21, ...uleb(i)];
const i32c = (v: number): number[] => [0x41, ...uleb(v)]; // small non-negative constants only (LEB of < 64)
const block = [0x02, 0x40];
const loop = [0x03, 0x40];
const end = [0x0b];
const br = (l: number): number[] => [0x0c, l];
const brIf = (l: number): number[] => [0x0d, l];
const i32Add = [0x6a];
const i32Shl = [0x74];
const i32LtS = [0x48];
const i32GeS = [0x4e];
const i32Load = (offset = 0): number[] => [0x28, 2, ...uleb(offset)];
const f64Load = (offset = 0): number[] => [0x2b, 3, ...uleb(offset)];
const f64Store = (offset = 0): number[] => [0x39, 3, ...uleb(offset)];
const f64Add = [0xa0];
const f64Mul = [0xa2];
const simd = (op: number, ...imm: number[]): number[] => [0xfd, ...uleb(op), ...imm];
const v128Load = (offset = 0): number[] => simd(0, 4, ...uleb(offset));
const v128Store = (offset = 0): number[] => simd(11, 4, ...uleb(offset));
const v128Load64Zero = (offset = 0): number[] => simd(93, 3, ...uleb(offset));
const v128Zero = simd(12, ...new Array<number>(16).fill(0));
const f64x2Splat = simd(20);
const f64x2Lane = (lane: number): number[] => simd(33, lane);
const f64x2Add = simd(240);
const f64x2Mul = simd(242);
const promoteLow = simd(95);
/** Two float32 at `addr + offset` as an f64x2. */
const loadF32Pair = (offset: number): number[] => [...v128Load64Zero(offset), ...promoteLow];
/** lane 0 + lane 1 of the f64x2 in local `i`. */
const hsum = (i: number): number[] => [...get(i), ...f64x2Lane(0), ...get(i), ...f64x2Lane(1), ...f64Add];

/**
 * (func $symv (param $s i32) (param $v i32) (param $res i32) (param $rp i32) (param $lambda f64))
 * res = (S + λI)·v for a full symmetric rp × rp S (row-major f64), two rows at a time.
 */
function symvBody(): number[] {
  const [s, v, res, rp, lambda] = [0, 1, 2, 3, 4];
  const [i, j, rowA, rowB, rowBytes, acc0, acc1, vj] = [5, 6, 7, 8, 9, 10, 11, 12];
  const locals = vec([[5, I32], [3, V128]]);
  const code = [
    ...get(rp), ...i32c(3), ...i32Shl, ...set(rowBytes),
    ...i32c(0), ...set(i),
    ...get(s), ...set(rowA),
    ...block, ...loop,
    ...get(i), ...get(rp), ...i32GeS, ...brIf(1),
    ...get(rowA), ...get(rowBytes), ...i32Add, ...set(rowB),
    ...v128Zero, ...set(acc0), ...v128Zero, ...set(acc1),
    ...i32c(0), ...set(j),
    ...loop,
    ...get(v), ...get(j), ...i32Add, ...v128Load(), ...set(vj),
    ...get(acc0), ...get(rowA), ...get(j), ...i32Add, ...v128Load(), ...get(vj), ...f64x2Mul, ...f64x2Add, ...set(acc0),
    ...get(acc1), ...get(rowB), ...get(j), ...i32Add, ...v128Load(), ...get(vj), ...f64x2Mul, ...f64x2Add, ...set(acc1),
    ...get(j), ...i32c(16), ...i32Add, ...set(j),
    ...get(j), ...get(rowBytes), ...i32LtS, ...brIf(0),
    ...end,
    // res[i] = Σ acc0 + λ·v[i]; res[i + 1] = Σ acc1 + λ·v[i + 1]
    ...get(res), ...get(i), ...i32c(3), ...i32Shl, ...i32Add,
    ...hsum(acc0), ...get(lambda), ...get(v), ...get(i), ...i32c(3), ...i32Shl, ...i32Add, ...f64Load(), ...f64Mul, ...f64Add,
    ...f64Store(),
    ...get(res), ...get(i), ...i32c(3), ...i32Shl, ...i32Add,
    ...hsum(acc1), ...get(lambda), ...get(v), ...get(i), ...i32c(3), ...i32Shl, ...i32Add, ...f64Load(8), ...f64Mul, ...f64Add,
    ...f64Store(8),
    ...get(i), ...i32c(2), ...i32Add, ...set(i),
    ...get(rowB), ...get(rowBytes), ...i32Add, ...set(rowA),
    ...br(0),
    ...end, ...end,
    ...end,
  ];
  return [...locals, ...code];
}

/**
 * (func $pass (param $idx i32) (param $n i32) (param $coef i32) (param $base i32)
 *   (param $baseScale f64) (param $coefScale f64) (param $v i32) (param $res i32) (param $rp i32))
 * For t < n, with y_t the float32 factor row at byte address idx[t]:
 *   res += (baseScale·base[t] + coefScale·coef[t]·(y_t·v))·y_t
 * Two rows at a time share the loads of v and the loads and stores of res.
 */
function passBody(): number[] {
  const [idx, n, coef, base, baseScale, coefScale, v, res, rp] = [0, 1, 2, 3, 4, 5, 6, 7, 8];
  const [t, rowA, rowB, f, g, rowBytes, a0, a1, b0, b1, wA, wB, vv] = [9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21];
  const locals = vec([[6, I32], [7, V128]]);
  // w = splat(baseScale·base[t'] + coefScale·coef[t']·(Σ accA + Σ accB)), t' = t + extraOffset / 8.
  const weight = (accA: number, accB: number, extraOffset: number): number[] => [
    ...get(baseScale), ...get(base), ...get(t), ...i32c(3), ...i32Shl, ...i32Add, ...f64Load(extraOffset), ...f64Mul,
    ...get(coefScale), ...get(coef), ...get(t), ...i32c(3), ...i32Shl, ...i32Add, ...f64Load(extraOffset), ...f64Mul,
    ...hsum(accA), ...hsum(accB), ...f64Add, ...f64Mul,
    ...f64Add, ...f64x2Splat,
  ];
  // acc += promote(row[f + off .. f + off + 2]) · v[g + 2·off ..]
  const dotStep = (row: number, acc: number, off: number): number[] => [
    ...get(acc), ...get(row), ...get(f), ...i32Add, ...loadF32Pair(off), ...get(vv), ...f64x2Mul, ...f64x2Add, ...set(acc),
  ];
  const loopHead = [...i32c(0), ...set(f), ...i32c(0), ...set(g)];
  const loopTail = [
    ...get(f), ...i32c(16), ...i32Add, ...set(f), ...get(g), ...i32c(32), ...i32Add, ...set(g),
    ...get(f), ...get(rowBytes), ...i32LtS, ...brIf(0),
  ];
  const loadV = (off: number): number[] => [...get(v), ...get(g), ...i32Add, ...v128Load(off), ...set(vv)];
  // res[g + off] += wA·yA (+ wB·yB)
  const axpyStep = (off: number, pair: boolean): number[] => [
    ...get(res), ...get(g), ...i32Add,
    ...get(res), ...get(g), ...i32Add, ...v128Load(off),
    ...get(wA), ...get(rowA), ...get(f), ...i32Add, ...loadF32Pair(off / 2), ...f64x2Mul, ...f64x2Add,
    ...(pair ? [...get(wB), ...get(rowB), ...get(f), ...i32Add, ...loadF32Pair(off / 2), ...f64x2Mul, ...f64x2Add] : []),
    ...v128Store(off),
  ];
  const code = [
    ...get(rp), ...i32c(2), ...i32Shl, ...set(rowBytes),
    ...i32c(0), ...set(t),
    // Pairs of rows.
    ...block, ...loop,
    ...get(t), ...i32c(1), ...i32Add, ...get(n), ...i32GeS, ...brIf(1),
    ...get(idx), ...get(t), ...i32c(2), ...i32Shl, ...i32Add, ...i32Load(), ...set(rowA),
    ...get(idx), ...get(t), ...i32c(2), ...i32Shl, ...i32Add, ...i32Load(4), ...set(rowB),
    ...v128Zero, ...set(a0), ...v128Zero, ...set(a1), ...v128Zero, ...set(b0), ...v128Zero, ...set(b1),
    ...loopHead, ...loop,
    ...loadV(0), ...dotStep(rowA, a0, 0), ...dotStep(rowB, b0, 0),
    ...loadV(16), ...dotStep(rowA, a1, 8), ...dotStep(rowB, b1, 8),
    ...loopTail, ...end,
    ...weight(a0, a1, 0), ...set(wA),
    ...weight(b0, b1, 8), ...set(wB),
    ...loopHead, ...loop,
    ...axpyStep(0, true), ...axpyStep(16, true),
    ...loopTail, ...end,
    ...get(t), ...i32c(2), ...i32Add, ...set(t),
    ...br(0),
    ...end, ...end,
    // The last row when n is odd.
    ...get(t), ...get(n), ...i32LtS,
    0x04, 0x40, // if
    ...get(idx), ...get(t), ...i32c(2), ...i32Shl, ...i32Add, ...i32Load(), ...set(rowA),
    ...v128Zero, ...set(a0), ...v128Zero, ...set(a1),
    ...loopHead, ...loop,
    ...loadV(0), ...dotStep(rowA, a0, 0),
    ...loadV(16), ...dotStep(rowA, a1, 8),
    ...loopTail, ...end,
    ...weight(a0, a1, 0), ...set(wA),
    ...loopHead, ...loop,
    ...axpyStep(0, false), ...axpyStep(16, false),
    ...loopTail, ...end,
    ...end,
    ...end,
  ];
  return [...locals, ...code];
}

function moduleBytes(): Uint8Array {
  const symvType = [0x60, ...vec([[I32], [I32], [I32], [I32], [F64]]), ...vec([])];
  const passType = [0x60, ...vec([[I32], [I32], [I32], [I32], [F64], [F64], [I32], [I32], [I32]]), ...vec([])];
  const bodies = [symvBody(), passBody()];
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, vec([symvType, passType])),
    ...section(3, vec([[0], [1]])),
    // One memory, 1 page to start, up to 65536 pages (4 GiB).
    ...section(5, vec([[0x01, ...uleb(1), ...uleb(65536)]])),
    ...section(7, vec([[...name('memory'), 0x02, 0], [...name('symv'), 0x00, 0], [...name('pass'), 0x00, 1]])),
    ...section(10, vec(bodies.map((b) => [...uleb(b.length), ...b]))),
  ]);
}

/** The part of the WebAssembly API used here (the ES2023 lib has no WebAssembly types). */
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: unknown };
}

export interface CgSimd {
  /** The module's memory (its `buffer` is replaced when it grows). */
  memory: { readonly buffer: ArrayBuffer; grow(pages: number): number };
  /** res = (S + λI)·v; all byte addresses, f64, stride rp. */
  symv(s: number, v: number, res: number, rp: number, lambda: number): void;
  /** res += Σ_t (baseScale·base[t] + coefScale·coef[t]·(y_t·v))·y_t, y_t the f32 row at byte address idx[t]. */
  pass(idx: number, n: number, coef: number, base: number, baseScale: number, coefScale: number, v: number, res: number, rp: number): void;
}

let instance: CgSimd | undefined;

/** The module, instantiated once per thread (its memory is the thread's CG scratch and factor copy). */
export function cgSimd(): CgSimd {
  if (!instance) {
    const wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;
    instance = new wasm.Instance(new wasm.Module(moduleBytes()), {}).exports as CgSimd;
  }
  return instance;
}
