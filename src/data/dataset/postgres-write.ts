/**
 * Dataset → PostgreSQL. Every partition is COPYed by a task into a staging table; one transaction on
 * the driver then publishes it: `append` inserts the staged rows, `overwrite` empties the target and
 * inserts them (TRUNCATE + INSERT … SELECT: the table keeps its identity — grants, comments, views
 * on it, indexes — and readers see the old rows or the new ones), `upsert` merges with
 * INSERT … ON CONFLICT (keyColumns) DO UPDATE. A failure drops the staging table and leaves the
 * target untouched.
 *
 * What would make the publish fail is checked before any compute (overwrite-checks.ts): privileges,
 * referencing foreign keys, columns and types. The driver holds a session advisory lock on its
 * staging table's name while it lives, so the next write to the same table drops the staging tables
 * of writers that died (a killed run) and leaves those of live ones.
 */
import type * as arrow from 'apache-arrow';
import type pg from 'pg';
import { invalidOption, PostgresError, UnknownColumnError } from '../errors.js';
import { quoteColumn, quoteIdent } from '../io/pg-partition-queries.js';
import { pgTypeFor } from '../io/pg-writer.js';
import { connectPostgres } from './sources/postgres-source.js';
import { checkOverwrite, stageLockKey, sweepStagingTables } from './overwrite-checks.js';

export interface WritePostgresOptions {
  /** `postgres://user@host:port/db` */
  readonly url: string;
  /** Target table (optionally `schema.table`). */
  readonly table: string;
  /** @default 'append' */
  readonly mode?: 'append' | 'overwrite' | 'upsert';
  /** Conflict key for `upsert` (created as the primary key when the table is new). */
  readonly keyColumns?: readonly string[];
}

export interface WriteResult {
  readonly rowsWritten: number;
}

async function q(client: pg.Client, sql: string, table: string): Promise<pg.QueryResult> {
  try {
    return await client.query(sql);
  } catch (cause) {
    throw new PostgresError(`PostgreSQL error writing ${table}: ${cause instanceof Error ? cause.message : String(cause)}`, sql, table, { cause });
  }
}

export interface StagedWrite {
  readonly staging: string;
  /** Publishes the staged rows into the target in one transaction. */
  commit(): Promise<void>;
  /** Drops the staging table. */
  abort(): Promise<void>;
}

export function validateWritePostgres(o: WritePostgresOptions, schema: arrow.Schema): void {
  const mode = o.mode ?? 'append';
  if (!['append', 'overwrite', 'upsert'].includes(mode)) throw invalidOption('options.mode', `must be append, overwrite or upsert; got ${String(mode)}`);
  if (typeof o.table !== 'string' || o.table === '') throw invalidOption('options.table', 'must name a table');
  const keys = o.keyColumns ?? [];
  if (mode === 'upsert' && keys.length === 0) throw invalidOption('options.keyColumns', 'must name at least one column for upsert');
  const names = schema.fields.map((f) => f.name);
  for (const k of keys) if (!names.includes(k)) throw new UnknownColumnError(k, names);
}

/** Creates the staging table; returns how to publish or abort it. */
export async function stagePostgresWrite(o: WritePostgresOptions, schema: arrow.Schema): Promise<StagedWrite> {
  validateWritePostgres(o, schema);
  const mode = o.mode ?? 'append';
  const keys = o.keyColumns ?? [];
  const client = await connectPostgres(o.url);
  const parts = o.table.split('.');
  const base = parts[parts.length - 1]!;
  const schemaPrefix = parts.length > 1 ? `${parts.slice(0, -1).join('.')}.` : '';
  const stagingBase = `${base.slice(0, 30)}_shoal_stage_${process.pid}_${Date.now().toString(36)}`;
  const staging = `${schemaPrefix}${stagingBase}`;
  const target = quoteIdent(o.table);
  const cols = schema.fields.map((f) => quoteColumn(f.name)).join(', ');
  const columnDefs = schema.fields.map((f) => `${quoteColumn(f.name)} ${pgTypeFor(f.type, f.name)}${keys.includes(f.name) ? ' NOT NULL' : ''}`).join(', ');
  const pk = keys.length > 0 ? `, PRIMARY KEY (${keys.map(quoteColumn).join(', ')})` : '';
  try {
    await sweepStagingTables(client, o.table, `${base.slice(0, 30)}_shoal_stage_`);
    const exists = (await q(client, `SELECT to_regclass('${target.replace(/'/g, "''")}') IS NOT NULL AS e`, o.table)).rows[0].e as boolean;
    if (exists && mode === 'overwrite') await checkOverwrite(client, o.table, schema);
    await q(client, `SELECT pg_advisory_lock(${stageLockKey(staging)})`, o.table);
    if (exists) await q(client, `CREATE TABLE ${quoteIdent(staging)} (LIKE ${target} INCLUDING DEFAULTS)`, o.table);
    else await q(client, `CREATE TABLE ${quoteIdent(staging)} (${columnDefs}${mode === 'upsert' ? '' : pk})`, o.table);
  } catch (err) {
    await client.end().catch(() => undefined);
    throw err;
  }
  const abort = async (): Promise<void> => {
    await client.query(`DROP TABLE IF EXISTS ${quoteIdent(staging)}`).catch(() => undefined);
    await client.end().catch(() => undefined);
  };
  const commit = async (): Promise<void> => {
    try {
      await q(client, 'BEGIN', o.table);
      if (mode === 'overwrite') {
        // Same rows out and in, one transaction: the table itself (and what refers to it) stays.
        await q(client, `CREATE TABLE IF NOT EXISTS ${target} (${columnDefs}${pk})`, o.table);
        await q(client, `TRUNCATE ${target}`, o.table);
        await q(client, `INSERT INTO ${target} (${cols}) SELECT ${cols} FROM ${quoteIdent(staging)}`, o.table);
        await q(client, `DROP TABLE ${quoteIdent(staging)}`, o.table);
      } else if (mode === 'append') {
        await q(client, `CREATE TABLE IF NOT EXISTS ${target} (${columnDefs}${pk})`, o.table);
        await q(client, `INSERT INTO ${target} (${cols}) SELECT ${cols} FROM ${quoteIdent(staging)}`, o.table);
        await q(client, `DROP TABLE ${quoteIdent(staging)}`, o.table);
      } else {
        await q(client, `CREATE TABLE IF NOT EXISTS ${target} (${columnDefs}${pk})`, o.table);
        const keyList = keys.map(quoteColumn).join(', ');
        const updates = schema.fields.filter((f) => !keys.includes(f.name)).map((f) => `${quoteColumn(f.name)} = EXCLUDED.${quoteColumn(f.name)}`);
        await q(
          client,
          `INSERT INTO ${target} (${cols}) SELECT DISTINCT ON (${keyList}) ${cols} FROM ${quoteIdent(staging)} ORDER BY ${keyList}, ctid DESC ` +
            `ON CONFLICT (${keyList}) DO ${updates.length > 0 ? `UPDATE SET ${updates.join(', ')}` : 'NOTHING'}`,
          o.table,
        );
        await q(client, `DROP TABLE ${quoteIdent(staging)}`, o.table);
      }
      await q(client, 'COMMIT', o.table);
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      await abort();
      throw err;
    }
    await client.end().catch(() => undefined);
  };
  return { staging, commit, abort };
}
