/**
 * writeParquet/writeCsv cannot destroy data (issue 13): an overwrite of a folder the plan reads is
 * refused before compute, files the sink did not write are never deleted (the refusal names them), a
 * `a/b/../../x` target resolves as the kernel resolves it, a failed write leaves the target as it was,
 * and what a killed write left beside the target is swept by the next write.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { col, fromRows, readParquet, UnsafeWriteError } from 'shoal/data';
import { TestCluster } from '../../harness/test-cluster.js';
import { failAboveId } from '../../fixtures/data/index.js';

let tc: TestCluster;
let dir: string;

beforeAll(async () => {
  tc = await TestCluster.start({ numCpus: 2 });
  dir = await mkdtemp(join(tmpdir(), 'shoal-write-safety-'));
});

afterAll(async () => {
  await tc?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const rowsOf = (n: number, base = 0): { id: number; v: string }[] => Array.from({ length: n }, (_, i) => ({ id: base + i, v: `r${base + i}` }));

describe('writeParquet / writeCsv mode overwrite', () => {
  it('refuses to overwrite a folder the same plan reads, before compute, and keeps it', async () => {
    const t = join(dir, 'self');
    await fromRows(rowsOf(20)).writeParquet(t);
    const before = (await readdir(t)).sort();
    const err = await readParquet(t)
      .filter(col('id').lt(10))
      .writeParquet(t, { mode: 'overwrite' })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnsafeWriteError);
    expect((err as UnsafeWriteError).code).toBe('DATA_UNSAFE_WRITE');
    expect((err as Error).message).toContain(`the plan reads ${t}`);
    expect((await readdir(t)).sort()).toEqual(before);
    expect(await readParquet(t).count()).toBe(20);
    // Also through a join, and for CSV.
    const err2 = await fromRows(rowsOf(3)).join(readParquet(t), 'id').writeCsv(t, { mode: 'overwrite' }).catch((e: unknown) => e);
    expect(err2).toBeInstanceOf(UnsafeWriteError);
  });

  it('refuses to delete files it did not write, naming them, and writes nothing', async () => {
    const t = join(dir, 'mixed');
    await fromRows(rowsOf(5)).writeParquet(t);
    await writeFile(join(t, 'notes.txt'), 'mine');
    await mkdir(join(t, 'keep'));
    await writeFile(join(t, 'keep', 'a.parquet'), 'x');
    const err = await fromRows(rowsOf(7)).writeParquet(t, { mode: 'overwrite' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnsafeWriteError);
    expect((err as Error).message).toMatch(/would delete files this sink did not write: .*(keep\/|notes\.txt)/);
    expect([...(err as UnsafeWriteError).files].sort()).toEqual(['keep/', 'notes.txt']);
    expect(await readFile(join(t, 'notes.txt'), 'utf8')).toBe('mine');
    expect(await readParquet(join(t, '*.parquet')).count()).toBe(5);
    // No staging folder is left beside the target.
    expect((await readdir(dir)).filter((n) => n.includes('shoal-staging'))).toEqual([]);
  });

  it('resolves a/b/../../sibling as the kernel does and never empties a folder it did not write', async () => {
    // Raw strings: path.join would normalize `..` lexically. `link` points to <dir>/deep/inner: for the kernel link/../sibling is <dir>/deep/sibling, not <dir>/sibling.
    const deep = join(dir, 'deep', 'inner');
    await mkdir(deep, { recursive: true });
    await symlink(deep, join(dir, 'link'));
    const sibling = join(dir, 'sibling');
    await mkdir(sibling);
    await writeFile(join(sibling, 'precious.csv'), 'a\n1\n');
    const realTarget = join(dir, 'deep', 'sibling');
    await fromRows(rowsOf(4)).writeCsv(`${dir}/link/../sibling`, { mode: 'overwrite' });
    expect(await readFile(join(sibling, 'precious.csv'), 'utf8')).toBe('a\n1\n');
    expect((await readdir(realTarget)).filter((n) => n.endsWith('.csv'))).toHaveLength(1);
    // The lexical sibling holds a foreign file: an overwrite there is refused, naming it.
    const err = await fromRows(rowsOf(4)).writeCsv(`${dir}/a/b/../../sibling`, { mode: 'overwrite' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnsafeWriteError);
    expect((err as Error).message).toContain('precious.csv');
    expect(await readFile(join(sibling, 'precious.csv'), 'utf8')).toBe('a\n1\n');
  });

  it('replaces its own files, Hive folders included, only after the new data is complete', async () => {
    const t = join(dir, 'own');
    await fromRows(rowsOf(10).map((r) => ({ ...r, g: r.id % 2 }))).writeParquet(t, { partitionBy: ['g'] });
    await fromRows(rowsOf(3, 100)).writeParquet(t, { mode: 'overwrite' });
    expect((await readParquet(t).collect()).numRows).toBe(3);
    expect(existsSync(join(t, 'g=0'))).toBe(false);
  });

  it('a write that fails midway leaves the target as it was and no staging folder', async () => {
    const t = join(dir, 'fails');
    await fromRows(rowsOf(6)).writeParquet(t);
    const failing = fromRows(rowsOf(50), { numPartitions: 4 }).mapBatches(failAboveId, { args: [20] });
    await expect(failing.writeParquet(t, { mode: 'overwrite' })).rejects.toThrow(/boom in partition/);
    expect(await readParquet(t).count()).toBe(6);
    expect((await readdir(dir)).filter((n) => n.startsWith('.fails.'))).toEqual([]);
  });

  it('the next write sweeps what a killed write left: staging folders deleted, a set-aside target restored', async () => {
    const t = join(dir, 'swept');
    await fromRows(rowsOf(8)).writeParquet(t);
    // A pid above the kernel's pid_max limit (2^22): no process has it.
    const dead = 4194305;
    await mkdir(join(dir, `.swept.shoal-staging-${dead}-0badc0de`));
    await writeFile(join(dir, `.swept.shoal-staging-${dead}-0badc0de`, 'part-00000-0badc0de.parquet'), 'half');
    // Killed between the swap's two renames: the target is aside, no target.
    await rename(t, join(dir, `.swept.shoal-old-${dead}-0badc0df`));
    await fromRows(rowsOf(2, 50)).writeParquet(t, { mode: 'append' });
    expect(await readParquet(t).count()).toBe(10);
    expect((await readdir(dir)).filter((n) => n.startsWith('.swept.'))).toEqual([]);
  });
});
