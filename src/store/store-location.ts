/**
 * Where the platform store lives. It outlives clusters, so it is not in a session folder: by default
 * a SQLite file and an artifact folder under `$SHOAL_HOME/store/` (`~/.shoal/store/`); PostgreSQL
 * when `SHOAL_METADATA_URL` (or the `url` option) is set, with artifacts in `SHOAL_ARTIFACT_DIR` (a
 * folder shared by the hosts of a multi-host cluster) or the default folder. A location is plain
 * data, so it travels to tasks and actors on other workers, which open the same store.
 */
import { join, resolve } from 'node:path';
import { optionRules, shoalHome } from '../core/index.js';

/** Options of `openStore`; every field is optional. */
export interface StoreOptions {
  /**
   * The metadata database: `postgres://user@host:5432/db?schema=name`, or a SQLite file path.
   * @default SHOAL_METADATA_URL, else `$SHOAL_HOME/store/store.db`
   */
  url?: string | undefined;
  /** The artifact folder (content-addressed blobs). @default SHOAL_ARTIFACT_DIR, else `$SHOAL_HOME/store/artifacts` */
  artifactDir?: string | undefined;
}

/** A store's complete, resolved location (what {@link StoreOptions} compile to). */
export interface StoreLocation {
  /** `postgres://...` or an absolute SQLite file path. */
  url: string;
  /** Absolute path of the artifact folder. */
  artifactDir: string;
}

const KNOWN = ['url', 'artifactDir'];

export function resolveStoreLocation(options?: StoreOptions): StoreLocation {
  const rules = optionRules('openStore');
  const o = rules.object(options);
  rules.knownKeys(o, KNOWN);
  const home = join(shoalHome(), 'store');
  const url = o.url ?? (process.env.SHOAL_METADATA_URL || undefined) ?? join(home, 'store.db');
  if (typeof url !== 'string' || url === '') rules.fail('url', 'must be a postgres:// URL or a SQLite file path', url);
  const dir = o.artifactDir ?? (process.env.SHOAL_ARTIFACT_DIR || undefined) ?? join(home, 'artifacts');
  if (typeof dir !== 'string' || dir === '') rules.fail('artifactDir', 'must be a folder path', dir);
  return { url: isPostgresUrl(url) ? url : resolve(url), artifactDir: resolve(dir) };
}

export const isPostgresUrl = (url: string): boolean => /^postgres(ql)?:\/\//.test(url);
