import { describe, expect, it } from 'vitest';
import { DataError, InvalidOptionError, MalformedRecordError, SchemaMismatchError, UnknownColumnError, col, fromRows, range } from '../../../src/data/index.js';

describe('data errors', () => {
  it('carry stable codes, context and cause', () => {
    const cause = new Error('boom');
    const e = new MalformedRecordError('bad quote', 'f.csv', 7, 'price', { cause });
    expect(e.code).toBe('DATA_MALFORMED_RECORD');
    expect([e.file, e.line, e.column, e.cause]).toEqual(['f.csv', 7, 'price', cause]);
    expect(e.message).toBe('malformed record at f.csv:7 (column "price"): bad quote');
    expect(e.name).toBe('MalformedRecordError');
  });

  it('match DataError across realms through the Symbol.for marker', () => {
    const foreign = Object.assign(new Error('x'), { [Symbol.for('shoal/data/DataError')]: true });
    expect(foreign instanceof DataError).toBe(true);
    expect(new UnknownColumnError('a', []) instanceof DataError).toBe(true);
    expect(new Error('plain') instanceof DataError).toBe(false);
    expect(foreign instanceof UnknownColumnError).toBe(false);
  });

  it('fromRows refuses a column of mixed kinds, naming the column and both rows', () => {
    const err = (() => {
      try {
        fromRows([{ s: 'a', n: 1 }, { s: null, n: 2 }, { s: 3, n: 3 }]);
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(err).toBeInstanceOf(SchemaMismatchError);
    expect((err as SchemaMismatchError).column).toBe('s');
    expect((err as Error).message).toBe('fromRows: column "s" holds a string in row 0 and a number in row 2 (3); a column holds one type');
    // Nulls are skipped; a number and a bigint in one column are named too (Arrow cannot mix them).
    expect(() => fromRows([{ n: 1 }, { n: null }, { n: 2 }])).not.toThrow();
    expect(() => fromRows([{ n: 1 }, { n: 2n }])).toThrow('fromRows: column "n" holds a number in row 0 and a bigint in row 1 ("2")');
  });

  it('sort() names a key that is not a column name or sort key (an expression)', () => {
    const sortBy = (k: unknown) => () => range(3).sort(k as string);
    expect(sortBy(col('id').add(1))).toThrow(InvalidOptionError);
    expect(sortBy(col('id').add(1))).toThrow(/sort\(\) key 0.*the expression .*id.* \(add it as a column with withColumn, then sort by its name\)/);
    expect(sortBy(null)).toThrow(/sort\(\) key 0 must be a column name, col\(name\).asc\(\)\/.desc\(\) or \{ column, ascending\?, nullsFirst\? \}; got null/);
    expect(() => range(3).sort('id', { column: 'id', ascending: false })).not.toThrow();
  });
});
