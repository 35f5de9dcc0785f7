/**
 * The rental job's time split (examples/rental-recs/split.ts) and its bootstrap (stats.ts): no stay
 * from on or after a cut in what a model is fitted on; every user with a window stay and history
 * evaluated; repeats apart from discovery; users without history apart; intervals that cover.
 */
import { DateDay, Float64, Int64, makeData, makeVector, Table } from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { prepareRatings } from '../../../examples/rental-recs/prepare.js';
import { evalSet, timeSplit } from '../../../examples/rental-recs/split.js';
import { bootstrapMean, pairedBootstrap } from '../../../examples/rental-recs/stats.js';

const DAY = 86_400_000;
function ratings(rows: Array<[number, number, string]>): Table {
  return new Table({
    user_id: makeVector(makeData({ type: new Int64(), length: rows.length, data: BigInt64Array.from(rows, (r) => BigInt(r[0])) })),
    listing_id: makeVector(makeData({ type: new Int64(), length: rows.length, data: BigInt64Array.from(rows, (r) => BigInt(r[1])) })),
    rating: makeVector(makeData({ type: new Float64(), length: rows.length, data: new Float64Array(rows.length).fill(1) })),
    rated_at: makeVector(makeData({ type: new DateDay(), length: rows.length, data: Int32Array.from(rows, (r) => Date.parse(r[2]) / DAY) })),
  });
}

/** A seeded market: 300 users, 40 listings, stays over two years, some repeated. */
function market(): Array<[number, number, string]> {
  let a = 5;
  const r = (): number => ((a = (a * 1103515245 + 12345) % 2147483648) / 2147483648);
  const rows: Array<[number, number, string]> = [];
  for (let k = 0; k < 3000; k++) {
    const u = 1 + Math.floor(r() * 300);
    rows.push([u, 100 + ((u * 7 + Math.floor(r() * 6)) % 40), new Date(Date.UTC(2022, 0, 1) + Math.floor(r() * 730) * DAY).toISOString().slice(0, 10)]);
  }
  return rows;
}

describe('time split', () => {
  const rows = market();
  const x = prepareRatings(ratings(rows), BigInt64Array.from({ length: 40 }, (_, i) => BigInt(100 + i)));
  const s = timeSplit(x);

  it('has no stay from on or after a cut in training: before the validation cut for validation, before the test cut for test', () => {
    expect(s.validationCut).toBeLessThan(s.testCut);
    for (const d of s.train.day) expect(d).toBeLessThan(s.validationCut);
    for (const e of s.train.eventRows) expect(x.events.day[e]).toBeLessThan(s.validationCut);
    for (const e of s.fit.eventRows) expect(x.events.day[e]).toBeLessThan(s.testCut);
    for (const e of s.validationEvents) expect(x.events.day[e]! >= s.validationCut && x.events.day[e]! < s.testCut).toBe(true);
    for (const e of s.testEvents) expect(x.events.day[e]).toBeGreaterThanOrEqual(s.testCut);
    // Every stay is in exactly one of train, validation, test; the windows hold ~20% each.
    expect(s.train.eventRows.length + s.validationEvents.length + s.testEvents.length).toBe(rows.length);
    expect(s.testEvents.length / rows.length).toBeCloseTo(0.2, 1);
    expect(s.validationEvents.length / rows.length).toBeCloseTo(0.2, 1);
  });

  it('a pair stayed in before and after the cut: the earlier stay trains, the later one is a repeat, not a target', () => {
    const y = prepareRatings(ratings([[1, 10, '2020-01-01'], [1, 10, '2020-12-01'], [1, 11, '2020-12-02'], [2, 10, '2020-02-01'], [3, 11, '2020-12-03']]), BigInt64Array.from([10n, 11n]));
    const t = timeSplit(y, { testFraction: 0.6, validationFraction: 0.2 });
    const set = evalSet(y, t.fit, t.testEvents);
    expect(Array.from(t.fit.user)).toContain(0); // user 1's 2020-01-01 stay is in the fit
    expect(set.repeatStays).toBe(1);
    expect(set.repeatOfLast).toBe(1);
    expect(Array.from(set.users)).toEqual([0]); // user 1 discovers listing 11
    expect(Array.from(set.held.idx.subarray(set.held.ptr[0]!, set.held.ptr[1]!))).toEqual([1]);
    expect(Array.from(set.coldUsers)).toEqual([2]); // user 3: no history
  });

  it('evaluates every user with a window stay in a new listing and history before the cut', () => {
    const set = evalSet(x, s.fit, s.testEvents);
    const hist = new Map<number, Set<number>>();
    for (let r = 0; r < s.fit.user.length; r++) {
      if (!hist.has(s.fit.user[r]!)) hist.set(s.fit.user[r]!, new Set());
      hist.get(s.fit.user[r]!)!.add(s.fit.item[r]!);
    }
    const expected = new Set<number>();
    for (const e of s.testEvents) if (hist.get(x.events.user[e]!) && !hist.get(x.events.user[e]!)!.has(x.events.item[e]!)) expected.add(x.events.user[e]!);
    expect(new Set(set.users)).toEqual(expected);
    for (const u of set.coldUsers) expect(hist.has(u)).toBe(false);
  });
});

describe('bootstrap', () => {
  it('a 95% interval around the mean; a paired test finds a real difference and not a null one', () => {
    const a = Float64Array.from({ length: 400 }, (_, i) => (i % 4 === 0 ? 1 : 0));
    const b = Float64Array.from(a, (v, i) => (i % 8 === 0 ? 0 : v));
    const m = bootstrapMean(a);
    expect(m.mean).toBe(0.25);
    expect(m.lo).toBeLessThan(0.25);
    expect(m.hi).toBeGreaterThan(0.25);
    expect(m.hi - m.lo).toBeGreaterThan(0.05);
    const p = pairedBootstrap('a', a, 'b', b);
    expect(p.diff.mean).toBeCloseTo(0.125, 6);
    expect(p.diff.lo).toBeGreaterThan(0);
    expect(p.ratio.mean).toBe(2);
    expect(p.p).toBeLessThan(0.01);
    const same = pairedBootstrap('a', a, 'a2', a);
    expect(same.diff).toEqual({ mean: 0, lo: 0, hi: 0 });
    expect(same.p).toBe(1);
  });
});
