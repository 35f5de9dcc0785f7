/**
 * The code of a submitted job, as modules rather than one bundle.
 *
 * A job's driver calls `remote()` in the modules it imports; the driver then ships the module that
 * defined each function, and workers import it. Bundled into one file, the job's entry (its driver
 * code, `init()` at the top level) would be "the module that defined" every function, and workers
 * would run the driver. So the job is bundled the way Node runs it: every local module of the job is
 * an entry point of one esbuild build with code splitting, which keeps each module's code out of the
 * files that only other modules reach — the entry's top level stays in the entry's file alone, and a
 * module of remote functions lands in a file (or shared chunk) that does not import the driver.
 * npm imports are inlined as in any bundle; `shoal` itself stays external.
 */
import { build } from 'esbuild';
import { createHash } from 'node:crypto';
import { resolve } from 'node:path';
import { BundleBuildError, SHARED_PACKAGES } from '../core/index.js';

/** One file of a job: a flat name the files import each other by, and its content's bundle hash. */
export interface JobFile {
  name: string;
  hash: string;
  code: Uint8Array;
}

export interface JobBundle {
  /** Name of the file Node runs. */
  entry: string;
  files: JobFile[];
}

/** Same hash rule the head checks in PutBundle. */
const bundleHash = (code: Uint8Array): string => createHash('sha256').update(code).digest('hex').slice(0, 32);

/** Lets CommonJS dependencies call `require`; a name of its own, so a driver bundling a job file again declares no duplicate. */
const BANNER = "import { createRequire as __shoalJobRequire } from 'node:module'; const require = __shoalJobRequire(import.meta.url);";

const common = {
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  write: false,
  keepNames: true,
  external: [...SHARED_PACKAGES, ...SHARED_PACKAGES.map((p) => `${p}/*`)] as string[],
  logLevel: 'silent',
} as const;

/** The job's own modules: every input of its bundle outside node_modules, entry first. */
async function localModules(script: string): Promise<string[]> {
  const result = await build({ ...common, entryPoints: [script], metafile: true, outfile: 'job.mjs' });
  const inputs = Object.keys(result.metafile.inputs)
    .filter((p) => !/(^|\/)node_modules\//.test(p) && !p.includes(':'))
    .map((p) => resolve(p));
  return [script, ...inputs.filter((p) => p !== script)];
}

export async function bundleJob(script: string): Promise<JobBundle> {
  try {
    const modules = await localModules(script);
    const result = await build({
      ...common,
      entryPoints: modules.map((path, i) => ({ in: path, out: i === 0 ? 'main' : `m${i}` })),
      splitting: true,
      outdir: '/shoal-job',
      outExtension: { '.js': '.mjs' },
      chunkNames: 'chunk-[hash]',
      sourcemap: 'inline',
      sourcesContent: false,
      banner: { js: BANNER },
    });
    const files = (result.outputFiles ?? []).map((f) => ({ name: f.path.slice('/shoal-job/'.length), hash: bundleHash(f.contents), code: f.contents }));
    return { entry: 'main.mjs', files };
  } catch (err) {
    if (err instanceof BundleBuildError) throw err;
    const e = err as { errors?: { text: string; location?: { file: string; line: number; column: number } | null }[] };
    const details = e.errors?.length
      ? e.errors.map((m) => (m.location ? `${m.location.file}:${m.location.line}:${m.location.column}: ${m.text}` : m.text)).join('\n')
      : String(err);
    throw new BundleBuildError(script, details);
  }
}
