/**
 * The feedback loop's join (exposures × later outcomes): hit rate per model version and arm with
 * delayed labels, coverage, novelty, lift over the holdout, outcomes without an exposure counted,
 * the down-weighting of exposure-driven outcomes, and the two-proportion test behind the canary rule.
 */
import { describe, expect, it } from 'vitest';
import { InvalidOptionError } from 'shoal';
import { normalSf, onlineMetrics, outcomeWeights, twoProportionTest, type Exposure, type Outcome } from 'shoal/platform';

const DAY = 86_400_000;
const T0 = Date.UTC(2026, 0, 1);
const ex = (requestId: string, day: number, user: string, items: string[], modelVersion = 'v1', arm = 'stable'): Exposure => ({
  requestId, timeMs: T0 + day * DAY, user, items, modelVersion, arm,
});
const out = (user: string, item: string, day: number): Outcome => ({ user, item, timeMs: T0 + day * DAY });

describe('onlineMetrics', () => {
  const exposures = [
    ex('r1', 0, 'u1', ['a', 'b']),
    ex('r2', 0, 'u2', ['a', 'c']),
    ex('r3', 0, 'u3', ['d', 'e'], 'v2', 'canary'),
    ex('r4', 0, 'u4', ['p', 'q'], 'v1', 'holdout'),
    ex('r5', 0, 'u5', ['p', 'q'], 'v1', 'holdout'),
    ex('r6', 25, 'u1', ['c']), // its window has not closed by day 30
  ];
  const outcomes = [
    out('u1', 'b', 3), // hit for r1
    out('u2', 'z', 4), // u2 stayed somewhere never shown: unmatched
    out('u3', 'e', 40), // 40 days after: outside the 30-day window → unmatched, r3 no hit
    out('u4', 'q', 1), // holdout hit
    out('u9', 'a', 2), // a user never exposed: unmatched
  ];
  const r = onlineMetrics(exposures, outcomes, { maturityMs: 30 * DAY, asOf: T0 + 30 * DAY, catalogueSize: 10 });

  it('judges only exposures whose label window closed, per (version, arm)', () => {
    const g = Object.fromEntries(r.groups.map((x) => [`${x.modelVersion}/${x.arm}`, x]));
    expect(g['v1/stable']).toMatchObject({ exposures: 2, pending: 1, hits: 1, hitRate: 0.5, distinctItems: 3, coverage: 0.3 });
    expect(g['v2/canary']).toMatchObject({ exposures: 1, hits: 0, hitRate: 0 });
    expect(g['v1/holdout']).toMatchObject({ exposures: 2, hits: 1, hitRate: 0.5, lift: null });
    expect(r.holdoutHitRate).toBe(0.5);
    expect(g['v1/stable']!.lift).toBeCloseTo(0);
    expect(g['v2/canary']!.lift).toBe(-1);
  });

  it('counts and reports outcomes with no matching exposure', () => {
    expect(r.outcomes).toMatchObject({ total: 5, matched: 2, unmatched: 3, unmatchedUsers: 3 });
    expect(r.outcomes.unmatchedSample.map((o) => o.user).sort()).toEqual(['u2', 'u3', 'u9']);
  });

  it('novelty is the mean self-information of what was shown', () => {
    const pop = new Map([['a', 9], ['b', 1]]);
    const n = onlineMetrics([ex('r1', 0, 'u1', ['a', 'b'])], [], { asOf: T0 + 31 * DAY, popularity: pop, popularityUsers: 9 });
    expect(n.groups[0]!.novelty).toBeCloseTo((-Math.log2(10 / 10) - Math.log2(2 / 10)) / 2, 10);
    expect(onlineMetrics([ex('r1', 0, 'u1', ['a'])], [], { asOf: T0 + 31 * DAY }).groups[0]!.novelty).toBeNull();
  });

  it('a window that has not closed gives no rate, not a low one', () => {
    const young = onlineMetrics(exposures, outcomes, { maturityMs: 30 * DAY, asOf: T0 + 10 * DAY });
    for (const g of young.groups) expect(g).toMatchObject({ exposures: 0, hitRate: null });
  });

  it('refuses bad options naming them', () => {
    expect(() => onlineMetrics([], [], { maturityMs: -1 })).toThrow(/onlineMetrics\(\) option 'maturityMs' must be a finite number ≥ 0/);
    expect(() => onlineMetrics([], [], { popularity: new Map() })).toThrow(/'popularityUsers' is required with popularity/);
    expect(() => onlineMetrics([], [], { bogus: 1 } as never)).toThrow(InvalidOptionError);
  });
});

describe('outcomeWeights', () => {
  it('down-weights outcomes on items the model showed; organic and holdout ones keep 1', () => {
    const w = outcomeWeights(
      [ex('r1', 0, 'u1', ['a']), ex('r2', 0, 'u2', ['a'], 'v1', 'holdout')],
      [out('u1', 'a', 1), out('u1', 'z', 1), out('u2', 'a', 1), out('u1', 'a', 45)],
      { exposedWeight: 0.25, maturityMs: 30 * DAY },
    );
    expect([...w]).toEqual([0.25, 1, 1, 1]);
  });
});

describe('twoProportionTest', () => {
  it('matches the textbook values', () => {
    expect(normalSf(1.959963985)).toBeCloseTo(0.025, 6);
    expect(normalSf(0)).toBeCloseTo(0.5, 7);
    // 45/100 against 60/100: pooled p 0.525, z = −0.15 / sqrt(0.525·0.475·0.02) = −2.1243
    const t = twoProportionTest(45, 100, 60, 100);
    expect(t.z).toBeCloseTo(-2.1243, 3);
    expect(t.pLower).toBeCloseTo(0.01682, 4);
    expect(t.pTwoSided).toBeCloseTo(0.03364, 4);
    expect(twoProportionTest(0, 10, 0, 10).z).toBe(0);
  });
});
