/**
 * approxQuantile as a two-phase grouped aggregate: generated groups split over uneven partitions
 * (some empty), partial sketches merged after a simulated shuffle, and every returned value's rank
 * checked against the stated bound — within relativeError·N + 1 of q·N, and of the rank of DuckDB's
 * exact quantile_disc.
 */
import type * as arrow from 'apache-arrow';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidOptionError, SchemaMismatchError, agg, aggregate, finalizeAggregates, hashPartition, mergeAggregates, partialAggregate, type AggSpec } from '../../../src/data/index.js';
import { Duck, arrowRows, toArrow, type ColSpec } from './helpers/oracle.js';

let duck: Duck;
beforeAll(async () => {
  duck = await Duck.open();
});
afterAll(() => duck?.close());

function twoPhase(parts: arrow.Table[], keys: string[], aggs: AggSpec[], reducers: number): arrow.Table[] {
  const shuffled: arrow.Table[][] = Array.from({ length: reducers }, () => []);
  for (const p of parts) hashPartition(partialAggregate(p, keys, aggs), keys, reducers).forEach((b, r) => shuffled[r]!.push(b));
  return shuffled.map((s) => finalizeAggregates(mergeAggregates(s, keys, aggs), keys, aggs));
}

/** Ranks (1-based) the value v can take among sorted xs: [count(x < v) + 1, count(x <= v)]. */
function rankInterval(xs: readonly number[], v: number): [number, number] {
  let lt = 0;
  let le = 0;
  for (const x of xs) {
    if (x < v) lt++;
    if (x <= v) le++;
  }
  return [lt + 1, le];
}

/** Distance from a rank interval to a target rank (0 when inside). */
const distance = ([lo, hi]: [number, number], target: number): number => (target < lo ? lo - target : target > hi ? target - hi : 0);

describe('approxQuantile aggregate', () => {
  it('ranks lie within relativeError·N + 1 of q·N and of DuckDB quantile_disc, over uneven partitions', async () => {
    const probs = [0, 0.01, 0.25, 0.5, 0.9, 0.999, 1];
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.record({
            k: fc.option(fc.constantFrom('a', 'b', '日本', 'émile', '😀'), { freq: 8, nil: null }),
            // skew: many duplicates of a few values, plus a wide spread
            x: fc.option(fc.oneof(fc.integer({ min: 0, max: 5 }), fc.double({ min: -1e6, max: 1e6, noNaN: true, noDefaultInfinity: true })), { freq: 8, nil: null }),
          }),
          { maxLength: 3000 },
        ),
        fc.constantFrom(0, 0.001, 0.01, 0.05, 0.2),
        fc.array(fc.nat(3000), { maxLength: 6 }),
        async (rows, relativeError, cuts) => {
          const cols: ColSpec[] = [
            { name: 'k', type: 'utf8', values: rows.map((r) => r.k) },
            { name: 'x', type: 'float64', values: rows.map((r) => r.x) },
          ];
          const t = toArrow(cols);
          const points = [0, ...cuts.map((c) => Math.min(c, t.numRows)).sort((a, b) => a - b), t.numRows];
          const parts = points.slice(1).map((end, i) => t.slice(points[i]!, end));
          const spec = agg.approxQuantile('x', probs, { relativeError, as: 'q' });
          const got = new Map<unknown, number[] | null>();
          for (const out of twoPhase(parts, ['k'], [spec], 3)) for (const [k, q] of arrowRows(out)) got.set(k, q as number[] | null);
          await duck.load('t', cols);
          const exact = await duck.rows(`SELECT k, quantile_disc(x, [${probs.join(', ')}]) FROM t GROUP BY k`);
          expect(got.size).toBe(exact.length);
          for (const [k, e] of exact) {
            const xs = rows.filter((r) => r.k === k && r.x !== null).map((r) => r.x!);
            const q = got.get(k);
            if (xs.length === 0) {
              expect(q).toBeNull();
              continue;
            }
            const N = xs.length;
            const bound = relativeError * N + 1;
            probs.forEach((p, i) => {
              const r = rankInterval(xs, q![i]!);
              expect(r[0], `value ${q![i]} must be one of the group's values`).toBeLessThanOrEqual(r[1]);
              expect(distance(r, p * N), `k=${String(k)} q=${p} N=${N} ε=${relativeError}`).toBeLessThanOrEqual(bound);
              const er = rankInterval(xs, (e as number[])[i]!);
              const gap = Math.max(0, er[0] - r[1], r[0] - er[1]);
              expect(gap, `vs DuckDB quantile_disc, k=${String(k)} q=${p}`).toBeLessThanOrEqual(bound + 1);
            });
          }
        },
      ),
      { numRuns: 40 },
    );
  });

  it('one probability gives a float64 column; several a list; empty groups give null', () => {
    const t = toArrow([
      { name: 'k', type: 'int32', values: [1, 1, 1, 2, 2, 3] },
      { name: 'x', type: 'int32', values: [5, 1, 3, null, null, 7] },
    ]);
    const out = aggregate(t, ['k'], [agg.approxQuantile('x', 0.5, { as: 'med', relativeError: 0 }), agg.approxQuantile('x', [0, 1], { as: 'ends' })]);
    expect(out.schema.fields.map((f) => String(f.type))).toEqual(['Int32', 'Float64', 'List<Float64>']);
    const rows = arrowRows(out).sort((a, b) => (a[0] as number) - (b[0] as number));
    expect(rows).toEqual([
      [1, 3, [1, 5]],
      [2, null, null],
      [3, 7, [7, 7]],
    ]);
  });

  it('bad input: probabilities outside [0, 1], bad relativeError, non-numeric column', () => {
    expect(() => agg.approxQuantile('x', 1.5)).toThrow(InvalidOptionError);
    expect(() => agg.approxQuantile('x', [0.5, -0.1])).toThrow(/approxQuantile\(x\) probability must be in \[0, 1\]; got -0.1/);
    expect(() => agg.approxQuantile('x', [])).toThrow(/probability is required/);
    expect(() => agg.approxQuantile('x', 0.5, { relativeError: 1 })).toThrow(/approxQuantile\(x\) relativeError must be in \[0, 1\); got 1/);
    const t = toArrow([{ name: 's', type: 'utf8', values: ['a'] }]);
    expect(() => aggregate(t, [], [agg.approxQuantile('s', 0.5)])).toThrow(SchemaMismatchError);
    expect(() => aggregate(t, [], [agg.approxQuantile('s', 0.5)])).toThrow(/approxQuantile\(s\) needs a numeric column/);
  });
});
