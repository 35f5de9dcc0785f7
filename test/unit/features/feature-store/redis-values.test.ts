/** The online store's fast value decoding gives exactly what msgpackr's unpack gives, for every encoding. */
import { pack, unpack } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { decodeValue } from '../../../../src/features/feature-store/redis-values.js';

describe('decodeValue', () => {
  it('matches unpack on numbers of every width, booleans, null, strings and lists', () => {
    const values: unknown[] = [
      0, 1, 127, 128, 255, 256, 65535, 65536, 2 ** 32 - 1, 2 ** 32, 2 ** 53 - 1, -1, -32, -33, -128, -129, -32768, -32769, -(2 ** 31), -(2 ** 31) - 1,
      0.5, -0.25, 1e300, Number.MIN_VALUE, Math.PI, Number.NaN, Infinity, -Infinity, -0, 3.4028234663852886e38, 1.5e-7,
      null, true, false, '', 'Pine Hills', 'Ünicode ward', [1, 2], { a: 1 },
    ];
    for (const v of values) expect(decodeValue(pack(v)), JSON.stringify(v)).toEqual(unpack(pack(v)));
    expect(Object.is(decodeValue(pack(-0)), unpack(pack(-0)))).toBe(true);
  });
});
