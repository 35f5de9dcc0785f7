/**
 * Connects to the PostgreSQL test server (127.0.0.1:5432, trust auth, database `test`). When it is
 * unreachable, tests skip locally but fail when CI is set, so CI can never silently skip them.
 */
import pg from 'pg';

export async function connectTestPostgres(): Promise<pg.Client | undefined> {
  const errors: string[] = [];
  for (const user of [process.env.PGUSER, 'postgres', 'root'].filter((u): u is string => u !== undefined)) {
    const client = new pg.Client({ host: process.env.PGHOST ?? '127.0.0.1', port: Number(process.env.PGPORT ?? 5432), user, database: process.env.PGDATABASE ?? 'test', connectionTimeoutMillis: 3000 });
    try {
      await client.connect();
      return client;
    } catch (e) {
      errors.push(`${user}: ${(e as Error).message}`);
      await client.end().catch(() => undefined);
    }
  }
  if (process.env.CI) throw new Error(`PostgreSQL is required in CI but unreachable: ${errors.join('; ')}`);
  return undefined;
}

/** A table name unique to this process and call. */
export function uniqueTable(prefix: string): string {
  return `${prefix}_${process.pid}_${Date.now().toString(36)}_${Math.floor(Math.random() * 1e6)}`;
}
