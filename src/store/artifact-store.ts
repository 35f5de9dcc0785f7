/**
 * Content-addressed blobs: every artifact file is stored once, at `<root>/sha256/<ab>/<rest of the
 * digest>`, whatever its name — the name lives in the database only, so no client-supplied name
 * ever becomes a server path. A blob is written to a temporary file in `<root>/tmp`, flushed to disk
 * and renamed into place: a crash or a full disk leaves no partial blob under its digest, and the
 * database row naming it is written only after the rename. Reads open the blob without following a
 * symlink and check length and sha256, so a changed byte is an {@link ArtifactCorruptError} naming
 * the artifact. Folders are 0700, files 0600.
 */
import { createHash, randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { open, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { makePrivateDir, PRIVATE_FILE_MODE, ShoalError } from '../core/index.js';
import { ArtifactCorruptError, ArtifactWriteError } from './errors.js';

const DIGEST = /^[0-9a-f]{64}$/;

export class ArtifactStore {
  constructor(readonly root: string) {}

  private blobPath(sha256: string): string {
    if (!DIGEST.test(sha256)) throw new ArtifactCorruptError(sha256, 'is not a sha256 digest');
    return join(this.root, 'sha256', sha256.slice(0, 2), sha256.slice(2));
  }

  /**
   * Stores `bytes` (if not stored already); resolves with its sha256. A failed write (a full disk,
   * ...) is an {@link ArtifactWriteError} naming `name` and leaves no file behind.
   */
  async put(bytes: Uint8Array, name = 'an artifact'): Promise<string> {
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    const target = this.blobPath(sha256);
    const existing = await stat(target).catch(() => undefined);
    if (existing?.isFile() && existing.size === bytes.byteLength) return sha256;
    let tmp: string | undefined;
    try {
      const tmpDir = makePrivateDir(join(this.root, 'tmp'), true);
      makePrivateDir(join(this.root, 'sha256', sha256.slice(0, 2)));
      tmp = join(tmpDir, `${sha256.slice(0, 16)}-${process.pid}-${randomBytes(6).toString('hex')}`);
      const fh = await open(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, PRIVATE_FILE_MODE);
      try {
        await fh.chmod(PRIVATE_FILE_MODE);
        let offset = 0;
        while (offset < bytes.byteLength) offset += (await fh.write(bytes, offset, bytes.byteLength - offset)).bytesWritten;
        await fh.sync();
      } finally {
        await fh.close();
      }
      await rename(tmp, target);
    } catch (err) {
      if (tmp !== undefined) await rm(tmp, { force: true });
      if (err instanceof ShoalError || typeof (err as NodeJS.ErrnoException).code !== 'string') throw err;
      throw new ArtifactWriteError(name, this.root, err);
    }
    return sha256;
  }

  /**
   * The bytes stored under `sha256`, checked: `name` (e.g. `runs:/<id>/model/meta.json`) is what the
   * {@link ArtifactCorruptError} names when the blob is missing, not a regular file, or altered.
   */
  async get(sha256: string, bytes: number, name: string): Promise<Uint8Array> {
    const path = this.blobPath(sha256);
    let buf: Buffer;
    try {
      const fh = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW);
      try {
        if (!(await fh.stat()).isFile()) throw new ArtifactCorruptError(name, `its blob ${path} is not a regular file`);
        buf = await fh.readFile();
      } finally {
        await fh.close();
      }
    } catch (err) {
      if (err instanceof ArtifactCorruptError) throw err;
      const code = (err as NodeJS.ErrnoException).code;
      const why = code === 'ENOENT' ? 'its blob is missing' : code === 'ELOOP' ? 'its blob is a symlink (refused)' : `cannot read its blob: ${(err as Error).message}`;
      throw new ArtifactCorruptError(name, `${why} (${path})`, { cause: err });
    }
    if (buf.byteLength !== bytes) throw new ArtifactCorruptError(name, `has ${buf.byteLength} bytes, expected ${bytes} (the blob is truncated or corrupt)`);
    if (createHash('sha256').update(buf).digest('hex') !== sha256) throw new ArtifactCorruptError(name, `sha256 mismatch (the blob ${path} was altered)`);
    return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  /** Where the blob of `sha256` lives (for tests and tools; never derived from a name). */
  pathOf(sha256: string): string {
    return this.blobPath(sha256);
  }
}
