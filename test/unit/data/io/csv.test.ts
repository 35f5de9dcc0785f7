import { gzipSync } from 'node:zlib';
import * as arrow from 'apache-arrow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MalformedRecordError, agg, aggregate, readCsvPartition } from '../../../../src/data/index.js';
import { Duck, arrowRows, expectSameRows } from '../helpers/oracle.js';

const buf = (s: string): Uint8Array => new TextEncoder().encode(s);
const LISTINGS = '/work/shared/data/airbnb-albany/listings.csv';

describe('readCsvPartition', () => {
  it('parses RFC 4180 quoting: embedded delimiters, doubled quotes, newlines, CRLF', async () => {
    const t = await readCsvPartition(buf('id,text,n\r\n1,"a, b",2\r\n2,"say ""hi""\nnext line",3\r\n3,,\r\n4,"",5\r\n'));
    expect(t.schema.fields.map((f) => [f.name, String(f.type)])).toEqual([
      ['id', 'Int32'],
      ['text', 'Utf8'],
      ['n', 'Int32'],
    ]);
    expect(arrowRows(t)).toEqual([
      [1, 'a, b', 2],
      [2, 'say "hi"\nnext line', 3],
      [3, null, null],
      [4, '', 5],
    ]);
  });

  it('infers int, int64, float, bool, date, timestamp and falls back to utf8', async () => {
    const t = await readCsvPartition(
      buf('a,b,c,d,e,f,g\n1,9007199254740993,1.5,true,2024-01-02,2024-01-02T03:04:05Z,x\n-2,1,2,FALSE,2024-02-29,2024-01-02 03:04:05.250,1\n,,,,,,\n'),
    );
    expect(t.schema.fields.map((f) => String(f.type))).toEqual(['Int32', 'Int64', 'Float64', 'Bool', 'Date32<DAY>', 'Timestamp<MILLISECOND>', 'Utf8']);
    expect(t.getChild('b')!.get(0)).toBe(9007199254740993n);
    expect(arrowRows(t)[1]).toEqual([-2, 1, 2, false, Date.UTC(2024, 1, 29), Date.UTC(2024, 0, 2, 3, 4, 5, 250), '1']);
    expect(arrowRows(t)[2]).toEqual([null, null, null, null, null, null, null]);
  });

  it('uses a given schema, a custom delimiter, no header, and gzip input', async () => {
    const bytes = gzipSync(buf('1;x;2024-01-01\n2;y;\n'));
    const t = await readCsvPartition(bytes, { header: false, delimiter: ';', schema: { id: 'int64', name: 'utf8', day: 'date' } });
    expect(t.schema.fields.map((f) => `${f.name}:${String(f.type)}`)).toEqual(['id:Int64', 'name:Utf8', 'day:Date32<DAY>']);
    expect(arrowRows(t)).toEqual([
      [1, 'x', Date.UTC(2024, 0, 1)],
      [2, 'y', null],
    ]);
    const fromArrowSchema = await readCsvPartition(buf('a\n1\n'), { schema: new arrow.Schema([new arrow.Field('a', new arrow.Float64())]) });
    expect(arrowRows(fromArrowSchema)).toEqual([[1]]);
  });

  const MALFORMED = 'id,v\n1,10\n2,20,extra\n3,abc\n4,"unterminated\n';

  it('failfast names the file, line and column', async () => {
    await expect(readCsvPartition(buf(MALFORMED), { mode: 'failfast', fileName: 'bad.csv' })).rejects.toThrow(MalformedRecordError);
    await expect(readCsvPartition(buf(MALFORMED), { mode: 'failfast', fileName: 'bad.csv' })).rejects.toThrow(/bad\.csv:3: expected 2 fields but found 3/);
    await expect(readCsvPartition(buf('id,v\n1,10\n3,abc\n'), { mode: 'failfast', schema: { id: 'int32', v: 'int32' }, fileName: 'f.csv' })).rejects.toThrow(
      /f\.csv:3 \(column "v"\): value "abc" is not a valid int32/,
    );
    const err = await readCsvPartition(buf('id,v\n1,"x\n'), { mode: 'failfast', fileName: 'q.csv' }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'DATA_MALFORMED_RECORD', file: 'q.csv', line: 2 });
  });

  it('dropMalformed drops bad records; permissive keeps them with nulls and the raw text', async () => {
    const schema = { id: 'int32', v: 'int32' } as const;
    const dropped = await readCsvPartition(buf(MALFORMED), { mode: 'dropMalformed', schema });
    expect(arrowRows(dropped)).toEqual([[1, 10]]);
    const kept = await readCsvPartition(buf(MALFORMED), { mode: 'permissive', schema, corruptRecordColumn: '_corrupt' });
    expect(arrowRows(kept)).toEqual([
      [1, 10, null],
      [2, 20, '2,20,extra'],
      [3, null, '3,abc'],
      [4, null, '4,"unterminated'],
    ]);
  });

  describe('the Airbnb Albany listings file', () => {
    let duck: Duck;
    beforeAll(async () => {
      duck = await Duck.open();
    });
    afterAll(() => duck.close());

    it('parses with the same row count and columns as DuckDB read_csv (quoted multi-line fields)', async () => {
      const t = await readCsvPartition(LISTINGS, { mode: 'failfast' });
      const [[count]] = (await duck.rows(`SELECT count(*) FROM read_csv('${LISTINGS}')`)) as [[number]];
      expect(t.numRows).toBe(count);
      const cols = await duck.rows(`SELECT column_name FROM (DESCRIBE SELECT * FROM read_csv('${LISTINGS}'))`);
      expect(t.schema.fields.map((f) => f.name)).toEqual(cols.map((r) => r[0]));
      const ids = await duck.rows(`SELECT id, host_id, name FROM read_csv('${LISTINGS}')`);
      expect(arrowRows(t).map((r) => [r[0], r[t.schema.fields.findIndex((f) => f.name === 'host_id')], r[t.schema.fields.findIndex((f) => f.name === 'name')]])).toEqual(ids);
    });

    it('reads the gzipped calendar (detected from .gz) and the reviews, matching DuckDB counts and aggregates', async () => {
      const cal = await readCsvPartition('/work/shared/data/airbnb-albany/calendar.csv.gz', { mode: 'failfast' });
      const [[calCount]] = (await duck.rows(`SELECT count(*) FROM read_csv('/work/shared/data/airbnb-albany/calendar.csv.gz', sample_size = -1)`)) as [[number]];
      expect(cal.numRows).toBe(calCount);
      expect(String(cal.getChild('date')!.type)).toBe('Date32<DAY>');
      const reviews = await readCsvPartition('/work/shared/data/airbnb-albany/reviews.csv', { mode: 'failfast' });
      const perListing = aggregate(reviews, ['listing_id'], [agg.count(undefined, 'n'), agg.countDistinct('reviewer_id', 'reviewers'), agg.max('date', 'last')]);
      const want = await duck.rows(`SELECT listing_id, count(*), count(DISTINCT reviewer_id), max(date) FROM read_csv('/work/shared/data/airbnb-albany/reviews.csv') GROUP BY listing_id`);
      expectSameRows(arrowRows(perListing), want);
    });
  });
});
