import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

function findRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && JSON.parse(readFileSync(pkg, 'utf8')).name === 'shoal') return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error('cannot find the shoal package root');
    dir = up;
  }
}

/** Root folder of the installed shoal package (holds package.json, proto/, dist/). */
export const PACKAGE_ROOT = findRoot();
/**
 * Version of this shoal (package.json). The test-only SHOAL_VERSION_OVERRIDE replaces it, so tests
 * can start a process that claims another version (heads refuse such workers and drivers).
 */
export const SHOAL_VERSION: string = process.env.SHOAL_VERSION_OVERRIDE || JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')).version;

/**
 * The compiled runtime entries (process and thread mains), by file name, and the room of core
 * each lives in. Callers name an entry by its file name; only this table knows the folders.
 */
const RUNTIME_ENTRIES = {
  'head-main.js': 'process/head-main.js',
  'worker-main.js': 'process/worker-main.js',
  'task-thread.js': 'worker/task-thread.js',
  'actor-thread.js': 'worker/actor-thread.js',
} as const;

/** File name of a runtime entry: `head-main.js`, `worker-main.js`, `task-thread.js`, `actor-thread.js`. */
export type RuntimeEntryName = keyof typeof RUNTIME_ENTRIES;

/** A runtime entry's path relative to the package root (`dist/src/core/process/head-main.js`). */
export function runtimeEntryRelative(name: RuntimeEntryName): string {
  const rel = RUNTIME_ENTRIES[name] as string | undefined;
  if (!rel) throw new Error(`unknown shoal runtime entry ${name}: expected one of ${Object.keys(RUNTIME_ENTRIES).join(', ')}`);
  return `dist/src/core/${rel}`;
}

/**
 * Path of a compiled runtime entry (a process or thread main). Runtime entries always run from
 * dist/, also when the caller runs from TypeScript sources (tests): child processes and threads
 * need plain JavaScript.
 */
export function runtimeEntry(name: RuntimeEntryName): string {
  const path = join(PACKAGE_ROOT, runtimeEntryRelative(name));
  if (!existsSync(path)) throw new Error(`shoal runtime file ${path} is missing: run \`npm run build\``);
  return path;
}
