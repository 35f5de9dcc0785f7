/** Expanding a source's paths: files, directories (recursively) and `*`/`?` globs in the last segment. */
import { readdir, stat } from 'node:fs/promises';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { SourceNotFoundError } from '../../errors.js';

export interface SourceFile {
  readonly path: string;
  /** The directory the user named, for Hive partition discovery (undefined for plain files). */
  readonly root: string | undefined;
}

function globToRegExp(glob: string): RegExp {
  const esc = glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]');
  return new RegExp(`^${esc}$`);
}

async function walk(dir: string, extensions: readonly string[], out: string[]): Promise<void> {
  const entries = await readdir(dir, { withFileTypes: true });
  for (const e of entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    if (e.name.startsWith('.') || e.name.startsWith('_')) continue;
    const p = join(dir, e.name);
    if (e.isDirectory()) await walk(p, extensions, out);
    else if (extensions.some((x) => e.name.endsWith(x))) out.push(p);
  }
}

/** Lists the files `paths` name; throws SourceNotFoundError for a path that matches nothing. */
export async function expandPaths(paths: string | readonly string[], extensions: readonly string[]): Promise<SourceFile[]> {
  const list = typeof paths === 'string' ? [paths] : paths;
  if (list.length === 0) throw new SourceNotFoundError('(no paths)', 'no path was given');
  const out: SourceFile[] = [];
  for (const raw of list) {
    const p = resolve(raw);
    if (/[*?]/.test(basename(p))) {
      const dir = dirname(p);
      const re = globToRegExp(basename(p));
      let names: string[];
      try {
        names = (await readdir(dir)).filter((n) => re.test(n)).sort();
      } catch (cause) {
        throw new SourceNotFoundError(raw, `directory ${dir} cannot be listed`, { cause });
      }
      if (names.length === 0) throw new SourceNotFoundError(raw, 'the pattern matches no file');
      for (const n of names) out.push({ path: join(dir, n), root: undefined });
      continue;
    }
    let s;
    try {
      s = await stat(p);
    } catch (cause) {
      throw new SourceNotFoundError(raw, 'no such file or directory', { cause });
    }
    if (s.isDirectory()) {
      const files: string[] = [];
      await walk(p, extensions, files);
      if (files.length === 0) throw new SourceNotFoundError(raw, `the directory holds no ${extensions.join('/')} file`);
      for (const f of files) out.push({ path: f, root: p });
    } else out.push({ path: p, root: undefined });
  }
  return out;
}

/** `k=v` directory segments between a file and its root, in order. */
export function hivePairs(file: SourceFile): [string, string][] {
  if (file.root === undefined) return [];
  const segs = relative(file.root, dirname(file.path)).split(/[\\/]/).filter((s) => s !== '');
  const pairs: [string, string][] = [];
  for (const s of segs) {
    const eq = s.indexOf('=');
    if (eq <= 0) return [];
    pairs.push([decodeURIComponent(s.slice(0, eq)), s.slice(eq + 1)]);
  }
  return pairs;
}
