/**
 * Checksummed artifact folders: a saved model, pipeline or checkpoint is a folder of files beside a
 * JSON manifest that lists each file's byte length and sha256. Written into a staging folder next
 * to the target and renamed into place, so a reader never sees half a folder and a crash leaves the
 * previous folder (or none) rather than a mix; read back with every length and digest checked, so a
 * truncated or altered file is reported by name, never half-read. An existing folder is replaced
 * only when the caller says `overwrite: true`. The manifest's other fields are the caller's format.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { ShoalError } from '../core/index.js';
import { ArtifactCorruptError, ArtifactExistsError, ArtifactWriteError } from './errors.js';

/** What the manifest records of one file. */
export interface ArtifactFileEntry {
  bytes: number;
  sha256: string;
}

/** Options of {@link writeArtifactFolder}. */
export interface SaveOptions {
  /** Replace a folder that already exists and is not empty. @default false */
  overwrite?: boolean | undefined;
}

/** What {@link writeArtifactFolder} writes: the files, and the manifest built from their entries. */
export interface ArtifactFolderContents {
  /** File name (no folders) → bytes. */
  files: Readonly<Record<string, Uint8Array>>;
  /** Name of the manifest file, e.g. `metadata.json`. */
  manifestName: string;
  /** Builds the manifest object from the files' entries (by default put them under `files`). */
  manifest: (files: Record<string, ArtifactFileEntry>) => unknown;
}

/** Makes the error thrown for an unreadable folder: `path` is the file at fault. */
export type CorruptErrorFactory = (path: string, detail: string, cause?: unknown) => Error;

/** The sha256 of `bytes`, as lowercase hex. */
export const sha256Hex = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

/** The bytes of a typed array (no copy). */
export const bytesOf = (a: ArrayBufferView): Uint8Array => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

async function isEmptyOrAbsent(dir: string): Promise<'absent' | 'empty' | 'full'> {
  try {
    const st = await stat(dir);
    if (!st.isDirectory()) return 'full';
    return (await readdir(dir)).length === 0 ? 'empty' : 'full';
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 'absent';
    throw err;
  }
}

/**
 * Writes an artifact folder at `dir`: files and manifest into `<dir>.staging-*` beside it, then a
 * rename into place. Throws {@link ArtifactExistsError} (writing nothing) when `dir` exists and is not
 * empty, unless `overwrite`; then the old folder is moved aside, the new one renamed in, the old removed.
 */
export async function writeArtifactFolder(dir: string, contents: ArtifactFolderContents, options: SaveOptions = {}): Promise<void> {
  const target = resolve(dir);
  if (!options.overwrite && (await isEmptyOrAbsent(target)) === 'full') throw new ArtifactExistsError(dir);
  const tag = `${process.pid}-${randomBytes(4).toString('hex')}`;
  const staging = join(dirname(target), `.${basename(target)}.staging-${tag}`);
  try {
    await mkdir(staging, { recursive: true });
    const entries: Record<string, ArtifactFileEntry> = {};
    for (const [name, bytes] of Object.entries(contents.files)) {
      if (name !== basename(name) || name === contents.manifestName) throw new Error(`invalid artifact file name ${JSON.stringify(name)}`);
      await writeFile(join(staging, name), bytes);
      entries[name] = { bytes: bytes.byteLength, sha256: sha256Hex(bytes) };
    }
    await writeFile(join(staging, contents.manifestName), `${JSON.stringify(contents.manifest(entries), null, 2)}\n`);
    await moveIntoPlace(staging, target, dir, options.overwrite === true, tag);
  } catch (err) {
    await rm(staging, { recursive: true, force: true });
    if (err instanceof ShoalError || typeof (err as NodeJS.ErrnoException).code !== 'string') throw err;
    throw new ArtifactWriteError(dir, dirname(target), err);
  }
}

async function moveIntoPlace(staging: string, target: string, dir: string, overwrite: boolean, tag: string): Promise<void> {
  const state = await isEmptyOrAbsent(target);
  if (state === 'full' && !overwrite) throw new ArtifactExistsError(dir);
  if (state === 'absent') {
    try {
      await rename(staging, target);
      return;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      // Someone created the folder between the check and the rename.
      if ((code === 'ENOTEMPTY' || code === 'EEXIST') && !overwrite) throw new ArtifactExistsError(dir);
      if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw err;
    }
  }
  // Replace: move the old folder aside, the new one in, then remove the old one.
  const old = join(dirname(target), `.${basename(target)}.old-${tag}`);
  await rename(target, old);
  try {
    await rename(staging, target);
  } catch (err) {
    await rename(old, target).catch(() => undefined);
    throw err;
  }
  await rm(old, { recursive: true, force: true });
}

