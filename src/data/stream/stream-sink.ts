/**
 * The sink side of streaming: a sink writes a micro-batch's rows and the query's checkpoint (the
 * source offset the rows come up to, and the watermark) in one atomic step, and tells the query
 * the checkpoint it holds when the query starts. That is what makes a stream exactly-once: after a
 * crash anywhere, either the batch and its offset are both in the sink (the source then drops the
 * re-delivered records at or before it) or neither is (the records are applied again, once).
 */
import pg from 'pg';
import { optionRules } from '../../core/index.js';
import { StreamQueryError } from '../errors.js';
import type { PgConnection } from './stream-source.js';

/** What a query stores with each batch. */
export interface StreamCheckpoint {
  /** Source offset of the last record of the batch. */
  offset: string;
  /** Event-time watermark after the batch (ms since the epoch), when the query has one. */
  watermarkMs?: number | undefined;
}

/** An exactly-once sink (see the file header). */
export interface StreamSink<Row = Record<string, unknown>> {
  /** The checkpoint stored for (query, source), or undefined before the first batch. */
  checkpoint(query: string, source: string): Promise<StreamCheckpoint | undefined>;
  /** Writes `rows` and the checkpoint atomically. */
  write(query: string, source: string, rows: readonly Row[], checkpoint: StreamCheckpoint): Promise<void>;
  close(): Promise<void>;
}

/** Options of {@link PostgresUpsertSink}. */
export interface PostgresUpsertSinkOptions {
  connection: PgConnection;
  /** Target table (`name` or `schema.name`); it must exist, with a unique constraint on `key`. */
  table: string;
  /** Key columns: a row whose key exists updates it. */
  key: readonly string[];
  /** Value columns written. @default the row's other fields, from the first row */
  columns?: readonly string[] | undefined;
  /**
   * `'replace'`: an existing row takes the new values; `'add'`: the new values are added to the
   * stored ones (running counts and sums from per-batch partial aggregates). @default 'replace'
   */
  onConflict?: 'replace' | 'add';
  /** Table of the queries' checkpoints (created when missing). @default 'shoal_stream_checkpoints' */
  checkpointTable?: string;
  /** Test hook: called between the writes and COMMIT of each batch (a crash there must lose nothing). */
  beforeCommit?: (() => Promise<void>) | undefined;
}

const IDENT = /^([A-Za-z_][A-Za-z0-9_]*\.)?[A-Za-z_][A-Za-z0-9_]*$/;
const quote = (name: string): string => name.split('.').map((p) => `"${p}"`).join('.');

/** Upserts rows into a PostgreSQL table and the query's checkpoint in the same transaction. */
export class PostgresUpsertSink<Row extends Record<string, unknown> = Record<string, unknown>> implements StreamSink<Row> {
  private readonly o: Required<Omit<PostgresUpsertSinkOptions, 'columns' | 'beforeCommit'>> & Pick<PostgresUpsertSinkOptions, 'columns' | 'beforeCommit'>;
  private client: pg.Client | undefined;
  private ready: Promise<pg.Client> | undefined;

  constructor(options: PostgresUpsertSinkOptions) {
    const r = optionRules('PostgresUpsertSink');
    const o = r.object(options as unknown as Record<string, unknown>);
    r.knownKeys(o, new Set(['connection', 'table', 'key', 'columns', 'onConflict', 'checkpointTable', 'beforeCommit']));
    const ident = (key: string, v: unknown): string => {
      if (typeof v !== 'string' || !IDENT.test(v)) r.fail(key, 'must be a table or column name (letters, digits, _; optionally schema.)', v);
      return v as string;
    };
    const idents = (key: string, v: unknown): string[] => {
      if (!Array.isArray(v) || v.length === 0) r.fail(key, 'must be a non-empty array of column names', v);
      return (v as unknown[]).map((c) => ident(key, c));
    };
    this.o = {
      connection: o.connection as PgConnection,
      table: ident('table', o.table),
      key: idents('key', o.key),
      columns: o.columns === undefined ? undefined : idents('columns', o.columns),
      onConflict: r.oneOf('onConflict', o.onConflict, ['replace', 'add'], 'replace'),
      checkpointTable: ident('checkpointTable', o.checkpointTable ?? 'shoal_stream_checkpoints'),
      beforeCommit: r.fn('beforeCommit', o.beforeCommit) as PostgresUpsertSinkOptions['beforeCommit'],
    };
  }

