/**
 * What can make a PostgreSQL overwrite fail after all the compute, asked of the server before any of
 * it: the privileges the publish needs (INSERT and TRUNCATE on the table), foreign keys of other
 * tables that would block TRUNCATE, dataset columns the table lacks, NOT NULL columns without a
 * default the dataset does not fill, and column types with no assignment cast from what the dataset
 * sends. Also the sweep of staging tables that killed writers left behind.
 */
import type * as arrow from 'apache-arrow';
import type pg from 'pg';
import { PostgresError } from '../errors.js';
import { quoteIdent } from '../io/pg-partition-queries.js';
import { pgTypeFor } from '../io/pg-writer.js';

const literal = (s: string): string => `'${s.replace(/'/g, "''")}'`;

/** The advisory-lock key a writer holds on its staging table while it lives (SQL expression). */
export const stageLockKey = (staging: string): string => `hashtext(${literal(`shoal_stage:${staging}`)})`;

/** Throws PostgresError naming every reason the overwrite of existing table `table` would fail. */
export async function checkOverwrite(client: pg.Client, table: string, schema: arrow.Schema): Promise<void> {
  const rel = literal(quoteIdent(table));
  const problems: string[] = [];
  const priv = (
    await client.query<{ ins: boolean; trunc: boolean; who: string }>(
      `SELECT has_table_privilege(${rel}, 'INSERT') AS ins, has_table_privilege(${rel}, 'TRUNCATE') AS trunc, current_user AS who`,
    )
  ).rows[0]!;
  const missing = [priv.ins ? '' : 'INSERT', priv.trunc ? '' : 'TRUNCATE'].filter((p) => p !== '');
  if (missing.length > 0) problems.push(`role "${priv.who}" lacks ${missing.join(' and ')} on it (GRANT ${missing.join(', ')} ON ${table} TO "${priv.who}")`);
  const fks = await client.query<{ name: string; referencing: string }>(
    `SELECT conname AS name, conrelid::regclass::text AS referencing FROM pg_constraint WHERE contype = 'f' AND confrelid = ${rel}::regclass AND conrelid <> confrelid`,
  );
  for (const fk of fks.rows) problems.push(`foreign key ${fk.name} of ${fk.referencing} refers to it (TRUNCATE would be refused)`);
  const cols = await client.query<{ name: string; type: string; oid: number; notnull: boolean; hasdef: boolean; identity: string }>(
    `SELECT attname AS name, format_type(atttypid, atttypmod) AS type, atttypid::int AS oid, attnotnull AS notnull, atthasdef AS hasdef, attidentity AS identity
       FROM pg_attribute WHERE attrelid = ${rel}::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum`,
  );
  const have = new Map(cols.rows.map((c) => [c.name, c]));
  const sending = new Set(schema.fields.map((f) => f.name));
  for (const f of schema.fields) {
    const c = have.get(f.name);
    if (c === undefined) {
      problems.push(`it has no column "${f.name}" (columns: ${cols.rows.map((r) => r.name).join(', ')})`);
      continue;
    }
    const from = pgTypeFor(f.type, f.name);
    const ok = (
      await client.query<{ ok: boolean }>(
        `SELECT ${literal(from)}::regtype::oid = ${c.oid} OR ${c.oid} = 'text'::regtype::oid
            OR EXISTS (SELECT 1 FROM pg_cast WHERE castsource = ${literal(from)}::regtype AND casttarget = ${c.oid} AND castcontext IN ('a', 'i')) AS ok`,
      )
    ).rows[0]!.ok;
    if (!ok) problems.push(`column "${f.name}" is ${c.type} but the dataset sends ${from} (${String(f.type)}), which PostgreSQL does not assign to it`);
  }
  for (const c of cols.rows) {
    if (!sending.has(c.name) && c.notnull && !c.hasdef && c.identity === '') problems.push(`column "${c.name}" is NOT NULL without a default and the dataset has no such column`);
  }
  if (problems.length > 0) {
    throw new PostgresError(`cannot overwrite ${table} (checked before computing anything): ${problems.join('; ')}`, undefined, table);
  }
}

/**
 * Drops the staging tables (`<prefix>…`, in the target's schema) whose writer is gone: a live writer
 * holds a session advisory lock on its staging table's name, so a lock we can take marks a dead one.
 * Returns the names dropped.
 */
export async function sweepStagingTables(client: pg.Client, table: string, prefix: string): Promise<string[]> {
  const parts = table.split('.');
  const schemaName = parts.length > 1 ? parts.slice(0, -1).join('.') : null;
  const found = await client.query<{ schema: string; name: string }>(
    `SELECT n.nspname AS schema, c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relkind = 'r' AND left(c.relname, ${prefix.length}) = ${literal(prefix)} AND n.nspname = ${schemaName === null ? 'current_schema()' : literal(schemaName)}`,
  );
  const dropped: string[] = [];
  for (const r of found.rows) {
    const staging = schemaName === null ? r.name : `${schemaName}.${r.name}`;
    const key = stageLockKey(staging);
    const got = (await client.query<{ got: boolean }>(`SELECT pg_try_advisory_lock(${key}) AS got`)).rows[0]!.got;
    if (!got) continue;
    try {
      await client.query(`DROP TABLE IF EXISTS ${quoteIdent(staging)}`);
      dropped.push(staging);
    } finally {
      await client.query(`SELECT pg_advisory_unlock(${key})`);
    }
  }
  return dropped;
}
