/**
 * The store in PostgreSQL (`SHOAL_METADATA_URL=postgres://user@host:5432/db?schema=name`): the same
 * tables as on SQLite, in one schema (default `shoal_store`), through a small pool. Statements are
 * written with `?` placeholders and numbered here. BIGINT columns come back as numbers (they hold
 * millisecond times and steps, far below 2^53).
 */
import pg from 'pg';
import { StoreUnavailableError } from '../errors.js';
import type { SqlBackend, SqlExecutor, SqlRow, SqlValue } from './sql-backend.js';

const CONNECT_TIMEOUT_MS = 5_000;
/** Rows per multi-row INSERT (well under PostgreSQL's 65535 parameters). */
const INSERT_CHUNK = 2_000;

// int8 (20) and numeric (1700) as JavaScript numbers.
const types = {
  getTypeParser: (oid: number, format?: 'text' | 'binary') => (oid === 20 || oid === 1700 ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format ?? 'text')),
};

/** `?` → `$1, $2, ...` (statements here never hold a literal `?`). */
function numbered(sql: string): string {
  let i = 0;
  return sql.replace(/\?/g, () => `$${++i}`);
}

function executor(q: (text: string, params: readonly SqlValue[]) => Promise<pg.QueryResult>): SqlExecutor {
  return {
    dialect: 'postgres',
    all: async <R>(sql: string, params: readonly SqlValue[] = []) => (await q(numbered(sql), params)).rows as R[],
    get: async <R>(sql: string, params: readonly SqlValue[] = []) => (await q(numbered(sql), params)).rows[0] as R | undefined,
    run: async (sql: string, params: readonly SqlValue[] = []) => (await q(numbered(sql), params)).rowCount ?? 0,
    insertMany: async (table, columns, rows, onConflict = '') => {
      for (let at = 0; at < rows.length; at += INSERT_CHUNK) {
        const chunk = rows.slice(at, at + INSERT_CHUNK);
        const values = chunk.map((_, r) => `(${columns.map((__, c) => `$${r * columns.length + c + 1}`).join(', ')})`).join(', ');
        await q(`INSERT INTO ${table} (${columns.join(', ')}) VALUES ${values} ${onConflict}`, chunk.flat());
      }
    },
  };
}

export class PostgresBackend implements SqlBackend {
  readonly dialect = 'postgres' as const;
  readonly description: string;
  readonly schema: string;
  private readonly pool: pg.Pool;
  private readonly direct: SqlExecutor;

  constructor(url: string) {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch (err) {
      throw new StoreUnavailableError(url.replace(/:[^:@/]*@/, ':***@'), 'it is not a valid PostgreSQL URL (postgres://user@host:port/database?schema=name)', { cause: err });
    }
    this.schema = parsed.searchParams.get('schema') ?? 'shoal_store';
    parsed.searchParams.delete('schema');
    const connectionString = parsed.toString();
    if (parsed.password) parsed.password = '***';
    this.description = `PostgreSQL ${parsed.toString()} (schema ${this.schema})`;
    if (!/^[A-Za-z_][A-Za-z0-9_]{0,62}$/.test(this.schema)) {
      throw new StoreUnavailableError(this.description, `schema ${JSON.stringify(this.schema)} must be a plain identifier (letters, digits, _)`);
    }
    const schema = this.schema;
    this.pool = new pg.Pool({ connectionString, connectionTimeoutMillis: CONNECT_TIMEOUT_MS, max: 4, types, options: `-c search_path=${schema}` });
    this.pool.on('error', () => undefined); // an idle client's broken link: the next query reconnects
    this.direct = executor((text, params) => this.pool.query(text, params as SqlValue[]));
  }

  /** Creates the schema (before any table of it is touched); refuses an unreachable server clearly. */
  async connect(): Promise<void> {
    try {
      await this.pool.query(`CREATE SCHEMA IF NOT EXISTS "${this.schema}"`);
    } catch (err) {
      const e = err as { code?: string; message: string };
      // Two stores created at once race on CREATE SCHEMA; the loser finds it made.
      if (e.code === '23505' || e.code === '42P06') return;
      throw new StoreUnavailableError(this.description, `cannot reach it: ${e.message}`, { cause: err });
    }
  }

  all<R = SqlRow>(sql: string, params?: readonly SqlValue[]): Promise<R[]> {
    return this.direct.all<R>(sql, params);
  }
  get<R = SqlRow>(sql: string, params?: readonly SqlValue[]): Promise<R | undefined> {
    return this.direct.get<R>(sql, params);
  }
  run(sql: string, params?: readonly SqlValue[]): Promise<number> {
    return this.direct.run(sql, params);
  }
  insertMany(table: string, columns: readonly string[], rows: readonly SqlValue[][], onConflict?: string): Promise<void> {
    return this.transaction((tx) => tx.insertMany(table, columns, rows, onConflict));
  }

  async transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      const out = await fn(executor((text, params) => client.query(text, params as SqlValue[])));
      await client.query('COMMIT');
      return out;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
  }

  async exec(sql: string): Promise<void> {
    await this.pool.query(sql);
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
