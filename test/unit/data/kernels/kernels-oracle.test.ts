import type * as arrow from 'apache-arrow';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, it } from 'vitest';
import {
  type AggSpec,
  type JoinType,
  agg,
  col,
  concatTables,
  distinct,
  filter,
  finalizeAggregates,
  hashJoin,
  hashPartition,
  lit,
  mergeAggregates,
  partialAggregate,
  project,
  sortTable,
  when,
} from '../../../../src/data/index.js';
import { Duck, arrowRows, expectSameRows, tableArb, toArrow, type ColSpec } from '../helpers/oracle.js';

const RUNS = { numRuns: 25 };

/** Splits a table into `n` contiguous slices (some possibly empty). */
function splitRows(t: arrow.Table, cuts: number[]): arrow.Table[] {
  const points = [0, ...cuts.map((c) => Math.floor(c * t.numRows)).sort((a, b) => a - b), t.numRows];
  return points.slice(1).map((end, i) => t.slice(points[i]!, end));
}

/** The full two-phase pipeline: partial per input partition, shuffle by key, merge per reducer, finalize. */
function twoPhase(parts: arrow.Table[], keys: string[], aggs: AggSpec[], reducers: number): arrow.Table {
  const partials = parts.map((p) => partialAggregate(p, keys, aggs));
  const shuffled: arrow.Table[][] = Array.from({ length: reducers }, () => []);
  for (const p of partials) {
    const buckets = keys.length === 0 ? [p] : hashPartition(p, keys, reducers);
    buckets.forEach((b, r) => shuffled[r]!.push(b));
  }
  const results = shuffled.filter((s) => s.length > 0).map((s) => finalizeAggregates(mergeAggregates(s, keys, aggs), keys, aggs));
  return concatTables(results);
}

const sortList = (rows: unknown[][], c: number): unknown[][] =>
  rows.map((r) => r.map((v, i) => (i === c && Array.isArray(v) ? [...(v as string[])].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b))) : v)));

