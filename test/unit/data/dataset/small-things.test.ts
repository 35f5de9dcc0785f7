/**
 * Small things users trip on, no cluster needed: `col('x').desc()` (and asc, nulls first/last) and
 * `col('x')` wherever sort keys are taken; `show()`/`explain()` print and return nothing, as in Spark,
 * and `showString()`/`explainString()` give the text.
 */
import * as arrow from 'apache-arrow';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { InvalidOptionError, InvalidWindowError, col, fromArrow, rowNumber, sortTable, window, type SortKey } from '../../../../src/data/index.js';

const t = new arrow.Table({
  k: arrow.vectorFromArray(['a', 'b', 'a', 'b'], new arrow.Utf8()),
  x: arrow.vectorFromArray([2, null, 1, 3], new arrow.Float64()),
});
const ds = fromArrow(t);
const sortKeys = (d: typeof ds): unknown => (d.plan as { keys?: unknown }).keys;

describe('sort keys from columns', () => {
  it('desc/asc and the nulls placements are sort keys', () => {
    const cases: [SortKey, SortKey][] = [
      [col('x').desc(), { column: 'x', ascending: false }],
      [col('x').asc(), { column: 'x', ascending: true }],
      [col('x').descNullsFirst(), { column: 'x', ascending: false, nullsFirst: true }],
      [col('x').descNullsLast(), { column: 'x', ascending: false, nullsFirst: false }],
      [col('x').ascNullsFirst(), { column: 'x', ascending: true, nullsFirst: true }],
      [col('x').ascNullsLast(), { column: 'x', ascending: true, nullsFirst: false }],
    ];
    for (const [key, want] of cases) expect({ ...key }).toEqual(want);
    expect(String(col('x').descNullsFirst())).toBe('x DESC NULLS FIRST');
  });

  it('sort/orderBy take them (and a plain col) beside names and key objects; the plan holds plain keys', () => {
    expect(sortKeys(ds.sort(col('k').desc(), col('x')))).toEqual([{ column: 'k', ascending: false }, { column: 'x' }]);
    expect(sortKeys(ds.orderBy('k', col('x').ascNullsLast()))).toEqual([{ column: 'k' }, { column: 'x', ascending: true, nullsFirst: false }]);
    const order = sortTable(t, [col('x').descNullsLast()]).getChild('x')!.toArray() as Float64Array;
    expect([...order].slice(0, 3)).toEqual([3, 2, 1]);
  });

  it('window().orderBy takes them too', () => {
    const w = window().partitionBy('k').orderBy(col('x').desc());
    expect(w.data.orderBy).toEqual([{ column: 'x', ascending: false }]);
    expect(String(rowNumber().over(w))).toBe('rowNumber() OVER (PARTITION BY k ORDER BY x DESC)');
  });

  it('an expression that is not a column is refused, saying to add it as a column first', () => {
    expect(() => col('x').mul(2).desc()).toThrow(/^\(x \* 2\)\.desc\(\): sort keys are columns; add the expression with withColumn\(name, expr\), then sort by col\(name\)/);
    expect(() => ds.sort(col('x').mul(2) as never)).toThrow(InvalidOptionError);
    expect(() => window().orderBy(col('x').add(1) as never)).toThrow(InvalidWindowError);
  });
});

describe('show and explain print, and return nothing (Spark); the String variants return the text', () => {
  const printed: string[] = [];
  afterEach(() => {
    vi.restoreAllMocks();
    printed.length = 0;
  });
  const capture = (): void => {
    vi.spyOn(console, 'log').mockImplementation((...args: unknown[]) => void printed.push(args.join(' ')));
  };

  it('explain() prints the logical and optimized plans and resolves to undefined; explainString() returns them', async () => {
    const d = ds.filter(col('x').gt(1)).select('k');
    const text = await d.explainString();
    expect(text).toMatch(/^== Logical plan ==\n[\s\S]*== Optimized plan ==\n/);
    capture();
    expect(await d.explain()).toBeUndefined();
    expect(printed).toEqual([text]);
  });
});
