/**
 * readParquetFile reads row groups separately: any selection of row groups and columns equals the same
 * slice of a whole-file read; an empty projection still counts rows; a damaged row group gives a typed
 * error and does not affect reads of the others; unknown columns and row
 * groups are typed errors naming the file and what exists.
 */
import { mkdtemp, open, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as arrow from 'apache-arrow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ParquetError, parquetMetadata, readParquetFile, writeParquetFile } from '../../../../src/data/index.js';
import { readFooterStats } from '../../../../src/data/io/parquet-footer.js';
import { arrowRows, toArrow } from '../helpers/oracle.js';

let dir: string;
let path: string;
const N = 10_000;
const GROUP = 3000;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'shoal-parquet-read-'));
  path = join(dir, 'groups.parquet');
  const t = toArrow([
    { name: 'id', type: 'int64', values: Array.from({ length: N }, (_, i) => i) },
    { name: 'k', type: 'int32', values: Array.from({ length: N }, (_, i) => (i % 7 === 0 ? null : i % 100)) },
    { name: 'v', type: 'float64', values: Array.from({ length: N }, (_, i) => i / 8) },
    { name: 's', type: 'utf8', values: Array.from({ length: N }, (_, i) => (i % 5 === 0 ? null : `name-${i % 1000} ✓`)) },
  ]);
  await writeParquetFile(path, t, { maxRowGroupSize: GROUP, compression: 'uncompressed' });
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('readParquetFile by row group and column', () => {
  it('any row groups and columns equal the same slice of the whole-file read, in the order asked', async () => {
    const whole = arrowRows(await readParquetFile(path));
    expect(whole).toHaveLength(N);
    const pick = (rows: unknown[][], cols: number[]) => rows.map((r) => cols.map((c) => r[c]));
    const groupRows = (g: number) => whole.slice(g * GROUP, Math.min(N, (g + 1) * GROUP));
    for (const g of [0, 1, 3]) {
      const t = await readParquetFile(path, { rowGroups: [g], columns: ['s', 'id'] });
      expect(t.schema.fields.map((f) => f.name)).toEqual(['s', 'id']);
      expect(arrowRows(t)).toEqual(pick(groupRows(g), [3, 0]));
    }
    const two = await readParquetFile(path, { rowGroups: [2, 0], columns: ['k'] });
    expect(arrowRows(two)).toEqual(pick([...groupRows(2), ...groupRows(0)], [1]));
    const all = await readParquetFile(path, { rowGroups: [1] });
    expect(arrowRows(all)).toEqual(groupRows(1));
  });

  it('a projection keeps the Arrow types of a whole-file read (dates, timestamps, dictionary strings, lists)', async () => {
    const typed = join(dir, 'typed.parquet');
    const n = 500;
    const base = toArrow([
      { name: 'd', type: 'date', values: Array.from({ length: n }, (_, i) => (i % 9 === 0 ? null : 19000 + i)) },
      { name: 'ts', type: 'timestamp', values: Array.from({ length: n }, (_, i) => 1.7e12 + i * 1000) },
      { name: 'b', type: 'bool', values: Array.from({ length: n }, (_, i) => i % 3 === 0) },
      { name: 's', type: 'utf8', values: Array.from({ length: n }, (_, i) => `ü-${i % 7}`) },
    ]);
    const dict = arrow.vectorFromArray(Array.from({ length: n }, (_, i) => (i % 4 === 0 ? null : `cat-${i % 5}`)), new arrow.Dictionary(new arrow.Utf8(), new arrow.Int32()));
    const list = arrow.vectorFromArray(Array.from({ length: n }, (_, i) => [i, i + 1]), new arrow.List(new arrow.Field('item', new arrow.Int32(), true)));
    // A flat file (the footer is projected) and one with a list column (nested: decoded whole, then selected).
    const flat = join(dir, 'typed-flat.parquet');
    await writeParquetFile(flat, base.assign(new arrow.Table({ cat: dict })), { maxRowGroupSize: 200 });
    await writeParquetFile(typed, base.assign(new arrow.Table({ cat: dict, l: list })), { maxRowGroupSize: 200 });
    for (const [file, selections] of [
      [flat, [['cat'], ['ts', 'd'], ['s', 'b'], ['b', 'cat', 'ts']]],
      [typed, [['cat'], ['ts', 'd'], ['l', 'cat']]],
    ] as const) {
      const whole = await readParquetFile(file);
      for (const cols of selections) {
        const t = await readParquetFile(file, { columns: cols, rowGroups: [0, 2] });
        const w = await readParquetFile(file, { rowGroups: [0, 2] });
        expect(t.schema.fields.map((f) => `${f.name}: ${String(f.type)}`)).toEqual(cols.map((c) => `${c}: ${String(whole.schema.fields.find((f) => f.name === c)!.type)}`));
        expect(arrowRows(t)).toEqual(arrowRows(w.select([...cols])));
      }
    }
  });

  it('an empty projection reads no column but keeps the row count', async () => {
    const t = await readParquetFile(path, { rowGroups: [3], columns: [] });
    expect(t.schema.fields).toHaveLength(0);
    expect(t.numRows).toBe(N - 3 * GROUP);
  });

  it('a damaged row group fails only the reads that include it', async () => {
    const meta = await parquetMetadata(path);
    const damaged = join(dir, 'damaged.parquet');
    const src = await open(path, 'r');
    const bytes = (await src.readFile()).slice();
    await src.close();
    // Uncompressed chunks are laid out in order after the 4-byte magic: overwrite all of row group 1.
    const start = 4 + meta.rowGroups[0]!.compressedBytes;
    bytes.fill(0xab, start, start + meta.rowGroups[1]!.compressedBytes);
    const out = await open(damaged, 'w');
    await out.writeFile(bytes);
    await out.close();
    const fine = await readParquetFile(damaged, { rowGroups: [0, 2], columns: ['id', 's'] });
    expect(arrowRows(fine)).toEqual(arrowRows(await readParquetFile(path, { rowGroups: [0, 2], columns: ['id', 's'] })));
    await expect(readParquetFile(damaged, { rowGroups: [1] })).rejects.toThrow(ParquetError);
    await expect(readParquetFile(damaged, { rowGroups: [1] })).rejects.toThrow(/cannot decode Parquet row group 1: .*damaged\.parquet/);
  });

  it('a garbled data page in a compressed file is a ParquetError naming the file and row group; unrequested columns are never decoded', async () => {
    const snappy = join(dir, 'snappy.parquet');
    const t = await readParquetFile(path);
    await writeParquetFile(snappy, t, { maxRowGroupSize: GROUP, compression: 'snappy' });
    const bytes = new Uint8Array(await readFile(snappy));
    // Garble the middle of column k's chunk in row group 1 (its pages' compressed data).
    const [start, end] = readFooterStats(bytes, new Set())[1]![1]!.byteRange;
    const mid = Math.floor((start + end) / 2);
    for (let i = mid - 40; i < mid + 40; i++) bytes[i] = (bytes[i]! * 31 + 7) & 0xff;
    const garbled = join(dir, 'garbled.parquet');
    await writeFile(garbled, bytes);
    const err = await readParquetFile(garbled, { rowGroups: [1], columns: ['k'] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ParquetError);
    expect((err as ParquetError).file).toBe(garbled);
    expect((err as Error).message).toMatch(/row group 1\b.*garbled\.parquet/);
    // The whole-file read names the damaged row group too.
    await expect(readParquetFile(garbled)).rejects.toThrow(/row group 1\b/);
    // Projection happens before decoding: the other columns of the same row group read fine.
    const others = await readParquetFile(garbled, { rowGroups: [1], columns: ['s', 'id', 'v'] });
    expect(arrowRows(others)).toEqual(arrowRows(await readParquetFile(snappy, { rowGroups: [1], columns: ['s', 'id', 'v'] })));
    // The reader is still usable after the failure (no poisoned wasm instance).
    expect((await readParquetFile(snappy, { columns: ['k'] })).numRows).toBe(N);
  });

  it('a truncated file is a ParquetError naming the file', async () => {
    const bytes = await readFile(path);
    const cut = join(dir, 'truncated.parquet');
    await writeFile(cut, bytes.subarray(0, Math.floor(bytes.length / 2)));
    await expect(readParquetFile(cut, { columns: ['id'] })).rejects.toThrow(/truncated\.parquet/);
    await expect(readParquetFile(cut, { columns: ['id'] })).rejects.toBeInstanceOf(ParquetError);
  });

  it('unknown columns and row groups are errors naming the file and what exists', async () => {
    await expect(readParquetFile(path, { columns: ['id', 'nope'] })).rejects.toThrow(/no column "nope" \(columns: id, k, v, s\).*groups\.parquet/);
    await expect(readParquetFile(path, { rowGroups: [4] })).rejects.toThrow(/no row group 4 \(the file has 4\).*groups\.parquet/);
    await expect(readParquetFile(path, { rowGroups: [-1] })).rejects.toBeInstanceOf(ParquetError);
  });
});
