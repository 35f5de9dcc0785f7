/**
 * Writes an Arrow table into PostgreSQL with `COPY … FROM STDIN (FORMAT csv)` via pg-copy-streams,
 * streamed in chunks with backpressure. CSV escaping: every string is quoted (so '' is an empty
 * string) and NULL is the unquoted empty field; arrays become PostgreSQL array literals.
 * Modes: `append` copies into the table; `overwrite` truncates and copies in one transaction;
 * `upsert` copies into a temporary table and merges with INSERT … ON CONFLICT (keyColumns) DO UPDATE
 * (the last row wins when the input repeats a key).
 */
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import * as arrow from 'apache-arrow';
import type { ClientBase } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { invalidOption, PostgresError, UnknownColumnError, UnsupportedTypeError } from '../errors.js';
import { MS_PER_DAY } from '../types/column.js';
import { arrowTypeFamily, valueTypeOf } from '../types/logical-type.js';
import { formatDate, formatTimestamp } from '../types/temporal.js';
import { quoteColumn, quoteIdent } from './pg-partition-queries.js';

export type PgWriteMode = 'append' | 'overwrite' | 'upsert';

export interface PgWriteOptions {
  /** Target table (optionally `schema.table`). */
  readonly table: string;
  /** @default 'append' */
  readonly mode?: PgWriteMode;
  /** Conflict key for `upsert` (needs a unique index or primary key on these columns). */
  readonly keyColumns?: readonly string[];
  /** Create the table from the Arrow schema when it does not exist (with a primary key on keyColumns). @default true */
  readonly createTable?: boolean;
  /** Rows per chunk written to the COPY stream. @default 5000 */
  readonly chunkRows?: number;
}

export interface PgWriteResult {
  readonly rowsWritten: number;
}

/** The PostgreSQL column type for an Arrow type. */
export function pgTypeFor(type: arrow.DataType, column: string): string {
  const t = valueTypeOf(type);
  switch (arrowTypeFamily(t)) {
    case 'int': {
      const i = t as arrow.Int;
      return i.bitWidth <= 16 && i.isSigned ? 'smallint' : i.bitWidth <= 32 && (i.isSigned || i.bitWidth < 32) ? 'integer' : 'bigint';
    }
    case 'float':
      return (t as arrow.Float).precision === arrow.Precision.DOUBLE ? 'double precision' : 'real';
    case 'utf8':
      return 'text';
    case 'bool':
      return 'boolean';
    case 'date':
      return 'date';
    case 'timestamp':
      return (t as arrow.Timestamp).timezone ? 'timestamptz' : 'timestamp';
    case 'list':
      return `${pgTypeFor((t as arrow.List).children[0]!.type, column)}[]`;
    default:
      throw new UnsupportedTypeError(column, String(type));
  }
}

type Formatter = (v: unknown) => string;

function scalarFormatter(type: arrow.DataType, column: string): Formatter {
  const t = valueTypeOf(type);
  switch (arrowTypeFamily(t)) {
    case 'int':
      return (v) => String(v);
    case 'float':
      return (v) => {
        const x = v as number;
        return Number.isNaN(x) ? 'NaN' : x === Infinity ? 'Infinity' : x === -Infinity ? '-Infinity' : String(x);
      };
    case 'bool':
      return (v) => (v ? 't' : 'f');
    case 'date':
      return (v) => formatDate(Math.floor(Number(v) / MS_PER_DAY));
    case 'timestamp': {
      const tz = Boolean((t as arrow.Timestamp).timezone);
      return (v) => formatTimestamp(Number(v)) + (tz ? '+00' : '');
    }
    case 'utf8':
      return (v) => {
        const s = String(v);
        if (s.includes('\u0000')) throw new PostgresError(`column "${column}" holds a string with a NUL character, which PostgreSQL text cannot store`, undefined);
        return s;
      };
    default:
      throw new UnsupportedTypeError(column, String(type));
  }
}

function csvQuote(s: string): string {
  return `"${s.replace(/"/g, '""')}"`;
}

/** Formats one column's value as a COPY CSV field (unquoted empty = NULL). */
function fieldFormatter(type: arrow.DataType, column: string): Formatter {
  const family = arrowTypeFamily(type);
  if (family === 'list') {
    const child = (type as arrow.List).children[0]!.type;
    const elem = scalarFormatter(child, column);
    return (v) => {
      const vec = v as arrow.Vector;
      const parts: string[] = [];
      for (let i = 0; i < vec.length; i++) {
        const x = vec.get(i);
        parts.push(x === null || x === undefined ? 'NULL' : `"${elem(x).replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`);
      }
      return csvQuote(`{${parts.join(',')}}`);
    };
  }
  const f = scalarFormatter(type, column);
  const quoted = family === 'utf8';
  return quoted ? (v) => csvQuote(f(v)) : f;
}

