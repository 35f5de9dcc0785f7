import { describe, expect, it } from 'vitest';
import { cgSimd, paddedRank } from '../../../src/train/als/cg-simd.js';
import { SeededRandom } from '../../../src/train/als/kernels.js';

/** Places data in the module's memory at 16-byte aligned addresses and returns their byte addresses. */
function layout(sizes: number[]): number[] {
  const m = cgSimd();
  const addrs: number[] = [];
  let at = 16;
  for (const bytes of sizes) {
    addrs.push(at);
    at += (bytes + 15) & ~15;
  }
  if (at > m.memory.buffer.byteLength) m.memory.grow(Math.ceil((at - m.memory.buffer.byteLength) / 65536));
  new Uint8Array(m.memory.buffer).fill(0, 0, at);
  return addrs;
}

describe('cg-simd (the WebAssembly SIMD loops of the CG solver)', () => {
  it('pads ranks to a multiple of 4', () => {
    expect([1, 4, 5, 63, 64].map(paddedRank)).toEqual([4, 4, 8, 64, 64]);
  });

  it.each([[3], [5], [8], [64]])('symv computes (S + λI)·v like a plain loop (rank %i)', (rank) => {
    const rp = paddedRank(rank);
    const rng = new SeededRandom(rank);
    const [sAddr, vAddr, resAddr] = layout([rp * rp * 8, rp * 8, rp * 8]) as [number, number, number];
    const m = cgSimd();
    const f64 = new Float64Array(m.memory.buffer);
    const s = Array.from({ length: rank * rank }, () => rng.gaussian());
    const v = Array.from({ length: rank }, () => rng.gaussian());
    for (let i = 0; i < rank; i++) for (let j = 0; j < rank; j++) f64[sAddr / 8 + i * rp + j] = s[i * rank + j]!;
    for (let i = 0; i < rank; i++) f64[vAddr / 8 + i] = v[i]!;
    m.symv(sAddr, vAddr, resAddr, rp, 0.7);
    for (let i = 0; i < rp; i++) {
      let want = 0;
      if (i < rank) {
        for (let j = 0; j < rank; j++) want += s[i * rank + j]! * v[j]!;
        want += 0.7 * v[i]!;
      }
      expect(f64[resAddr / 8 + i]).toBeCloseTo(want, 10);
    }
  });

  it.each([
    [5, 0], [5, 1], [5, 2], [5, 7], [64, 1], [64, 6], [64, 9],
  ])('pass adds Σ (baseScale·base + coefScale·coef·(y·v))·y over gathered float32 rows (rank %i, %i rows)', (rank, n) => {
    const rp = paddedRank(rank);
    const rng = new SeededRandom(rank * 100 + n);
    const numRows = 11;
    const [yAddr, idxAddr, coefAddr, baseAddr, vAddr, resAddr] =
      layout([numRows * rp * 4, n * 4, n * 8, n * 8, rp * 8, rp * 8]) as [number, number, number, number, number, number];
    const m = cgSimd();
    const f64 = new Float64Array(m.memory.buffer);
    const f32 = new Float32Array(m.memory.buffer);
    const i32 = new Int32Array(m.memory.buffer);
    const y = Float32Array.from({ length: numRows * rank }, () => rng.gaussian());
    for (let r = 0; r < numRows; r++) for (let f = 0; f < rank; f++) f32[yAddr / 4 + r * rp + f] = y[r * rank + f]!;
    const rows = Array.from({ length: n }, () => Math.floor(rng.next() * numRows));
    const coef = Array.from({ length: n }, () => rng.next() * 3);
    const base = Array.from({ length: n }, () => rng.gaussian());
    const v = Array.from({ length: rank }, () => rng.gaussian());
    const res0 = Array.from({ length: rank }, () => rng.gaussian());
    rows.forEach((row, t) => {
      i32[idxAddr / 4 + t] = yAddr + row * rp * 4;
      f64[coefAddr / 8 + t] = coef[t]!;
      f64[baseAddr / 8 + t] = base[t]!;
    });
    for (let f = 0; f < rank; f++) {
      f64[vAddr / 8 + f] = v[f]!;
      f64[resAddr / 8 + f] = res0[f]!;
    }
    m.pass(idxAddr, n, coefAddr, baseAddr, 1, -1, vAddr, resAddr, rp);
    const want = res0.slice();
    rows.forEach((row, t) => {
      let dot = 0;
      for (let f = 0; f < rank; f++) dot += y[row * rank + f]! * v[f]!;
      const w = base[t]! - coef[t]! * dot;
      for (let f = 0; f < rank; f++) want[f]! += w * y[row * rank + f]!;
    });
    for (let f = 0; f < rank; f++) expect(f64[resAddr / 8 + f]).toBeCloseTo(want[f]!, 10);
    for (let f = rank; f < rp; f++) expect(f64[resAddr / 8 + f]).toBe(0);
  });
});
