/**
 * Dataset transformations on a real cluster, each compared with DuckDB running the same query over
 * the same generated rows (nulls, skewed keys, unicode, empty and uneven partitions).
 */
import type * as arrow from 'apache-arrow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agg, col, ExpressionTypeError, fromArrow, InvalidPlanError, lit, range, SchemaMismatchError, UnknownColumnError, type Dataset } from 'shoal/data';
import { TestCluster } from '../../harness/test-cluster.js';
import { doubleX } from '../../fixtures/data/index.js';
import { Duck, arrowRows, expectSameRows, genColumns, sortedRows, toArrow, unevenPartitions } from './helpers.js';

let tc: TestCluster;
let duck: Duck;
let big: arrow.Table;
let small: arrow.Table;
let ds: Dataset;
let other: Dataset;

beforeAll(async () => {
  tc = await TestCluster.start({ numCpus: 2 });
  duck = await Duck.open();
  const bigCols = genColumns(3000, 7);
  const smallCols = genColumns(40, 11, 25).map((c) => (c.name === 's' || c.name === 'i' ? c : c.name === 'x' ? { ...c, name: 'y' } : c));
  big = toArrow(bigCols);
  small = toArrow(smallCols);
  await duck.load('t', bigCols);
  await duck.load('u', smallCols);
  ds = fromArrow(unevenPartitions(big, [0, 700, 700, 1900, 2950]));
  other = fromArrow(unevenPartitions(small, [10, 10, 30]));
});

afterAll(async () => {
  duck?.close();
  await tc?.stop();
});

const rows = async (d: Dataset): Promise<unknown[][]> => arrowRows(await d.collect());

describe('narrow operators', () => {
  it('filter/select/withColumn chains equal DuckDB', async () => {
    const d = ds
      .filter(col('x').gt(-200).and(col('s').isNotNull()))
      .withColumn('y', col('x').mul(2).add(col('i')))
      .select('k', 's', 'y')
      .where(col('k').ne(3));
    expectSameRows(await rows(d), await duck.rows('SELECT k, s, x * 2 + i AS y FROM t WHERE x > -200 AND s IS NOT NULL AND k <> 3'));
  });

  it('drop and rename', async () => {
    const t = await ds.drop('x', 'i').rename({ k: 'key' }).collect();
    expect(t.schema.fields.map((f) => f.name)).toEqual(['key', 's']);
    expect(t.numRows).toBe(3000);
  });

  it('explain shows the narrow operators fused into the read', async () => {
    const text = await ds.filter(col('k').eq(1)).select('k', 'x').explainString();
    expect(text).toContain('== Optimized plan ==');
    expect(text).toMatch(/Scan Arrow\[6 tables\] .*fused=\[Filter\(\(k = 1\)\) → Select\(k, x\)\]/);
  });

  it('union, limit and count', async () => {
    const u = ds.select('k', 's').union(other.select('k', 's'));
    expect(await u.count()).toBe(3040);
    expectSameRows(await rows(u), await duck.rows('SELECT k, s FROM t UNION ALL SELECT k, s FROM u'));
    const first = await ds.limit(1234).collect();
    expect(first.numRows).toBe(1234);
    expectSameRows(arrowRows(first), arrowRows(big.slice(0, 1234)), true);
    expect(await ds.limit(0).count()).toBe(0);
  });

  it('mapBatches runs a remote function on every partition', async () => {
    const d = ds.mapBatches(doubleX).select('x', 'x2');
    expectSameRows(await rows(d), await duck.rows('SELECT x, x * 2 FROM t'));
  });

  it('sample and randomSplit are reproducible and disjoint', async () => {
    const a = await ds.sample(0.3, 42).count();
    expect(await ds.sample(0.3, 42).count()).toBe(a);
    expect(a).toBeGreaterThan(700);
    expect(a).toBeLessThan(1100);
    const parts = ds.withColumn('row', col('i')).randomSplit([0.7, 0.2, 0.1], 5);
    const counts = await Promise.all(parts.map((p) => p.count()));
    expect(counts.reduce((x, y) => x + y, 0)).toBe(3000);
    const all = (await Promise.all(parts.map((p) => rows(p)))).flat();
    expectSameRows(all, arrowRows((await ds.withColumn('row', col('i')).collect())));
  });
});