/** An artifact folder opened for reading: its parsed manifest, and verified reads of its files. */
export interface ArtifactFolder {
  readonly dir: string;
  /** Path of the manifest file (for error messages). */
  readonly manifestPath: string;
  /** The manifest as parsed JSON; its format is the caller's to check. */
  readonly manifest: unknown;
  /**
   * Reads file `name`, checking its length and sha256 against `entry` (by default the manifest's
   * `files[name]`) and, when given, against `expectedBytes` (what the format says it must hold).
   * Returns a fresh buffer of its own (aligned, safe to view as any typed array).
   */
  read(name: string, check?: { entry?: ArtifactFileEntry | undefined; expectedBytes?: number | undefined }): Promise<ArrayBuffer>;
  /** Whether the manifest's `files` lists `name`. */
  lists(name: string): boolean;
}

/** Options of {@link readArtifactFolder}. */
export interface ReadArtifactOptions {
  /** Name of the manifest file, e.g. `metadata.json`. */
  manifestName: string;
  /** What the folder should be, for the message when the manifest is missing (`a saved ALS model`). */
  what: string;
  /** Makes the error for an unreadable folder. @default an {@link ArtifactCorruptError} */
  corrupt?: CorruptErrorFactory | undefined;
}

/** Opens the artifact folder `dir`: reads and parses its manifest (files are read and verified on `read`). */
export async function readArtifactFolder(dir: string, options: ReadArtifactOptions): Promise<ArtifactFolder> {
  const corrupt = options.corrupt ?? ((path: string, detail: string, cause?: unknown) => new ArtifactCorruptError(path, detail, { cause }));
  const manifestPath = join(dir, options.manifestName);
  let text: string;
  try {
    text = await readFile(manifestPath, 'utf8');
  } catch (err) {
    throw corrupt(manifestPath, `cannot read ${options.manifestName} (is this ${options.what} folder?)`, err);
  }
  let manifest: unknown;
  try {
    manifest = JSON.parse(text);
  } catch (err) {
    throw corrupt(manifestPath, `${options.manifestName} is not valid JSON (the file is corrupt)`, err);
  }
  const listed = (name: string): ArtifactFileEntry | undefined => {
    const files = (manifest as { files?: unknown } | null)?.files;
    if (files === null || typeof files !== 'object') return undefined;
    const e = (files as Record<string, unknown>)[name] as Partial<ArtifactFileEntry> | undefined;
    return e !== undefined && typeof e.bytes === 'number' && typeof e.sha256 === 'string' ? { bytes: e.bytes, sha256: e.sha256 } : undefined;
  };
  return {
    dir,
    manifestPath,
    manifest,
    lists: (name) => listed(name) !== undefined,
    async read(name, check = {}) {
      const entry = check.entry ?? listed(name);
      if (entry === undefined) throw corrupt(manifestPath, `lists no file ${name}`);
      if (name !== basename(name)) throw corrupt(manifestPath, `lists a file outside the folder: ${JSON.stringify(name)}`);
      const path = join(dir, name);
      let buf: Buffer;
      try {
        buf = await readFile(path);
      } catch (err) {
        throw corrupt(path, 'missing file', err);
      }
      if (buf.byteLength !== entry.bytes || sha256Hex(buf) !== entry.sha256) {
        const size = buf.byteLength !== entry.bytes ? `: has ${buf.byteLength} bytes, expected ${entry.bytes} (the file is truncated or corrupt)` : ' (the file is corrupt)';
        throw corrupt(path, `checksum mismatch${size}`);
      }
      if (check.expectedBytes !== undefined && buf.byteLength !== check.expectedBytes) {
        throw corrupt(path, `has ${buf.byteLength} bytes, expected ${check.expectedBytes} (the manifest does not match the format)`);
      }
      return buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) as ArrayBuffer;
    },
  };
}
