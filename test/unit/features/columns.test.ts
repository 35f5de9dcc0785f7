import * as arrow from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { readNumbers, readStrings } from '../../../src/features/columns.js';

describe('column readers', () => {
  it('readNumbers fast path honours slices, chunks and nulls', () => {
    const a = arrow.vectorFromArray([1, null, 3, 4, null, 6], new arrow.Float64()).slice(2);
    const b = arrow.vectorFromArray([7, null], new arrow.Int32());
    const v = a.concat(b as unknown as arrow.Vector<arrow.Float64>);
    const { values, valid } = readNumbers(v);
    expect(Array.from(valid)).toEqual([1, 1, 0, 1, 1, 0]);
    expect(Array.from(values).filter((_, i) => valid[i] === 1)).toEqual([3, 4, 6, 7]);
  });

  it('readStrings fast path: ASCII, non-ASCII, long values, nulls, slices', () => {
    const long = 'x'.repeat(40);
    const v = arrow.vectorFromArray(['skip', 'a', null, 'Ünicode ward', long, '東京'], new arrow.Utf8()).slice(1);
    expect(readStrings(v)).toEqual(['a', null, 'Ünicode ward', long, '東京']);
    expect(readStrings(arrow.vectorFromArray([1, null, 2.5], new arrow.Float64()))).toEqual(['1', null, '2.5']);
  });
});
