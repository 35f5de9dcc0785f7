import * as arrow from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { readNumbers, readStrings } from '../../../src/features/columns.js';
import { rowsToTable, tableToRows } from '../../../src/features/featurizer.js';

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

describe('rows ⇄ Arrow with 64-bit integers', () => {
  it('keeps int64 ids beyond 2^53 exact both ways (no silent rounding)', () => {
    const big = 9007199254740993n; // 2^53 + 1: a float64 rounds it to 2^53
    const t = new arrow.Table({ id: arrow.vectorFromArray([big, 5n, null], new arrow.Int64()) });
    const rows = tableToRows(t);
    expect(rows[0]!.id).toBe(big);
    expect(rows[1]!.id).toBe(5); // safe integers stay plain numbers
    expect(rows[2]!.id).toBeNull();
    const back = rowsToTable(rows);
    expect(back.schema.fields[0]!.type.typeId).toBe(arrow.Type.Int);
    expect(back.getChild('id')!.get(0)).toBe(big);
    expect(back.getChild('id')!.get(1)).toBe(5n);
    expect(back.getChild('id')!.get(2)).toBeNull();
  });

  it('a column mixing a large int64 with a fraction is refused, naming the column', () => {
    expect(() => rowsToTable([{ id: 9007199254740993n }, { id: 1.5 }])).toThrow(/"id"/);
  });
});
