/** Locations the harness reads and writes, independent of whether it runs from bench/ or dist/bench/. */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

function findRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'shoal') return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error('cannot find the shoal package root');
    dir = up;
  }
}

/** Root of the repository (holds package.json). */
export const ROOT = findRoot();
/** bench/ sources: fixtures that are not compiled (.proto) live here. */
export const BENCH_SRC = join(ROOT, 'bench');
/** Where suites write `<suite>.json`. */
export const RESULTS_DIR = join(BENCH_SRC, 'results');
/** Compiled bench code (suites, fixtures). */
export const BENCH_DIST = join(ROOT, 'dist', 'bench');

/** Path of a compiled fixture module, e.g. `fixtureJs('piscina-noop')`. */
export const fixtureJs = (name: string): string => join(BENCH_DIST, 'fixtures', `${name}.js`);
/** Path of a non-compiled fixture file in bench/fixtures, e.g. `fixtureSrc('echo.proto')`. */
export const fixtureSrc = (name: string): string => join(BENCH_SRC, 'fixtures', name);
