import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import * as arrow from 'apache-arrow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MalformedRecordError, SourceNotFoundError, agg, aggregate, readCsvPartition } from '../../../../src/data/index.js';
import { INVALID, parseText } from '../../../../src/data/io/text-values.js';
import { Duck, arrowRows, expectSameRows } from '../helpers/oracle.js';
import { albanyDataDir } from '../../../../examples/albany-data.js';

const buf = (s: string): Uint8Array => new TextEncoder().encode(s);
const ALBANY = albanyDataDir();
const LISTINGS = join(ALBANY, 'listings.csv');

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

  // (A quote left open at the end is an error in every mode: csv-safety.test.ts.)
  const MALFORMED = 'id,v\n1,10\n2,20,extra\n3,abc\n';

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
    ]);
  });

  it('parses numbers and dates from bytes exactly as from text (fast paths agree with parseText)', async () => {
    const ints = fc.oneof(fc.integer(), fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map(String), fc.constantFrom(' 12 ', '+7', '-0', '007', '', '1e3', '12a', '2147483648', '-2147483649', '9007199254740993', '99999999999999999999'));
    const floats = fc.oneof(
      fc.double({ noNaN: false }).map(String),
      fc.tuple(fc.integer({ min: -1e9, max: 1e9 }), fc.integer({ min: 0, max: 999999 }), fc.integer({ min: -30, max: 30 })).map(([a, b, e]) => `${a}.${b}e${e}`),
      fc.constantFrom('1.', '.5', '-.5', '+1.5E+3', '1e', 'inf', '-Infinity', 'NaN', '0.1', '123456789012345.6', '1e400', ' 3.25 ', '1_0'),
    );
    const dates = fc.oneof(fc.date({ min: new Date(Date.UTC(1000, 0, 1)), max: new Date(Date.UTC(9999, 11, 31)), noInvalidDate: true }).map((d) => d.toISOString().slice(0, 10)), fc.constantFrom('2023-02-29', '2024-02-29', '2024-13-01', '2024-1-5', ' 2024-01-05', '20240105'));
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(ints.map(String), floats, dates), { minLength: 1, maxLength: 30 }), async (rows) => {
        const csv = `i32,i64,f,d\n${rows.map(([i, f, d]) => `"${i}","${i}",${f.includes(',') ? `"${f}"` : f},${d}`).join('\n')}\n`;
        const t = await readCsvPartition(buf(csv), { schema: { i32: 'int32', i64: 'int64', f: 'float64', d: 'date' } });
        const want = rows.map(([i, f, d]) =>
          ([['int32', i], ['int64', i], ['float64', f], ['date', d]] as const).map(([type, v]) => {
            const p = parseText(type, v);
            return p === INVALID ? null : type === 'int32' ? (p as number) | 0 : typeof p === 'bigint' ? (p >= -(2n ** 53n) && p <= 2n ** 53n ? Number(p) : p) : type === 'date' ? (p as number) * 86400000 : p;
          }),
        );
        // The int64 column exactly (arrowRows gives numbers).
        const i64 = t.getChild('i64')!;
        const got = arrowRows(t).map((r, k) => {
          const v = i64.get(k) as bigint | null;
          return [r[0], v === null ? null : v >= -(2n ** 53n) && v <= 2n ** 53n ? Number(v) : v, r[2], r[3]];
        });
        expect(got).toEqual(want);
      }),
      { numRuns: 200 },
    );
  });

  it('a missing file, a corrupt gzip stream and a truncated one are typed errors naming the input', async () => {
    const missing = await readCsvPartition('/nonexistent/dir/none.csv').catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(SourceNotFoundError);
    expect((missing as Error).message).toMatch(/cannot read \/nonexistent\/dir\/none\.csv: .*ENOENT/);
    const gz = gzipSync(buf(`a,b\n${Array.from({ length: 5000 }, (_, i) => `${i},${i * 7}`).join('\n')}\n`));
    const garbled = gz.slice();
    for (let i = 20; i < 60; i++) garbled[i] = garbled[i]! ^ 0x5a;
    for (const [bytes, name] of [
      [garbled, 'garbled.csv.gz'],
      [gz.subarray(0, gz.length >> 1), 'truncated.csv.gz'],
    ] as const) {
      const err = await readCsvPartition(bytes, { fileName: name, schema: { a: 'int32', b: 'int32' } }).catch((e: unknown) => e);
      expect(err, name).toBeInstanceOf(MalformedRecordError);
      expect((err as MalformedRecordError).file).toBe(name);
      expect((err as Error).message).toMatch(/not valid gzip data/);
    }
  });

  describe('inputs larger than one chunk (records straddle chunk boundaries)', () => {
    let duck: Duck;
    let dir: string;
    beforeAll(async () => {
      duck = await Duck.open();
      dir = await mkdtemp(join(tmpdir(), 'shoal-csv-'));
    });
    afterAll(async () => {
      duck.close();
      await rm(dir, { recursive: true, force: true });
    });

    it('equals DuckDB read_csv on a 3 MiB file with quoted newlines, doubled quotes, CRLF and unicode, plain and gzipped', async () => {
      const lines = ['id,name,x,day'];
      let size = 0;
      for (let i = 0; size < 3 * 2 ** 20; i++) {
        const name = i % 11 === 0 ? null : i % 7 === 0 ? `"multi\nline ""${i}"" ✓"` : i % 5 === 0 ? `"a,b ${'é'.repeat(i % 13)}"` : `n${'x'.repeat(i % 37)}`;
        const line = `${i},${name ?? ''},${i % 3 === 0 ? '' : (i * 0.25).toString()},${i % 4 === 0 ? '' : `2024-0${1 + (i % 9)}-1${i % 10}`}`;
        lines.push(line);
        size += line.length + 2;
      }
      const text = `${lines.join('\r\n')}\r\n`;
      const path = join(dir, 'big.csv');
      await writeFile(path, text);
      await writeFile(`${path}.gz`, gzipSync(buf(text)));
      const schema = { id: 'int64', name: 'utf8', x: 'float64', day: 'date' } as const;
      const want = await duck.rows(`SELECT id, name, x, day FROM read_csv('${path}', header = true, columns = {'id': 'BIGINT', 'name': 'VARCHAR', 'x': 'DOUBLE', 'day': 'DATE'}) ORDER BY id`);
      for (const src of [path, `${path}.gz`]) {
        const t = await readCsvPartition(src, { schema, mode: 'failfast' });
        expect(t.numRows).toBe(lines.length - 1);
        expect(arrowRows(t)).toEqual(want);
      }
      // Inferred types over the whole file.
      const inferred = await readCsvPartition(path);
      expect(inferred.schema.fields.map((f) => String(f.type))).toEqual(['Int32', 'Utf8', 'Float64', 'Date32<DAY>']);
    });
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
      const cal = await readCsvPartition(join(ALBANY, 'calendar.csv.gz'), { mode: 'failfast' });
      const [[calCount]] = (await duck.rows(`SELECT count(*) FROM read_csv('${join(ALBANY, 'calendar.csv.gz')}', sample_size = -1)`)) as [[number]];
      expect(cal.numRows).toBe(calCount);
      expect(String(cal.getChild('date')!.type)).toBe('Date32<DAY>');
      const reviews = await readCsvPartition(join(ALBANY, 'reviews.csv'), { mode: 'failfast' });
      const perListing = aggregate(reviews, ['listing_id'], [agg.count(undefined, 'n'), agg.countDistinct('reviewer_id', 'reviewers'), agg.max('date', 'last')]);
      const want = await duck.rows(`SELECT listing_id, count(*), count(DISTINCT reviewer_id), max(date) FROM read_csv('${join(ALBANY, 'reviews.csv')}') GROUP BY listing_id`);
      expectSameRows(arrowRows(perListing), want);
    });
  });
});
