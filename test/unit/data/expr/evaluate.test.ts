import * as arrow from 'apache-arrow';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  Expr,
  ExpressionTypeError,
  InvalidExpressionError,
  UnknownColumnError,
  coalesce,
  col,
  dateDiff,
  evaluate,
  lit,
  outputType,
  pow,
  project,
  when,
} from '../../../../src/data/index.js';
import { Duck, arrowRows, expectSameRows, tableArb, toArrow } from '../helpers/oracle.js';

const CASES: [Expr, string][] = [
  [col('i').add(col('k')), 'i + k'],
  [col('x').mul(1.5).sub(col('i')), 'x * 1.5 - i'],
  [col('i').div(col('k')), 'CASE WHEN k = 0 THEN NULL ELSE i / k END'],
  [col('i').mod(col('k')), 'i % k'],
  [col('x').neg(), '-x'],
  [col('s').lt('b'), "s < 'b'"],
  [col('s').eq(col('s')), 's = s'],
  [col('x').ge(col('i')), 'x >= i'],
  [col('d').gt(lit('2000-01-01', 'date')), "d > DATE '2000-01-01'"],
  [col('b').and(col('i').gt(0)), 'b AND i > 0'],
  [col('b').or(col('x').lt(0)), 'b OR x < 0'],
  [col('b').not(), 'NOT b'],
  // Numeric column against a literal (the scalar comparison path; NaN sorts above every number).
  [col('x').gt(0.5), 'x > 0.5'],
  [col('x').ge(-1), 'x >= -1'],
  [col('x').lt(0.25), 'x < 0.25'],
  [col('x').le(0), 'x <= 0'],
  [col('x').eq(0.5), 'x = 0.5'],
  [col('x').ne(0), 'x <> 0'],
  [col('i').ge(2).and(col('k').lt(3)), 'i >= 2 AND k < 3'],
  [col('i').isNotNull().and(col('k').isNotNull()).or(col('i').isNull()), '(i IS NOT NULL AND k IS NOT NULL) OR i IS NULL'],
  [col('s').isNull().or(col('k').isNotNull()), 's IS NULL OR k IS NOT NULL'],
  [col('i').cast('utf8'), 'CAST(i AS VARCHAR)'],
  [col('x').cast('int32'), 'CAST(trunc(x) AS INTEGER)'],
  [col('d').cast('utf8'), 'CAST(d AS VARCHAR)'],
  [col('s').cast('int32'), 'TRY_CAST(s AS INTEGER)'],
  [col('i').cast('float64').add(0.5), 'CAST(i AS DOUBLE) + 0.5'],
  [when(col('k').gt(2), 'big').when(col('k').eq(1), 'one').otherwise('other'), "CASE WHEN k > 2 THEN 'big' WHEN k = 1 THEN 'one' ELSE 'other' END"],
  [when(col('b'), col('i')).otherwise(col('x')), 'CASE WHEN b THEN i ELSE x END'],
  [when(col('b'), 1), 'CASE WHEN b THEN 1 END'],
  [col('s').lower(), 'lower(s)'],
  [col('s').upper(), "CASE WHEN s = 'ß' THEN 'SS' ELSE upper(s) END"],
  [col('s').contains('a'), "contains(s, 'a')"],
  [col('s').startsWith('a'), "starts_with(s, 'a')"],
  [col('s').regexpExtract('([a-z]+)', 1), "regexp_extract(s, '([a-z]+)', 1)"],
  [col('s').regexpReplace('[aeiou]', '_'), "regexp_replace(s, '[aeiou]', '_', 'g')"],
  [col('s').split(' '), "string_split_regex(s, ' ')"],
  [col('s').length(), 'length(s)'],
  [col('s').trim(), 'trim(s)'],
  [col('s').substring(2, 3), 'substring(s, 2, 3)'],
  [col('d').year(), 'year(d)'],
  [col('d').month(), 'month(d)'],
  [col('d').dayOfMonth(), 'day(d)'],
  [col('d').dayOfWeek(), 'dayofweek(d) + 1'],
  [col('d').dateTrunc('month'), "CAST(date_trunc('month', d) AS DATE)"],
  [col('d').dateTrunc('week'), "CAST(date_trunc('week', d) AS DATE)"],
  [col('d').dateTrunc('quarter'), "CAST(date_trunc('quarter', d) AS DATE)"],
  [col('d').addDays(col('i')), 'd + i'],
  [dateDiff(col('d'), lit('2000-01-01', 'date')), "datediff('day', DATE '2000-01-01', d)"],
  [col('d').cast('timestamp').dateTrunc('year'), "date_trunc('year', CAST(d AS TIMESTAMP))"],
  [col('x').abs(), 'abs(x)'],
  [col('x').abs().sqrt(), 'sqrt(abs(x))'],
  [col('x').log(), 'CASE WHEN x > 0 THEN ln(x) END'],
  [col('x').div(1000).exp(), 'exp(x / 1000)'],
  [col('x').floor(), 'CAST(floor(x) AS BIGINT)'],
  [col('x').ceil(), 'CAST(ceil(x) AS BIGINT)'],
  [pow(col('x'), 2), 'pow(x, 2)'],
  [coalesce(col('i'), col('k'), 0), 'coalesce(i, k, 0)'],
  [col('l').add(col('i')), 'l + i'],
  [col('l').mul(2).sub(col('l')).eq(col('l')), 'l * 2 - l = l'],
  [col('l').cast('utf8'), 'CAST(l AS VARCHAR)'],
  [col('l').cast('float64').div(3), 'CAST(l AS DOUBLE) / 3'],
  [col('ts').year(), 'year(ts)'],
  [col('ts').dayOfWeek(), 'dayofweek(ts) + 1'],
  [col('ts').dateTrunc('hour'), "date_trunc('hour', ts)"],
  [col('ts').dateTrunc('week'), "date_trunc('week', ts)"],
  [col('ts').cast('date'), 'CAST(ts AS DATE)'],
  [dateDiff(col('ts'), col('d')), "datediff('day', d, CAST(ts AS DATE))"],
  [col('ts').gt(col('d')), 'ts > d'],
  [col('ts').cast('utf8').cast('timestamp').eq(col('ts')), 'true AND ts IS NOT NULL OR NULL'],
];

