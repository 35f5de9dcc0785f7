/** Output drift's arithmetic against hand-computed values: Gini, coverage, top-10 share, and the in-process report. */
import * as arrow from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { detectOutputDriftInProcess, gini, outputStatistics } from '../../../src/platform/index.js';
import { InvalidOptionError } from '../../../src/core/index.js';
import { MonitoringInputError } from '../../../src/platform/errors.js';

/** An exposure-log table (the columns serve's ParquetExposureLog writes). */
function exposures(items: string[][], scores?: (number[] | null)[]): arrow.Table {
  const cols: Record<string, arrow.Vector> = {
    request_id: arrow.vectorFromArray(items.map((_, i) => `r${i}`), new arrow.Utf8()),
    user: arrow.vectorFromArray(items.map((_, i) => `u${i % 3}`), new arrow.Utf8()),
    items: arrow.vectorFromArray(items, new arrow.List(new arrow.Field('item', new arrow.Utf8(), true))),
  };
  if (scores) cols.scores = arrow.vectorFromArray(scores, new arrow.List(new arrow.Field('score', new arrow.Float64(), true)));
  return new arrow.Table(cols);
}

describe('gini', () => {
  it('hand-computed: Σ(2i − n − 1)·x₍ᵢ₎ / (n·Σx)', () => {
    // sorted 0 0 1 3: (−3·0 − 1·0 + 1·1 + 3·3) / (4·4) = 10/16
    expect(gini([3, 0, 1, 0])).toBeCloseTo(0.625, 12);
    expect(gini([2, 2, 2])).toBe(0);
    expect(gini([0, 0, 0, 5])).toBeCloseTo(0.75, 12); // (n − 1)/n: everything on one item
    expect(gini([])).toBe(0);
    expect(gini([0, 0])).toBe(0);
  });
});

describe('outputStatistics', () => {
  it('coverage, Gini over the catalogue (unshown items count 0), top-10 share', () => {
    const s = outputStatistics(new Map([['a', 3], ['b', 2], ['c', 1]]), 3, 5, { count: 4, sum: 2 });
    // counts 0 0 1 2 3 over 5 items: (0·1 + 2·2 + 4·3) / (5·6) = 16/30
    expect(s).toEqual({ requests: 3, exposures: 6, distinctItems: 3, catalogueSize: 5, coverage: 0.6, gini: expect.closeTo(16 / 30, 12) as number, top10Share: 1, scores: 4, meanScore: 0.5 });
    const many = new Map(Array.from({ length: 20 }, (_, i) => [`i${i}`, i + 1]));
    // top 10 of 1..20: 11+…+20 = 155 of 210
    expect(outputStatistics(many, 20, 20, { count: 0, sum: 0 }).top10Share).toBeCloseTo(155 / 210, 12);
  });

  it('refuses more distinct items shown than the catalogue has', () => {
    expect(() => outputStatistics(new Map([['a', 1], ['b', 1]]), 1, 1, { count: 0, sum: 0 })).toThrow(MonitoringInputError);
  });
});

describe('detectOutputDriftInProcess', () => {
  it('hand-computed windows: coverage 0.6 → 0.4 alerts, Gini 0.533 → 0.6 does not', async () => {
    const ref = exposures([['a', 'b'], ['a', 'c'], ['b', 'a']]);
    const cur = exposures([['a', 'b'], ['a', 'b'], ['a', 'b']]);
    const r = await detectOutputDriftInProcess(ref, cur, { catalogue: 5 });
    expect(r.reference.coverage).toBeCloseTo(0.6, 12);
    expect(r.current.coverage).toBeCloseTo(0.4, 12);
    expect(r.reference.gini).toBeCloseTo(16 / 30, 12);
    // counts 0 0 0 3 3: (2·3 + 4·3) / (5·6) = 18/30
    expect(r.current.gini).toBeCloseTo(18 / 30, 12);
    expect(r.coverageChange).toBeCloseTo(-0.2, 12);
    expect(r.giniChange).toBeCloseTo(2 / 30, 12);
    expect(r.alerts.map((a) => a.kind)).toEqual(['coverage-change']);
    expect(r.alerts[0]!.detail).toContain('3 → 2 of 5 items');
    expect(r.scores.status).toBe('cannot-judge');
    expect(r.scores.reason).toBe('the reference window logged no scores');
    expect(r.catalogueFrom).toBe('given');
  });

  it('without a catalogue, the items shown in either window are the catalogue', async () => {
    const r = await detectOutputDriftInProcess(exposures([['a'], ['b']]), exposures([['c'], ['c']]));
    expect(r.catalogueFrom).toBe('shown items');
    expect(r.reference.catalogueSize).toBe(3);
    expect(r.reference.coverage).toBeCloseTo(2 / 3, 12);
    expect(r.current.coverage).toBeCloseTo(1 / 3, 12);
  });

  it('the score distribution is judged by the drift test: shifted scores drift, the same scores do not', async () => {
    const n = 400;
    const items = Array.from({ length: n }, (_, i) => [`l${i % 50}`]);
    const base = Array.from({ length: n }, (_, i) => [Math.sin(i * 12.9898) * 0.5 + 0.5]);
    const shifted = base.map(([v]) => [v! + 0.4]);
    const same = await detectOutputDriftInProcess(exposures(items, base), exposures(items, base), { scores: { thresholds: 'fixed' } });
    expect(same.scores.status).toBe('no-drift');
    expect(same.scores.method).toBe('ks');
    expect(same.reference.meanScore).toBeCloseTo(base.reduce((a, [v]) => a + v!, 0) / n, 12);
    const moved = await detectOutputDriftInProcess(exposures(items, base), exposures(items, shifted), { scores: { thresholds: 'fixed' } });
    expect(moved.scores.status).toBe('drift');
    expect(moved.alerts.map((a) => a.kind)).toEqual(['score-drift']);
  });

  it('bad input: not an exposure log, a shown item outside the catalogue, a bad option', async () => {
    const t = new arrow.Table({ x: arrow.vectorFromArray([1], new arrow.Float64()) });
    await expect(detectOutputDriftInProcess(t, exposures([['a']]))).rejects.toThrow(/reference window has no 'items' column/);
    await expect(detectOutputDriftInProcess(exposures([['a']]), exposures([['z']]), { catalogue: ['a', 'b'] })).rejects.toThrow(/1 shown items are not in the catalogue given \(first: "z"\)/);
    await expect(detectOutputDriftInProcess(exposures([['a']]), exposures([['a']]), { maxGiniChange: 2 })).rejects.toThrow(InvalidOptionError);
    await expect(detectOutputDriftInProcess(exposures([['a']]), exposures([['a']]), { maxGiniChange: 2 })).rejects.toThrow(/'maxGiniChange' must be a number from 0 to 1/);
  });
});
