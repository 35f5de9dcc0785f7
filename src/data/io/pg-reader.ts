/**
 * Reads one partition query from PostgreSQL into an Arrow table, streaming through a server-side
 * cursor (`DECLARE … CURSOR`, `FETCH n`) so a large partition never sits in memory as row objects.
 * The read runs in a REPEATABLE READ, READ ONLY transaction; with `snapshot` (from `exportSnapshot`)
 * every partition sees the same database state, like a single consistent scan.
 */
import * as arrow from 'apache-arrow';
import type { ClientBase, FieldDef } from 'pg';
import { InvalidOptionError, PostgresError } from '../errors.js';
import { tableFromVectors } from '../kernels/take.js';
import { type LogicalType, type ScalarTypeName, isListType } from '../types/logical-type.js';
import { type Int8Mode, parsePgArray, parsePgScalar, pgLogicalType } from './pg-types.js';
import { buildVector } from './text-values.js';

export interface PgReadOptions {
  /** Rows per FETCH round trip. @default 10_000 */
  readonly fetchSize?: number;
  /** Snapshot id from `exportSnapshot`; the read sees exactly that snapshot. */
  readonly snapshot?: string;
  /** How to read int8/bigint: exact Int64 (BigInt in Arrow JS) or Float64. @default 'int64' */
  readonly int8As?: Int8Mode;
}

const RAW_TEXT = { getTypeParser: () => (v: string) => v } as const;
const SNAPSHOT_RE = /^[0-9A-F]+-[0-9A-F]+-[0-9]+$/i;
let cursorSeq = 0;

async function run(client: ClientBase, sql: string, table?: string): Promise<{ rows: unknown[][]; fields: FieldDef[] }> {
  try {
    const r = await client.query({ text: sql, rowMode: 'array', types: RAW_TEXT });
    return { rows: r.rows as unknown[][], fields: r.fields };
  } catch (cause) {
    throw new PostgresError(`PostgreSQL error: ${cause instanceof Error ? cause.message : String(cause)} (in: ${sql.slice(0, 200)})`, sql, table, { cause });
  }
}

/**
 * Runs `sql` and returns its rows as an Arrow table (types mapped from the result's column OIDs).
 * `options` may be just the fetch size. A client runs one read at a time (the read is a transaction on
 * its connection): give each concurrent partition its own client.
 */
export async function readPostgresPartition(client: ClientBase, sql: string, options: PgReadOptions | number = {}): Promise<arrow.Table> {
  if (typeof options === 'number') options = { fetchSize: options };
  const fetchSize = options.fetchSize ?? 10_000;
  if (!Number.isInteger(fetchSize) || fetchSize < 1) throw new InvalidOptionError('options.fetchSize', `must be a positive integer; got ${fetchSize}`);
  if (options.snapshot !== undefined && !SNAPSHOT_RE.test(options.snapshot)) throw new InvalidOptionError('options.snapshot', `must be a snapshot id from pg_export_snapshot(); got ${JSON.stringify(options.snapshot)}`);
  const int8 = options.int8As ?? 'int64';
  const cursor = `shoal_cursor_${process.pid}_${++cursorSeq}`;
  await run(client, 'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
  try {
    if (options.snapshot !== undefined) await run(client, `SET TRANSACTION SNAPSHOT '${options.snapshot}'`);
    await run(client, "SET LOCAL TimeZone = 'UTC'");
    await run(client, "SET LOCAL DateStyle = 'ISO, YMD'");
    await run(client, 'SET LOCAL extra_float_digits = 3');
    await run(client, `DECLARE ${cursor} NO SCROLL CURSOR FOR ${sql}`);
    let fields: FieldDef[] | undefined;
    let types: LogicalType[] = [];
    let columns: unknown[][] = [];
    let rowCount = 0;
    for (;;) {
      const r = await run(client, `FETCH FORWARD ${fetchSize} FROM ${cursor}`);
      if (fields === undefined) {
        fields = r.fields;
        types = fields.map((f) => pgLogicalType(f.dataTypeID, int8));
        columns = fields.map(() => []);
      }
      for (const row of r.rows) {
        for (let c = 0; c < types.length; c++) {
          const v = row[c];
          const t = types[c]!;
          columns[c]!.push(v === null || v === undefined ? null : isListType(t) ? parsePgArray(v as string, t.list as ScalarTypeName) : parsePgScalar(t as ScalarTypeName, v as string));
        }
      }
      rowCount += r.rows.length;
      if (r.rows.length < fetchSize) break;
    }
    await run(client, `CLOSE ${cursor}`);
    await run(client, 'COMMIT');
    const fs: arrow.Field[] = [];
    const vectors: arrow.Vector[] = [];
    (fields ?? []).forEach((f, c) => {
      const v = buildVector(types[c]!, columns[c]!);
      fs.push(new arrow.Field(f.name, v.type as arrow.DataType, true));
      vectors.push(v);
    });
    return tableFromVectors(fs, vectors, rowCount);
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
}
