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
 * Path of a compiled runtime entry (a process or thread main). Runtime entries always run from
 * dist/, also when the caller runs from TypeScript sources (tests): child processes and threads
 * need plain JavaScript.
 */
export function runtimeEntry(name: string): string {
  const path = join(PACKAGE_ROOT, 'dist', 'src', 'core', name);
  if (!existsSync(path)) throw new Error(`shoal runtime file ${path} is missing: run \`npm run build\``);
  return path;
}
