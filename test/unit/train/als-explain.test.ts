import { describe, expect, it } from 'vitest';
import { AlsExplainer, FoldInSolver } from '../../../src/train/index.js';
import { InvalidTrainingDataError } from '../../../src/train/errors.js';

describe('AlsExplainer (HKV item-item decomposition)', () => {
  it('hand-computed, rank 1: s = w·y_i·A⁻¹·y_j with A = YᵀY + α·r·y_j² + λ·n', () => {
    // Items y0 = 1, y1 = 2; the user stayed once at item 0; α = 1, λ = 0.5.
    // A = (1 + 4) + 1·1·1 + 0.5·1 = 6.5; w = 1 + 1·1 = 2; s_1 = 2 · 2 · (1/6.5) · 1 = 0.61538…
    const e = new AlsExplainer(Float32Array.of(1, 2), { rank: 1, regParam: 0.5, implicitPrefs: true, alpha: 1, nonnegative: false });
    const [x] = e.explain([0], [1], [1]);
    expect(x!.score).toBeCloseTo(4 / 6.5, 12);
    expect(x!.contributions).toEqual([{ item: 0, contribution: expect.closeTo(4 / 6.5, 12) as number }]);
  });

  for (const implicitPrefs of [true, false]) {
    it(`contributions add up to the exact fold-in's score (${implicitPrefs ? 'implicit' : 'explicit'})`, () => {
      const rank = 4;
      const n = 30;
      let s = 11;
      const rand = (): number => ((s = (s * 48271) % 2147483647) / 2147483647) - 0.5;
      const items = Float32Array.from({ length: n * rank }, rand);
      const params = { rank, regParam: 0.1, implicitPrefs, alpha: 20, nonnegative: false, cgSteps: 3 };
      const history = Int32Array.of(3, 7, 12, 20, 25);
      const ratings = Float32Array.of(1, 3, 1, 2, 5);
      const x = new FoldInSolver(items, params).solve(history, ratings, { solve: 'exact' });
      const targets = [0, 1, 2, 29];
      const out = new AlsExplainer(items, params).explain(history, ratings, targets);
      out.forEach((ex, t) => {
        let dot = 0;
        for (let f = 0; f < rank; f++) dot += x[f]! * items[targets[t]! * rank + f]!;
        expect(ex.score).toBeCloseTo(dot, 5);
        expect(ex.contributions.reduce((a, c) => a + c.contribution, 0)).toBeCloseTo(ex.score, 10);
        expect(ex.contributions.map((c) => c.item).sort((a, b) => a - b)).toEqual(Array.from(history));
        for (let k = 1; k < ex.contributions.length; k++) expect(ex.contributions[k - 1]!.contribution).toBeGreaterThanOrEqual(ex.contributions[k]!.contribution);
      });
    });
  }

  it('refuses a nonnegative model and rows outside the factors', () => {
    expect(() => new AlsExplainer(new Float32Array(4), { rank: 2, regParam: 0.1, implicitPrefs: true, alpha: 1, nonnegative: true })).toThrow(/nonnegative/);
    const e = new AlsExplainer(new Float32Array(4).fill(1), { rank: 2, regParam: 0.1, implicitPrefs: true, alpha: 1, nonnegative: false });
    expect(() => e.explain([5], [1], [0])).toThrow(InvalidTrainingDataError);
    expect(() => e.explain([0], [1, 2], [0])).toThrow(/must pair up/);
  });
});
