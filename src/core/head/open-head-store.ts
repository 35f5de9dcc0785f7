/**
 * Opening the store a `--store` value names. Kept apart from the backends so that neither imports
 * the other (the PostgreSQL backend builds on head-store's shared queue), and so that `pg` is
 * loaded only when a PostgreSQL store is asked for.
 */
import { SqliteHeadStore, type HeadStore } from './head-store.js';

/**
 * The store a `--store` value names: `postgres://...` or `postgresql://...` is PostgreSQL (tables in
 * the schema given by `?schema=`, default `shoal`), anything else a SQLite file path.
 */
export async function openHeadStore(spec: string): Promise<HeadStore> {
  if (/^postgres(ql)?:\/\//.test(spec)) {
    const { PostgresHeadStore } = await import('./head-store-postgres.js');
    return new PostgresHeadStore(spec);
  }
  return new SqliteHeadStore(spec);
}
