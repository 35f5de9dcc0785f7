import { describe, expect, it } from 'vitest';
import { DataError, MalformedRecordError, UnknownColumnError } from '../../../src/data/index.js';

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
});