describe('shuffles', () => {
  it('groupBy/agg equals DuckDB (skewed keys, null key group)', async () => {
    const d = ds.groupBy('k').agg(agg.count(), agg.count('x', 'nx'), agg.sum('x', 'sx'), agg.mean('i', 'mi'), agg.min('s', 'mins'), agg.max('x', 'maxx'), agg.countDistinct('s', 'ds'));
    expectSameRows(
      await rows(d),
      await duck.rows('SELECT k, count(*), count(x), sum(x), avg(i), min(s), max(x), count(DISTINCT s) FROM t GROUP BY k'),
    );
  });

  it('groupBy with several keys and more shuffle partitions than inputs', async () => {
    const d = ds.groupBy('k', 's').agg(agg.sum('i', 'si'), agg.stddev('x', 'sd')).withOptions({ shufflePartitions: 9 });
    expectSameRows(await rows(d), await duck.rows('SELECT k, s, sum(i), stddev_samp(x) FROM t GROUP BY k, s'));
  });

  it('global aggregate and describe', async () => {
    expectSameRows(await rows(ds.agg(agg.count(), agg.sum('i', 's'))), await duck.rows('SELECT count(*), sum(i) FROM t'));
    expectSameRows(await rows(ds.filter(lit(false)).agg(agg.count(), agg.sum('i', 's'))), [[0, null]]);
    const d = await ds.describe();
    expect(d.schema.fields.map((f) => f.name)).toEqual(['summary', 'k', 'x', 'i']);
    expect([...d.getChild('summary')!]).toEqual(['count', 'mean', 'stddev', 'min', 'max']);
    // Every statistic of every numeric column, against DuckDB (sample stddev, like Spark's describe).
    for (const c of ['k', 'x', 'i']) {
      const want = (await duck.rows(`SELECT count(${c}), avg(${c}), stddev_samp(${c}), min(${c}), max(${c}) FROM t`))[0]!.map((v) => (v === null ? null : Number(v)));
      const got = [...d.getChild(c)!] as (number | null)[];
      want.forEach((w, j) => {
        if (w === null) expect(got[j], `${c} row ${j}`).toBeNull();
        else expect(Math.abs(got[j]! - w), `${c} row ${j}: ${got[j]} vs ${w}`).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(w)));
      });
    }
  });

  it('distinct (all columns and by columns)', async () => {
    expectSameRows(await rows(ds.select('k', 's').distinct()), await duck.rows('SELECT DISTINCT k, s FROM t'));
    expect(await ds.distinct('k').count()).toBe(((await duck.rows('SELECT count(DISTINCT coalesce(k, -999)) FROM t'))[0]![0]) as number);
  });

  it('sort is global across partitions (nulls first ascending, last descending)', async () => {
    const asc = await rows(ds.sort('x', 'i').select('x', 'i'));
    expectSameRows(asc, await duck.rows('SELECT x, i FROM t ORDER BY x ASC NULLS FIRST, i ASC NULLS FIRST'), true);
    const desc = await rows(ds.sort({ column: 's', ascending: false }, { column: 'x' }).select('s', 'x'));
    const expected = await duck.rows('SELECT s, x FROM t ORDER BY s DESC NULLS LAST, x ASC NULLS FIRST');
    // DuckDB orders strings by code point, like the kernels.
    expectSameRows(desc, expected, true);
  });

  it('repartition by hash keeps every row and puts equal keys together', async () => {
    const batches: arrow.Table[] = [];
    for await (const b of ds.repartition(5, 'k').iterBatches({ prefetch: 2 })) batches.push(b);
    expect(batches).toHaveLength(5);
    expect(batches.reduce((s, b) => s + b.numRows, 0)).toBe(3000);
    const owner = new Map<unknown, number>();
    batches.forEach((b, i) => {
      const k = b.getChild('k')!;
      for (let r = 0; r < b.numRows; r++) {
        const v = k.get(r) as unknown;
        expect(owner.get(v) ?? i).toBe(i);
        owner.set(v, i);
      }
    });
    const even = await ds.repartition(4).collect();
    expectSameRows(arrowRows(even), arrowRows(big));
  });
});

