/**
 * The int64 join path (keys read as 32-bit word pairs from the Arrow buffers): every join type, and
 * the count-only join, against DuckDB — values beyond 2^32 and up to 2^62, negatives, nulls, skew,
 * inputs split into several record batches and sliced at an offset (shuffle buckets look like that).
 */
import * as arrow from 'apache-arrow';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { concatTables } from '../../../../src/data/kernels/concat.js';
import { hashJoin, hashJoinCount, type JoinType } from '../../../../src/data/kernels/hash-join.js';
import { Duck, arrowRows, expectSameRows, toArrow, type ColSpec } from '../helpers/oracle.js';

let duck: Duck;
beforeAll(async () => {
  duck = await Duck.open();
});
afterAll(() => duck?.close());

const HOW: readonly JoinType[] = ['inner', 'left', 'right', 'full', 'semi', 'anti'];
const SQL: Record<JoinType, string> = { inner: 'INNER JOIN', left: 'LEFT JOIN', right: 'RIGHT JOIN', full: 'FULL JOIN', semi: 'SEMI JOIN', anti: 'ANTI JOIN' };

const key = fc.option(
  fc.oneof(
    { weight: 4, arbitrary: fc.integer({ min: -3, max: 6 }) },
    // Same low word as a small key, another high word: only the high word tells them apart.
    { weight: 3, arbitrary: fc.constantFrom(2 ** 32, 2 ** 32 + 1, 2 ** 33 + 1, -(2 ** 32) + 1, 2 ** 53 - 1, -(2 ** 53) + 1) },
    { weight: 1, arbitrary: fc.bigInt({ min: -(2n ** 62n), max: 2n ** 62n }) },
  ),
  { freq: 6, nil: null },
);

function side(keys: readonly (number | bigint | null)[], tag: string): ColSpec[] {
  return [
    // bigints beyond 2^53 travel as they are (toArrow and DuckDB take them exactly)
    { name: 'k', type: 'int64', values: keys as (number | null)[] },
    { name: tag, type: 'int32', values: keys.map((_, i) => i) },
  ];
}

/** The table as `parts` record batches, the first sliced off one row so the rest start at an offset. */
function chunked(t: arrow.Table, parts: number): arrow.Table {
  const pieces: arrow.Table[] = [];
  const size = Math.max(1, Math.ceil(t.numRows / parts));
  for (let at = 0; at < t.numRows; at += size) pieces.push(t.slice(at, Math.min(t.numRows, at + size)));
  return pieces.length === 0 ? t : concatTables(pieces);
}

describe('int64 join keys', () => {
  it('the keys reach the kernel as int64 Arrow columns', () => {
    const t = toArrow(side([1, null, 2 ** 40], 'a'));
    expect(String(t.getChild('k')!.type)).toBe('Int64');
  });

  for (const how of HOW) {
    it(`${how} join and its count equal DuckDB`, async () => {
      await fc.assert(
        fc.asyncProperty(fc.array(key, { maxLength: 40 }), fc.array(key, { maxLength: 40 }), fc.integer({ min: 1, max: 4 }), async (lk, rk, parts) => {
          const lc = side(lk, 'a');
          const rc = side(rk, 'b');
          await duck.load('l', lc);
          await duck.load('r', rc);
          const l = chunked(toArrow(lc), parts);
          const r = chunked(toArrow(rc), parts + 1);
          const semi = how === 'semi' || how === 'anti';
          const sql = semi ? `SELECT l.k, l.a FROM l ${SQL[how]} r ON l.k = r.k` : `SELECT coalesce(l.k, r.k), l.a, r.b FROM l ${SQL[how]} r ON l.k = r.k`;
          const want = await duck.rows(sql);
          expectSameRows(arrowRows(hashJoin(l, r, 'k', how)), want);
          expect(hashJoinCount(l, r, 'k', how)).toBe(want.length);
        }),
        { numRuns: 30 },
      );
    });
  }
});
