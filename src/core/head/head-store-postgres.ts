/**
 * The head's store in PostgreSQL (`--store postgres://user@host:5432/db?schema=name`): the same
 * records as the SQLite store, in two tables of one schema (default `shoal`), created on first use.
 * One connection writes the queued batches in order, each in one transaction.
 */
import pg from 'pg';
import { HeadStoreError } from '../errors.js';
import {
  checkSchemaVersion, HEAD_STORE_SCHEMA_VERSION, recordsFrom, WriteBehindStore, type StoreOp, type StoredRecords,
} from './head-store.js';
import { log } from '../log.js';

/** How long to wait for the server to accept the connection. */
const CONNECT_TIMEOUT_MS = 5_000;

export class PostgresHeadStore extends WriteBehindStore {
  readonly description: string;
  private readonly connectionString: string;
  private readonly schema: string;
  private client?: pg.Client | undefined;
  private opened = false;

  constructor(url: string) {
    super();
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch (err) {
      throw new HeadStoreError(url, `it is not a valid PostgreSQL URL (postgres://user@host:port/database?schema=name)`, { cause: err });
    }
    this.schema = parsed.searchParams.get('schema') ?? 'shoal';
    parsed.searchParams.delete('schema');
    if (parsed.password) parsed.password = '***';
    this.description = `PostgreSQL ${parsed.toString()} (schema ${this.schema})`;
    if (!/^[A-Za-z_][A-Za-z0-9_]{0,62}$/.test(this.schema)) {
      throw new HeadStoreError(this.description, `schema '${this.schema}' must be a plain identifier (letters, digits, _)`);
    }
    const real = new URL(url);
    real.searchParams.delete('schema');
    this.connectionString = real.toString();
  }

  private get meta(): string {
    return `"${this.schema}".head_meta`;
  }

  private get records(): string {
    return `"${this.schema}".head_records`;
  }

  async open(): Promise<StoredRecords> {
    const client = new pg.Client({ connectionString: this.connectionString, connectionTimeoutMillis: CONNECT_TIMEOUT_MS });
    client.on('error', (err) => log.error({ err, store: this.description }, 'head store connection failed'));
    try {
      await client.connect();
    } catch (err) {
      await client.end().catch(() => undefined);
      throw new HeadStoreError(this.description, `the database refused the connection: ${(err as Error).message}`, { cause: err });
    }
    try {
      await client.query(`CREATE SCHEMA IF NOT EXISTS "${this.schema}"`);
      await client.query(`CREATE TABLE IF NOT EXISTS ${this.meta} (name TEXT PRIMARY KEY, value TEXT NOT NULL)`);
      await client.query(`CREATE TABLE IF NOT EXISTS ${this.records} (kind TEXT NOT NULL, key TEXT NOT NULL, body BYTEA NOT NULL, PRIMARY KEY (kind, key))`);
      const version = await client.query<{ value: string }>(`SELECT value FROM ${this.meta} WHERE name = 'schema_version'`);
      if (version.rows[0]) checkSchemaVersion(this.description, Number(version.rows[0].value));
      else {
        await client.query(`INSERT INTO ${this.meta} (name, value) VALUES ('schema_version', $1) ON CONFLICT (name) DO NOTHING`, [String(HEAD_STORE_SCHEMA_VERSION)]);
      }
      const rows = await client.query<{ kind: string; key: string; body: Buffer }>(`SELECT kind, key, body FROM ${this.records}`);
      this.client = client;
      this.opened = true;
      return recordsFrom(rows.rows);
    } catch (err) {
      await client.end().catch(() => undefined);
      if (err instanceof HeadStoreError) throw err;
      throw new HeadStoreError(this.description, `cannot create or read its tables: ${(err as Error).message}`, { cause: err });
    }
  }

  /** The writing connection; a new one after a failure (the server restarted, the link broke). */
  private async connection(): Promise<pg.Client> {
    if (this.client) return this.client;
    const client = new pg.Client({ connectionString: this.connectionString, connectionTimeoutMillis: CONNECT_TIMEOUT_MS });
    client.on('error', (err) => log.error({ err, store: this.description }, 'head store connection failed'));
    try {
      await client.connect();
    } catch (err) {
      await client.end().catch(() => undefined);
      throw err;
    }
    this.client = client;
    return client;
  }

  protected async writeBatch(ops: StoreOp[]): Promise<void> {
    if (!this.opened) return;
    const client = await this.connection();
    const upserts = ops.filter((o) => o.body);
    const deletes = ops.filter((o) => !o.body);
    try {
      await client.query('BEGIN');
      if (upserts.length) {
        await client.query(
          `INSERT INTO ${this.records} (kind, key, body) SELECT * FROM unnest($1::text[], $2::text[], $3::bytea[])
           ON CONFLICT (kind, key) DO UPDATE SET body = excluded.body`,
          [upserts.map((o) => o.kind), upserts.map((o) => o.key), upserts.map((o) => Buffer.from(o.body!.buffer, o.body!.byteOffset, o.body!.byteLength))],
        );
      }
      if (deletes.length) {
        await client.query(`DELETE FROM ${this.records} WHERE (kind, key) IN (SELECT * FROM unnest($1::text[], $2::text[]))`, [
          deletes.map((o) => o.kind), deletes.map((o) => o.key),
        ]);
      }
      await client.query('COMMIT');
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      // Start over on a fresh connection next time (the batch is retried by the queue).
      this.client = undefined;
      await client.end().catch(() => undefined);
      throw err;
    }
  }

  protected async closeBackend(): Promise<void> {
    this.opened = false;
    await this.client?.end().catch(() => undefined);
    this.client = undefined;
  }
}
