/**
 * A Parquet table that readers always find complete: each replacement writes a new version folder
 * (`<table>.v<ms>-<pid>/`, complete once `writeParquet` returns — shoal's sink stages and renames),
 * then moves one pointer: the symlink `<table>` → that folder, created under a temporary name and
 * renamed over the old link (rename(2) is atomic, so a reader opens the old version or the new one,
 * never a missing or partial one). The previous version is kept one more run, for readers that
 * listed its files just before the swap; older ones are deleted.
 *
 * A killed run leaves at most: a temporary link, a version nobody points to, the sink's hidden
 * staging folder, or (when it was killed while moving a pre-versioning folder aside, the one window
 * of the layout change) no pointer at all. `recoverTable` — run before every replacement — removes
 * the first three and re-points a missing pointer at the newest complete version.
 */
import { existsSync, lstatSync, readdirSync, readlinkSync } from 'node:fs';
import { rename, rm, symlink } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { Dataset } from 'shoal/data';

/** Test hook: `SHOAL_RENTAL_KILL_AT=swap|migrate` kills this process at that point of a replacement. */
function killPoint(point: 'swap' | 'migrate'): void {
  if (process.env.SHOAL_RENTAL_KILL_AT === point) process.kill(process.pid, 'SIGKILL');
}

const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

const alive = (pid: number): boolean => {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
};

interface Version {
  readonly name: string;
  readonly ms: number;
  readonly pid: number;
}

function versionsOf(dir: string, table: string): Version[] {
  const re = new RegExp(`^${escape(table)}\\.v(\\d+)-(\\d+)$`);
  const out: Version[] = [];
  for (const name of existsSync(dir) ? readdirSync(dir) : []) {
    const m = re.exec(name);
    if (m) out.push({ name, ms: Number(m[1]), pid: Number(m[2]) });
  }
  return out.sort((a, b) => a.ms - b.ms || a.pid - b.pid);
}

/** The version folder name `<dir>/<table>` points to, `null` for a plain (pre-versioning) folder, `undefined` when missing. */
function currentOf(dir: string, table: string): string | null | undefined {
  const link = join(dir, table);
  let st;
  try {
    st = lstatSync(link);
  } catch {
    return undefined;
  }
  return st.isSymbolicLink() ? basename(readlinkSync(link)) : null;
}

/**
 * Cleans up what killed replacements of `table` left in `dir`; returns one line per action (for the
 * job's notes). Safe to run while another process replaces a different table.
 */
export async function recoverTable(dir: string, table: string): Promise<string[]> {
  if (!existsSync(dir)) return [];
  const done: string[] = [];
  const names = readdirSync(dir);
  // Temporary pointers, legacy staging folders and the sink's hidden staging folders of dead runs.
  const tmpLink = new RegExp(`^${escape(table)}\\.link-(\\d+)$`);
  const legacy = new RegExp(`^${escape(table)}\\.(staging|old)-(\\d+)-[0-9a-z]+$`);
  const hidden = new RegExp(`^\\.${escape(table)}\\.v\\d+-\\d+\\.shoal-(staging|old)-(\\d+)-[0-9a-f]{8}$`);
  for (const name of names) {
    const m = tmpLink.exec(name) ?? hidden.exec(name);
    const pid = m ? Number(m[m.length - 1]) : NaN;
    if (m && !alive(pid)) {
      await rm(join(dir, name), { recursive: true, force: true });
      done.push(`removed ${name} (left by killed run ${pid})`);
    }
  }
  // The pre-versioning swap (two renames) could leave the table only as `<table>.old-*`.
  for (const name of names.filter((n) => legacy.test(n))) {
    const [, kind, pid] = legacy.exec(name)!;
    if (alive(Number(pid))) continue;
    if (kind === 'old' && currentOf(dir, table) === undefined) {
      await rename(join(dir, name), join(dir, table));
      done.push(`restored ${table} from ${name}`);
    } else {
      await rm(join(dir, name), { recursive: true, force: true });
      done.push(`removed ${name} (left by killed run ${pid})`);
    }
  }
  const versions = versionsOf(dir, table);
  let current = currentOf(dir, table);
  if (current === undefined && versions.length > 0) {
    // Killed while a plain folder was being moved into a version: point at the newest complete one.
    const newest = versions.filter((v) => !alive(v.pid) || v.pid === process.pid).at(-1) ?? versions.at(-1)!;
    await pointAt(dir, table, newest.name);
    current = newest.name;
    done.push(`re-pointed ${table} at ${newest.name}`);
  }
  // Versions newer than the pointer were written by runs killed before their swap: not published.
  const at = versions.findIndex((v) => v.name === current);
  for (const v of versions.slice(at + 1)) {
    if (alive(v.pid)) continue;
    await rm(join(dir, v.name), { recursive: true, force: true });
    done.push(`removed unpublished ${v.name} (left by killed run ${v.pid})`);
  }
  return done;
}

/** Moves the pointer `<dir>/<table>` to `version` atomically (a temporary link renamed over it). */
async function pointAt(dir: string, table: string, version: string): Promise<void> {
  const tmp = join(dir, `${table}.link-${process.pid}`);
  await rm(tmp, { force: true });
  await symlink(version, tmp, 'dir');
  killPoint('swap');
  await rename(tmp, join(dir, table));
}

/** Replaces `table` under `dir` by the rows of `ds`: readers see the old version or the new one. */
export async function replaceParquetTable(dir: string, table: string, ds: Dataset): Promise<{ rowsWritten: number; notes: string[] }> {
  const notes = await recoverTable(dir, table);
  const ms = Date.now();
  const version = `${table}.v${ms}-${process.pid}`;
  const written = await ds.writeParquet(join(dir, version));
  const before = currentOf(dir, table);
  if (before === null) {
    // A plain folder from before versioning: moved into a version (the one moment without a pointer;
    // recoverTable re-points it if the run dies here), then replaced by the pointer.
    const legacyVersion = `${table}.v${ms - 1}-${process.pid}`;
    await rename(join(dir, table), join(dir, legacyVersion));
    killPoint('migrate');
  }
  await pointAt(dir, table, version);
  // Keep the version just replaced one more run (a reader may be listing it); delete older ones.
  const keep = new Set([version, before ?? '']);
  for (const v of versionsOf(dir, table)) {
    if (keep.has(v.name) || (alive(v.pid) && v.pid !== process.pid)) continue;
    await rm(join(dir, v.name), { recursive: true, force: true });
  }
  return { rowsWritten: written.rowsWritten, notes };
}
