/** checkData over Arrow tables: each kind of check, passing and failing, and the error naming the first failed check. */
import { tableFromArrays } from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { checkData, DataCheckError } from 'shoal/platform';

const table = tableFromArrays({
  user_id: Int32Array.from([1, 2, 3, 4]),
  price: Float64Array.from([10, NaN, 30, 40]),
  city: ['a', 'b', null, 'd'],
});

describe('checkData', () => {
  it('passes every check that holds, saying what it found', () => {
    expect(checkData('listings', table, {
      columns: { user_id: 'int', price: 'number', city: 'string' }, maxNullRate: { price: 0.25, city: 0.25 }, ranges: { price: { min: 0, max: 100 } },
      rowCount: { min: 4, previous: 5, maxChange: 0.2 },
    })).toEqual([
      { check: 'column user_id (int)', passed: true, found: 'Int32' },
      { check: 'column price (number)', passed: true, found: 'Float64' },
      { check: 'column city (string)', passed: true, found: 'Dictionary<Int32, Utf8>' },
      { check: 'null rate of price ≤ 0.25', passed: true, found: '1 of 4 rows null (0.2500)' },
      { check: 'null rate of city ≤ 0.25', passed: true, found: '1 of 4 rows null (0.2500)' },
      { check: 'price in [0, 100]', passed: true, found: 'seen 10 … 40' },
      { check: 'row count ≥ 4', passed: true, found: '4 rows' },
      { check: 'row count change vs last run ≤ ±20 %', passed: true, found: '5 → 4 rows (-20.0 %)' },
    ]);
  });

  it('throws DataCheckError naming the first failed check and listing all', () => {
    let err: unknown;
    try {
      checkData('listings', table, { columns: { user_id: 'string', rooms: 'int' }, maxNullRate: { price: 0.1 }, ranges: { price: { max: 35 } }, rowCount: { previous: 2, maxChange: 0.5 } });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(DataCheckError);
    const e = err as DataCheckError;
    expect(e.code).toBe('DATA_CHECK_FAILED');
    expect(e.check).toBe('column user_id (string)');
    expect(e.failedChecks).toEqual(['column user_id (string)', 'column rooms (int)', 'null rate of price ≤ 0.1', 'price in [-∞, 35]', 'row count change vs last run ≤ ±50 %']);
    expect(e.message).toBe(
      "dataset 'listings' failed check 'column user_id (string)': Int32 (and 4 more: column rooms (int): missing; null rate of price ≤ 0.1: 1 of 4 rows null (0.2500); " +
        'price in [-∞, 35]: 1 values outside (seen 10 … 40); row count change vs last run ≤ ±50 %: 2 → 4 rows (+100.0 %))',
    );
  });

  it('a column missing from a null-rate or range check fails that check', () => {
    expect(() => checkData('t', table, { ranges: { nope: { min: 0 } } })).toThrow("failed check 'nope in [0, ∞]': column missing");
    expect(() => checkData('t', table, { maxNullRate: { nope: 0 } })).toThrow("failed check 'null rate of nope ≤ 0': column missing");
  });
});
