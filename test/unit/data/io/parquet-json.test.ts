import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as arrow from 'apache-arrow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MalformedRecordError, ParquetError, col, parquetMetadata, project, readJsonLines, readParquetFile, writeParquetFile } from '../../../../src/data/index.js';
import { Duck, arrowRows, toArrow } from '../helpers/oracle.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'shoal-data-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const sample = (): arrow.Table => {
  const n = 2500;
  const base = toArrow([
    { name: 'i', type: 'int32', values: Array.from({ length: n }, (_, k) => (k % 11 === 0 ? null : k)) },
    { name: 'l', type: 'int64', values: Array.from({ length: n }, (_, k) => k * 1_000_003) },
    { name: 'x', type: 'float64', values: Array.from({ length: n }, (_, k) => (k % 7 === 0 ? null : k / 3)) },
    { name: 's', type: 'utf8', values: Array.from({ length: n }, (_, k) => (k % 13 === 0 ? null : `row ${k} ✓ 日本`)) },
    { name: 'b', type: 'bool', values: Array.from({ length: n }, (_, k) => (k % 5 === 0 ? null : k % 2 === 0)) },
    { name: 'd', type: 'date', values: Array.from({ length: n }, (_, k) => 18000 + k) },
    { name: 't', type: 'timestamp', values: Array.from({ length: n }, (_, k) => 1.7e12 + k * 1000) },
  ]);
  return project(base, [col('i'), col('l'), col('x'), col('s'), col('b'), col('d'), col('t'), col('s').split(' ').alias('words')]);
};

describe('Parquet', () => {
  it('round-trips every supported type with nulls, and DuckDB reads the file identically', async () => {
    const t = sample();
    const path = join(dir, 'all.parquet');
    await writeParquetFile(path, t, { maxRowGroupSize: 1000 });
    const back = await readParquetFile(path);
    expect(back.numRows).toBe(t.numRows);
    expect(arrowRows(back)).toEqual(arrowRows(t));
    const duck = await Duck.open();
    try {
      const [[cnt, sumL, nullS]] = (await duck.rows(`SELECT count(*), sum(l), count(*) - count(s) FROM read_parquet('${path}')`)) as [[number, number, number]];
      expect(cnt).toBe(2500);
      expect(sumL).toBe(arrowRows(t).reduce((s, r) => s + (r[1] as number), 0));
      expect(nullS).toBe(arrowRows(t).filter((r) => r[3] === null).length);
    } finally {
      duck.close();
    }
  });

  it('reads selected columns and row groups, and reports row-group metadata', async () => {
    const t = sample();
    const path = join(dir, 'groups.parquet');
    await writeParquetFile(path, t, { maxRowGroupSize: 1000, compression: 'zstd' });
    const meta = await parquetMetadata(path);
    expect(meta.numRows).toBe(2500);
    expect(meta.rowGroups.map((g) => g.numRows)).toEqual([1000, 1000, 500]);
    const stats = (g: number, c: string) => meta.rowGroups[g]!.columns.find((x) => x.column === c)!;
    expect(stats(0, 'i')).toMatchObject({ min: 1, max: 999, nullCount: 91 });
    expect(stats(0, 's')).toMatchObject({ min: 'row 1 ✓ 日本', max: 'row 999 ✓ 日本' });
    expect(stats(2, 'l')).toMatchObject({ min: 2000n * 1_000_003n, max: 2499n * 1_000_003n, nullCount: 0 });
    expect(stats(1, 'd')).toMatchObject({ min: 19000, max: 19999 });
    expect(meta.schema.fields.map((f) => f.name)).toEqual(t.schema.fields.map((f) => f.name));
    const part = await readParquetFile(path, { columns: ['s', 'i'], rowGroups: [1] });
    expect(part.numRows).toBe(1000);
    expect(part.schema.fields.map((f) => f.name).sort()).toEqual(['i', 's']);
    expect(part.getChild('i')!.get(2)).toBe(1002); // row 1001 is null (1001 % 11 === 0)
  });

  it('names the file when it cannot be read or decoded', async () => {
    const bad = join(dir, 'bad.parquet');
    await writeFile(bad, 'not parquet');
    await expect(readParquetFile(bad)).rejects.toThrow(ParquetError);
    await expect(readParquetFile(bad)).rejects.toThrow(/bad\.parquet/);
    await expect(readParquetFile(join(dir, 'missing.parquet'))).rejects.toThrow(/cannot read file \(file .*missing\.parquet\)/);
  });
});

describe('readJsonLines', () => {
  const text = '{"id":1,"name":"a","score":1.5,"ok":true,"tags":["x","y"],"meta":{"k":1}}\n\n{"id":3000000000,"name":null,"score":2,"extra":"e"}\n{"id":3}\n';

  it('infers columns in order of first appearance, with nulls for missing keys', async () => {
    const t = await readJsonLines(new TextEncoder().encode(text));
    expect(t.schema.fields.map((f) => `${f.name}:${String(f.type)}`)).toEqual(['id:Int64', 'name:Utf8', 'score:Float64', 'ok:Bool', 'tags:List<Utf8>', 'meta:Utf8', 'extra:Utf8']);
    expect(arrowRows(t)).toEqual([
      [1, 'a', 1.5, true, ['x', 'y'], '{"k":1}', null],
      [3000000000, null, 2, null, null, null, 'e'],
      [3, null, null, null, null, null, null],
    ]);
  });

  it('converts to a schema and handles malformed lines per mode', async () => {
    const bad = new TextEncoder().encode('{"id":1,"day":"2024-01-01"}\n{"id":"x"}\nnot json\n');
    const schema = { id: 'int32', day: 'date' } as const;
    await expect(readJsonLines(bad, { schema, mode: 'failfast', fileName: 'e.jsonl' })).rejects.toThrow(MalformedRecordError);
    await expect(readJsonLines(bad, { schema, mode: 'failfast', fileName: 'e.jsonl' })).rejects.toThrow(/e\.jsonl:2 \(column "id"\)/);
    expect(arrowRows(await readJsonLines(bad, { schema, mode: 'dropMalformed' }))).toEqual([[1, Date.UTC(2024, 0, 1)]]);
    expect(arrowRows(await readJsonLines(bad, { schema, mode: 'permissive' }))).toEqual([
      [1, Date.UTC(2024, 0, 1)],
      [null, null],
      [null, null],
    ]);
  });
});
