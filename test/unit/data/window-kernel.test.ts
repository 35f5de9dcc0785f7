/**
 * The window kernel against DuckDB's window functions on generated tables (nulls, ties, skewed and
 * unicode keys, empty input): fast-check picks the function, partitioning, ordering, frame and
 * exclusion; both sides compute the column and the results are compared row by row (by id).
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type WindowColumn,
  WindowFunction,
  type AggFunction,
  InvalidWindowError,
  UnknownColumnError,
  agg,
  col,
  currentRow,
  denseRank,
  lag,
  lead,
  rank,
  rowNumber,
  window,
  windowTable,
  type FrameExclusion,
  type WindowSpec,
} from '../../../src/data/index.js';
import { Duck, arrowRows, tableArb, toArrow, type ColSpec } from './helpers/oracle.js';

let duck: Duck;
beforeAll(async () => {
  duck = await Duck.open();
});
afterAll(() => duck?.close());

function withId(cols: ColSpec[]): ColSpec[] {
  return [{ name: 'id', type: 'int32', values: cols[0]!.values.map((_, i) => i) }, ...cols];
}

/** Runs one window column through the kernel; returns id → value. */
function kernelValues(cols: ColSpec[], w: WindowColumn, splitAt = -1): Map<number, unknown> {
  let t = toArrow(cols);
  if (splitAt >= 0) {
    // a chunked input, like the concatenated pieces of a shuffle
    const a = t.slice(0, splitAt);
    const b = t.slice(splitAt);
    t = a.concat(b);
  }
  const out = windowTable(t, w.spec.partitionBy, [{ name: 'w', fn: w.fn, spec: w.spec }]);
  const rows = arrowRows(out.select(['id', 'w']));
  return new Map(rows.map((r) => [r[0] as number, r[1]]));
}

async function duckValues(cols: ColSpec[], sqlExpr: string): Promise<Map<number, unknown>> {
  await duck.load('t', cols);
  const rows = await duck.rows(`SELECT id, ${sqlExpr} FROM t`);
  return new Map(rows.map((r) => [r[0] as number, r[1]]));
}

function expectSameValues(actual: Map<number, unknown>, expected: Map<number, unknown>, context: string): void {
  expect(actual.size, context).toBe(expected.size);
  for (const [id, e] of expected) {
    const a = actual.get(id);
    if (typeof a === 'number' && typeof e === 'number') {
      // NaN is never equal to a number: `|NaN - e| > tol` is false, so NaN is compared on its own.
      if (Number.isNaN(a) || Number.isNaN(e)) expect(a, `${context}; id ${id}`).toBe(e);
      else expect(Math.abs(a - e), `${context}; id ${id}: ${a} vs ${e}`).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(e)));
    } else expect(a, `${context}; id ${id}`).toEqual(e);
  }
}

interface Case {
  readonly fn: WindowFunction | AggFunction;
  readonly sqlFn: string;
  /** Functions whose result depends on the order among ties get `id` as a last order key. */
  readonly needsTotalOrder: boolean;
  readonly takesFrame: boolean;
}

