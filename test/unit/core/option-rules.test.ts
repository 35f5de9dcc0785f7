import { describe, expect, it } from 'vitest';
import { InvalidOptionError } from '../../../src/core/errors.js';
import { optionRules, showValue } from '../../../src/core/option-rules.js';

const r = optionRules('readCsv');
const message = (f: () => unknown): string => {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(InvalidOptionError);
    return (e as Error).message;
  }
  throw new Error('did not throw');
};

describe('one option-validation kit', () => {
  it('returns the value, or the default when absent', () => {
    expect(r.int('n', undefined, 4)).toBe(4);
    expect(r.int('n', 7, 4)).toBe(7);
    expect(r.number('x', 0.5, 1, { min: 0, max: 1 })).toBe(0.5);
    expect(r.bool('b', undefined, true)).toBe(true);
    expect(r.oneOf('mode', 'drop', ['keep', 'drop'], 'keep')).toBe('drop');
    expect(r.column('c', undefined, 'id')).toBe('id');
    expect(r.columns('cols', 'a', { single: true })).toEqual(['a']);
    expect(r.object(undefined)).toEqual({});
  });

  it('every rule names the caller, the option and the rule, and shows the value', () => {
    expect(message(() => r.int('numPartitions', 0, 1))).toBe("readCsv option 'numPartitions' must be a positive integer; got 0");
    expect(message(() => r.int('skip', -1, 0, { min: 0 }))).toBe("readCsv option 'skip' must be a non-negative integer; got -1");
    expect(message(() => r.int('n', 9, 2, { min: 2, max: 8 }))).toBe("readCsv option 'n' must be an integer ≥ 2 ≤ 8; got 9");
    expect(message(() => r.number('ratio', Number.NaN, 1, { min: 0, max: 1 }))).toBe("readCsv option 'ratio' must be a finite number in [0, 1]; got NaN");
    expect(message(() => r.bool('header', 'yes', true))).toBe(`readCsv option 'header' must be a boolean; got "yes"`);
    expect(message(() => r.oneOf('mode', 'lenient', ['failfast', 'permissive'], 'failfast'))).toBe(`readCsv option 'mode' must be one of 'failfast', 'permissive'; got "lenient"`);
    expect(message(() => r.column('col', '', 'x'))).toBe(`readCsv option 'col' must be a non-empty column name; got ""`);
    expect(message(() => r.columns('cols', []))).toBe("readCsv option 'cols' must be a non-empty list of column names; got []");
    expect(message(() => r.fn('onRow', 3))).toBe("readCsv option 'onRow' must be a function; got 3");
    expect(message(() => r.knownKeys({ delimter: ';' }, ['delimiter', 'quote']))).toBe("readCsv option 'delimter' is not an option of readCsv (known: delimiter, quote)");
    expect(message(() => r.object(5 as never))).toBe('readCsv options must be an object; got number');
    expect(message(() => r.fail('delimiter', 'must be a single character', ';;'))).toBe(`readCsv option 'delimiter' must be a single character; got ";;"`);
  });

  it('the error carries the option and the stage', () => {
    let err: unknown;
    try {
      optionRules('Bucketizer', { stage: 'Bucketizer' }).int('numBuckets', 0, 2);
    } catch (e) {
      err = e;
    }
    expect(err).toMatchObject({ option: 'numBuckets', stage: 'Bucketizer', code: 'INVALID_OPTION' });
  });

  it('shows values briefly', () => {
    expect(showValue(() => 1)).toBe('a function');
    expect(showValue('x'.repeat(100))).toMatch(/^"x{60}…"$/);
    expect(showValue({ a: 1 })).toBe('{"a":1}');
    expect(showValue(3n)).toBe('3n');
  });
});
