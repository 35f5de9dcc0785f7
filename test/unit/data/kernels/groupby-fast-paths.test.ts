/**
 * The groupBy fast paths against the general ones and DuckDB: grouping one integer key in a small
 * range by direct indexing, numbering groups partition by partition (so map-side states are slices),
 * sum/mean/count of one column sharing their state columns, the int64 conversions the expressions
 * go through, arithmetic written into a temporary's storage, and withColumns nothing reads being
 * dropped from the plan.
 */
import * as arrow from 'apache-arrow';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AggSpec, agg, aggregateStateColumns, col, concatTables, evaluate, finalizeAggregates, mergeAggregates, range } from '../../../../src/data/index.js';
import { partialAggregatePartitioned } from '../../../../src/data/kernels/aggregate.js';
import { denseKeyRange, groupIds, groupIdsPartitioned, hashRows, keyColumns, partitionOfHash } from '../../../../src/data/kernels/row-key.js';
import { readPartition } from '../../../../src/data/dataset/execution/read-partition.js';
import { columnFromVector, columnToVector } from '../../../../src/data/types/column.js';
import { Duck, arrowRows, expectSameRows, toArrow, type ColType } from '../helpers/oracle.js';

/** Key `k` of `type`, a constant utf8 `c` (a second key sends grouping down the generic path) and a value `v`. */
function keyTable(type: ColType, keys: readonly unknown[]): arrow.Table {
  return toArrow([
    { name: 'k', type, values: keys },
    { name: 'c', type: 'utf8', values: keys.map(() => 'x') },
    { name: 'v', type: 'float64', values: keys.map((_, i) => (i % 7 === 3 ? null : i * 0.5)) },
  ]);
}

/** Integer keys in a small range, with nulls (and -0 for float64). */
function smallKeyArb(type: ColType): fc.Arbitrary<unknown[]> {
  const special: unknown[] = type === 'float64' ? [null, -0, 0] : [null, 0];
  return fc.array(fc.oneof(fc.constantFrom(...special), fc.integer({ min: -40, max: 40 })), { maxLength: 300 });
}

const NUMERIC: ColType[] = ['int32', 'int64', 'float64'];

describe('grouping one integer key in a small range', () => {
  for (const type of NUMERIC) {
    it(`gives the groups of the generic path, in the same order (${type}: nulls, negatives, -0)`, () => {
      fc.assert(
        fc.property(smallKeyArb(type), (keys) => {
          const t = keyTable(type, keys);
          expect(denseKeyRange(keyColumns(t, ['k'])[0]!, t.numRows)).not.toBeNull();
          const dense = groupIds(keyColumns(t, ['k']), t.numRows);
          const generic = groupIds(keyColumns(t, ['k', 'c']), t.numRows);
          expect(Array.from(dense.groupOf)).toEqual(Array.from(generic.groupOf));
          expect(Array.from(dense.firstRows)).toEqual(Array.from(generic.firstRows));
          const rowHash = hashRows(keyColumns(t, ['k']), t.numRows);
          expect(Array.from(dense.groupHash)).toEqual(Array.from(dense.firstRows, (r) => rowHash[r]!));
        }),
        { numRuns: 60 },
      );
    });
  }

  it('is not used for NaN, fractions, wide ranges or int64 values beyond 2^53', () => {
    const of = (type: ColType, keys: unknown[]) => denseKeyRange(keyColumns(keyTable(type, keys), ['k'])[0]!, keys.length);
    expect(of('float64', [1, 2, Number.NaN])).toBeNull();
    expect(of('float64', [1, 2.5])).toBeNull();
    expect(of('float64', [1, Number.POSITIVE_INFINITY])).toBeNull();
    expect(of('int64', [0, 2 ** 40])).toBeNull();
    const big = new arrow.Table({ k: arrow.vectorFromArray([2n ** 53n + 1n, 2n ** 53n + 2n], new arrow.Int64()) });
    expect(denseKeyRange(keyColumns(big, ['k'])[0]!, 2)).toBeNull();
    expect(of('int32', [null, null])).toEqual({ min: 0, span: 0 });
  });
});