describe('expression evaluation against DuckDB', () => {
  let duck: Duck;
  beforeAll(async () => {
    duck = await Duck.open();
  });
  afterAll(() => duck.close());

  it('matches DuckDB on generated tables with nulls, unicode and skew', async () => {
    await fc.assert(
      fc.asyncProperty(tableArb(40), async (cols) => {
        const table = toArrow(cols);
        await duck.load('t', cols);
        const exprs = CASES.map(([e], i) => e.alias(`c${i}`));
        const got = arrowRows(project(table, exprs));
        const want = await duck.rows(`SELECT ${CASES.map(([, sql], i) => `${sql} AS c${i}`).join(', ')} FROM t`);
        // Compare column by column so a failure names the expression.
        for (let c = 0; c < CASES.length; c++) {
          const a = got.map((r) => [r[c]]);
          const b = want.map((r) => [r[c]]);
          try {
            expectSameRows(a, b, true);
          } catch (err) {
            throw new Error(`expression ${CASES[c]![0].toString()} differs from ${CASES[c]![1]}: ${(err as Error).message}`);
          }
        }
      }),
      { numRuns: 25 },
    );
  });
});

describe('expression semantics', () => {
  const t = toArrow([
    { name: 'a', type: 'bool', values: [true, true, true, false, false, false, null, null, null] },
    { name: 'b', type: 'bool', values: [true, false, null, true, false, null, true, false, null] },
  ]);

  it('AND / OR are three-valued', () => {
    expect([...evaluate(col('a').and(col('b')), t)]).toEqual([true, false, null, false, false, false, null, false, null]);
    expect([...evaluate(col('a').or(col('b')), t)]).toEqual([true, true, true, true, false, null, true, null, null]);
    expect([...evaluate(col('a').and(null), t)]).toEqual([null, null, null, false, false, false, null, null, null]);
  });

  it('a comparison with a numeric literal treats NaN like the column-to-column path (NaN above every number)', () => {
    const t = arrow.tableFromArrays({ x: Float64Array.from([NaN, 1, -Infinity, 0, Infinity]), z: new Float64Array(5), i: Int32Array.from([-2, 0, 5, 0, 1]) });
    const withNull = new arrow.Table({ x: arrow.vectorFromArray([NaN, null, 2], new arrow.Float64()) });
    for (const fn of ['eq', 'ne', 'lt', 'le', 'gt', 'ge'] as const) {
      expect([...evaluate(col('x')[fn](0), t)], fn).toEqual([...evaluate(col('x')[fn](col('z')), t)]);
      expect([...evaluate(col('i')[fn](0), t)], fn).toEqual([...evaluate(col('i')[fn](col('z')), t)]);
    }
    expect([...evaluate(col('x').gt(1), withNull)]).toEqual([true, null, true]);
    expect([...evaluate(col('x').le(1), withNull)]).toEqual([false, null, false]);
  });

  it('serialized expressions evaluate the same after a JSON round trip', () => {
    const e = when(col('a').and(col('b').not()), lit(1.5)).otherwise(col('a').cast('int32')).alias('z');
    const back = Expr.fromJSON(JSON.parse(JSON.stringify(e)));
    expect(back.node).toEqual(e.node);
    expect([...evaluate(back, t)]).toEqual([...evaluate(e, t)]);
  });

  it('rejects malformed serialized trees with the path of the bad node', () => {
    expect(() => Expr.fromJSON({ op: 'binary', fn: 'add', left: { op: 'col', name: 'a' }, right: { op: 'nope' } })).toThrow(InvalidExpressionError);
    expect(() => Expr.fromJSON({ op: 'binary', fn: 'add', left: { op: 'col', name: 'a' }, right: { op: 'nope' } })).toThrow(/\$\.right/);
  });

  it('names the unknown column and the available ones', () => {
    const err = (() => {
      try {
        evaluate(col('nope').add(1), t);
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(err).toBeInstanceOf(UnknownColumnError);
    expect((err as UnknownColumnError).code).toBe('DATA_UNKNOWN_COLUMN');
    expect((err as UnknownColumnError).column).toBe('nope');
    expect((err as Error).message).toContain('"a", "b"');
  });

  it('reports type errors with the offending expression', () => {
    const s = toArrow([{ name: 's', type: 'utf8', values: ['x'] }]);
    expect(() => outputType(col('s').add(1), s.schema)).toThrow(ExpressionTypeError);
    expect(() => outputType(col('s').add(1), s.schema)).toThrow(/s has type utf8 but a number is required/);
    expect(() => evaluate(col('s').gt(1), s)).toThrow(/cannot compare utf8 with int32/);
  });

  it('infers output types', () => {
    const s = toArrow([
      { name: 'i', type: 'int32', values: [1] },
      { name: 'l', type: 'int64', values: [1] },
      { name: 'd', type: 'date', values: [1] },
    ]);
    expect(outputType(col('i').add(col('l')), s.schema)).toBe('int64');
    expect(outputType(col('i').div(2), s.schema)).toBe('float64');
    expect(outputType(col('d').year(), s.schema)).toBe('int32');
    expect(outputType(lit('a b').split(' '), s.schema)).toEqual({ list: 'utf8' });
    expect(evaluate(col('i').add(col('l')), s).type).toBeInstanceOf(arrow.Int64);
    expect(evaluate(col('d').addDays(1), s).type).toBeInstanceOf(arrow.DateDay);
  });

  it('follows Spark for round (HALF_UP), dayOfWeek (1 = Sunday), division by zero and substring', () => {
    const s = toArrow([{ name: 'x', type: 'float64', values: [2.675, -2.5, 0.125, 1234.5] }]);
    expect([...evaluate(col('x').round(2), s)]).toEqual([2.68, -2.5, 0.13, 1234.5]);
    expect([...evaluate(col('x').round(0), s)]).toEqual([3, -3, 0, 1235]);
    expect([...evaluate(col('x').div(0), s)]).toEqual([null, null, null, null]);
    const d = toArrow([{ name: 'd', type: 'date', values: [19723, 19724, 19729] }]); // 2024-01-01 (Mon), Tue, Sun 2024-01-07
    expect([...evaluate(col('d').dayOfWeek(), d)]).toEqual([2, 3, 1]);
    const str = toArrow([{ name: 's', type: 'utf8', values: ['Spark SQL', '😀ab'] }]);
    expect([...evaluate(col('s').substring(-3, 2), str)]).toEqual(['SQ', '😀a']);
    expect([...evaluate(col('s').length(), str)]).toEqual([9, 3]);
  });

  it('accepts Java-style regex escapes and reports invalid patterns', () => {
    const s = toArrow([{ name: 's', type: 'utf8', values: ['a-b_c', null] }]);
    expect([...evaluate(col('s').regexpReplace('\\-', '+'), s)]).toEqual(['a+b_c', null]); // '\-' is a SyntaxError in unicode mode
    expect(() => evaluate(col('s').regexpExtract('(', 1), s)).toThrow(InvalidExpressionError);
  });

  it('int64 columns (BigInt in Arrow JS) evaluate and come back as Int64', () => {
    const s = toArrow([{ name: 'l', type: 'int64', values: [9007199254740000, -5, null] }]);
    const v = evaluate(col('l').add(1), s);
    expect(v.type).toBeInstanceOf(arrow.Int64);
    expect([...v]).toEqual([9007199254740001n, -4n, null]);
    expect([...evaluate(col('l').cast('utf8'), s)]).toEqual(['9007199254740000', '-5', null]);
  });
});
