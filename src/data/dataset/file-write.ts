/**
 * The file sink's safety: where a `writeParquet`/`writeCsv` really lands, whether it may, and how its
 * files appear there. Nothing at the target is touched before the data is computed: tasks write into a
 * hidden staging folder beside the target (same file system, so the swap is a rename), and only a
 * complete result is swapped in. Before any compute, an `overwrite` is refused when the plan reads the
 * target (the read would see the target vanish, as Spark also refuses) or when the target holds files
 * this sink did not write (they would be deleted). The target path is resolved as the kernel resolves
 * it (`a/link/../x` follows the link), so the check looks at the folder that would really be replaced.
 * A run killed mid-write leaves its staging folder (or, between the two renames of the swap, the old
 * folder aside): the next write to the same target removes or restores them.
 */
import { existsSync, readdirSync, realpathSync, statSync } from 'node:fs';
import { mkdir, readdir, rename, rm } from 'node:fs/promises';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import { invalidOption, UnsafeWriteError } from '../errors.js';
import { children, type PlanNode } from './plan/logical-plan.js';
import { pidAlive as processAlive } from '../../core/index.js';

export type FileWriteMode = 'error' | 'overwrite' | 'append';

/** The names the sink gives its files (`part-00003-1a2b3c4d.parquet`); a Spark-style `_SUCCESS` marker counts as the dataset's own. */
const OWN_FILE = /^part-\d{5,}-[0-9a-f]{8}\.(parquet|csv)$/;
const SUCCESS = '_SUCCESS';
/** Hive partition folders the sink makes (`col=value`). */
const HIVE_DIR = /^[^=/]+=[^/]*$/;
/** Files named in an UnsafeWriteError (the count is always given). */
const MAX_NAMED = 5;

/** Resolves `p` as the kernel would: `..` after a symlink goes up from the link's target, not lexically. */
export function resolveRealPath(p: string): string {
  try {
    return realpathSync.native(p); // the JS realpathSync normalizes `..` lexically first
  } catch {
    const base = basename(p);
    const parent = dirname(p);
    if (parent === p || base === '..' || base === '.') return resolve(p);
    return join(resolveRealPath(parent), base);
  }
}

/** The resolved paths of every file source in `plan`. */
export function planReadPaths(plan: PlanNode): string[] {
  const out: string[] = [];
  const visit = (n: PlanNode): void => {
    if (n.kind === 'source' && (n.source.type === 'csv' || n.source.type === 'json' || n.source.type === 'parquet')) {
      const paths = n.source.paths;
      for (const p of typeof paths === 'string' ? [paths] : paths) {
        // A glob reads files of its folder.
        out.push(resolveRealPath(/[*?]/.test(basename(p)) ? dirname(p) : p));
      }
    }
    for (const c of children(n)) visit(c);
  };
  visit(plan);
  return out;
}

const inside = (child: string, parent: string): boolean => child === parent || child.startsWith(parent.endsWith(sep) ? parent : parent + sep);

/** Files under `dir` the sink did not write (relative paths), at most `limit` + 1 of them. */
function foreignFiles(dir: string, limit: number): string[] {
  const out: string[] = [];
  const walk = (d: string, hive: boolean): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (out.length > limit) return;
      const p = join(d, e.name);
      if (e.isDirectory() && HIVE_DIR.test(e.name)) walk(p, true);
      else if (e.isFile() && (OWN_FILE.test(e.name) || (!hive && e.name === SUCCESS))) continue;
      else out.push(relative(dir, p) + (e.isDirectory() ? '/' : ''));
    }
  };
  walk(dir, false);
  return out;
}


/**
 * Removes what killed writes to `target` left beside it: staging folders of dead processes are
 * deleted; an old copy set aside by a swap that never finished is put back when the target is
 * missing (deleted otherwise). Returns what it did, one line each.
 */