describe('groupIdsPartitioned', () => {
  /** Checks the numbering: same grouping as groupIds, partitions contiguous and routed as hashPartition routes rows. */
  function check(t: arrow.Table, keys: string[], P: number): void {
    const n = t.numRows;
    const cols = keyColumns(t, keys);
    const { ids, starts } = groupIdsPartitioned(cols, n, P);
    const plain = groupIds(cols, n);
    expect(ids.numGroups).toBe(plain.numGroups);
    expect(starts.length).toBe(P + 1);
    expect(starts[0]).toBe(0);
    expect(starts[P]).toBe(ids.numGroups);
    // A bijection between the two numberings.
    const map = new Map<number, number>();
    for (let i = 0; i < n; i++) {
      const a = plain.groupOf[i]!;
      const b = ids.groupOf[i]!;
      if (!map.has(a)) map.set(a, b);
      expect(map.get(a)).toBe(b);
    }
    expect(new Set(map.values()).size).toBe(map.size);
    const rowHash = hashRows(cols, n);
    for (let i = 0; i < n; i++) {
      const g = ids.groupOf[i]!;
      const p = partitionOfHash(rowHash[i]!, P);
      expect(g >= starts[p]! && g < starts[p + 1]!).toBe(true);
      expect(ids.groupHash[g]).toBe(rowHash[i]);
    }
    for (let g = 0; g < ids.numGroups; g++) expect(ids.groupOf[ids.firstRows[g]!]).toBe(g);
  }

  for (const type of NUMERIC) {
    it(`numbers the groups partition by partition (${type}, small-range keys)`, () => {
      fc.assert(
        fc.property(smallKeyArb(type), fc.integer({ min: 1, max: 9 }), (keys, P) => check(keyTable(type, keys), ['k'], P)),
        { numRuns: 40 },
      );
    });
  }

  it('numbers the groups partition by partition (NaN and wide float keys, two keys)', () => {
    const keys = [Number.NaN, 1.5, null, -0, 0, 2 ** 60, Number.NaN, 1.5, 7, null, -(2 ** 45)];
    for (const P of [1, 2, 5]) {
      check(keyTable('float64', keys), ['k'], P);
      check(keyTable('float64', keys), ['k', 'c'], P);
    }
  });

  it('numbers small ranges of keys beyond int32 partition by partition', () => {
    for (const keys of [
      [2 ** 40, 2 ** 40 + 1, null, 2 ** 40 + 5, 2 ** 40],
      [-(2 ** 31) - 2, -(2 ** 31), -(2 ** 31) + 3, null, -(2 ** 31) - 1],
      [2 ** 31 - 2, 2 ** 31 - 1, 2 ** 31, 2 ** 31 + 1],
    ]) {
      const t = keyTable('int64', keys);
      expect(denseKeyRange(keyColumns(t, ['k'])[0]!, t.numRows)).not.toBeNull();
      for (const P of [1, 3, 4]) check(t, ['k'], P);
    }
  });

  it('handles an empty table', () => {
    const { ids, starts } = groupIdsPartitioned(keyColumns(keyTable('int64', []), ['k']), 0, 4);
    expect(ids.numGroups).toBe(0);
    expect(Array.from(starts)).toEqual([0, 0, 0, 0, 0]);
  });
});

