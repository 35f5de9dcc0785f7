/**
 * CSV inputs that used to lose data silently (issue 13): a quote still open at the end of the input
 * (it swallowed the rest of the file into one field, in super-linear time), a field longer than the
 * documented maximum, ragged rows padded or truncated without a word, a NUL byte that turned a numeric
 * column into text even in failfast, and a JSON array file read as one empty row.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MalformedRecordError, readCsvPartition, readJsonLines } from '../../../../src/data/index.js';
import { DEFAULT_MAX_CSV_FIELD_BYTES } from '../../../../src/data/io/csv-tokenizer.js';
import { RAGGED_RECORDS_KEY, READ_NOTES_KEY, inferCsvSchema } from '../../../../src/data/io/csv-reader.js';
import { arrowRows } from '../helpers/oracle.js';

const buf = (s: string): Uint8Array => new TextEncoder().encode(s);
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'shoal-csv-safety-'));
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('CSV: an unterminated quote', () => {
  const TEXT = 'id,name\n1,a\n2,b\n3,"never closed\n4,d\n5,e\n';

  for (const mode of ['permissive', 'dropMalformed', 'failfast'] as const) {
    it(`is an error in ${mode} mode, naming the line the quote opened on`, async () => {
      const err = (await readCsvPartition(buf(TEXT), { mode, fileName: 'u.csv' }).catch((e: unknown) => e)) as MalformedRecordError;
      expect(err).toBeInstanceOf(MalformedRecordError);
      expect(err).toMatchObject({ file: 'u.csv', line: 4 });
      expect(err.message).toBe('malformed record at u.csv:4: quoted field opened on line 4 is not closed at the end of the input');
    });
  }

  it('names the line of the quote, not of the record, when an earlier field spans lines', async () => {
    const err = (await readCsvPartition(buf('a,b\n"x\ny",\n"open\n'), { fileName: 'm.csv', schema: { a: 'utf8', b: 'utf8' } }).catch((e: unknown) => e)) as MalformedRecordError;
    expect(err.line).toBe(4);
    const err2 = (await readCsvPartition(buf('a,b\n"x\ny","open\n'), { fileName: 'm.csv', schema: { a: 'utf8', b: 'utf8' } }).catch((e: unknown) => e)) as MalformedRecordError;
    expect(err2.line).toBe(3);
  });

  it('a large file with a quote left open near its start fails on the field-length limit, streaming (no timing: the error)', async () => {
    // 24 MiB after the open quote: more than the default 16 MiB limit, read in 1 MiB chunks from a file.
    const file = join(dir, 'big-unterminated.csv');
    const line = '12345,some text here,67.5\n';
    await writeFile(file, `id,name,x\n1,"oops,1.0\n${line.repeat(Math.ceil((24 * 2 ** 20) / line.length))}`);
    const err = (await readCsvPartition(file, { mode: 'permissive' }).catch((e: unknown) => e)) as MalformedRecordError;
    expect(err).toBeInstanceOf(MalformedRecordError);
    expect(err.line).toBe(2);
    expect(err.message).toContain(`quoted field opened on line 2 is longer than 16 MiB (maxFieldBytes): is a closing quote missing?`);
    expect(DEFAULT_MAX_CSV_FIELD_BYTES).toBe(16 * 2 ** 20);
  });
});

describe('CSV: a field longer than maxFieldBytes', () => {
  it('is malformed in every mode, quoted or not, and the option is validated', async () => {
    const long = 'x'.repeat(100);
    for (const mode of ['permissive', 'dropMalformed', 'failfast'] as const) {
      await expect(readCsvPartition(buf(`a,b\n1,${long}\n`), { mode, maxFieldBytes: 64, fileName: 'l.csv' })).rejects.toThrow(
        'malformed record at l.csv:2: field 2 is longer than 64 bytes (maxFieldBytes)',
      );
      await expect(readCsvPartition(buf(`a,b\n1,"${long}"\n`), { mode, maxFieldBytes: 64, fileName: 'l.csv' })).rejects.toThrow(/l\.csv:2: quoted field opened on line 2 is longer than 64 bytes/);
    }
    expect(arrowRows(await readCsvPartition(buf(`a,b\n1,"${long}"\n`), { maxFieldBytes: 100 }))).toEqual([[1, long]]);
    await expect(readCsvPartition(buf('a\n1\n'), { maxFieldBytes: 0 })).rejects.toThrow('options.maxFieldBytes must be a positive integer; got 0');
  });
});

describe('CSV: ragged rows in the default (permissive) mode', () => {
  it('are counted and reported in the table metadata, with the first line', async () => {
    const t = await readCsvPartition(buf('a,b,c\n1,2,3\n4,5\n6,7,8,9\n10,11,12\n'), { fileName: 'r.csv' });
    expect(arrowRows(t)).toEqual([
      [1, 2, 3],
      [4, 5, null],
      [6, 7, 8],
      [10, 11, 12],
    ]);
    expect(t.schema.metadata.get(RAGGED_RECORDS_KEY)).toBe('2');
    expect(t.schema.metadata.get(READ_NOTES_KEY)).toBe(
      "r.csv: 2 records with a wrong number of fields padded with nulls or truncated (first: line 3: expected 3 fields but found 2); mode 'failfast' fails on them, 'dropMalformed' drops them",
    );
    const clean = await readCsvPartition(buf('a,b\n1,2\n'));
    expect(clean.schema.metadata.has(RAGGED_RECORDS_KEY)).toBe(false);
  });
});

describe('CSV: a NUL byte', () => {
  const TEXT = 'id,x\n1,1.5\n2,2\u0000\n3,3.25\n';

  it('fails failfast, naming the line, instead of turning the numeric column into text', async () => {
    await expect(readCsvPartition(buf(TEXT), { mode: 'failfast', fileName: 'n.csv' })).rejects.toThrow('malformed record at n.csv:3: a NUL byte (0x00) in the record');
  });

  it('does not make the column text in the other modes: the value is malformed', async () => {
    expect((await inferCsvSchema(buf(TEXT))).types).toEqual(['int32', 'float64']);
    const kept = await readCsvPartition(buf(TEXT), { corruptRecordColumn: '_bad' });
    expect(String(kept.schema.fields[1]!.type)).toBe('Float64');
    expect(arrowRows(kept)).toEqual([
      [1, 1.5, null],
      [2, null, '2,2\u0000'],
      [3, 3.25, null],
    ]);
    expect(arrowRows(await readCsvPartition(buf(TEXT), { mode: 'dropMalformed' }))).toEqual([
      [1, 1.5],
      [3, 3.25],
    ]);
  });
});

describe('JSON: a file holding one JSON array', () => {
  it('reads as rows, one per element', async () => {
    const t = await readJsonLines(buf('[\n  {"id": 1, "name": "a"},\n  {"id": 2, "name": "b"}\n]\n'));
    expect(arrowRows(t)).toEqual([
      [1, 'a'],
      [2, 'b'],
    ]);
  });

  it('an array that does not parse fails in every mode, saying the file is neither JSON lines nor a JSON array', async () => {
    for (const mode of ['permissive', 'dropMalformed', 'failfast'] as const) {
      await expect(readJsonLines(buf('[\n  {"id": 1},\n  {"id": 2\n'), { mode, fileName: 'a.json' })).rejects.toThrow(
        /malformed record at a\.json:1: the file starts with "\[" but is not a JSON array .*: readJson reads JSON lines \(one object per line\) or one JSON array of objects/,
      );
    }
  });

  it('an element that is not an object is a malformed record, by mode', async () => {
    await expect(readJsonLines(buf('[{"id": 1}, 7]'), { mode: 'failfast', fileName: 'e.json' })).rejects.toThrow('malformed record at e.json:1: array element 2 is not a JSON object');
    expect(arrowRows(await readJsonLines(buf('[{"id": 1}, 7]'), { mode: 'dropMalformed' }))).toEqual([[1]]);
  });
});
