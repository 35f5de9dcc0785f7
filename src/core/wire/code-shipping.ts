/**
 * Code shipping. The driver bundles the module that defines a remote function (esbuild, with its npm
 * imports inlined) and stores it at the head by content hash; workers fetch a bundle on first use,
 * cache it on disk and import it. `shoal` itself (and apache-arrow, whose classes must be shared with
 * the runtime) stay external: workers resolve them to their own installation.
 */
import { build } from 'esbuild';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, renameSync, symlinkSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { BundleBuildError, InvalidOptionError } from '../errors.js';
import { PACKAGE_ROOT } from '../paths.js';
import { trace } from '../trace.js';
import { makePrivateDir, writePrivateFile } from '../private-files.js';

/** Packages resolved on the worker from shoal's own installation rather than bundled. */
export const SHARED_PACKAGES = ['shoal', 'apache-arrow'] as const;

/**
 * Lets CommonJS dependencies inside an ESM bundle call `require`. The import's name is unique per
 * entry so that bundling a bundle again (a submitted job's driver defines remote functions) does not
 * declare it twice.
 */
const banner = (entry: string): string => {
  const tag = createHash('sha256').update(entry).digest('hex').slice(0, 8);
  return `import { createRequire as __shoalCreateRequire_${tag} } from 'node:module'; const require = __shoalCreateRequire_${tag}(import.meta.url);`;
};

export interface BuiltBundle {
  hash: string;
  code: Uint8Array;
}

/** Bundles `entry` (a .js/.ts module path) into one ESM file. */
export async function bundleModule(entry: string): Promise<BuiltBundle> {
  const started = performance.now();
  try {
    const result = await build({
      entryPoints: [entry],
      bundle: true,
      format: 'esm',
      platform: 'node',
      target: 'node20',
      write: false,
      sourcemap: 'inline',
      sourcesContent: false,
      keepNames: true,
      external: [...SHARED_PACKAGES, ...SHARED_PACKAGES.map((p) => `${p}/*`)],
      banner: { js: banner(entry) },
      logLevel: 'silent',
    });
    const file = result.outputFiles[0];
    if (!file) throw new Error('esbuild produced no output');
    const hash = createHash('sha256').update(file.contents).digest('hex').slice(0, 32);
    trace('bundles', () => `bundled ${entry} -> ${hash} (${file.contents.byteLength} B, ${(performance.now() - started).toFixed(0)} ms)`);
    return { hash, code: file.contents };
  } catch (err) {
    const e = err as { errors?: { text: string; location?: { file: string; line: number; column: number } | null }[] };
    const details = e.errors?.length
      ? e.errors.map((m) => (m.location ? `${m.location.file}:${m.location.line}:${m.location.column}: ${m.text}` : m.text)).join('\n')
      : String(err);
    throw new BundleBuildError(entry, details);
  }
}

/**
 * A worker's on-disk bundle cache. Shared packages resolve through symlinks in the cache's own
 * node_modules, so a bundle imports the worker's installed shoal.
 */
export class BundleCache {
  constructor(readonly dir: string) {
    makePrivateDir(dir, true);
    makePrivateDir(join(dir, 'node_modules'), true);
    const require = createRequire(join(PACKAGE_ROOT, 'package.json'));
    for (const name of SHARED_PACKAGES) {
      const link = join(dir, 'node_modules', name);
      if (existsSync(link)) continue;
      const target = name === 'shoal' ? PACKAGE_ROOT : packageDir(require, name);
      try {
        symlinkSync(target, link, 'dir');
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
    }
  }

  /** Bundles known to be on disk, with their paths. */
  private readonly known = new Map<string, string>();

  pathOf(hash: string): string {
    return this.known.get(hash) ?? join(this.dir, `${hash}.mjs`);
  }

  has(hash: string): boolean {
    if (this.known.has(hash)) return true;
    const path = this.pathOf(hash);
    if (!existsSync(path)) return false;
    this.known.set(hash, path);
    return true;
  }

  /** A file to write a bundle's bytes into before `adopt` moves it in place (0600). */
  stagingPath(hash: string): string {
    return `${this.pathOf(hash)}.${process.pid}.${Math.random().toString(36).slice(2, 10)}.tmp`;
  }

  /** Moves a fully written and checked staging file in as the bundle `hash`. */
  adopt(hash: string, staging: string): string {
    const path = this.pathOf(hash);
    renameSync(staging, path);
    this.known.set(hash, path);
    return path;
  }

  write(hash: string, code: Uint8Array): string {
    const path = this.pathOf(hash);
    const tmp = `${path}.${process.pid}.tmp`;
    writePrivateFile(tmp, code);
    renameSync(tmp, path);
    this.known.set(hash, path);
    return path;
  }

  /**
   * Lays out uploaded bundles as the files of one program (a submitted job): `files` maps a flat
   * file name to the bundle holding it; returns the path of the file whose bundle is `entry`. The
   * folder is named by the manifest's hash, inside the cache, so the files resolve shoal there.
   */
  materialize(files: Record<string, string>, entry: string): string {
    const names = Object.keys(files).sort();
    let entryName: string | undefined;
    for (const name of names) {
      const hash = files[name]!;
      if (!/^[\w-]+\.mjs$/.test(name)) throw new InvalidOptionError(`job file name '${name}' must be a flat NAME.mjs`);
      if (!/^[0-9a-f]{32}$/.test(hash) || !this.has(hash)) throw new InvalidOptionError(`job file ${name}: bundle ${hash} was not uploaded`);
      if (hash === entry) entryName ??= name;
    }
    if (!entryName) throw new InvalidOptionError(`the job's entry bundle ${entry} is not one of its files`);
    const tag = createHash('sha256').update(JSON.stringify(names.map((n) => [n, files[n]]))).digest('hex').slice(0, 32);
    const dir = join(this.dir, 'jobs', tag);
    makePrivateDir(dir);
    for (const name of names) {
      const path = join(dir, name);
      if (!existsSync(path)) copyFileSync(this.pathOf(files[name]!), path);
    }
    return join(dir, entryName);
  }
}

function packageDir(require: NodeJS.Require, name: string): string {
  let dir = dirname(require.resolve(name));
  while (!existsSync(join(dir, 'package.json')) || !dir.includes(name)) {
    const up = dirname(dir);
    if (up === dir) throw new Error(`cannot find the folder of package ${name}`);
    dir = up;
  }
  return dir;
}