export async function sweepFileWrites(target: string): Promise<string[]> {
  const parent = dirname(target);
  const name = basename(target);
  const re = new RegExp(`^\\.${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\.shoal-(staging|old)-(\\d+)-[0-9a-f]{8}$`);
  let entries: string[];
  try {
    entries = await readdir(parent);
  } catch {
    return [];
  }
  const done: string[] = [];
  // Old copies first: a missing target is restored before anything else happens.
  for (const e of entries.sort((a, b) => (a.includes('-old-') === b.includes('-old-') ? 0 : a.includes('-old-') ? -1 : 1))) {
    const m = re.exec(e);
    if (m === null || processAlive(Number(m[2]))) continue;
    const p = join(parent, e);
    if (m[1] === 'old' && !existsSync(target)) {
      await rename(p, target);
      done.push(`restored ${target} from ${e}`);
    } else {
      await rm(p, { recursive: true, force: true });
      done.push(`removed ${e}`);
    }
  }
  return done;
}

/** A file write in progress: tasks write into `staging`; `commit` swaps it in, `abort` removes it. */
export interface FileWrite {
  readonly target: string;
  readonly staging: string;
  commit(): Promise<void>;
  abort(): Promise<void>;
}

/**
 * Checks a file write before anything is computed and sets up its staging folder. Throws
 * UnsafeWriteError for an overwrite of a path `plan` reads or of a folder holding files the sink did
 * not write, InvalidOptionError for mode 'error' on a non-empty folder.
 */
export async function prepareFileWrite(dir: string, mode: FileWriteMode, plan: PlanNode, jobId: string): Promise<FileWrite> {
  const target = resolveRealPath(dir);
  if (target === dirname(target)) throw new UnsafeWriteError(target, 'the target is a file system root');
  if (existsSync(target) && !statSync(target).isDirectory()) throw new UnsafeWriteError(target, 'the target exists and is not a folder');
  await sweepFileWrites(target);
  const exists = existsSync(target);
  const nonEmpty = exists && readdirSync(target).length > 0;
  if (nonEmpty && mode === 'error') throw invalidOption('options.mode', `is 'error' and ${target} is not empty (pass mode: 'overwrite' or 'append')`);
  if (mode === 'overwrite') {
    for (const read of planReadPaths(plan)) {
      if (inside(read, target) || inside(target, read)) {
        throw new UnsafeWriteError(target, `the plan reads ${read}, which the overwrite would replace; write to another path, then move it`);
      }
    }
    if (nonEmpty) {
      const foreign = foreignFiles(target, MAX_NAMED);
      if (foreign.length > 0) {
        const named = foreign.slice(0, MAX_NAMED).join(', ') + (foreign.length > MAX_NAMED ? ', …' : '');
        throw new UnsafeWriteError(target, `mode 'overwrite' would delete files this sink did not write: ${named} (remove them or write elsewhere)`, foreign.slice(0, MAX_NAMED));
      }
    }
  }
  const staging = join(dirname(target), `.${basename(target)}.shoal-staging-${process.pid}-${jobId}`);
  await mkdir(staging, { recursive: true });
  const abort = async (): Promise<void> => {
    await rm(staging, { recursive: true, force: true });
  };
  const commit = async (): Promise<void> => {
    if (mode === 'append' && existsSync(target)) {
      await moveFilesInto(staging, target);
      await rm(staging, { recursive: true, force: true });
      return;
    }
    // A missing or empty target is replaced by one rename; a full one is set aside first, then deleted.
    if (!nonEmpty || !existsSync(target)) {
      await rename(staging, target); // renaming a folder onto an empty one replaces it
      return;
    }
    const old = join(dirname(target), `.${basename(target)}.shoal-old-${process.pid}-${jobId}`);
    await rename(target, old);
    try {
      await rename(staging, target);
    } catch (err) {
      await rename(old, target);
      throw err;
    }
    await rm(old, { recursive: true, force: true });
  };
  return { target, staging, commit, abort };
}

/** Moves every file of `from` (keeping its relative folder) into `to`; names never collide (they hold the job id). */
async function moveFilesInto(from: string, to: string): Promise<void> {
  for (const e of await readdir(from, { withFileTypes: true })) {
    const src = join(from, e.name);
    const dst = join(to, e.name);
    if (e.isDirectory()) {
      await mkdir(dst, { recursive: true });
      await moveFilesInto(src, dst);
    } else await rename(src, dst);
  }
}
