/**
 * The typed fast paths of the kernels against their generic paths and against DuckDB: grouping and
 * join matching on one numeric key column (compared with the same key plus a constant second column,
 * which takes the generic path), per-row aggregation states for mostly distinct keys, counting a join
 * without building it, and routing rows by precomputed hashes.
 */
import type * as arrow from 'apache-arrow';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AggSpec, type JoinType, agg, concatTables, finalizeAggregates, hashJoin, hashPartition, mergeAggregates, partialAggregate } from '../../../../src/data/index.js';
import { InvalidOptionError } from '../../../../src/data/errors.js';
import { partialAggregatePartitioned } from '../../../../src/data/kernels/aggregate.js';
import { hashJoinCount } from '../../../../src/data/kernels/hash-join.js';
import { partitionByHashes } from '../../../../src/data/kernels/hash-partition.js';
import { groupIds, hashRows, keyColumns, matchKeys } from '../../../../src/data/kernels/row-key.js';
import { Duck, arrowRows, toArrow, type ColSpec, type ColType } from '../helpers/oracle.js';

/** Awkward numeric keys: nulls, NaN, -0 next to 0, big and fractional values, negatives. */
const SPECIAL = [null, Number.NaN, -0, 0, 1, -1, 2 ** 40, -(2 ** 40) - 3, 0.5, -2.25, 2 ** 53, 1e300];

function numericKeyArb(type: ColType, maxRows: number): fc.Arbitrary<unknown[]> {
  const special = type === 'float64' ? SPECIAL : SPECIAL.filter((v) => v === null || (Number.isInteger(v) && Math.abs(v) < (type === 'int32' ? 2 ** 31 : 2 ** 53)));
  const plain = type === 'int32' ? fc.integer({ min: -50, max: 50 }) : fc.oneof(fc.integer({ min: -50, max: 50 }), fc.double({ noNaN: false }));
  const value = type === 'float64' ? plain : fc.integer({ min: -50, max: 50 });
  return fc.array(fc.oneof(fc.constantFrom(...special), value), { maxLength: maxRows });
}

/** One key column `k` of `type` plus a constant column `c` (the generic path's second key). */
function keyTable(type: ColType, keys: readonly unknown[]): arrow.Table {
  return toArrow([
    { name: 'k', type, values: keys },
    { name: 'c', type: 'utf8', values: keys.map(() => 'x') },
    { name: 'v', type: 'float64', values: keys.map((_, i) => (i % 7 === 3 ? null : i * 0.5)) },
  ]);
}

const NUMERIC: ColType[] = ['int32', 'int64', 'float64'];

describe('groupIds on one numeric key', () => {
  for (const type of NUMERIC) {
    it(`gives the same groups as the generic path (${type}: nulls, NaN, -0, skew)`, () => {
      fc.assert(
        fc.property(numericKeyArb(type, 300), (keys) => {
          const t = keyTable(type, keys);
          const fast = groupIds(keyColumns(t, ['k']), t.numRows);
          const generic = groupIds(keyColumns(t, ['k', 'c']), t.numRows);
          expect(Array.from(fast.groupOf)).toEqual(Array.from(generic.groupOf));
          expect(Array.from(fast.firstRows)).toEqual(Array.from(generic.firstRows));
          // Group hashes are the row hashes of the key alone (what hashPartition routes by).
          const rowHash = hashRows(keyColumns(t, ['k']), t.numRows);
          expect(Array.from(fast.groupHash)).toEqual(Array.from(fast.firstRows, (r) => rowHash[r]!));
        }),
        { numRuns: 60 },
      );
    });
  }

  it('keeps growing its table past many distinct keys', () => {
    const n = 60_000;
    const keys = Array.from({ length: n }, (_, i) => (i % 3 === 0 ? null : (i * 7919) % 45_007));
    const t = keyTable('int64', keys);
    const g = groupIds(keyColumns(t, ['k']), n);
    expect(g.numGroups).toBe(new Set(keys).size);
    for (let i = 0; i < n; i += 997) expect(keys[g.firstRows[g.groupOf[i]!]!]).toBe(keys[i]);
  });
});

