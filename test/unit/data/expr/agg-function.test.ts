/**
 * One spelling for aggregates (Spark `F.max('x')` in agg, `F.max('x').over(w)` as a window column):
 * `agg.*` builds specs for groupBy and window columns for `.over()`, `agg.count()` counts rows, and
 * an aggregate or window function in the wrong place is a typed error that says where it belongs.
 */
import * as arrow from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import {
  AggFunction,
  InvalidPlanError,
  InvalidWindowError,
  WindowColumn,
  agg,
  aggregate,
  col,
  fromArrow,
  rowNumber,
  window,
  windowTable,
} from '../../../../src/data/index.js';
import * as dataEntry from '../../../../src/data.js';

const t = new arrow.Table({
  k: arrow.vectorFromArray(['a', 'a', 'b', 'b', 'b'], new arrow.Utf8()),
  x: arrow.vectorFromArray([1, null, 3, 4, null], new arrow.Float64()),
  o: arrow.vectorFromArray([1, 2, 1, 2, 3], new arrow.Int32()),
});
const values = (table: arrow.Table, name: string): unknown[] => [...table.getChild(name)!].map((v) => (typeof v === 'bigint' ? Number(v) : v));

describe('agg.* over a window', () => {
  it('is the window aggregate of the same name, matching what the groupBy aggregate gives per partition', () => {
    const w = window().partitionBy('k');
    const out = windowTable(t, ['k'], [
      { name: 'mx', ...pick(agg.max('x').over(w)) },
      { name: 'n', ...pick(agg.count().over(w)) },
      { name: 'nx', ...pick(agg.count('x').over(w)) },
      { name: 's', ...pick(agg.sum('x').over(w)) },
      { name: 'm', ...pick(agg.avg('x').over(w)) },
    ]);
    const byKey = aggregate(t, ['k'], [agg.max('x', 'mx'), agg.count(undefined, 'n'), agg.count('x', 'nx'), agg.sum('x', 's'), agg.mean('x', 'm')]);
    const expected = new Map(values(byKey, 'k').map((k, i) => [k, ['mx', 'n', 'nx', 's', 'm'].map((c) => values(byKey, c)[i])]));
    const keys = values(out, 'k');
    keys.forEach((k, i) => expect(['mx', 'n', 'nx', 's', 'm'].map((c) => values(out, c)[i])).toEqual(expected.get(k)));
  });

  it('orders and frames like any window function (running sum)', () => {
    const out = windowTable(t, ['k'], [{ name: 'run', ...pick(agg.sum('x').over(window().partitionBy('k').orderBy('o'))) }]);
    const rows = values(out, 'k').map((k, i) => `${String(k)}${String(values(out, 'o')[i])}=${String(values(out, 'run')[i])}`).sort();
    expect(rows).toEqual(['a1=1', 'a2=1', 'b1=3', 'b2=7', 'b3=7']);
  });

  it('takes the aggregate alias as the window column name', () => {
    const c = agg.sum('x', 'total').over(window());
    expect(c).toBeInstanceOf(WindowColumn);
    expect(c.name).toBe('total');
    expect(agg.max('x').alias('top').over(window()).name).toBe('top');
    expect(String(agg.sum('x').over(window().partitionBy('k')))).toBe('sum(x) OVER (PARTITION BY k)');
  });

  it('refuses aggregates that have no window form, naming the function and the ones that do', () => {
    for (const a of [agg.stddev('x'), agg.countDistinct('x'), agg.collectList('x'), agg.approxQuantile('x', 0.5)]) {
      expect(() => a.over(window())).toThrow(InvalidWindowError);
    }
    expect(() => agg.stddev('x').over(window())).toThrow(/^stddev\(x\): stddev is not available over a window; window aggregates are sum, mean \(avg\), min, max and count$/);
  });
});

describe('agg.count()', () => {
  it('with no argument counts rows, nulls included, per group and globally', () => {
    const g = aggregate(t, ['k'], [agg.count()]);
    expect(g.schema.fields.map((f) => f.name)).toEqual(['k', 'count(*)']);
    expect(Object.fromEntries(values(g, 'k').map((k, i) => [k, values(g, 'count(*)')[i]]))).toEqual({ a: 2, b: 3 });
    expect(values(aggregate(t, [], [agg.count()]), 'count(*)')).toEqual([5]);
  });

  it('is plain data in the plan (the spec ships to workers as its fields)', () => {
    const ds = fromArrow(t).groupBy('k').agg(agg.count(), agg.mean('x', 'avg_x'));
    const plan = ds.plan as { kind: string; aggs: readonly unknown[] };
    expect(plan.kind).toBe('aggregate');
    expect(plan.aggs).toEqual([{ op: 'count' }, { op: 'mean', column: 'x', as: 'avg_x' }]);
    expect(plan.aggs.every((a) => Object.getPrototypeOf(a) === Object.prototype)).toBe(true);
  });
});

describe('a function in the wrong place', () => {
  const ds = fromArrow(t);
  it('an aggregate used as a column says to use agg() or over()', () => {
    expect(() => ds.select(agg.sum('x') as never)).toThrow(InvalidWindowError);
    expect(() => ds.withColumn('s', agg.sum('x') as never)).toThrow(/^sum\(x\): is an aggregate: use it in groupBy\(\.\.\.\)\.agg\(\.\.\.\), or as a window column with agg\.sum\(\.\.\.\)\.over\(window\(\)/);
    expect(() => ds.filter(agg.max('x') as never)).toThrow(/max\(x\): is an aggregate/);
  });

  it('a window function or an expression in agg() says what it is and what to write instead', () => {
    expect(() => ds.groupBy('k').agg(rowNumber() as never)).toThrow(InvalidPlanError);
    expect(() => ds.groupBy('k').agg(rowNumber() as never)).toThrow(/agg\(\): argument 0 \(rowNumber\(\)\) is a window function; add it with withColumn/);
    expect(() => ds.agg(agg.count(), col('x') as never)).toThrow(/agg\(\): argument 1 \(x\) is not an aggregate; build one with agg\.count\(\)/);
  });
});

describe('shoal/data', () => {
  it('has one spelling: no top-level sum/mean/avg/min/max/count beside agg.*', () => {
    for (const name of ['sum', 'mean', 'avg', 'min', 'max', 'count']) expect(Object.keys(dataEntry)).not.toContain(name);
    expect(dataEntry.agg).toBe(agg);
    expect(agg.max('x')).toBeInstanceOf(AggFunction);
  });
});

/** The window column's function and spec, as windowTable takes them. */
function pick(c: WindowColumn): { fn: WindowColumn['fn']; spec: WindowColumn['spec'] } {
  return { fn: c.fn, spec: c.spec };
}