function* csvChunks(table: arrow.Table, chunkRows: number): Generator<string> {
  const cols = table.schema.fields.map((f, i) => ({ vec: table.getChildAt(i)!, fmt: fieldFormatter(f.type, f.name) }));
  let buf = '';
  for (let r = 0; r < table.numRows; r++) {
    let line = '';
    for (let c = 0; c < cols.length; c++) {
      const { vec, fmt } = cols[c]!;
      const v = vec.get(r);
      if (c > 0) line += ',';
      if (v !== null && v !== undefined) line += fmt(v);
    }
    buf += `${line}\n`;
    if ((r + 1) % chunkRows === 0) {
      yield buf;
      buf = '';
    }
  }
  if (buf.length > 0) yield buf;
}

async function exec(client: ClientBase, sql: string, table: string): Promise<void> {
  try {
    await client.query(sql);
  } catch (cause) {
    throw new PostgresError(`PostgreSQL error writing table ${table}: ${cause instanceof Error ? cause.message : String(cause)}`, sql, table, { cause });
  }
}

async function copyInto(client: ClientBase, target: string, table: arrow.Table, chunkRows: number, tableName: string): Promise<void> {
  const cols = table.schema.fields.map((f) => quoteColumn(f.name)).join(', ');
  const sql = `COPY ${target} (${cols}) FROM STDIN WITH (FORMAT csv)`;
  try {
    await pipeline(Readable.from(csvChunks(table, chunkRows)), client.query(copyFrom(sql)));
  } catch (cause) {
    if (cause instanceof PostgresError) throw cause;
    throw new PostgresError(`COPY into ${tableName} failed: ${cause instanceof Error ? cause.message : String(cause)}`, sql, tableName, { cause });
  }
}

/** Writes `table` into PostgreSQL (see the module comment for the modes). */
export async function writePostgresTable(client: ClientBase, table: arrow.Table, options: PgWriteOptions): Promise<PgWriteResult> {
  const mode = options.mode ?? 'append';
  if (!['append', 'overwrite', 'upsert'].includes(mode)) throw invalidOption('options.mode', `must be append, overwrite or upsert; got ${String(mode)}`);
  const chunkRows = options.chunkRows ?? 5000;
  const keys = options.keyColumns ?? [];
  const names = table.schema.fields.map((f) => f.name);
  if (mode === 'upsert' && keys.length === 0) throw invalidOption('options.keyColumns', 'must name at least one column for upsert');
  for (const k of keys) if (!names.includes(k)) throw new UnknownColumnError(k, names);
  const target = quoteIdent(options.table);
  const columnDefs = table.schema.fields.map((f) => `${quoteColumn(f.name)} ${pgTypeFor(f.type, f.name)}${keys.includes(f.name) ? ' NOT NULL' : ''}`);
  const pk = keys.length > 0 ? `, PRIMARY KEY (${keys.map(quoteColumn).join(', ')})` : '';
  await exec(client, 'BEGIN', options.table);
  try {
    if (options.createTable ?? true) await exec(client, `CREATE TABLE IF NOT EXISTS ${target} (${columnDefs.join(', ')}${pk})`, options.table);
    if (mode === 'overwrite') await exec(client, `TRUNCATE ${target}`, options.table);
    if (mode === 'upsert') {
      const tmp = `shoal_upsert_${process.pid}_${Date.now().toString(36)}`;
      await exec(client, `CREATE TEMP TABLE ${tmp} (LIKE ${target} INCLUDING DEFAULTS) ON COMMIT DROP`, options.table);
      await copyInto(client, tmp, table, chunkRows, options.table);
      const cols = names.map(quoteColumn).join(', ');
      const keyList = keys.map(quoteColumn).join(', ');
      const updates = names.filter((n) => !keys.includes(n)).map((n) => `${quoteColumn(n)} = EXCLUDED.${quoteColumn(n)}`);
      await exec(
        client,
        `INSERT INTO ${target} (${cols}) SELECT DISTINCT ON (${keyList}) ${cols} FROM ${tmp} ORDER BY ${keyList}, ctid DESC ` +
          `ON CONFLICT (${keyList}) DO ${updates.length > 0 ? `UPDATE SET ${updates.join(', ')}` : 'NOTHING'}`,
        options.table,
      );
    } else {
      await copyInto(client, target, table, chunkRows, options.table);
    }
    await exec(client, 'COMMIT', options.table);
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
  return { rowsWritten: table.numRows };
}
