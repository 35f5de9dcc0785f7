/**
 * The backends every store test runs against: a SQLite file in a temp folder, and PostgreSQL
 * (database `test`) in a schema unique to the test file, dropped afterwards. When PostgreSQL is
 * unreachable its tests skip locally and fail under CI (test/harness/postgres.ts).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectTestPostgres, uniqueTable } from '../../harness/postgres.js';
import type { StoreOptions } from '../../../src/store/index.js';

export const BACKENDS = ['sqlite', 'postgres'] as const;
export type BackendName = (typeof BACKENDS)[number];

/** A fresh store location for `backend` (undefined when PostgreSQL is unreachable outside CI) and its cleanup. */
export async function storeFixture(backend: BackendName, prefix: string): Promise<{ options: StoreOptions; dir: string; cleanup: () => Promise<void> } | undefined> {
  const dir = await mkdtemp(join(tmpdir(), `shoal-store-${prefix}-`));
  if (backend === 'sqlite') {
    return { dir, options: { url: join(dir, 'store.db'), artifactDir: join(dir, 'artifacts') }, cleanup: () => rm(dir, { recursive: true, force: true }) };
  }
  const client = await connectTestPostgres();
  if (!client) {
    await rm(dir, { recursive: true, force: true });
    return undefined;
  }
  const schema = uniqueTable(prefix).toLowerCase();
  const url = `postgres://${encodeURIComponent(client.user ?? 'postgres')}@${client.host}:${client.port}/${client.database}?schema=${schema}`;
  return {
    dir,
    options: { url, artifactDir: join(dir, 'artifacts') },
    cleanup: async () => {
      await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).catch(() => undefined);
      await client.end();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
