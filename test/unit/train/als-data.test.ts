import { Dictionary, Float64, Int32, Table, tableFromArrays, Utf8, vectorFromArray } from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { InvalidIdError, InvalidTrainingDataError } from '../../../src/train/errors.js';
import {
  blockBounds, blockRatings, buildCsr, encodeIds, indexIds, indexRawIds, labelPositions, lookupIds, readRatingColumns, readRawRatingColumns,
} from '../../../src/train/als/als-data.js';

describe('indexIds', () => {
  it('maps compact and sparse id ranges to dense indices in id order', () => {
    for (const raw of [Float64Array.of(5, 3, 5, 9, -2), Float64Array.of(1e15, -7, 1e15, 42)]) {
      const { ids, index } = indexIds(raw);
      expect(Array.from(ids)).toEqual([...new Set(raw)].sort((a, b) => a - b));
      raw.forEach((v, i) => expect(ids[index[i]!]).toBe(v));
      expect(Array.from(lookupIds(ids, Float64Array.of(raw[0]!, 1234567)))).toEqual([index[0], -1]);
    }
  });
});

describe('readRatingColumns', () => {
  it('reads Arrow tables (Int64 ids too) and plain rows alike', async () => {
    const t = tableFromArrays({ u: BigInt64Array.of(1n, 2n), i: Int32Array.of(7, 8), r: Float64Array.of(1.5, 2) });
    const a = await readRatingColumns(t, 'u', 'i', 'r');
    const b = await readRatingColumns([{ u: 1, i: 7, r: 1.5 }, { u: 2, i: 8, r: 2 }], 'u', 'i', 'r');
    expect(a).toEqual(b);
    const c = await readRatingColumns({ toArrow: () => Promise.resolve(t) }, 'u', 'i', 'r');
    expect(c).toEqual(a);
  });

  it('rejects ids that are not integers and ratings that are not finite numbers, naming row and column', async () => {
    await expect(readRatingColumns([{ user: 1.5, item: 1, rating: 1 }], 'user', 'item', 'rating')).rejects.toThrow(InvalidIdError);
    await expect(readRatingColumns([{ user: 'a', item: 1, rating: 1 }], 'user', 'item', 'rating')).rejects.toThrow('user at row 0 must be an integer id (got the string "a")');
    await expect(readRatingColumns([{ user: 1, item: 1, rating: 1 }, { user: 1, item: 2, rating: 'x' }], 'user', 'item', 'rating'))
      .rejects.toThrow('rating at row 1 must be a finite number (got "x")');
    await expect(readRatingColumns(tableFromArrays({ user: ['a'], item: [1], rating: [1] }), 'user', 'item', 'rating')).rejects.toThrow(InvalidIdError);
    await expect(readRatingColumns(tableFromArrays({ user: [1], item: [1], rating: ['bad'] }), 'user', 'item', 'rating')).rejects.toThrow(/column "rating" must be numeric/);
    await expect(readRatingColumns(tableFromArrays({ user: [1], item: [1] }), 'user', 'item', 'rating')).rejects.toThrow(InvalidTrainingDataError);
    await expect(readRatingColumns(tableFromArrays({ user: [1], item: [1], rating: [NaN] }), 'user', 'item', 'rating')).rejects.toThrow(/finite/);
  });
});

