/**
 * Reads one partition query from PostgreSQL into Arrow through `COPY (…) TO STDOUT (FORMAT binary)`:
 * the server sends typed binary values with no per-row protocol messages, and pg-binary-copy.ts
 * decodes them straight into Arrow buffers, batch by batch, so a large partition never exists as JS
 * row objects or strings. A zero-row probe of the query gives the column types first; columns
 * without a binary decoder here are cast by the server (numeric → float8, others → text).
 * The read runs in a REPEATABLE READ, READ ONLY transaction; with `snapshot` (from `exportSnapshot`)
 * every partition sees the same database state, like a single consistent scan.
 */
import * as arrow from 'apache-arrow';
import type { ClientBase, FieldDef, QueryResult } from 'pg';
import { copyOut } from './pg-copy-out.js';
import { invalidOption, PostgresError } from '../errors.js';
import { arrowTypeOf } from '../types/logical-type.js';
import { BinaryCopyDecoder } from './pg-binary-copy.js';
import { quoteColumn } from './pg-partition-queries.js';
import { type Int8Mode, pgColumnRead } from './pg-types.js';

export interface PgReadOptions {
  /** Rows per Arrow record batch. @default 10_000 */
  readonly fetchSize?: number;
  /** Snapshot id from `exportSnapshot`; the read sees exactly that snapshot. */
  readonly snapshot?: string;
  /** How to read int8/bigint: exact Int64 (BigInt in Arrow JS) or Float64. @default 'int64' */
  readonly int8As?: Int8Mode;
}

const RAW_TEXT = { getTypeParser: () => (v: string) => v } as const;
const SNAPSHOT_RE = /^[0-9A-F]+-[0-9A-F]+-[0-9]+$/i;

function pgError(cause: unknown, sql: string): PostgresError {
  return new PostgresError(`PostgreSQL error: ${cause instanceof Error ? cause.message : String(cause)} (in: ${sql.slice(0, 200)})`, sql, undefined, { cause });
}

/** Runs `text` (simple protocol; several statements allowed) and returns the last result's fields. */
async function run(client: ClientBase, text: string, sql = text): Promise<FieldDef[]> {
  try {
    const r = (await client.query({ text, rowMode: 'array', types: RAW_TEXT })) as unknown as QueryResult | QueryResult[];
    return (Array.isArray(r) ? r[r.length - 1]! : r).fields;
  } catch (cause) {
    throw pgError(cause, sql);
  }
}

const describe = (source: string): string => `SELECT * FROM (${source}) AS shoal_describe LIMIT 0`;

/** The Arrow schema `sql`'s rows are read with (a zero-row run of the query; no transaction needed). */
export async function pgResultSchema(client: ClientBase, sql: string, int8As: Int8Mode = 'int64'): Promise<arrow.Schema> {
  const fields = await run(client, describe(sql.trim().replace(/;\s*$/, '')), sql);
  return new arrow.Schema(fields.map((f) => new arrow.Field(f.name, arrowTypeOf(pgColumnRead(f.dataTypeID, int8As).type), true)));
}

/** The COPY statement for `sql`: as is, or with casts for the columns that need them. */
function copyStatement(sql: string, casts: readonly (string | null)[]): string {
  if (casts.every((c) => c === null)) return `COPY (${sql}) TO STDOUT (FORMAT binary)`;
  // Columns are renamed positionally (c1, c2, …) so duplicate or odd result names cannot matter.
  const names = casts.map((_, i) => quoteColumn(`c${i + 1}`));
  const select = casts.map((c, i) => (c === null ? names[i]! : `${names[i]!}::${c}`)).join(', ');
  return `COPY (SELECT ${select} FROM (${sql}) AS shoal_copy(${names.join(', ')})) TO STDOUT (FORMAT binary)`;
}

/**
 * Streams the rows of `sql` as Arrow record batches of `fetchSize` rows (the last may be shorter;
 * there is always at least one, empty when the result is). Types are mapped from the result's column
 * OIDs (see pg-types.ts). The client runs one read at a time (the read is a transaction on its
 * connection). Stopping the iteration early drains the rest of the COPY before the transaction ends.
 */
export async function* readPostgresBatches(client: ClientBase, sql: string, options: PgReadOptions = {}): AsyncGenerator<arrow.RecordBatch, void, undefined> {
  const fetchSize = options.fetchSize ?? 10_000;
  if (!Number.isInteger(fetchSize) || fetchSize < 1) throw invalidOption('options.fetchSize', `must be a positive integer; got ${fetchSize}`);
  if (options.snapshot !== undefined && !SNAPSHOT_RE.test(options.snapshot)) throw invalidOption('options.snapshot', `must be a snapshot id from pg_export_snapshot(); got ${JSON.stringify(options.snapshot)}`);
  const int8 = options.int8As ?? 'int64';
  const source = sql.trim().replace(/;\s*$/, '');
  // One round trip opens the transaction and describes the result; the settings matter only for
  // columns read as their text output.
  const begin = [
    'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY',
    ...(options.snapshot !== undefined ? [`SET TRANSACTION SNAPSHOT '${options.snapshot}'`] : []),
    "SET LOCAL TimeZone = 'UTC'",
    "SET LOCAL DateStyle = 'ISO, YMD'",
    'SET LOCAL extra_float_digits = 3',
    describe(source),
  ].join('; ');
  let open = false;
  /** Resolves when an unfinished COPY has been drained; set while the COPY runs. */
  let drain: (() => Promise<void>) | undefined;
  try {
    open = true;
    const fields = await run(client, begin, sql);
    const reads = fields.map((f) => pgColumnRead(f.dataTypeID, int8));
    const decoder = new BinaryCopyDecoder(
      fields.map((f) => f.name),
      reads,
      fetchSize,
      sql,
    );
    const stream = client.query(copyOut(copyStatement(source, reads.map((r) => r.cast))));
    const settled = new Promise<void>((resolve) => {
      stream.once('end', resolve);
      stream.once('error', () => resolve());
    });
    drain = async () => {
      stream.resume();
      await settled;
    };
    try {
      // Not destroyed on an early exit: the connection must read the COPY to its end to stay usable.
      for await (const chunk of stream.iterator({ destroyOnReturn: false })) {
        for (const batch of decoder.push(chunk as Uint8Array)) yield batch;
      }
    } catch (cause) {
      throw cause instanceof PostgresError ? cause : pgError(cause, sql);
    }
    drain = undefined;
    yield decoder.end();
    await run(client, 'COMMIT', sql);
    open = false;
  } finally {
    // Abandoned mid-COPY (the consumer stopped, or decoding failed): let the server finish sending.
    if (drain !== undefined) await drain();
    if (open) await client.query('ROLLBACK').catch(() => undefined);
  }
}

/**
 * Runs `sql` and returns its rows as an Arrow table of `fetchSize`-row batches (types mapped from the
 * result's column OIDs). `options` may be just the fetch size. A client runs one read at a time (the
 * read is a transaction on its connection): give each concurrent partition its own client.
 */
export async function readPostgresPartition(client: ClientBase, sql: string, options: PgReadOptions | number = {}): Promise<arrow.Table> {
  const batches: arrow.RecordBatch[] = [];
  for await (const b of readPostgresBatches(client, sql, typeof options === 'number' ? { fetchSize: options } : options)) batches.push(b);
  // Drop empty batches unless the result is empty (the schema travels with the batch).
  const rows = batches.filter((b) => b.numRows > 0);
  return new arrow.Table(rows.length > 0 ? rows : batches.slice(-1));
}