const fnArb: fc.Arbitrary<Case> = fc.oneof(
  fc.constant({ fn: rowNumber(), sqlFn: 'row_number()', needsTotalOrder: true, takesFrame: false }),
  fc.constant({ fn: rank(), sqlFn: 'rank()', needsTotalOrder: false, takesFrame: false }),
  fc.constant({ fn: denseRank(), sqlFn: 'dense_rank()', needsTotalOrder: false, takesFrame: false }),
  fc.record({ off: fc.integer({ min: 0, max: 3 }), c: fc.constantFrom('x', 's', 'd', 'l', 'b'), lead: fc.boolean() }).map(({ off, c, lead: isLead }) => ({
    fn: (isLead ? lead : lag)(c, off),
    sqlFn: `${isLead ? 'lead' : 'lag'}("${c}", ${off})`,
    needsTotalOrder: true,
    takesFrame: false,
  })),
  fc.constant({ fn: lag('i', 1, -1), sqlFn: 'lag(i, 1, -1)', needsTotalOrder: true, takesFrame: false }),
  fc.constant({ fn: lead('s', 2, 'none'), sqlFn: "lead(s, 2, 'none')", needsTotalOrder: true, takesFrame: false }),
  fc.constantFrom('x', 'i', 'l').map((c) => ({ fn: agg.sum(c), sqlFn: `sum("${c}")`, needsTotalOrder: false, takesFrame: true })),
  fc.constantFrom('x', 'i').map((c) => ({ fn: agg.mean(c), sqlFn: `avg("${c}")`, needsTotalOrder: false, takesFrame: true })),
  fc.constantFrom('x', 's', 'd', 'i').map((c) => ({ fn: agg.min(c), sqlFn: `min("${c}")`, needsTotalOrder: false, takesFrame: true })),
  fc.constantFrom('x', 's', 'ts', 'b').map((c) => ({ fn: agg.max(c), sqlFn: `max("${c}")`, needsTotalOrder: false, takesFrame: true })),
  fc.constant({ fn: agg.count(), sqlFn: 'count(*)', needsTotalOrder: false, takesFrame: true }),
  fc.constant({ fn: agg.count('x'), sqlFn: 'count(x)', needsTotalOrder: false, takesFrame: true }),
  fc.constant({ fn: new WindowFunction({ fn: 'sum', arg: col('i').mul(2).node }), sqlFn: 'sum(i * 2)', needsTotalOrder: false, takesFrame: true }),
);

type FrameChoice = { type: 'none' } | { type: 'rows' | 'range'; start: number | null; end: number | null; exclude: FrameExclusion };

const boundArb = fc.oneof(fc.constant(null), fc.integer({ min: -4, max: 4 }), fc.integer({ min: -300, max: 300 }));
const frameArb: fc.Arbitrary<FrameChoice> = fc.oneof(
  fc.constant<FrameChoice>({ type: 'none' }),
  fc
    .record({ type: fc.constantFrom('rows' as const, 'range' as const), a: boundArb, b: boundArb, exclude: fc.constantFrom<FrameExclusion>('noOthers', 'currentRow', 'group', 'ties') })
    .map(({ type, a, b, exclude }) => {
      // order the bounds so start <= end (null start = unbounded preceding, null end = unbounded following)
      let start = a;
      let end = b;
      if (start !== null && end !== null && start > end) [start, end] = [end, start];
      if (type === 'rows') {
        start = start === null ? null : Math.max(-4, Math.min(4, start));
        end = end === null ? null : Math.max(-4, Math.min(4, end));
        if (start !== null && end !== null && start > end) [start, end] = [end, start];
      }
      return { type, start, end, exclude };
    }),
);

const sqlBound = (b: number | null, side: 'start' | 'end'): string =>
  b === null ? (side === 'start' ? 'UNBOUNDED PRECEDING' : 'UNBOUNDED FOLLOWING') : b === 0 ? 'CURRENT ROW' : b < 0 ? `${-b} PRECEDING` : `${b} FOLLOWING`;
const SQL_EXCLUDE: Record<FrameExclusion, string> = { noOthers: '', currentRow: ' EXCLUDE CURRENT ROW', group: ' EXCLUDE GROUP', ties: ' EXCLUDE TIES' };

