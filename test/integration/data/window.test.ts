/**
 * Window functions and approxQuantile on a real cluster: the window operator hash-shuffles by the
 * partition keys through the object store, sorts and computes each partition on workers. Every result
 * is compared with DuckDB running the same query over the same generated rows (nulls, skewed keys,
 * unicode keys, empty and uneven partitions).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  InvalidWindowError, agg, col, currentRow, denseRank, InvalidOptionError, fromArrow, lag, lead, rank, rowNumber,
  window, Window, type Dataset,
} from 'shoal/data';
import { TestCluster } from '../../harness/test-cluster.js';
import { Duck, arrowRows, expectSameRows, genColumns, rng, toArrow, unevenPartitions } from './helpers.js';

let tc: TestCluster;
let duck: Duck;
let ds: Dataset;
let xs: number[];

const N = 3000;

beforeAll(async () => {
  tc = await TestCluster.start({ numCpus: 2 });
  duck = await Duck.open();
  const r = rng(42);
  const cols = [
    { name: 'id', type: 'int32' as const, values: Array.from({ length: N }, (_, i) => i) },
    ...genColumns(N, 13, 30),
    // review dates over ~1 year, with repeats and nulls
    { name: 'd', type: 'date' as const, values: Array.from({ length: N }, () => (r() < 0.05 ? null : 19000 + Math.floor(r() * 365))) },
  ];
  xs = (cols.find((c) => c.name === 'x')!.values as (number | null)[]).filter((v): v is number => v !== null);
  await duck.load('t', cols);
  ds = fromArrow(unevenPartitions(toArrow(cols), [0, 500, 500, 1700, 2990])).withOptions({ shufflePartitions: 3 });
});

afterAll(async () => {
  duck?.close();
  await tc?.stop();
});

const rows = async (d: Dataset): Promise<unknown[][]> => arrowRows(await d.collect());

describe('window functions on a cluster', () => {
  it('ranking, offsets and running aggregates with one spec share one shuffle and equal DuckDB', async () => {
    const byKey = window().partitionBy('k').orderBy('i', 'id');
    const d = ds
      .withColumn('rn', rowNumber().over(byKey))
      .withColumn('rk', rank().over(window().partitionBy('k').orderBy('i')))
      .withColumn('drk', denseRank().over(window().partitionBy('k').orderBy({ column: 'i', ascending: false })))
      .withColumn('prev_x', lag('x').over(byKey))
      .withColumn('next_s', lead('s', 2, '—').over(byKey))
      .withColumn('run_sum', agg.sum('x').over(byKey))
      .withColumn('moving_avg', agg.mean('x').over(byKey.rowsBetween(-2, currentRow)))
      .withColumn('total', agg.count().over(window().partitionBy('k')))
      .select('id', 'k', 'rn', 'rk', 'drk', 'prev_x', 'next_s', 'run_sum', 'moving_avg', 'total');
    const w = 'PARTITION BY k ORDER BY i ASC NULLS FIRST, id';
    expectSameRows(
      await rows(d),
      await duck.rows(`SELECT id, k, row_number() OVER (${w}), rank() OVER (PARTITION BY k ORDER BY i ASC NULLS FIRST),
        dense_rank() OVER (PARTITION BY k ORDER BY i DESC NULLS LAST), lag(x) OVER (${w}), lead(s, 2, '—') OVER (${w}),
        sum(x) OVER (${w}), avg(x) OVER (${w} ROWS BETWEEN 2 PRECEDING AND CURRENT ROW), count(*) OVER (PARTITION BY k) FROM t`),
    );
    const plan = await d.explainString();
    const optimized = plan.split('== Optimized plan ==')[1]!;
    expect(optimized.match(/Window\(/g)).toHaveLength(1);
    expect(optimized).toMatch(/Window\(partitionBy=\[k\], rn = rowNumber\(\) OVER \(PARTITION BY k ORDER BY i ASC, id ASC\)/);
    expect(optimized).toMatch(/moving_avg = mean\(x\) OVER \(PARTITION BY k ORDER BY i ASC, id ASC ROWS BETWEEN 2 PRECEDING AND CURRENT ROW\)/);
  });

  it('partitions by a unicode key; no partitionBy puts every row in one window', async () => {
    const d = ds
      .withColumn('rn', rowNumber().over(window().partitionBy('s').orderBy({ column: 'x', ascending: false }, 'id')))
      .withColumn('m', agg.max('i').over(window().partitionBy('s')))
      .select('id', 'rn', 'm', rank().over(Window.orderBy('s')).alias('g'));
    expectSameRows(
      await rows(d),
      await duck.rows(`SELECT id, row_number() OVER (PARTITION BY s ORDER BY x DESC NULLS LAST, id), max(i) OVER (PARTITION BY s),
        rank() OVER (ORDER BY s ASC NULLS FIRST) FROM t`),
    );
  });

  it('trailing 30-day windows per key: inclusive of the row date and strictly before it', async () => {
    const trailing = window().partitionBy('k').orderBy('d').rangeBetween({ days: -30 }, currentRow);
    const d = ds
      .withColumn('n30', agg.count().over(trailing))
      .withColumn('n30_before', agg.count().over(trailing.exclude('group')))
      .withColumn('avg_before', agg.mean('x').over(trailing.exclude('group')))
      .withColumn('min_before', agg.min('x').over(trailing.exclude('group')))
      .select('id', 'n30', 'n30_before', 'avg_before', 'min_before');
    const f = 'PARTITION BY k ORDER BY d ASC NULLS FIRST RANGE BETWEEN INTERVAL 30 DAYS PRECEDING AND CURRENT ROW';
    expectSameRows(
      await rows(d),
      await duck.rows(`SELECT id, count(*) OVER (${f}), count(*) OVER (${f} EXCLUDE GROUP), avg(x) OVER (${f} EXCLUDE GROUP), min(x) OVER (${f} EXCLUDE GROUP) FROM t`),
    );
  });

  it('filters are not pushed below a window; filters and projections around it stay correct', async () => {
    const d = ds
      .filter(col('i').gt(-300))
      .withColumn('rn', rowNumber().over(window().partitionBy('k').orderBy('x', 'id')))
      .filter(col('rn').le(3).and(col('s').isNotNull()))
      .select('k', 'rn', 'x');
    expectSameRows(
      await rows(d),
      await duck.rows(`SELECT k, rn, x FROM (SELECT *, row_number() OVER (PARTITION BY k ORDER BY x ASC NULLS FIRST, id) AS rn FROM t WHERE i > -300) WHERE rn <= 3 AND s IS NOT NULL`),
    );
    const optimized = (await d.explainString()).split('== Optimized plan ==')[1]!;
    // the filter on rn (and on s, which the window's result depends on through row order) stays above the window
    expect(optimized.indexOf('Filter(((rn <= 3)')).toBeLessThan(optimized.indexOf('Window('));
  });

  it('an empty dataset and a filter that removes every row give an empty result with the window columns', async () => {
    const d = ds.filter(col('i').gt(10_000)).withColumn('rn', rowNumber().over(window().partitionBy('k').orderBy('i')));
    const t = await d.collect();
    expect(t.numRows).toBe(0);
    expect(t.schema.fields.map((f) => f.name)).toContain('rn');
  });
});

describe('approxQuantile on a cluster', () => {
  it('Dataset.approxQuantile returns values whose ranks are within the bound', async () => {
    const probs = [0, 0.1, 0.5, 0.9, 1];
    const sorted = [...xs].sort((a, b) => a - b);
    for (const eps of [0, 0.01, 0.05]) {
      const q = await ds.approxQuantile('x', probs, eps);
      expect(q).toHaveLength(probs.length);
      probs.forEach((p, i) => {
        const lo = sorted.filter((v) => v < q[i]!).length + 1;
        const hi = sorted.filter((v) => v <= q[i]!).length;
        const target = p * sorted.length;
        const dist = target < lo ? lo - target : target > hi ? target - hi : 0;
        expect(dist, `p=${p} ε=${eps}`).toBeLessThanOrEqual(eps * sorted.length + 1);
      });
    }
    const [a, b] = await ds.approxQuantile(['x', 'i'], [0.5], 0);
    const exact = await duck.rows('SELECT quantile_disc(x, 0.5), quantile_disc(i, 0.5) FROM t');
    // exact (ε = 0): the same element rank as DuckDB's discrete median, or its neighbour
    const rankOf = (v: number): number => sorted.filter((x) => x < v).length;
    expect(Math.abs(rankOf(a![0]!) - rankOf(exact[0]![0] as number))).toBeLessThanOrEqual(1);
    // The second column too, against its own values from DuckDB.
    expect(b).toHaveLength(1);
    const is = (await duck.rows('SELECT i FROM t WHERE i IS NOT NULL')).map((r) => Number(r[0]));
    const rankInI = (v: number): number => is.filter((x) => x < v).length;
    expect(Math.abs(rankInI(b![0]!) - rankInI(Number(exact[0]![1])))).toBeLessThanOrEqual(1);
  });

  it('groupBy(...).agg(approxQuantile) per key, with a column of no values', async () => {
    const got = await rows(ds.groupBy('k').agg(agg.approxQuantile('x', 0.5, { relativeError: 0, as: 'med' }), agg.count('x', 'n')));
    const exact = await duck.rows('SELECT k, quantile_disc(x, 0.5), count(x) FROM t GROUP BY k');
    expect(got).toHaveLength(exact.length);
    const exactByKey = new Map(exact.map((r) => [r[0], r]));
    for (const [k, med, n] of got) {
      const groupXs = (await duck.rows(`SELECT x FROM t WHERE k IS NOT DISTINCT FROM ${k === null ? 'NULL' : String(k)} AND x IS NOT NULL ORDER BY x`)).map((r) => r[0] as number);
      expect(groupXs.length).toBe(n);
      const e = exactByKey.get(k)![1] as number;
      const r = (v: number): number => groupXs.filter((x) => x < v).length;
      expect(Math.abs(r(med as number) - r(e)), `k=${String(k)}`).toBeLessThanOrEqual(1);
    }
    const none = await ds.filter(col('x').isNull()).approxQuantile('x', [0.5], 0.01);
    expect(none).toEqual([]);
  });
});

describe('bad input', () => {
  it('a window function without over() is a typed error naming it', () => {
    expect(() => ds.withColumn('r', rank() as never)).toThrow(InvalidWindowError);
    expect(() => ds.withColumn('r', rank() as never)).toThrow(/^rank\(\): is a window function used without over\(\); write fn.over\(window\(\)/);
    expect(() => ds.select(agg.sum('x') as never)).toThrow(/sum\(x\): is an aggregate: use it in groupBy/);
    expect(() => ds.select(rowNumber().over(window().orderBy('x')))).toThrow(/needs .alias\(name\) to be used in select/);
  });

  it('type errors surface as the plan is built (an Arrow source), before any task runs', async () => {
    expect(() => ds.withColumn('w', agg.sum('s').over(window().partitionBy('k')))).toThrow(/sum\(s\): needs a numeric argument, but it is utf8/);
    expect(() => ds.withColumn('w', agg.count().over(window().orderBy('s').rangeBetween(-1, 1)))).toThrow(InvalidWindowError);
    expect(() => ds.withColumn('w', lag('nope').over(window().orderBy('x')))).toThrow(/^withColumn\('w', lag\(nope, 1\) OVER \(ORDER BY x ASC\)\): unknown column "nope"/);
    await expect(ds.approxQuantile('x', [0.5, 2], 0.01)).rejects.toThrow(InvalidOptionError);
    await expect(ds.approxQuantile('s', [0.5], 0.01)).rejects.toThrow(/approxQuantile\(s\) needs a numeric column/);
  });
});
