/**
 * Where the job's tables live: PostgreSQL (when a database URL is given; tables in `pgSchema`) or
 * Parquet folders (the embedded default: `<dir>/<table>/`). Both are read and written through
 * shoal's data layer; both replace a table atomically (PostgreSQL: staged rows swapped in one
 * transaction; Parquet: a new version folder, then one symlink renamed over — parquet-versions.ts).
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { readParquet, readPostgres, type Dataset } from 'shoal/data';
import { replaceParquetTable } from './parquet-versions.js';

export type Target =
  /** `schemaFile`: the schema.sql the tables are created from (default: found beside this module's source). */
  | { readonly kind: 'postgres'; readonly url: string; readonly schema: string; readonly schemaFile?: string | undefined }
  | { readonly kind: 'parquet'; readonly dir: string };

/** The job's input is missing a table or a column (the message names it and the fix). */
export class RentalSchemaError extends Error {
  constructor(
    message: string,
    readonly table: string,
    readonly column?: string,
  ) {
    super(message);
    this.name = 'RentalSchemaError';
  }
}

/** Columns each table must have for the job to run. */
export const REQUIRED_COLUMNS: Record<string, readonly string[]> = {
  ratings: ['user_id', 'listing_id', 'rating', 'rated_at'],
  listings: ['id'],
};

export const qualified = (t: Extract<Target, { kind: 'postgres' }>, table: string): string => `${t.schema}.${table}`;
const ident = (s: string): string => `"${s.replace(/"/g, '""')}"`;

export function describeTarget(t: Target): string {
  return t.kind === 'postgres' ? `PostgreSQL ${t.url.replace(/\/\/[^@/]*@/, '//…@')} (schema ${t.schema})` : `Parquet under ${t.dir}`;
}

/** The schema.sql beside this module's source, or undefined when it is not there (a module bundled to a worker). */
export function schemaSqlFile(): string | undefined {
  const here = dirname(fileURLToPath(import.meta.url));
  // dist/examples/rental-recs/ has no .sql: fall back to the source folder.
  return [join(here, 'schema.sql'), join(here, '..', '..', '..', 'examples', 'rental-recs', 'schema.sql')].find((p) => existsSync(p));
}

/** Applies schema.sql (`file`, else the one beside this module; idempotent) in `schema` (created when missing). */
export async function applySchema(url: string, schema = 'public', file?: string): Promise<void> {
  const path = file || schemaSqlFile();
  if (!path) throw new Error(`schema.sql not found beside ${dirname(fileURLToPath(import.meta.url))}: pass its path`);
  const sql = readFileSync(path, 'utf8');
  await withClient(url, async (c) => {
    await c.query(`CREATE SCHEMA IF NOT EXISTS ${ident(schema)}`);
    await c.query(`SET search_path TO ${ident(schema)}`);
    await c.query(sql);
  });
}

export async function withClient<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end().catch(() => undefined);
  }
}

/** Checks that each table exists and has the required columns; throws RentalSchemaError naming what is missing. */
export async function checkInputs(t: Target, tables: Record<string, readonly string[]> = REQUIRED_COLUMNS): Promise<void> {
  for (const [table, required] of Object.entries(tables)) {
    let have: string[] | undefined;
    if (t.kind === 'postgres') {
      have = await withClient(t.url, async (c) => {
        const res = await c.query<{ column_name: string }>(
          'SELECT column_name FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2 ORDER BY ordinal_position',
          [t.schema, table],
        );
        return res.rows.length ? res.rows.map((r) => r.column_name) : undefined;
      });
    } else if (existsSync(join(t.dir, table))) {
      have = (await readParquet(join(t.dir, table)).schema()).fields.map((f) => f.name);
    }
    const where = t.kind === 'postgres' ? `in schema "${t.schema}" of ${describeTarget(t)}` : `in ${t.dir}`;
    if (!have) {
      throw new RentalSchemaError(`table "${table}" is missing ${where}: load data first (--load-albany or --synthetic N), or apply examples/rental-recs/schema.sql`, table);
    }
    for (const c of required) {
      if (!have.includes(c)) {
        throw new RentalSchemaError(`table "${table}" has no column "${c}" ${where} (it has: ${have.join(', ')}); see examples/rental-recs/schema.sql`, table, c);
      }
    }
  }
}

/** A Dataset over one of the job's tables. */
export function readTable(t: Target, table: string, numPartitions = 1): Dataset {
  if (t.kind === 'parquet') return readParquet(join(t.dir, table));
  return readPostgres({ url: t.url, table: qualified(t, table), ...(numPartitions > 1 ? { numPartitions } : {}) });
}

/** Replaces `table` with the rows of `ds`, atomically for readers. */
export async function replaceTable(t: Target, table: string, ds: Dataset, keyColumns?: readonly string[]): Promise<number> {
  if (t.kind === 'postgres') {
    const r = await ds.writePostgres({ url: t.url, table: qualified(t, table), mode: 'overwrite', ...(keyColumns ? { keyColumns } : {}) });
    return r.rowsWritten;
  }
  const { rowsWritten, notes } = await replaceParquetTable(t.dir, table, ds);
  for (const n of notes) console.log(`recovered ${table}: ${n}`);
  return rowsWritten;
}
