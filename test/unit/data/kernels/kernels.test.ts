import * as arrow from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import {
  InvalidOptionError,
  SchemaMismatchError,
  agg,
  aggregate,
  col,
  concatTables,
  filter,
  hashJoin,
  distinct,
  hashBigInt,
  hashNumber,
  hashString,
  hashPartition,
  limit,
  project,
  sampleTable,
  sortTable,
} from '../../../../src/data/index.js';
import { arrowRows, toArrow } from '../helpers/oracle.js';

describe('hashPartition', () => {
  it('sends equal keys to the same partition regardless of numeric storage type', () => {
    const a = toArrow([{ name: 'k', type: 'int32', values: [1, 2, 3, null, 5, 1] }]);
    const b = toArrow([{ name: 'k', type: 'int64', values: [5, 3, null, 1, 2, 2] }]);
    const c = toArrow([{ name: 'k', type: 'float64', values: [2, 1, 3, 5, null] }]);
    const where = (t: arrow.Table): Map<unknown, number> => {
      const m = new Map<unknown, number>();
      hashPartition(t, ['k'], 4).forEach((p, i) => arrowRows(p).forEach(([k]) => m.set(k, i)));
      return m;
    };
    const wa = where(a);
    const wb = where(b);
    const wc = where(c);
    for (const k of [1, 2, 3, 5, null]) {
      expect(wb.get(k)).toBe(wa.get(k));
      expect(wc.get(k)).toBe(wa.get(k));
    }
  });

  it('is a pure function of the key (golden values guard cross-process stability)', () => {
    expect([hashString('abc'), hashString('日本'), hashNumber(5), hashNumber(-5), hashNumber(2 ** 40), hashNumber(0.5)]).toMatchInlineSnapshot(`
      [
        482950588,
        236567117,
        3423425485,
        3663032203,
        2407587585,
        883173756,
      ]
    `);
    expect(hashNumber(-0)).toBe(hashNumber(0));
    const t = toArrow([{ name: 's', type: 'utf8', values: ['a', 'b', 'c', 'd', '日本', null] }]);
    expect(hashPartition(t, ['s'], 3).map((p) => arrowRows(p).map((r) => r[0]))).toMatchInlineSnapshot(`
      [
        [
          "a",
          "b",
          "c",
          null,
        ],
        [
          "d",
        ],
        [
          "日本",
        ],
      ]
    `);
  });

  it('keeps every row exactly once, and validates options', () => {
    const t = toArrow([{ name: 'k', type: 'int32', values: Array.from({ length: 1000 }, (_, i) => i % 37) }]);
    const parts = hashPartition(t, ['k'], 7);
    expect(parts.reduce((s, p) => s + p.numRows, 0)).toBe(1000);
    expect(() => hashPartition(t, ['k'], 0)).toThrow(InvalidOptionError);
    expect(() => hashPartition(t, ['k'], 0)).toThrow(/numPartitions must be a positive integer/);
  });
});

describe('int64 keys beyond 2^53', () => {
  // 2^60 + 1 and 2^60 + 2 round to the same float64; keys must still tell them apart.
  const big = new arrow.Table({
    id: arrow.vectorFromArray([2n ** 60n + 1n, 2n ** 60n + 2n, 2n ** 60n + 1n, 5n, null], new arrow.Int64()),
    v: arrow.vectorFromArray([1, 2, 3, 4, 5], new arrow.Int32()),
  });
  it('group, join, distinct, sort and partition exactly', () => {
    const g = aggregate(big, ['id'], [agg.sum('v', 's')]);
    expect(g.numRows).toBe(4);
    expect([...g.getChild('id')!]).toEqual([2n ** 60n + 1n, 2n ** 60n + 2n, 5n, null]);
    expect([...g.getChild('s')!]).toEqual([4n, 2n, 4n, 5n]);
    expect(distinct(big, ['id']).numRows).toBe(4);
    expect([...aggregate(big, [], [agg.max('id')]).getChild('max(id)')!]).toEqual([2n ** 60n + 2n]);
    const other = new arrow.Table({ id: arrow.vectorFromArray([2n ** 60n + 2n, 5n], new arrow.Int64()), w: arrow.vectorFromArray(['two', 'five'], new arrow.Utf8()) });
    expect(arrowRows(hashJoin(big, other, 'id', 'inner')).map((r) => [r[1], r[2]])).toEqual([[2, 'two'], [4, 'five']]);
    expect([...sortTable(big, [{ column: 'id', ascending: false }]).getChild('v')!]).toEqual([2, 1, 3, 4, 5]);
    const parts = hashPartition(big, ['id'], 16);
    const where = (x: bigint) => parts.findIndex((p) => [...p.getChild('id')!].includes(x));
    expect(where(2n ** 60n + 1n)).toBe(hashBigInt(2n ** 60n + 1n) % 16);
    expect(hashBigInt(12345n)).toBe(hashNumber(12345));
  });
});

