/**
 * The code bundle of a submitted job.
 *
 * Workaround for a core issue: the head runs the job's bundle file itself, so remote functions the
 * job defines are "defined in" that bundle, and the job's driver bundles it once more to ship them.
 * bundleModule's banner (`import { createRequire as __shoalCreateRequire } ...`) is raw text that
 * esbuild does not rename, so the second bundle declares `__shoalCreateRequire` twice and workers
 * fail with "Identifier '__shoalCreateRequire' has already been declared". Renaming that import in
 * the job's bundle (esbuild already renames its `require`) makes the second bundle valid. Once core
 * handles already-bundled files, this becomes a no-op.
 */
import { createHash } from 'node:crypto';
import { bundleModule } from '../core/index.js';

/** Same hash rule the head checks in PutBundle. */
const bundleHash = (code: Uint8Array): string => createHash('sha256').update(code).digest('hex').slice(0, 32);

const BANNER_IMPORT = /^(import \{ createRequire as )(\w+)( \} from ['"]node:module['"]; const require = )(\w+)(\(import\.meta\.url\);)/;

export async function bundleJob(script: string): Promise<{ hash: string; code: Uint8Array }> {
  const bundle = await bundleModule(script);
  const text = Buffer.from(bundle.code).toString('utf8');
  const m = BANNER_IMPORT.exec(text);
  if (!m || m[2] !== m[4]) return bundle;
  const renamed = `${m[2]}Job`;
  const code = Buffer.from(`${m[1]}${renamed}${m[3]}${renamed}${m[5]}${text.slice(m[0].length)}`, 'utf8');
  return { hash: bundleHash(code), code };
}