describe('groupBy through partitioned partial states', () => {
  let duck: Duck;
  beforeAll(async () => {
    duck = await Duck.open();
  });
  afterAll(() => duck.close());

  const AGGS: AggSpec[] = [agg.sum('v', 's'), agg.mean('v', 'm'), agg.count('v', 'nv'), agg.count(undefined, 'n'), agg.sum('i', 'si'), agg.mean('i', 'mi')];
  const SQL = 'sum(v), avg(v), count(v), count(*), sum(i), avg(i)';

  /** Map states of each part into `P` buckets, then merge and finalize bucket by bucket (what a shuffle does). */
  function viaShuffle(parts: arrow.Table[], keys: string[], aggs: AggSpec[], P: number): arrow.Table {
    const maps = parts.map((p) => partialAggregatePartitioned(p, keys, aggs, P));
    for (const m of maps) expect(m.length).toBe(P);
    return concatTables(Array.from({ length: P }, (_, b) => finalizeAggregates(mergeAggregates(maps.map((m) => m[b]!), keys, aggs), keys, aggs)));
  }

  it('sum, mean and count of one column share their state columns', () => {
    expect(aggregateStateColumns(AGGS)).toEqual(['$sum(v)', '$n(v)', '$rows', '$sum(i)', '$n(i)']);
    const t = toArrow([
      { name: 'k', type: 'int32', values: [1, 2, 1] },
      { name: 'v', type: 'float64', values: [1, null, 2] },
      { name: 'i', type: 'int32', values: [3, 4, null] },
    ]);
    const [state] = partialAggregatePartitioned(t, ['k'], AGGS, 1);
    expect(state!.schema.fields.map((f) => f.name)).toEqual(['k', ...aggregateStateColumns(AGGS)]);
    // An integer column's sum stays an integer.
    const out = finalizeAggregates(mergeAggregates([state!], ['k'], AGGS), ['k'], AGGS);
    expect(String(out.schema.fields.find((f) => f.name === 'si')!.type)).toBe('Int64');
  });

  it("gives GROUP BY's result for negative remainders as keys, with nulls and empty partitions", async () => {
    const n = 5000;
    const ids = Array.from({ length: n }, (_, i) => i - 2500);
    const base = toArrow([
      { name: 'id', type: 'int64', values: ids },
      { name: 'v', type: 'float64', values: ids.map((x, i) => (i % 11 === 0 ? null : (x * 7919) % 1000)) },
      { name: 'i', type: 'int32', values: ids.map((x, i) => (i % 13 === 0 ? null : x % 97)) },
    ]);
    const k = evaluate(col('id').mod(7), base);
    const kNull = evaluate(col('id').mod(col('i').mod(5)), base); // nulls where i is null or i % 5 = 0
    const table = (key: arrow.Vector): arrow.Table =>
      new arrow.Table({ k: key, v: base.getChild('v')!, i: base.getChild('i')! });
    for (const [key, sqlKey] of [
      [k, 'id % 7'],
      [kNull, 'CASE WHEN (i % 5) = 0 THEN NULL ELSE id % (i % 5) END'],
    ] as const) {
      const t = table(key);
      const parts = [t.slice(0, 0), t.slice(0, 1700), t.slice(1700, 1700), t.slice(1700)];
      const got = viaShuffle(parts, ['k'], AGGS, 3);
      await duck.load('t', [
        { name: 'id', type: 'int64', values: ids },
        { name: 'v', type: 'float64', values: ids.map((x, i) => (i % 11 === 0 ? null : (x * 7919) % 1000)) },
        { name: 'i', type: 'int32', values: ids.map((x, i) => (i % 13 === 0 ? null : x % 97)) },
      ]);
      expectSameRows(arrowRows(got), await duck.rows(`SELECT ${sqlKey} AS k, ${SQL} FROM t GROUP BY k`));
    }
  });

  it('keeps int64 keys beyond 2^53 exact and apart', () => {
    const keys = [2n ** 53n + 1n, 2n ** 53n + 2n, 2n ** 53n + 1n, -(2n ** 60n), null, 5n, 2n ** 53n + 2n];
    const t = new arrow.Table({
      k: arrow.vectorFromArray(keys, new arrow.Int64()),
      v: arrow.vectorFromArray([1, 2, 3, 4, 5, 6, 7], new arrow.Float64()),
      i: arrow.vectorFromArray([1, 1, 1, 1, 1, 1, 1], new arrow.Int32()),
    });
    const got = viaShuffle([t.slice(0, 3), t.slice(3)], ['k'], AGGS, 2);
    const rows = new Map<string, unknown[]>();
    for (let r = 0; r < got.numRows; r++) rows.set(String(got.getChild('k')!.get(r)), [got.getChild('s')!.get(r), Number(got.getChild('n')!.get(r))]);
    expect(rows).toEqual(
      new Map<string, unknown[]>([
        [String(2n ** 53n + 1n), [4, 2]],
        [String(2n ** 53n + 2n), [9, 2]],
        [String(-(2n ** 60n)), [4, 1]],
        ['null', [5, 1]],
        ['5', [6, 1]],
      ]),
    );
  });

  it('returns empty state slices with the state schema for an empty partition', () => {
    const t = keyTable('int64', []);
    const out = partialAggregatePartitioned(t, ['k'], [agg.sum('v', 's')], 3);
    expect(out.map((o) => o.numRows)).toEqual([0, 0, 0]);
    for (const o of out) expect(o.schema.fields.map((f) => f.name)).toEqual(['k', '$sum(v)', '$n(v)']);
  });
});

