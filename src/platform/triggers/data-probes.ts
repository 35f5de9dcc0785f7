/**
 * What a data trigger looks at. A folder: the names of the regular files in it (not hidden ones),
 * so a trigger fires when names it had not seen appear. A PostgreSQL table: its row count and the
 * maximum of a column (an id or a timestamp, when given) — the same version a step's
 * `sourceVersion` keys on — so a trigger fires when rows are added. Each probe reads the source
 * once; nothing stays open between probes.
 */
import { readdir } from 'node:fs/promises';
import pg from 'pg';
import { PipelineTriggerError } from '../errors.js';

/** The regular, non-hidden files of `path`, sorted. Throws {@link PipelineTriggerError} when it is not a readable folder. */
export async function listFolder(path: string, trigger = '(new)'): Promise<string[]> {
  try {
    const entries = await readdir(path, { withFileTypes: true });
    return entries.filter((e) => e.isFile() && !e.name.startsWith('.')).map((e) => e.name).sort();
  } catch (err) {
    throw new PipelineTriggerError(trigger, 'source', 'folder', `${JSON.stringify(path)} cannot be listed: ${(err as Error).message}`, { cause: err });
  }
}

/** A table's version: its row count and the maximum of `column` (null when no column is given or the table is empty). */
export interface TableVersion {
  rows: number;
  max: number | string | null;
}

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** `schema.table` or `table` as a quoted identifier; throws for anything else (never interpolates raw text). */
export function quoteTable(table: string, trigger = '(new)'): string {
  const parts = typeof table === 'string' ? table.split('.') : [];
  if (parts.length < 1 || parts.length > 2 || !parts.every((p) => IDENT.test(p))) {
    throw new PipelineTriggerError(trigger, 'spec', 'table', `must be a table name (letters, digits, _) or schema.table; got ${JSON.stringify(table)}`);
  }
  return parts.map((p) => `"${p}"`).join('.');
}

export function checkColumn(column: string | undefined, trigger = '(new)'): void {
  if (column !== undefined && !IDENT.test(column)) {
    throw new PipelineTriggerError(trigger, 'spec', 'column', `must be a column name (letters, digits, _); got ${JSON.stringify(column)}`);
  }
}

/** Reads `table`'s {@link TableVersion} at `url`. Throws {@link PipelineTriggerError} when it cannot be read. */
export async function probeTable(url: string, table: string, column: string | undefined, trigger = '(new)'): Promise<TableVersion> {
  const name = quoteTable(table, trigger);
  checkColumn(column, trigger);
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
  try {
    await client.connect();
    const max = column === undefined ? 'NULL' : `max("${column}")`;
    const r = await client.query<{ rows: string; max: unknown }>(`SELECT count(*)::text AS rows, ${max} AS max FROM ${name}`);
    const row = r.rows[0]!;
    const m = row.max;
    return { rows: Number(row.rows), max: plainMax(m) };
  } catch (err) {
    const where = url.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1@');
    throw new PipelineTriggerError(trigger, 'source', 'table', `${table} at ${where} cannot be read: ${(err as Error).message}`, { cause: err });
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** A max as plain data: numbers (bigint ids come back as text; as numbers while they are exact), times as ISO text. */
function plainMax(m: unknown): number | string | null {
  if (m === null || m === undefined) return null;
  if (typeof m === 'number') return m;
  if (m instanceof Date) return m.toISOString();
  const text = String(m);
  const n = Number(text);
  return /^-?\d+(\.\d+)?$/.test(text) && (Number.isSafeInteger(n) || !/^-?\d+$/.test(text)) ? n : text;
}

/** Whether `now` has rows `before` had not: more rows, or a greater maximum. */
export function tableGrew(before: TableVersion, now: TableVersion): boolean {
  if (now.rows > before.rows) return true;
  if (now.max === null || before.max === null) return false;
  if (typeof now.max === 'number' && typeof before.max === 'number') return now.max > before.max;
  const a = Number(now.max);
  const b = Number(before.max);
  if (String(now.max).trim() !== '' && Number.isFinite(a) && Number.isFinite(b)) return a > b;
  return String(now.max) > String(before.max);
}
