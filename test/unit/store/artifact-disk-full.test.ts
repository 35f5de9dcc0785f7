/**
 * A full disk while writing artifacts, for real: the artifact folder is a 256 KiB tmpfs mounted by
 * the test (it runs as root here and in CI; under CI a mount that fails FAILS the test, elsewhere it
 * skips with the reason). Each write that does not fit is an ArtifactWriteError naming the artifact
 * and ENOSPC, and nothing of it is visible: no record, no blob, no temp file, no staging folder; the
 * space is given back, the store keeps working, and a folder being replaced keeps its old contents.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statfsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ArtifactNotFoundError, ArtifactWriteError, openStore, readArtifactFolder, writeArtifactFolder, type Store } from '../../../src/store/index.js';
import { skipBecause } from '../../harness/skip.js';

const SIZE = 256 * 1024;
const root = mkdtempSync(join(tmpdir(), 'shoal-disk-full-'));
const mnt = join(root, 'mnt');
let mounted = false;
let mountError = '';
let store: Store | undefined;

beforeAll(async () => {
  execFileSync('mkdir', ['-p', mnt]);
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${SIZE},mode=0700`, 'tmpfs', mnt], { stdio: 'pipe' });
    mounted = true;
  } catch (err) {
    mountError = `cannot mount a tmpfs (needs root): ${(err as Error).message.split('\n')[0]}`;
    if (process.env.CI) throw new Error(`CI runs as root and must be able to mount a tmpfs for the disk-full test: ${mountError}`);
    return;
  }
  // The database is on the ordinary disk: only the artifacts run out of space.
  store = await openStore({ url: join(root, 'store.db'), artifactDir: join(mnt, 'artifacts') });
});
afterAll(async () => {
  await store?.close();
  if (mounted) execFileSync('umount', [mnt]);
  rmSync(root, { recursive: true, force: true });
});

const free = (): number => {
  const s = statfsSync(mnt);
  return s.bavail * s.bsize;
};
const bytes = (n: number, seed: number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed) & 0xff);
const blobs = (): string[] => {
  const dir = join(mnt, 'artifacts', 'sha256');
  return readdirSync(dir).flatMap((d) => readdirSync(join(dir, d)).map((f) => `${d}${f}`));
};
const tmpFiles = (): string[] => readdirSync(join(mnt, 'artifacts', 'tmp'));

describe('disk full while writing an artifact', () => {
  it('one artifact too big: ArtifactWriteError naming it and ENOSPC; no record, no blob, no temp file; space given back', async (ctx) => {
    if (!store) return skipBecause(ctx, mountError);
    const run = await store.startRun({ experiment: 'disk-full' });
    await run.logArtifact('small.bin', bytes(16 * 1024, 1));
    const blobsBefore = blobs();
    const freeBefore = free();
    const err = await run.logArtifact('big.bin', bytes(SIZE * 2, 2)).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(ArtifactWriteError);
    const e = err as ArtifactWriteError;
    expect(e.code).toBe('ARTIFACT_WRITE_FAILED');
    expect(e.errno).toBe('ENOSPC');
    expect(e.artifact).toBe(`runs:/${run.id}/big.bin`);
    expect(e.message).toContain('the disk is full (ENOSPC)');
    expect((await store.listArtifacts(run.id)).map((a) => a.path)).toEqual(['small.bin']);
    await expect(store.readArtifact(run.id, 'big.bin')).rejects.toBeInstanceOf(ArtifactNotFoundError);
    expect(blobs()).toEqual(blobsBefore);
    expect(tmpFiles()).toEqual([]);
    expect(free()).toBe(freeBefore);
    // The store still works once the write failed.
    await run.logArtifact('after.txt', 'still writable');
    expect(new TextDecoder().decode(await store.readArtifact(run.id, 'after.txt'))).toBe('still writable');
    await run.end();
  });

  it('a model whose later files do not fit: none of its files is an artifact and loading it is ArtifactNotFoundError', async (ctx) => {
    if (!store) return skipBecause(ctx, mountError);
    const run = await store.startRun({ experiment: 'disk-full' });
    // The first tensors fit, a later one does not: the model's rows are written only after every blob is in place.
    const tensors = { a: new Float32Array(8 * 1024).fill(1), b: new Float32Array(8 * 1024).fill(2), c: new Float32Array(SIZE).fill(3) };
    await expect(run.logModel('model', { flavor: 'test', tensors })).rejects.toMatchObject({ code: 'ARTIFACT_WRITE_FAILED', errno: 'ENOSPC' });
    expect(await store.listArtifacts(run.id)).toEqual([]);
    await expect(store.loadModel(`runs:/${run.id}/model`)).rejects.toBeInstanceOf(ArtifactNotFoundError);
    expect(tmpFiles()).toEqual([]);
    await run.end('FAILED', 'disk full');
  });

  it('an artifact folder that does not fit: ArtifactWriteError, no staging folder; a folder being replaced keeps its old files', async (ctx) => {
    if (!store) return skipBecause(ctx, mountError);
    const target = join(mnt, 'saved-model');
    const contents = (files: Record<string, Uint8Array>) => ({ files, manifestName: 'manifest.json', manifest: (f: unknown) => ({ files: f }) });
    await writeArtifactFolder(target, contents({ 'w.bin': bytes(4 * 1024, 3) }));
    const err = await writeArtifactFolder(target, contents({ 'w.bin': bytes(SIZE * 2, 4) }), { overwrite: true }).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(ArtifactWriteError);
    expect((err as ArtifactWriteError).errno).toBe('ENOSPC');
    expect((err as ArtifactWriteError).artifact).toBe(target);
    expect(readdirSync(mnt).filter((n) => n.includes('staging') || n.includes('.old-'))).toEqual([]);
    const kept = await readArtifactFolder(target, { manifestName: 'manifest.json', what: 'a test folder' });
    expect(new Uint8Array(await kept.read('w.bin'))).toEqual(bytes(4 * 1024, 3));

    const fresh = join(mnt, 'never-written');
    await expect(writeArtifactFolder(fresh, contents({ 'w.bin': bytes(SIZE * 2, 5) }))).rejects.toBeInstanceOf(ArtifactWriteError);
    expect(readdirSync(mnt)).not.toContain('never-written');
    expect(readdirSync(mnt).filter((n) => n.includes('staging'))).toEqual([]);
  });
});