describe('int64 columns and expressions', () => {
  const VALUES = [0, -0, 1, -1, 2 ** 31 - 1, -(2 ** 31), 2 ** 31, -(2 ** 31) - 1, 2 ** 32 + 5, -(2 ** 40) - 3, 2 ** 53 - 1, -(2 ** 53 - 1)];

  it('convert to Arrow and back exactly (nulls stay null)', () => {
    const values = Float64Array.from(VALUES);
    const valid = Uint8Array.from(VALUES, (_, i) => (i % 5 === 4 ? 0 : 1));
    const v = columnToVector({ type: 'int64', length: values.length, values, valid });
    expect(Array.from({ length: values.length }, (_, i) => v.get(i))).toEqual(VALUES.map((x, i) => (valid[i] === 1 ? BigInt(x) : null)));
    const back = columnFromVector(v, 'x');
    VALUES.forEach((x, i) => {
      if (valid[i] === 1) expect((back.values as Float64Array)[i]).toBe(x === 0 ? 0 : x);
    });
    expect(Array.from(back.valid!)).toEqual(Array.from(valid));
  });

  it('range partitions read exact values past 2^31', async () => {
    const start = 2 ** 31 - 3;
    const t = await readPartition({ type: 'range', start, end: start + 6, column: 'id' }, null, false, null);
    expect(Array.from({ length: 6 }, (_, i) => t.getChild('id')!.get(i))).toEqual(Array.from({ length: 6 }, (_, i) => BigInt(start + i)));
    const big = await readPartition({ type: 'range', start: 2 ** 53 - 4, end: 2 ** 53 - 1, column: 'id' }, null, false, null);
    expect(Array.from({ length: 3 }, (_, i) => big.getChild('id')!.get(i))).toEqual([2n ** 53n - 4n, 2n ** 53n - 3n, 2n ** 53n - 2n]);
  });

  it('cast to float64 keeps values and nulls (int64 beyond 2^53 rounds like Number)', () => {
    const big = [2n ** 53n + 1n, null, -(2n ** 62n) - 1n, 7n];
    const t = new arrow.Table({ x: arrow.vectorFromArray(big, new arrow.Int64()), i: arrow.vectorFromArray([1, null, -3, 4], new arrow.Int32()) });
    const f = evaluate(col('x').cast('float64'), t);
    expect(Array.from({ length: 4 }, (_, i) => f.get(i))).toEqual(big.map((b) => (b === null ? null : Number(b))));
    const g = evaluate(col('i').cast('float64'), t);
    expect(Array.from({ length: 4 }, (_, i) => g.get(i))).toEqual([1, null, -3, 4]);
  });

  it('chains of column-op-literal give the same values and leave their inputs alone', () => {
    const xs = [-7, -1, 0, 3, 10, null, 2 ** 40 + 1];
    const t = new arrow.Table({
      a: arrow.vectorFromArray(xs.map((x) => (x === null ? null : BigInt(x))), new arrow.Int64()),
      b: arrow.vectorFromArray(xs.map((x) => (x === null ? null : x % 1000)), new arrow.Int32()),
    });
    const before = Array.from({ length: xs.length }, (_, i) => t.getChild('a')!.get(i));
    const r = evaluate(col('a').add(1).mul(3).mod(5).sub(2), t);
    expect(Array.from({ length: xs.length }, (_, i) => r.get(i))).toEqual(xs.map((x) => (x === null ? null : BigInt((((x + 1) * 3) % 5) - 2))));
    // int32 arithmetic widened to float64 halfway: nothing is written into the int32 temporary.
    const w = evaluate(col('b').add(1).mul(2.5).add(0.25), t);
    expect(Array.from({ length: xs.length }, (_, i) => w.get(i))).toEqual(xs.map((x) => (x === null ? null : ((x % 1000) + 1) * 2.5 + 0.25)));
    // A column referenced twice is read, never written: both operands see the original values.
    const twice = evaluate(col('a').mul(2).mod(7).add(col('a').add(1)), t);
    expect(Array.from({ length: xs.length }, (_, i) => twice.get(i))).toEqual(xs.map((x) => (x === null ? null : BigInt(((x * 2) % 7) + x + 1))));
    expect(Array.from({ length: xs.length }, (_, i) => t.getChild('a')!.get(i))).toEqual(before);
    // Division by a zero literal is null, also when written in place.
    const z = evaluate(col('a').add(1).mod(0), t);
    expect(z.nullCount).toBe(xs.length);
  });
});

describe('withColumns nothing reads', () => {
  it('are dropped from the optimized plan; the ones read later, and replacements, are kept', async () => {
    const ds = range(100, { numPartitions: 2 })
      .withColumn('a', col('id').mod(3))
      .withColumn('unused', col('id').mul(2))
      .withColumn('b', col('id').add(1))
      .withColumn('b', col('a').add(10))
      .filter(col('a').ge(1))
      .groupBy('b')
      .agg(agg.sum('id', 's'));
    const text = await ds.explainString();
    const optimized = text.slice(text.indexOf('== Optimized plan =='));
    expect(optimized).toContain('a = (id % 3)');
    expect(optimized).toContain('b = (a + 10)');
    expect(optimized).not.toContain('unused');
    expect(optimized).not.toContain('(id + 1)');
    // Without a consumer that names its columns, every withColumn stays.
    const all = await range(10).withColumn('unused', col('id').mul(2)).explainString();
    expect(all.slice(all.indexOf('== Optimized plan =='))).toContain('unused');
  });
});