describe('joins', () => {
  for (const how of ['inner', 'left', 'right', 'full', 'semi', 'anti'] as const) {
    const sql = {
      inner: 'SELECT coalesce(t.k, u.k), t.s, t.x, t.i, u.s, u.y, u.i FROM t JOIN u ON t.k = u.k',
      left: 'SELECT coalesce(t.k, u.k), t.s, t.x, t.i, u.s, u.y, u.i FROM t LEFT JOIN u ON t.k = u.k',
      right: 'SELECT coalesce(t.k, u.k), t.s, t.x, t.i, u.s, u.y, u.i FROM t RIGHT JOIN u ON t.k = u.k',
      full: 'SELECT coalesce(t.k, u.k), t.s, t.x, t.i, u.s, u.y, u.i FROM t FULL JOIN u ON t.k = u.k',
      semi: 'SELECT * FROM t WHERE EXISTS (SELECT 1 FROM u WHERE u.k = t.k)',
      anti: 'SELECT * FROM t WHERE NOT EXISTS (SELECT 1 FROM u WHERE u.k = t.k)',
    }[how];
    it(`${how} join equals DuckDB on the broadcast and the shuffle path`, async () => {
      const expected = sortedRows(await duck.rows(sql));
      const broadcast = ds.join(other, 'k', how);
      expectSameRows(sortedRows(await rows(broadcast)), expected, true);
      const bEvents = broadcast.lastExecution().events.join('\n');
      if (how === 'full') expect(bEvents).toMatch(/shuffle/);
      else expect(bEvents).toMatch(/broadcast/);
      const shuffled = ds.join(other, 'k', how).withOptions({ broadcastThresholdBytes: 0, shufflePartitions: 4 });
      expectSameRows(sortedRows(await rows(shuffled)), expected, true);
      expect(shuffled.lastExecution().events.join('\n')).toMatch(/shuffle hash into 4 partitions/);
    });
  }

  it('joins on separate key lists and after a shuffle', async () => {
    const left = ds.groupBy('k').agg(agg.count(undefined, 'n'));
    const right = other.rename({ k: 'kk' });
    const d = left.join(right, { left: ['k'], right: ['kk'] }, 'inner').withOptions({ broadcastThresholdBytes: 0 });
    expectSameRows(await rows(d), await duck.rows('SELECT g.k, g.n, u.k, u.s, u.y, u.i FROM (SELECT k, count(*) AS n FROM t GROUP BY k) g JOIN u ON g.k = u.k'));
  });
});

describe('bad plans fail as they are built (the sources are Arrow tables), naming the problem', () => {
  it('unknown column in select, filter, groupBy and sort', () => {
    const builds = [() => ds.select('nope'), () => ds.filter(col('nope').gt(1)), () => ds.groupBy('nope').count(), () => ds.sort('nope'), () => ds.select(col('k').add(col('nope')).alias('z'))];
    for (const build of builds) {
      const err = (() => {
        try {
          build();
        } catch (e) {
          return e;
        }
        return undefined;
      })();
      expect(err).toBeInstanceOf(UnknownColumnError);
      expect((err as UnknownColumnError).column).toBe('nope');
      expect((err as Error).message).toContain('"k"');
    }
  });

  it('joining on a column one side lacks', () => {
    expect(() => ds.join(other.drop('k'), 'k')).toThrow(UnknownColumnError);
    expect(() => ds.join(other.drop('k'), 'k')).toThrow(/^join\(on 'k', 'inner'\): unknown column "k"/);
  });

  it('union of different schemas', () => {
    expect(() => ds.union(other)).toThrow(InvalidPlanError);
    expect(() => ds.select('k').union(range(3).select('id'))).toThrow(/union: input 1/);
  });

  it('type errors in expressions', () => {
    expect(() => ds.filter(col('s').add(1).gt(2))).toThrow(ExpressionTypeError);
    expect(() => ds.filter(col('s').add(1).gt(2))).not.toThrow(SchemaMismatchError);
  });
});

describe('range and iterBatches', () => {
  it('range partitions and streams batches in order', async () => {
    const seen: number[] = [];
    for await (const b of range(1000, { numPartitions: 7 }).iterBatches({ prefetch: 3 })) seen.push(...Array.from(b.getChild('id')!.toArray() as BigInt64Array, Number));
    expect(seen).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    expect(await range(0).count()).toBe(0);
  });
});
