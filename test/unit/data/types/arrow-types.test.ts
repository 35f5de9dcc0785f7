import * as arrow from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { UnsupportedTypeError, col, evaluate, filter, hashJoin, sortTable } from '../../../../src/data/index.js';
import { arrowRows } from '../helpers/oracle.js';

const table = new arrow.Table({
  i16: arrow.vectorFromArray([3, null, -2], new arrow.Int16()),
  f32: arrow.vectorFromArray([1.5, 2.5, null], new arrow.Float32()),
  dms: arrow.vectorFromArray([Date.UTC(2024, 0, 2), null, Date.UTC(1969, 11, 31)], new arrow.DateMillisecond()),
  tus: arrow.vectorFromArray([Date.UTC(2024, 0, 2, 3), 0, null], new arrow.TimestampMicrosecond()),
  dict: arrow.vectorFromArray(['a', null, 'b'], new arrow.Dictionary(new arrow.Utf8(), new arrow.Int32())),
  u32: arrow.vectorFromArray([4000000000, 1, null], new arrow.Uint32()),
});

describe('Arrow input types', () => {
  it('evaluates over narrow ints, float32, date-millisecond, microsecond timestamps, dictionaries and uint32', () => {
    expect([...evaluate(col('i16').add(1), table)]).toEqual([4, null, -1]);
    expect([...evaluate(col('f32').mul(2), table)]).toEqual([3, 5, null]);
    expect([...evaluate(col('dms').year(), table)]).toEqual([2024, null, 1969]);
    expect([...evaluate(col('tus').dateTrunc('day'), table)]).toEqual([Date.UTC(2024, 0, 2), 0, null]);
    expect([...evaluate(col('dict').upper(), table)]).toEqual(['A', null, 'B']);
    expect([...evaluate(col('u32').add(1), table)]).toEqual([4000000001n, 2n, null]);
  });

  it('evaluates over a RecordBatch as well as a Table', () => {
    const batch = table.batches[0]!;
    expect([...evaluate(col('i16').mul(col('i16')), batch)]).toEqual([9, null, 4]);
  });

  it('filter, sort and join keep the original Arrow types', () => {
    const f = filter(table, col('i16').isNotNull());
    expect(f.schema.fields.map((x) => String(x.type))).toEqual(table.schema.fields.map((x) => String(x.type)));
    const s = sortTable(table, [{ column: 'dms' }]);
    expect(arrowRows(s).map((r) => r[0])).toEqual([null, -2, 3]);
    const j = hashJoin(table, table, 'dict', 'inner');
    expect(j.numRows).toBe(2);
    expect(String(j.schema.fields[0]!.type)).toBe(String(table.schema.fields[4]!.type));
  });

  it('names the column with an unsupported type', () => {
    const t = new arrow.Table({ dec: arrow.vectorFromArray([new Uint32Array([1, 0, 0, 0])], new arrow.Decimal(2, 10, 128)) });
    expect(() => evaluate(col('dec').add(1), t)).toThrow(UnsupportedTypeError);
    expect(() => evaluate(col('dec').add(1), t)).toThrow(/column "dec" has unsupported Arrow type Decimal/);
  });
});

describe('the one Arrow type classifier', () => {
  it('classes every Arrow type by family, dictionaries by their values; data, features and the writers agree', async () => {
    const { arrowTypeFamily, logicalTypeOf } = await import('../../../../src/data/index.js');
    const { kindOf } = await import('../../../../src/features/columns.js');
    const { pgTypeFor } = await import('../../../../src/data/io/pg-writer.js');
    const cases: Array<[arrow.DataType, string, string, string | undefined, string | undefined]> = [
      [new arrow.Int16(), 'int', 'numeric', 'int32', 'smallint'],
      [new arrow.Uint32(), 'int', 'numeric', 'int64', 'bigint'],
      [new arrow.Int64(), 'int', 'numeric', 'int64', 'bigint'],
      [new arrow.Float32(), 'float', 'numeric', 'float64', 'real'],
      [new arrow.Float64(), 'float', 'numeric', 'float64', 'double precision'],
      [new arrow.Decimal(2, 10, 128), 'decimal', 'numeric', undefined, undefined],
      [new arrow.Utf8(), 'utf8', 'string', 'utf8', 'text'],
      [new arrow.Dictionary(new arrow.Utf8(), new arrow.Int32()), 'utf8', 'string', 'utf8', 'text'],
      [new arrow.Bool(), 'bool', 'bool', 'bool', 'boolean'],
      [new arrow.DateDay(), 'date', 'date', 'date', 'date'],
      [new arrow.TimestampMillisecond('UTC'), 'timestamp', 'timestamp', 'timestamp', 'timestamptz'],
      [new arrow.List(new arrow.Field('item', new arrow.Int32())), 'list', 'list', 'list<int32>', 'integer[]'],
      [new arrow.FixedSizeList(2, new arrow.Field('item', new arrow.Float32())), 'fixed-size-list', 'list', undefined, undefined],
      [new arrow.Null(), 'null', 'null', 'null', undefined],
      [new arrow.Binary(), 'other', 'other', undefined, undefined],
    ];
    for (const [type, family, kind, logical, pg] of cases) {
      expect([String(type), arrowTypeFamily(type)]).toEqual([String(type), family]);
      expect([String(type), kindOf(type)]).toEqual([String(type), kind]);
      const l = (() => {
        try {
          const t = logicalTypeOf(type, 'c');
          return typeof t === 'object' ? `list<${String(t.list)}>` : t;
        } catch (e) {
          expect(e).toBeInstanceOf(UnsupportedTypeError);
          return undefined;
        }
      })();
      expect([String(type), l]).toEqual([String(type), logical]);
      const p = (() => {
        try {
          return pgTypeFor(type, 'c');
        } catch (e) {
          expect(e).toBeInstanceOf(UnsupportedTypeError);
          return undefined;
        }
      })();
      expect([String(type), p]).toEqual([String(type), pg]);
    }
  });
});