describe('blockRatings', () => {
  it('points every rating at the same source row in whole and gather modes', () => {
    const rows = Int32Array.of(0, 0, 1, 2, 3, 3, 4);
    const cols = Int32Array.of(5, 1, 2, 0, 4, 5, 3);
    const vals = Float32Array.of(1, 2, 3, 4, 5, 6, 7);
    const csr = buildCsr(rows, cols, vals, 5);
    const dst = blockBounds(5, 2);
    const src = blockBounds(6, 3);
    const whole = blockRatings(csr, dst, src, false);
    const gathered = blockRatings(csr, dst, src, true);
    const srcOf = (d: number, k: number, g: boolean): number => {
      const b = (g ? gathered : whole).blocks[d]!;
      const part = b.colPart[k]!;
      const row = g ? gathered.gather![d]![part]![b.colRow[k]!]! : b.colRow[k]!;
      return src[part]! + row;
    };
    for (let d = 0; d < 2; d++) {
      const b = whole.blocks[d]!;
      for (let k = 0; k < b.ratings.length; k++) {
        const globalK = csr.rowPtr[dst[d]!]! + k;
        expect(srcOf(d, k, false)).toBe(csr.cols[globalK]);
        expect(srcOf(d, k, true)).toBe(csr.cols[globalK]);
      }
    }
    // Out-blocks hold only referenced rows.
    expect(gathered.gather!.flat().reduce((s, l) => s + l.length, 0)).toBeLessThanOrEqual(7);
  });
});

describe('string ids', () => {
  it('reads utf8 and dictionary-of-utf8 columns and rows of strings; indexes them in sorted order', async () => {
    const dict = vectorFromArray(['b', 'a', 'b'], new Dictionary(new Utf8(), new Int32()));
    const t = new Table({ u: vectorFromArray(['zed', 'ann', 'zed']), i: dict, r: vectorFromArray([1, 2, 3], new Float64()) });
    const a = await readRawRatingColumns(t, 'u', 'i', 'r');
    const b = await readRawRatingColumns([{ u: 'zed', i: 'b', r: 1 }, { u: 'ann', i: 'a', r: 2 }, { u: 'zed', i: 'b', r: 3 }], 'u', 'i', 'r');
    expect(a).toEqual(b);
    expect(a.users).toEqual(['zed', 'ann', 'zed']);
    const users = indexRawIds(a.users);
    expect(users.labels).toEqual(['ann', 'zed']);
    expect(Array.from(users.ids)).toEqual([0, 1]);
    expect(Array.from(users.index)).toEqual([1, 0, 1]);
    expect(Array.from(encodeIds(['zed', 'bob', 'ann'], labelPositions(users.labels!), 'u'))).toEqual([1, -1, 0]);
    // Integer ids still index as before, without labels.
    expect(indexRawIds(Float64Array.of(9, 4)).labels).toBeUndefined();
  });

  it('the integer-only reader still rejects strings; mixed kinds and non-integer floats are typed errors naming column and row', async () => {
    await expect(readRatingColumns(tableFromArrays({ u: ['a'], i: Int32Array.of(1) }), 'u', 'i', undefined)).rejects.toThrow('u at row 0 must be an integer id (got the string "a")');
    await expect(readRawRatingColumns([{ u: 'a', i: 1 }, { u: 2, i: 1 }], 'u', 'i', undefined)).rejects.toThrow('u at row 1 must be an integer id (got 2): ids must be integers or strings, not both in one column');
    await expect(readRawRatingColumns([{ u: 1, i: 1 }, { u: 'b', i: 1 }], 'u', 'i', undefined)).rejects.toThrow('u at row 1 must be an integer id (got the string "b"): ids must be integers or strings, not both in one column');
    const err = await readRawRatingColumns(tableFromArrays({ u: Int32Array.of(1, 2), i: Float64Array.of(3, 3.5) }), 'u', 'i', undefined).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidIdError);
    expect((err as InvalidIdError).column).toBe('i');
    expect((err as InvalidIdError).row).toBe(1);
    expect((err as Error).message).toBe('i at row 1 must be an integer id (got 3.5): ids must be integers or strings');
    await expect(readRawRatingColumns(new Table({ u: vectorFromArray(['a', null]), i: vectorFromArray([1, 2], new Int32()) }), 'u', 'i', undefined)).rejects.toThrow('u at row 1 must be an integer id (got null)');
    expect(() => encodeIds(['a'], undefined, 'u')).toThrow('u at row 0 must be an integer id (got the string "a"): the model was trained on integer ids');
    expect(() => encodeIds(Float64Array.of(1), labelPositions(['a']), 'u')).toThrow(InvalidTrainingDataError);
  });
});