  private connect(): Promise<pg.Client> {
    this.ready ??= (async () => {
      const c = new pg.Client(typeof this.o.connection === 'string' ? { connectionString: this.o.connection } : this.o.connection);
      await c.connect();
      await c.query(`CREATE TABLE IF NOT EXISTS ${quote(this.o.checkpointTable)} (query text NOT NULL, source text NOT NULL, "offset" text NOT NULL, watermark_ms double precision, updated_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (query, source))`);
      this.client = c;
      return c;
    })();
    return this.ready;
  }

  async checkpoint(query: string, source: string): Promise<StreamCheckpoint | undefined> {
    const c = await this.connect();
    const r = await c.query<{ offset: string; watermark_ms: number | null }>(`SELECT "offset", watermark_ms FROM ${quote(this.o.checkpointTable)} WHERE query = $1 AND source = $2`, [query, source]);
    const row = r.rows[0];
    return row ? { offset: row.offset, watermarkMs: row.watermark_ms ?? undefined } : undefined;
  }

  async write(query: string, source: string, rows: readonly Row[], checkpoint: StreamCheckpoint): Promise<void> {
    const c = await this.connect();
    const key = this.o.key;
    const columns = this.o.columns ?? (rows[0] ? Object.keys(rows[0]).filter((k) => !key.includes(k)) : []);
    for (const col of columns) if (!IDENT.test(col)) throw new StreamQueryError(query, `column "${col}" of a row is not a plain column name`);
    const all = [...key, ...columns];
    await c.query('BEGIN');
    try {
      // Rows in chunks of one multi-row upsert each (PostgreSQL allows 65535 parameters per statement).
      const perChunk = Math.max(1, Math.floor(60_000 / all.length));
      for (let at = 0; at < rows.length; at += perChunk) {
        const chunk = rows.slice(at, at + perChunk);
        const params: unknown[] = [];
        const tuples = chunk.map((row) => {
          const ph = all.map((col) => {
            const v = row[col];
            if (v === undefined && key.includes(col)) throw new StreamQueryError(query, `a row has no value for key column "${col}"`);
            params.push(v ?? null);
            return `$${params.length}`;
          });
          return `(${ph.join(', ')})`;
        });
        const t = quote(this.o.table);
        const set = columns.map((col) => (this.o.onConflict === 'add' ? `"${col}" = ${t}."${col}" + EXCLUDED."${col}"` : `"${col}" = EXCLUDED."${col}"`));
        const conflict = set.length > 0 ? `DO UPDATE SET ${set.join(', ')}` : 'DO NOTHING';
        await c.query(`INSERT INTO ${t} (${all.map((x) => `"${x}"`).join(', ')}) VALUES ${tuples.join(', ')} ON CONFLICT (${key.map((x) => `"${x}"`).join(', ')}) ${conflict}`, params);
      }
      await c.query(
        `INSERT INTO ${quote(this.o.checkpointTable)} (query, source, "offset", watermark_ms) VALUES ($1, $2, $3, $4) ON CONFLICT (query, source) DO UPDATE SET "offset" = EXCLUDED."offset", watermark_ms = EXCLUDED.watermark_ms, updated_at = now()`,
        [query, source, checkpoint.offset, checkpoint.watermarkMs ?? null],
      );
      if (this.o.beforeCommit) await this.o.beforeCommit();
      await c.query('COMMIT');
    } catch (e) {
      await c.query('ROLLBACK').catch(() => undefined);
      if (e instanceof StreamQueryError) throw e;
      throw new StreamQueryError(query, `writing ${rows.length} rows to ${this.o.table} failed: ${(e as Error).message}`, { cause: e });
    }
  }

  async close(): Promise<void> {
    const c = this.client;
    this.client = undefined;
    this.ready = undefined;
    await c?.end().catch(() => undefined);
  }
}
