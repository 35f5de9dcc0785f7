/** explode / explodeOuter kernel: Spark semantics (null and empty lists), element types, slices, bad input. */
import * as arrow from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { concatTables, explodeTable, InvalidOptionError, UnknownColumnError } from '../../../../src/data/index.js';

const listOf = (t: arrow.DataType): arrow.List => new arrow.List(new arrow.Field('element', t, true));

function input(): arrow.Table {
  return new arrow.Table({
    id: arrow.vectorFromArray([1, 2, 3, 4, 5], new arrow.Int32()),
    tags: arrow.vectorFromArray([['a', 'b'], null, [], ['c'], ['d', null, 'e']], listOf(new arrow.Utf8())),
  });
}

const rows = (t: arrow.Table): unknown[][] => t.toArray().map((r) => t.schema.fields.map((f) => (r as Record<string, unknown>)[f.name]));

describe('explodeTable', () => {
  it('explode drops null and empty lists, repeats the other columns, keeps null elements', () => {
    const out = explodeTable(input(), 'tags', false);
    expect(rows(out)).toEqual([
      [1, 'a'],
      [1, 'b'],
      [4, 'c'],
      [5, 'd'],
      [5, null],
      [5, 'e'],
    ]);
    expect(String(out.schema.fields[1]!.type)).toBe('Utf8');
    expect(out.schema.fields.map((f) => f.name)).toEqual(['id', 'tags']);
  });

  it('explodeOuter keeps null and empty lists as one null row each', () => {
    expect(rows(explodeTable(input(), 'tags', true))).toEqual([
      [1, 'a'],
      [1, 'b'],
      [2, null],
      [3, null],
      [4, 'c'],
      [5, 'd'],
      [5, null],
      [5, 'e'],
    ]);
  });

  it('works on slices and multi-batch tables, and on numeric elements', () => {
    const t = new arrow.Table({
      k: arrow.vectorFromArray(['x', 'y', 'z'], new arrow.Utf8()),
      v: arrow.vectorFromArray([[1.5], [2, 3], [4]], listOf(new arrow.Float64())),
    });
    const sliced = t.slice(1, 3);
    expect(rows(explodeTable(sliced, 'v', false))).toEqual([
      ['y', 2],
      ['y', 3],
      ['z', 4],
    ]);
    const multi = new arrow.Table([...t.batches, ...t.slice(0, 2).batches]);
    expect(multi.batches.length).toBe(2);
    expect(rows(explodeTable(multi, 'v', false)).map((r) => r[1])).toEqual([1.5, 2, 3, 4, 1.5, 2, 3]);
    expect(rows(explodeTable(concatTables([t, t]), 'v', false))).toHaveLength(8);
  });

  it('an empty table gives an empty table with the element type', () => {
    const out = explodeTable(input().slice(0, 0), 'tags', true);
    expect(out.numRows).toBe(0);
    expect(String(out.schema.fields[1]!.type)).toBe('Utf8');
  });

  it('a non-list column or a missing column is a typed error naming it', () => {
    expect(() => explodeTable(input(), 'id', false)).toThrow(InvalidOptionError);
    expect(() => explodeTable(input(), 'id', false)).toThrow(/explode\("id"\) needs a list column; "id" is Int32/);
    expect(() => explodeTable(input(), 'nope', true)).toThrow(UnknownColumnError);
  });
});