describe('join matching on one numeric key', () => {
  for (const [lt, rt] of [['int64', 'int64'], ['int32', 'float64'], ['float64', 'float64']] as [ColType, ColType][]) {
    it(`matches the same rows as the generic path (${lt} × ${rt})`, () => {
      fc.assert(
        fc.property(numericKeyArb(lt, 120), numericKeyArb(rt, 120), (lkeys, rkeys) => {
          const l = keyTable(lt, lkeys);
          const r = keyTable(rt, rkeys);
          const fast = matchKeys(keyColumns(l, ['k']), l.numRows, keyColumns(r, ['k']), r.numRows);
          const generic = matchKeys(keyColumns(l, ['k', 'c']), l.numRows, keyColumns(r, ['k', 'c']), r.numRows);
          expect(Array.from(fast.first)).toEqual(Array.from(generic.first));
          expect(Array.from(fast.next)).toEqual(Array.from(generic.next));
        }),
        { numRuns: 60 },
      );
    });
  }
});

describe('hashJoinCount', () => {
  const HOWS: JoinType[] = ['inner', 'left', 'right', 'full', 'semi', 'anti'];
  it('equals the row count of hashJoin for every join type, one and two keys', () => {
    fc.assert(
      fc.property(numericKeyArb('float64', 80), numericKeyArb('int64', 80), fc.constantFrom(...HOWS), (lkeys, rkeys, how) => {
        const l = keyTable('float64', lkeys);
        const r = keyTable('int64', rkeys);
        expect(hashJoinCount(l, r, 'k', how)).toBe(hashJoin(l, r, 'k', how).numRows);
        expect(hashJoinCount(l, r, ['k', 'c'], how)).toBe(hashJoin(l, r, ['k', 'c'], how).numRows);
      }),
      { numRuns: 100 },
    );
  });

  it('rejects an unknown join type like hashJoin does', () => {
    const t = keyTable('int32', [1, 2]);
    expect(() => hashJoinCount(t, t, 'k', 'outer' as JoinType)).toThrow(InvalidOptionError);
    expect(() => hashJoinCount(t, t, 'k', 'outer' as JoinType)).toThrow(/how must be one of inner, left, right, full, semi, anti; got outer|how.*outer/);
  });
});

describe('partitionByHashes', () => {
  it('sends row i to hashes[i] % n, as hashPartition does', () => {
    const keys = Array.from({ length: 1500 }, (_, i) => (i % 11 === 0 ? null : (i * 2654435761) % 100_003));
    const t = keyTable('int64', keys);
    const hashes = hashRows(keyColumns(t, ['k']), t.numRows);
    for (const n of [1, 3, 8, 13, 64]) {
      const parts = partitionByHashes(t, hashes, n);
      expect(parts.length).toBe(n);
      const want = Array.from({ length: n }, () => [] as unknown[]);
      keys.forEach((k, i) => want[hashes[i]! % n]!.push(k));
      parts.forEach((p, j) => {
        if (p.numRows > 0 || want[j]!.length > 0) expect(Array.from(p.getChild('k')!.toArray() as ArrayLike<bigint>, (v, r) => (p.getChild('k')!.isValid(r) ? Number(v) : null))).toEqual(want[j]);
      });
      expect(hashPartition(t, ['k'], n).map((p) => p.numRows)).toEqual(parts.map((p) => p.numRows));
    }
  });

  it('routes by the plain modulo beyond 32768 partitions', () => {
    const t = keyTable('float64', Array.from({ length: 50 }, (_, i) => i * 1.5)).select(['k']);
    const hashes = hashRows(keyColumns(t, ['k']), t.numRows);
    const n = 32_771;
    const parts = partitionByHashes(t, hashes, n);
    for (let i = 0; i < t.numRows; i++) expect(parts[hashes[i]! % n]!.getChild('k')!.toArray()).toContain(i * 1.5);
  });

  it('rejects hashes that do not cover the rows', () => {
    const t = keyTable('int32', [1, 2, 3]);
    expect(() => partitionByHashes(t, new Uint32Array(2), 2)).toThrow(/hashes must have one hash per row \(3\); got 2/);
  });
});

