/**
 * readParquetFile reads row groups separately: any selection of row groups and columns equals the same
 * slice of a whole-file read; an empty projection still counts rows; a damaged row group gives a typed
 * error and does not affect reads of the others; unknown columns and row
 * groups are typed errors naming the file and what exists.
 */
import { mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ParquetError, parquetMetadata, readParquetFile, writeParquetFile } from '../../../../src/data/index.js';
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
    await expect(readParquetFile(damaged, { rowGroups: [1] })).rejects.toThrow(/cannot decode Parquet: .*damaged\.parquet/);
  });

  it('unknown columns and row groups are errors naming the file and what exists', async () => {
    await expect(readParquetFile(path, { columns: ['id', 'nope'] })).rejects.toThrow(/no column "nope" \(columns: id, k, v, s\).*groups\.parquet/);
    await expect(readParquetFile(path, { rowGroups: [4] })).rejects.toThrow(/no row group 4 \(the file has 4\).*groups\.parquet/);
    await expect(readParquetFile(path, { rowGroups: [-1] })).rejects.toBeInstanceOf(ParquetError);
  });
});