describe('kernels against DuckDB', () => {
  let duck: Duck;
  beforeAll(async () => {
    duck = await Duck.open();
  });
  afterAll(() => duck.close());

  it('filter keeps exactly the rows where the predicate is true', async () => {
    const preds: [ReturnType<typeof col>, string][] = [
      [col('x').gt(col('i')).or(col('s').startsWith('a')), "x > i OR starts_with(s, 'a')"],
      [col('b').and(col('k').ne(1)).not(), 'NOT (b AND k <> 1)'],
      [when(col('k').isNull(), true).otherwise(col('d').lt(lit('2010-01-01', 'date').addDays(col('i')))), "CASE WHEN k IS NULL THEN true ELSE d < DATE '2010-01-01' + i END"],
    ];
    await fc.assert(
      fc.asyncProperty(tableArb(50), async (cols) => {
        const t = toArrow(cols);
        await duck.load('t', cols);
        for (const [p, sql] of preds) expectSameRows(arrowRows(filter(t, p)), await duck.rows(`SELECT * FROM t WHERE ${sql}`), true);
      }),
      RUNS,
    );
  });

  const AGGS: AggSpec[] = [
    agg.count(undefined, 'n'),
    agg.count('x', 'nx'),
    agg.sum('i', 'si'),
    agg.sum('x', 'sx'),
    agg.mean('x', 'mx'),
    agg.min('s', 'mins'),
    agg.max('d', 'maxd'),
    agg.min('x', 'minx'),
    agg.max('b', 'maxb'),
    agg.countDistinct('s', 'cds'),
    agg.stddev('x', 'sdx'),
    agg.sum('l', 'sl'),
    agg.max('ts', 'maxts'),
    agg.mean('l', 'ml'),
    agg.collectList('s', 'ls'),
  ];
  const AGG_SQL =
    'count(*), count(x), sum(i), sum(x), avg(x), min(s), max(d), min(x), max(b), count(DISTINCT s), stddev_samp(x), sum(l), max(ts), avg(l), coalesce(list_sort(list(s) FILTER (WHERE s IS NOT NULL)), [])';

  for (const keys of [['k'], ['k', 's'], []] as string[][]) {
    it(`two-phase aggregation grouped by [${keys.join(', ')}] matches GROUP BY`, async () => {
      await fc.assert(
        fc.asyncProperty(tableArb(60), fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 0, maxLength: 4 }), fc.integer({ min: 1, max: 4 }), async (cols, cuts, reducers) => {
          const t = toArrow(cols);
          await duck.load('t', cols);
          const got = twoPhase(splitRows(t, cuts), keys, AGGS, reducers);
          const listCol = keys.length + AGGS.length - 1;
          const want = await duck.rows(`SELECT ${[...keys, AGG_SQL].join(', ')} FROM t ${keys.length > 0 ? `GROUP BY ${keys.join(', ')}` : ''}`);
          expectSameRows(sortList(arrowRows(got), listCol), want);
        }),
        RUNS,
      );
    });
  }

  const JOIN_SQL: Record<JoinType, string> = {
    inner: 'INNER JOIN',
    left: 'LEFT JOIN',
    right: 'RIGHT JOIN',
    full: 'FULL JOIN',
    semi: 'SEMI JOIN',
    anti: 'ANTI JOIN',
  };
  for (const how of Object.keys(JOIN_SQL) as JoinType[]) {
    it(`${how} join on one and two keys matches DuckDB (null keys never match)`, async () => {
      await fc.assert(
        fc.asyncProperty(tableArb(30), tableArb(30), async (lc, rc) => {
          const l = project(toArrow(lc), [col('k'), col('s'), col('x')]);
          const rcols: ColSpec[] = [rc[0]!, rc[1]!, { ...rc[3]!, name: 'ri' }, { ...rc[4]!, name: 'rd' }];
          const r = toArrow(rcols);
          await duck.load('l', [lc[0]!, lc[1]!, lc[2]!]);
          await duck.load('r', rcols);
          const semi = how === 'semi' || how === 'anti';
          const one = hashJoin(l, r, ['k'], how);
          const oneSql = semi
            ? `SELECT l.* FROM l ${JOIN_SQL[how]} r ON l.k = r.k`
            : `SELECT coalesce(l.k, r.k), l.s, l.x, r.s, r.ri, r.rd FROM l ${JOIN_SQL[how]} r ON l.k = r.k`;
          expectSameRows(arrowRows(one), await duck.rows(oneSql));
          const two = hashJoin(l, r, ['k', 's'], how);
          const twoSql = semi
            ? `SELECT l.* FROM l ${JOIN_SQL[how]} r ON l.k = r.k AND l.s = r.s`
            : `SELECT coalesce(l.k, r.k), coalesce(l.s, r.s), l.x, r.ri, r.rd FROM l ${JOIN_SQL[how]} r ON l.k = r.k AND l.s = r.s`;
          expectSameRows(arrowRows(two), await duck.rows(twoSql));
        }),
        { numRuns: 15 },
      );
    });
  }

  it('partitioned join (hashPartition both sides, join per partition) equals the single join', async () => {
    await fc.assert(
      fc.asyncProperty(tableArb(40), tableArb(40), fc.integer({ min: 1, max: 5 }), async (lc, rc, n) => {
        const l = toArrow(lc);
        const r = project(toArrow(rc), [col('k'), col('i').alias('ri')]);
        const lp = hashPartition(l, ['k'], n);
        const rp = hashPartition(r, ['k'], n);
        const parts = lp.map((p, i) => hashJoin(p, rp[i]!, 'k', 'full'));
        expectSameRows(arrowRows(concatTables(parts)), arrowRows(hashJoin(l, r, 'k', 'full')));
      }),
      RUNS,
    );
  });

  it('sortTable matches ORDER BY with Spark null ordering', async () => {
    await fc.assert(
      fc.asyncProperty(tableArb(50), async (cols) => {
        const t = toArrow(cols);
        await duck.load('t', cols);
        const sorted = sortTable(t, [{ column: 's', ascending: false }, { column: 'x' }, { column: 'd', nullsFirst: false }]);
        const want = await duck.rows('SELECT s, x, d FROM t ORDER BY s DESC NULLS LAST, x ASC NULLS FIRST, d ASC NULLS LAST');
        expectSameRows(arrowRows(project(sorted, [col('s'), col('x'), col('d')])), want, true);
        expectSameRows(arrowRows(sorted), await duck.rows('SELECT * FROM t'));
      }),
      RUNS,
    );
  });

  it('distinct matches SELECT DISTINCT (nulls equal)', async () => {
    await fc.assert(
      fc.asyncProperty(tableArb(50), async (cols) => {
        const t = toArrow(cols);
        await duck.load('t', cols);
        expectSameRows(arrowRows(distinct(project(t, [col('k'), col('s'), col('b')]))), await duck.rows('SELECT DISTINCT k, s, b FROM t'));
        expectSameRows(arrowRows(distinct(t)), await duck.rows('SELECT DISTINCT * FROM t'));
      }),
      RUNS,
    );
  });
});