describe('window kernel vs DuckDB (property)', () => {
  it('every function, partitioning, ordering, frame and exclusion matches DuckDB', async () => {
    await fc.assert(
      fc.asyncProperty(
        tableArb(50),
        fnArb,
        fc.constantFrom<string[]>([], ['k'], ['s'], ['k', 'b']),
        fc.constantFrom('i', 'x', 'd', 'ts'),
        fc.boolean(),
        frameArb,
        fc.integer({ min: -1, max: 50 }),
        async (rawCols, c, partitionBy, orderCol, ascending, frameChoice, splitAt) => {
          const cols = withId(rawCols);
          const frame = c.takesFrame ? frameChoice : ({ type: 'none' } as const);
          // Range frames with offsets order by the one column; ties are deterministic there.
          const rangeOffsets = frame.type === 'range' && [frame.start, frame.end].some((b) => b !== null && b !== 0);
          const totalOrder = c.needsTotalOrder || (frame.type === 'rows' && !rangeOffsets);
          const rangeCol = rangeOffsets ? 'i' : orderCol;
          let spec: WindowSpec = window()
            .partitionBy(...partitionBy)
            .orderBy({ column: rangeCol, ascending }, ...(totalOrder ? ['id'] : []));
          let sqlOrder = `ORDER BY "${rangeCol}" ${ascending ? 'ASC NULLS FIRST' : 'DESC NULLS LAST'}${totalOrder ? ', id' : ''}`;
          let sqlFrame = '';
          if (frame.type !== 'none') {
            spec = frame.type === 'rows' ? spec.rowsBetween(frame.start, frame.end) : spec.rangeBetween(frame.start, frame.end);
            spec = spec.exclude(frame.exclude);
            sqlFrame = ` ${frame.type.toUpperCase()} BETWEEN ${sqlBound(frame.start, 'start')} AND ${sqlBound(frame.end, 'end')}${SQL_EXCLUDE[frame.exclude]}`;
          }
          if (frame.type === 'none' && c.takesFrame && splitAt % 3 === 0) {
            // also: an aggregate over the whole partition (no orderBy)
            spec = window().partitionBy(...partitionBy);
            sqlOrder = '';
          }
          const sqlPartition = partitionBy.length > 0 ? `PARTITION BY ${partitionBy.map((p) => `"${p}"`).join(', ')} ` : '';
          const sql = `${c.sqlFn} OVER (${sqlPartition}${sqlOrder}${sqlFrame})`;
          const expected = await duckValues(cols, sql);
          const actual = kernelValues(cols, c.fn.over(spec), splitAt >= 0 && splitAt < rawCols[0]!.values.length ? splitAt : -1);
          expectSameValues(actual, expected, sql);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('trailing time windows over a date column: 30 days inclusive and strictly before the row', async () => {
    const days = [0, 1, 1, 5, 30, 31, 31, 60, null, 61, 90, 91, 91];
    const cols: ColSpec[] = [
      { name: 'id', type: 'int32', values: days.map((_, i) => i) },
      { name: 'listing', type: 'utf8', values: days.map((_, i) => (i % 3 === 0 ? '日本' : 'émile')) },
      { name: 'd', type: 'date', values: days },
      { name: 'stars', type: 'int32', values: days.map((_, i) => (i % 4 === 0 ? null : i)) },
    ];
    const spec = window().partitionBy('listing').orderBy('d');
    for (const [exclude, sqlEx] of [['noOthers', ''], ['group', ' EXCLUDE GROUP']] as const) {
      const w = spec.rangeBetween({ days: -30 }, currentRow).exclude(exclude);
      for (const [fn, sqlFn] of [[agg.count(), 'count(*)'], [agg.mean('stars'), 'avg(stars)'], [agg.max('stars'), 'max(stars)']] as const) {
        const sql = `${sqlFn} OVER (PARTITION BY listing ORDER BY d ASC NULLS FIRST RANGE BETWEEN INTERVAL 30 DAYS PRECEDING AND CURRENT ROW${sqlEx})`;
        expectSameValues(kernelValues(cols, fn.over(w)), await duckValues(cols, sql), sql);
      }
    }
  });

  it('range frames over timestamps take durations (descending order reverses preceding)', async () => {
    const ms = [0, 3_600_000, 7_200_000, 7_200_000, 86_400_000, null, 90_000_000];
    const cols: ColSpec[] = [
      { name: 'id', type: 'int32', values: ms.map((_, i) => i) },
      { name: 'ts', type: 'timestamp', values: ms },
      { name: 'v', type: 'float64', values: ms.map((_, i) => i * 1.5) },
    ];
    const w = window().orderBy({ column: 'ts', ascending: false }).rangeBetween({ hours: -2 }, { hours: 1 });
    const sql = 'sum(v) OVER (ORDER BY ts DESC NULLS LAST RANGE BETWEEN INTERVAL 2 HOURS PRECEDING AND INTERVAL 1 HOURS FOLLOWING)';
    expectSameValues(kernelValues(cols, agg.sum('v').over(w)), await duckValues(cols, sql), sql);
  });

  it('range frames: NaN and null order values only see their peers (like DuckDB)', async () => {
    const cols: ColSpec[] = [
      { name: 'id', type: 'int32', values: [0, 1, 2, 3, 4, 5] },
      { name: 'o', type: 'float64', values: [1, Number.NaN, Number.NaN, 2, null, null] },
    ];
    for (const [a, b, sa] of [[-1, 1, '1 PRECEDING AND 1 FOLLOWING'], [null, 1, 'UNBOUNDED PRECEDING AND 1 FOLLOWING'], [-1, null, '1 PRECEDING AND UNBOUNDED FOLLOWING']] as const) {
      const sql = `count(*) OVER (ORDER BY o ASC NULLS FIRST RANGE BETWEEN ${sa})`;
      expectSameValues(kernelValues(cols, agg.count().over(window().orderBy('o').rangeBetween(a, b))), await duckValues(cols, sql), sql);
    }
  });

  it('several columns in one operator: later columns read earlier ones, also when one replaces an order key', async () => {
    const vals = [5, null, 3, 3, 9, -1, 0, 7, null, 2];
    const cols: ColSpec[] = [
      { name: 'id', type: 'int32', values: vals.map((_, i) => i) },
      { name: 'k', type: 'utf8', values: vals.map((_, i) => (i % 3 === 0 ? 'ß' : '日本語')) },
      { name: 'x', type: 'int32', values: vals },
    ];
    const byX = window().partitionBy('k').orderBy('x', 'id');
    const byId = window().partitionBy('k').orderBy('id');
    const specs = [
      ['rn', rowNumber().over(byX)],
      ['run', agg.sum('x').over(byX)],
      ['x', lag('x', 1, 100).over(byId)],
      ['rn2', rowNumber().over(byX)],
      ['run2', agg.sum('x').over(byX)],
    ] as const;
    const out = windowTable(toArrow(cols), ['k'], specs.map(([name, c]) => ({ name, fn: c.fn, spec: c.spec })));
    const got = arrowRows(out.select(['id', 'rn', 'run', 'x', 'rn2', 'run2']));
    await duck.load('t', cols);
    const w1 = 'PARTITION BY k ORDER BY x ASC NULLS FIRST, id';
    const want = await duck.rows(`SELECT id, rn, run, x, row_number() OVER (${w1}), sum(x) OVER (${w1}) FROM (
      SELECT id, k, row_number() OVER (${w1}) AS rn, sum(x) OVER (${w1}) AS run, lag(x, 1, 100) OVER (PARTITION BY k ORDER BY id) AS x FROM t)`);
    const key = (r: unknown[]): number => r[0] as number;
    expect(got.sort((a, b) => key(a) - key(b))).toEqual(want.sort((a, b) => key(a) - key(b)));
  });

  it('ties: rank and denseRank share values, rowNumber does not', () => {
    const cols: ColSpec[] = [
      { name: 'id', type: 'int32', values: [0, 1, 2, 3, 4] },
      { name: 'o', type: 'int32', values: [10, 20, 10, null, 30] },
    ];
    const w = window().orderBy('o');
    const byId = (f: WindowFunction): unknown[] => [...kernelValues(cols, f.over(w)).entries()].sort((a, b) => a[0] - b[0]).map((e) => e[1]);
    expect(byId(rank())).toEqual([2, 4, 2, 1, 5]);
    expect(byId(denseRank())).toEqual([2, 3, 2, 1, 4]);
    expect(new Set(byId(rowNumber()))).toEqual(new Set([1, 2, 3, 4, 5]));
  });

  it('an empty table keeps the schema and gives typed columns', () => {
    const t = toArrow([
      { name: 'k', type: 'utf8', values: [] },
      { name: 'x', type: 'int32', values: [] },
    ]);
    const w = window().partitionBy('k').orderBy('x');
    const cols = [['rn', rowNumber().over(w)], ['s', agg.sum('x').over(w)], ['prev', lag('x').over(w)]] as const;
    const out = windowTable(t, ['k'], cols.map(([name, c]) => ({ name, fn: c.fn, spec: c.spec })));
    expect(out.numRows).toBe(0);
    expect(out.schema.fields.map((f) => `${f.name}:${String(f.type)}`)).toEqual(['k:Utf8', 'x:Int32', 'rn:Int32', 's:Int64', 'prev:Int32']);
  });
});

describe('window bad input', () => {
  const t = toArrow([
    { name: 's', type: 'utf8', values: ['a', 'b'] },
    { name: 'x', type: 'float64', values: [1, 2] },
  ]);
  const run = (w: WindowColumn): unknown => windowTable(t, w.spec.partitionBy, [{ name: 'w', fn: w.fn, spec: w.spec }]);

  it('rank, rowNumber, lag and lead need orderBy', () => {
    for (const f of [rank(), denseRank(), rowNumber(), lag('x'), lead('x')]) {
      expect(() => f.over(window().partitionBy('s'))).toThrow(InvalidWindowError);
      expect(() => f.over(window().partitionBy('s'))).toThrow(/needs a window with orderBy/);
    }
    expect(() => rank().over(window().partitionBy('s'))).toThrow(/^rank\(\)/);
  });

  it('a range frame with offsets needs one numeric or temporal order column', () => {
    expect(() => agg.sum('x').over(window().rangeBetween(-1, 0))).toThrow(/exactly one orderBy column; the window has 0/);
    expect(() => agg.sum('x').over(window().orderBy('x', 's').rangeBetween(-1, 0))).toThrow(InvalidWindowError);
    const err = (() => {
      try {
        run(agg.sum('x').over(window().orderBy('s').rangeBetween(-1, 0)));
      } catch (e) {
        return e as InvalidWindowError;
      }
      return undefined;
    })();
    expect(err).toBeInstanceOf(InvalidWindowError);
    expect(err!.column).toBe('s');
    expect(err!.fn).toBe('sum(x)');
    expect(err!.code).toBe('DATA_INVALID_WINDOW');
    expect(err!.message).toMatch(/sum\(x\): a range frame with offsets needs a numeric, date or timestamp orderBy column; "s" is utf8/);
    expect(() => run(agg.sum('x').over(window().orderBy('x').rangeBetween({ days: -1 }, 0)))).toThrow(/duration frame bound needs a date or timestamp orderBy column; "x" is float64/);
  });

  it('bad frame offsets and lag/lead offsets', () => {
    expect(() => window().rowsBetween(1.5, 2)).toThrow(/start must be an integer row offset/);
    expect(() => window().rowsBetween(2, 1)).toThrow(/start \(2 FOLLOWING\) is after end \(1 FOLLOWING\)/);
    expect(() => window().rangeBetween(Number.NaN, 0)).toThrow(/start must be a finite number/);
    expect(() => window().rangeBetween({ weeks: 1 } as never, 0)).toThrow(/unknown duration field "weeks"/);
    expect(() => window().exclude('others' as never)).toThrow(/must be noOthers, currentRow, group or ties/);
    expect(() => lag('x', -1)).toThrow(/lag\(\): offset must be a non-negative integer; got -1/);
    expect(() => lead('x', 0.5)).toThrow(InvalidWindowError);
    expect(() => rank().over(window().orderBy('x').rowsBetween(-1, 0))).toThrow(/rank\(\): does not take a frame/);
  });

  it('type errors name the function and column', () => {
    expect(() => run(agg.sum('s').over(window().orderBy('x')))).toThrow(/sum\(s\): needs a numeric argument, but it is utf8/);
    expect(() => run(lag('x', 1, 'zero').over(window().orderBy('x')))).toThrow(/lag\(x, 1, "zero"\): default "zero" does not fit the argument's type float64/);
    expect(() => run(agg.max('nope').over(window().orderBy('x')))).toThrow(UnknownColumnError);
    expect(() => run(rank().over(window().partitionBy('nope').orderBy('x')))).toThrow(/nope/);
  });
});