describe('partialAggregatePartitioned', () => {
  const AGGS: AggSpec[] = [
    agg.count(undefined, 'n'),
    agg.count('x', 'nx'),
    agg.sum('x', 'sx'),
    agg.sum('i', 'si'),
    agg.mean('x', 'mx'),
    agg.min('x', 'minx'),
    agg.max('s', 'maxs'),
    agg.max('k', 'maxk'),
    agg.stddev('x', 'sdx'),
  ];
  const SQL = 'count(*), count(x), sum(x), sum(i), avg(x), min(x), max(s), max(k), stddev_samp(x)';

  /** 40k rows, keys mostly distinct (per-row states) or few (grouped states), with nulls, NaN, -0, skew. */
  function bigTable(distinctKeys: boolean, keyType: ColType, seed: number): ColSpec[] {
    const n = 34_000;
    let z = seed;
    const rand = (): number => {
      z = (Math.imul(z, 1103515245) + 12345) >>> 0;
      return z / 4294967296;
    };
    const key = (i: number): unknown => {
      if (i % 97 === 0) return null;
      if (i % 101 === 0) return keyType === 'float64' ? [Number.NaN, -0, 0][i % 3] : 0;
      if (i % 5 === 0) return 7; // a skewed key
      // Mostly distinct: distinct over the rows sampled to decide, then repeating (fewer result rows to check).
      const k = distinctKeys ? (i < 20_000 ? i : i % 3000) : Math.floor(rand() * 50);
      return keyType === 'utf8' ? `k${k}é` : keyType === 'float64' ? k / 4 : k;
    };
    return [
      { name: 'k', type: keyType, values: Array.from({ length: n }, (_, i) => key(i)) },
      { name: 'x', type: 'float64', values: Array.from({ length: n }, (_, i) => (i % 13 === 0 ? null : Math.round(rand() * 1000) / 8)) },
      { name: 'i', type: 'int32', values: Array.from({ length: n }, (_, i) => (i % 17 === 0 ? null : i % 1000)) },
      { name: 's', type: 'utf8', values: Array.from({ length: n }, (_, i) => (i % 19 === 0 ? null : `s${i % 300}`)) },
    ];
  }

  /** Result rows by their key (first column; -0 and 0 alike, NaN and null apart). */
  function byKey(rows: unknown[][]): Map<string, unknown[]> {
    const m = new Map<string, unknown[]>();
    for (const r of rows) m.set(r[0] === null ? 'null' : `${typeof r[0]}:${String(r[0])}`, r.slice(1));
    return m;
  }

  function expectSameGroups(got: Map<string, unknown[]>, want: Map<string, unknown[]>): void {
    expect(got.size).toBe(want.size);
    const near = (a: unknown, b: unknown): boolean =>
      a === b || (typeof a === 'number' && typeof b === 'number' && (Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a), Math.abs(b)) || (a !== a && b !== b)));
    for (const [k, row] of want) {
      const g = got.get(k);
      if (g === undefined || !g.every((v, i) => near(v, row[i]))) expect([k, g]).toEqual([k, row]);
    }
  }

  let duck: Duck;
  beforeAll(async () => {
    duck = await Duck.open();
  });
  afterAll(() => duck.close());

  for (const [distinctKeys, keyType] of [[true, 'int64'], [true, 'float64'], [true, 'utf8'], [false, 'int32'], [false, 'float64']] as [boolean, ColType][]) {
    it(`gives GROUP BY's result through the shuffle (${distinctKeys ? 'mostly distinct' : 'few'} ${keyType} keys)`, async () => {
      const cols = bigTable(distinctKeys, keyType, distinctKeys ? 7 : 11);
      const t = toArrow(cols);
      const parts = [t.slice(0, 33_000), t.slice(33_000)];
      const reducers = 3;
      const buckets = parts.map((p) => partialAggregatePartitioned(p, ['k'], AGGS, reducers));
      // Per-row states and grouped states meet in the same reducer, whichever each map produced.
      const grouped = parts.map((p) => hashPartition(partialAggregate(p, ['k'], AGGS), ['k'], reducers));
      for (const b of buckets) expect(b.length).toBe(reducers);
      const viaFast = concatTables(Array.from({ length: reducers }, (_, r) => finalizeAggregates(mergeAggregates([buckets[0]![r]!, grouped[1]![r]!], ['k'], AGGS), ['k'], AGGS)));
      const viaGrouped = concatTables(Array.from({ length: reducers }, (_, r) => finalizeAggregates(mergeAggregates([grouped[0]![r]!, grouped[1]![r]!], ['k'], AGGS), ['k'], AGGS)));
      const got = byKey(arrowRows(viaFast));
      expectSameGroups(got, byKey(arrowRows(viaGrouped)));
      await duck.load('t', cols);
      expectSameGroups(got, byKey(await duck.rows(`SELECT k, ${SQL} FROM t GROUP BY k`)));
    });
  }

  it('without keys returns the one global state', () => {
    const t = toArrow(bigTable(true, 'int64', 3));
    const out = partialAggregatePartitioned(t, [], [agg.sum('x', 'sx')], 4);
    expect(out.length).toBe(1);
    expect(out[0]!.numRows).toBe(1);
  });
});
