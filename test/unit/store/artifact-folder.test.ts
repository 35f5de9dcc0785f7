import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ArtifactCorruptError, ArtifactExistsError, readArtifactFolder, sha256Hex, writeArtifactFolder } from '../../../src/store/index.js';

const contents = (a: string, b = 'bbbb') => ({
  files: { 'a.bin': new TextEncoder().encode(a), 'b.txt': new TextEncoder().encode(b) },
  manifestName: 'manifest.json',
  manifest: (files: Record<string, unknown>) => ({ format: 'test', files }),
});
const text = async (dir: string, name: string): Promise<string> => new TextDecoder().decode(await (await readArtifactFolder(dir, { manifestName: 'manifest.json', what: 'a test artifact' })).read(name));

describe('checksummed artifact folders', () => {
  let parent: string;
  beforeEach(async () => {
    parent = await mkdtemp(join(tmpdir(), 'shoal-artifact-'));
  });
  afterEach(async () => {
    await rm(parent, { recursive: true, force: true });
  });

  it('writes every file with its sha256 in the manifest, and reads them back verified', async () => {
    const dir = join(parent, 'nested', 'model');
    await writeArtifactFolder(dir, contents('hello'));
    const manifest = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8')) as { files: Record<string, { bytes: number; sha256: string }> };
    expect(manifest.files['a.bin']).toEqual({ bytes: 5, sha256: sha256Hex(new TextEncoder().encode('hello')) });
    expect(await text(dir, 'a.bin')).toBe('hello');
    expect((await readdir(join(parent, 'nested'))).sort()).toEqual(['model']);
  });

  it('an existing empty folder is written into; a non-empty one is refused unless overwrite', async () => {
    const dir = join(parent, 'm');
    await mkdir(dir);
    await writeArtifactFolder(dir, contents('one'));
    await expect(writeArtifactFolder(dir, contents('two'))).rejects.toThrow(ArtifactExistsError);
    await expect(writeArtifactFolder(dir, contents('two'))).rejects.toThrow(`${dir} already exists and is not empty; pass { overwrite: true } to replace it`);
    expect(await text(dir, 'a.bin')).toBe('one');
    await writeArtifactFolder(dir, { ...contents('two'), files: { 'a.bin': new TextEncoder().encode('two') } }, { overwrite: true });
    expect(await text(dir, 'a.bin')).toBe('two');
    // The replaced folder holds only the new files: b.txt of the old one is gone.
    expect((await readdir(dir)).sort()).toEqual(['a.bin', 'manifest.json']);
    expect(await readdir(parent)).toEqual(['m']);
    // A plain file at the path is refused too.
    await writeFile(join(parent, 'f'), 'x');
    await expect(writeArtifactFolder(join(parent, 'f'), contents('x'))).rejects.toThrow(ArtifactExistsError);
  });

  it('a failed write leaves no staging folder and no target', async () => {
    const dir = join(parent, 'bad');
    await expect(writeArtifactFolder(dir, { ...contents('x'), files: { '../escape': new Uint8Array(1) } })).rejects.toThrow(/invalid artifact file name/);
    expect(await readdir(parent)).toEqual([]);
  });

  it('names the file at fault: altered, truncated, missing, unlisted; manifest missing or not JSON', async () => {
    const dir = join(parent, 'm');
    await writeArtifactFolder(dir, contents('hello'));
    const open = () => readArtifactFolder(dir, { manifestName: 'manifest.json', what: 'a test artifact' });

    await writeFile(join(dir, 'a.bin'), 'hellO');
    const altered = await (await open()).read('a.bin').catch((e: unknown) => e);
    expect(altered).toBeInstanceOf(ArtifactCorruptError);
    expect((altered as ArtifactCorruptError).path).toBe(join(dir, 'a.bin'));
    expect((altered as Error).message).toBe(`${join(dir, 'a.bin')}: checksum mismatch (the file is corrupt)`);

    await writeFile(join(dir, 'a.bin'), 'hel');
    await expect((await open()).read('a.bin')).rejects.toThrow(`${join(dir, 'a.bin')}: checksum mismatch: has 3 bytes, expected 5 (the file is truncated or corrupt)`);
    await writeFile(join(dir, 'a.bin'), 'hello');
    await expect((await open()).read('a.bin', { expectedBytes: 8 })).rejects.toThrow('has 5 bytes, expected 8');
    await expect((await open()).read('c.bin')).rejects.toThrow(`${join(dir, 'manifest.json')}: lists no file c.bin`);
    await rm(join(dir, 'b.txt'));
    await expect((await open()).read('b.txt')).rejects.toThrow(`${join(dir, 'b.txt')}: missing file`);

    await writeFile(join(dir, 'manifest.json'), '{ nope');
    await expect(open()).rejects.toThrow('manifest.json is not valid JSON (the file is corrupt)');
    await expect(readArtifactFolder(join(parent, 'none'), { manifestName: 'manifest.json', what: 'a test artifact' })).rejects.toThrow('cannot read manifest.json (is this a test artifact folder?)');
  });

  it('the caller chooses the error type', async () => {
    class MyError extends Error {}
    const err = await readArtifactFolder(join(parent, 'none'), { manifestName: 'manifest.json', what: 'x', corrupt: (path, detail) => new MyError(`${path} ${detail}`) }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MyError);
  });
});
