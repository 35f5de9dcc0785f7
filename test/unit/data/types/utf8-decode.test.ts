/**
 * Decoding Utf8 columns into JS strings with interning of repeated values: the strings must be exactly
 * the input whatever the repetition pattern — hash-slot collisions between different values of the
 * same length, unicode, nulls, empty strings, long values (not interned) and sliced vectors.
 */
import * as arrow from 'apache-arrow';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { columnFromVector } from '../../../../src/data/types/column.js';

const value = fc.oneof(
  fc.constantFrom('a', 'b', 'ab', 'ba', '', 'héllo', 'ünïcødé ✓', '日本', 'x'.repeat(65), 'x'.repeat(64)),
  fc.string({ maxLength: 6 }),
  fc.constant(null),
);

function decoded(v: arrow.Vector): unknown[] {
  const c = columnFromVector(v, 's');
  return Array.from({ length: v.length }, (_, i) => (c.valid !== null && c.valid[i] === 0 ? null : c.values[i]));
}

describe('Utf8 decoding', () => {
  it('gives back exactly the strings, with repeats, collisions, unicode, nulls and slices', () => {
    fc.assert(
      fc.property(fc.array(value, { minLength: 0, maxLength: 3000 }), fc.nat(50), (values, cut) => {
        const v = arrow.vectorFromArray(values, new arrow.Utf8());
        expect(decoded(v)).toEqual(values);
        const from = Math.min(cut, values.length);
        expect(decoded(v.slice(from))).toEqual(values.slice(from));
      }),
      { numRuns: 60 },
    );
  });

  it('keeps distinct values of equal length apart across 4,096 hash slots', () => {
    // 20,000 distinct 5-byte values, each repeated: many share a slot with another value.
    const values = Array.from({ length: 40_000 }, (_, i) => `k${String(i % 20_000).padStart(4, '0')}`);
    expect(decoded(arrow.vectorFromArray(values, new arrow.Utf8()))).toEqual(values);
  });
});
