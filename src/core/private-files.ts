/**
 * Files and folders only their owner can read: what shoal writes under its home and session
 * folders holds the cluster token, code and data, and another local user must not read any of it.
 * Modes are set explicitly (fchmod / chmod after creation), so they do not depend on the umask of
 * whoever started the process: `mode` in open/mkdir is only ever narrowed by the umask, and a
 * umask of 000 would leave a plain `writeFileSync` at 0666.
 */
import { chmodSync, closeSync, fchmodSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { dirname, relative, resolve, sep } from 'node:path';

/** Mode of every file shoal writes under its folders. */
export const PRIVATE_FILE_MODE = 0o600;
/** Mode of every folder shoal makes under its folders. */
export const PRIVATE_DIR_MODE = 0o700;

/**
 * Makes `dir` and any missing parents, each 0700. A folder that existed already is left as it is
 * (it may be a user's own, such as the temp dir) unless `own` says the folder itself is shoal's.
 */
export function makePrivateDir(dir: string, own = false): string {
  const path = resolve(dir);
  const first = mkdirSync(path, { recursive: true, mode: PRIVATE_DIR_MODE });
  if (first) {
    // Every folder from the first one made down to `path` is new: set each mode, whatever the umask.
    const parts = relative(first, path).split(sep).filter(Boolean);
    let p = first;
    chmodSync(p, PRIVATE_DIR_MODE);
    for (const part of parts) {
      p = `${p}${sep}${part}`;
      chmodSync(p, PRIVATE_DIR_MODE);
    }
  } else if (own) {
    chmodSync(path, PRIVATE_DIR_MODE);
  }
  return path;
}

/** Opens (creating if needed) a file that is 0600 whatever the umask; returns its descriptor. */
export function openPrivateFile(path: string, flags: 'a' | 'w' | 'wx' | 'r+' = 'a'): number {
  const fd = openSync(path, flags, PRIVATE_FILE_MODE);
  try {
    fchmodSync(fd, PRIVATE_FILE_MODE);
  } catch (err) {
    closeSync(fd);
    throw err;
  }
  return fd;
}

/** Writes `data` to `path` as a 0600 file (replacing its content), its folder made 0700 if missing. */
export function writePrivateFile(path: string, data: string | Uint8Array, options: { makeDir?: boolean } = {}): void {
  if (options.makeDir) makePrivateDir(dirname(path));
  const fd = openPrivateFile(path, 'w');
  try {
    const bytes = typeof data === 'string' ? Buffer.from(data) : data;
    let offset = 0;
    while (offset < bytes.byteLength) offset += writeSync(fd, bytes, offset, bytes.byteLength - offset);
  } finally {
    closeSync(fd);
  }
}

/** Creates `path` as an empty 0600 file when it does not exist; sets 0600 on it when it does. */
export function touchPrivateFile(path: string): void {
  closeSync(openPrivateFile(path, 'a'));
}
