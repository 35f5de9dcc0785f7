/**
 * The shared-memory hand-over of a large object between two processes of one host: the server
 * writes the object to a file in /dev/shm and the requester reads it (an order of magnitude
 * faster than streaming it over gRPC). A whole object sits in that file, so it must never be
 * readable by another user nor outlive the hand-over:
 * - it is created 0600 (whatever the umask) and named after both processes,
 *   `shoal-<writer pid>-<reader pid>-<random>`;
 * - the reader unlinks it as soon as it has it open (its descriptor keeps the pages until read);
 * - the writer unlinks it after HAND_OVER_TTL_MS if the reader never came;
 * - `sweepHandOverFiles()` removes the files of dead readers (and of dead writers no live reader
 *   waits for): a worker runs it when it starts, and `shoal stop` runs it.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, lstatSync, openSync, readdirSync, readSync, rmSync, unlink, writeSync } from 'node:fs';
import { join } from 'node:path';
import { openPrivateFile } from '../private-files.js';
import { pidAlive as alive } from '../process/pid-alive.js';

export const SHM_DIR = '/dev/shm';
/** A hand-over file the reader has not taken after this long is removed by its writer. */
export const HAND_OVER_TTL_MS = 120_000;
const NAME = /^shoal-(\d+)-(?:(\d+)-)?[0-9a-f]+$/;

const pending = new Map<string, NodeJS.Timeout>();

/** Writes `bytes` to a new 0600 hand-over file for process `readerPid` (0: unknown); returns its path. */
export function writeHandOver(bytes: Uint8Array, readerPid: number): string {
  const path = join(SHM_DIR, `shoal-${process.pid}-${readerPid > 0 ? readerPid : 0}-${randomBytes(6).toString('hex')}`);
  const fd = openPrivateFile(path, 'wx');
  try {
    let offset = 0;
    while (offset < bytes.byteLength) offset += writeSync(fd, bytes, offset, bytes.byteLength - offset);
  } catch (err) {
    closeSync(fd);
    rmSync(path, { force: true });
    throw err;
  }
  closeSync(fd);
  const timer = setTimeout(() => {
    pending.delete(path);
    rmSync(path, { force: true });
  }, HAND_OVER_TTL_MS);
  timer.unref();
  pending.set(path, timer);
  return path;
}

/** Reads a hand-over file into shared memory; the file is unlinked as soon as it is open. */
export function readHandOver(path: string, size: number): Uint8Array {
  if (!NAME.test(path.slice(SHM_DIR.length + 1)) || !path.startsWith(`${SHM_DIR}/`)) {
    throw new Error(`'${path}' is not a shoal hand-over file`);
  }
  const out = new Uint8Array(new SharedArrayBuffer(size));
  const fd = openSync(path, 'r');
  // Open is enough: the pages stay until this descriptor closes, and a reader killed from here on leaves nothing.
  unlink(path, () => undefined);
  try {
    let offset = 0;
    while (offset < size) {
      const n = readSync(fd, out, offset, size - offset, offset);
      if (n <= 0) throw new Error(`short read of ${path} (${offset} of ${size} bytes)`);
      offset += n;
    }
  } finally {
    closeSync(fd);
  }
  return out;
}


/**
 * Removes this user's hand-over files that nobody will read: the reader is dead, or (older files
 * without a reader pid, or a reader pid of 0) the writer is. Returns the paths removed.
 */
export function sweepHandOverFiles(dir = SHM_DIR): string[] {
  const removed: string[] = [];
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return removed;
  }
  const uid = process.getuid?.();
  for (const name of names) {
    const m = NAME.exec(name);
    if (!m) continue;
    const path = join(dir, name);
    try {
      if (uid !== undefined && lstatSync(path).uid !== uid) continue;
      const writer = Number(m[1]);
      const reader = Number(m[2] ?? 0);
      const orphan = reader > 0 ? !alive(reader) : !alive(writer);
      if (!orphan) continue;
      rmSync(path, { force: true });
      const timer = pending.get(path);
      if (timer) clearTimeout(timer);
      pending.delete(path);
      removed.push(path);
    } catch {
      /* gone meanwhile */
    }
  }
  return removed;
}