describe('concatTables', () => {
  it('names the column whose type differs', () => {
    const a = toArrow([{ name: 'x', type: 'int32', values: [1] }, { name: 'y', type: 'utf8', values: ['a'] }]);
    const b = toArrow([{ name: 'x', type: 'int32', values: [2] }, { name: 'y', type: 'int32', values: [1] }]);
    let err: unknown;
    try {
      concatTables([a, b]);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SchemaMismatchError);
    expect((err as SchemaMismatchError).column).toBe('y');
    expect((err as Error).message).toMatch(/column "y" is Utf8 in table 0 but Int32 in table 1/);
  });

  it('concatenates without copying and keeps types', () => {
    const a = toArrow([{ name: 'x', type: 'int64', values: [1, null] }]);
    const t = concatTables([a, a, a.slice(0, 0)]);
    expect(t.numRows).toBe(4);
    expect(arrowRows(t)).toEqual([[1], [null], [1], [null]]);
    expect(t.schema.fields[0]!.type).toBeInstanceOf(arrow.Int64);
  });
});

describe('sampleTable and limit', () => {
  const t = toArrow([{ name: 'i', type: 'int32', values: Array.from({ length: 2000 }, (_, i) => i) }]);
  it('samples deterministically for a seed and roughly at the fraction', () => {
    const a = arrowRows(sampleTable(t, 0.3, 42));
    expect(arrowRows(sampleTable(t, 0.3, 42))).toEqual(a);
    expect(arrowRows(sampleTable(t, 0.3, 43))).not.toEqual(a);
    // Each row is kept with probability 0.3: the count is Binomial(2000, 0.3), mean 600, σ = √(2000·0.3·0.7) ≈ 20.5.
    // Within ±5σ (500..700) with probability 1 − 6e-7 for a correct sampler.
    expect(a.length).toBeGreaterThanOrEqual(500);
    expect(a.length).toBeLessThanOrEqual(700);
    // Over 40 seeds the mean count has σ ≈ 3.2: within ±5σ (584..616) unless the sampler is biased.
    const counts = Array.from({ length: 40 }, (_, seed) => sampleTable(t, 0.3, 1000 + seed).numRows);
    const meanCount = counts.reduce((x, y) => x + y, 0) / counts.length;
    expect(meanCount).toBeGreaterThanOrEqual(584);
    expect(meanCount).toBeLessThanOrEqual(616);
    // ... and every row can be drawn: the union over the seeds covers (nearly) all rows (P(a row never drawn) = 0.7^40 ≈ 6e-7).
    const drawn = new Set<number>();
    for (let seed = 0; seed < 40; seed++) for (const [i] of arrowRows(sampleTable(t, 0.3, 1000 + seed))) drawn.add(i as number);
    expect(drawn.size).toBeGreaterThanOrEqual(1998);
    expect(sampleTable(t, 0, 1).numRows).toBe(0);
    expect(sampleTable(t, 1, 1).numRows).toBe(2000);
    expect(() => sampleTable(t, 1.5, 1)).toThrow(/fraction must be between 0 and 1/);
  });
  it('limits', () => {
    expect(limit(t, 5).numRows).toBe(5);
    expect(limit(t, 5000).numRows).toBe(2000);
  });
});

describe('kernels on multi-chunk tables and list columns', () => {
  it('filter, sort and join work across record batches and keep list columns', () => {
    const a = toArrow([{ name: 'k', type: 'int32', values: [3, 1, null] }, { name: 's', type: 'utf8', values: ['a b', 'c', null] }]);
    const withList = project(a, [col('k'), col('s').split(' ').alias('parts')]);
    const two = concatTables([withList, withList]);
    expect(two.batches.length).toBe(2);
    const sorted = sortTable(two, [{ column: 'k', ascending: false }]);
    expect(arrowRows(sorted)).toEqual([
      [3, ['a', 'b']],
      [3, ['a', 'b']],
      [1, ['c']],
      [1, ['c']],
      [null, null],
      [null, null],
    ]);
    expect(arrowRows(filter(two, col('k').ge(2)))).toEqual([
      [3, ['a', 'b']],
      [3, ['a', 'b']],
    ]);
    const right = toArrow([{ name: 'k', type: 'int64', values: [3, null] }, { name: 'v', type: 'utf8', values: ['three', 'null'] }]);
    expect(arrowRows(hashJoin(two, right, 'k', 'left'))).toEqual([
      [3, ['a', 'b'], 'three'],
      [1, ['c'], null],
      [null, null, null],
      [3, ['a', 'b'], 'three'],
      [1, ['c'], null],
      [null, null, null],
    ]);
  });

  it('aggregate gives SQL results for empty input', () => {
    const empty = toArrow([{ name: 'k', type: 'int32', values: [] }, { name: 'x', type: 'float64', values: [] }]);
    expect(arrowRows(aggregate(empty, [], [agg.count(), agg.sum('x'), agg.collectList('x')]))).toEqual([[0, null, []]]);
    expect(aggregate(empty, ['k'], [agg.count()]).numRows).toBe(0);
    expect(() => aggregate(empty, [], [agg.sum('k', 'k2'), agg.sum('x', 'k2')])).toThrow(/"k2" repeats/);
  });
});
