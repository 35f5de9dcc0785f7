/**
 * The exposure log: every answered request's (request id, time, user, items shown in order, model
 * version, arm, and the items' scores when the answer gave them), appended off the request path in batches — to a Parquet dataset (one part file per
 * flush) by default, or a PostgreSQL table. The feedback loop's input. A crash loses at most the
 * records not yet flushed; `close()` flushes them and says how many were written.
 */
import { mkdirSync } from 'node:fs';
import { rename } from 'node:fs/promises';
import { join } from 'node:path';
import * as arrow from 'apache-arrow';
import pg from 'pg';
import { writeParquetFile } from '../data/index.js';
import { InvalidOptionError } from './errors.js';
import { serveLog } from './log.js';
import type { ExposureRecord } from './serve-types.js';

/** Where the ingress appends answered requests. `append` never blocks the request. */
export interface ExposureSink {
  append(record: ExposureRecord): void;
  /** Writes what is buffered now. */
  flush(): Promise<void>;
  /** Flushes and stops; resolves to the number of records written in total. */
  close(): Promise<number>;
}

export interface ExposureLogOptions {
  /** Flush when this many records are buffered. @default 1000 */
  batchSize?: number;
  /** Flush at least this often. @default 1000 */
  flushIntervalMs?: number;
  /** Buffered records past which new ones are dropped (and counted) rather than growing memory. @default 100000 */
  maxBuffered?: number;
}

abstract class BatchedSink implements ExposureSink {
  private buffer: ExposureRecord[] = [];
  private readonly timer: NodeJS.Timeout;
  private chain: Promise<void> = Promise.resolve();
  written = 0;
  dropped = 0;
  private readonly batchSize: number;
  private readonly maxBuffered: number;

  constructor(options: ExposureLogOptions) {
    this.batchSize = options.batchSize ?? 1000;
    this.maxBuffered = options.maxBuffered ?? 100_000;
    this.timer = setInterval(() => void this.flush(), options.flushIntervalMs ?? 1000);
    this.timer.unref();
  }

  protected abstract write(records: ExposureRecord[]): Promise<void>;

  append(record: ExposureRecord): void {
    if (this.buffer.length >= this.maxBuffered) {
      this.dropped++;
      return;
    }
    this.buffer.push(record);
    if (this.buffer.length >= this.batchSize) void this.flush();
  }

  flush(): Promise<void> {
    const batch = this.buffer;
    if (!batch.length) return this.chain;
    this.buffer = [];
    this.chain = this.chain.then(async () => {
      try {
        await this.write(batch);
        this.written += batch.length;
      } catch (err) {
        serveLog.error({ err: String(err), records: batch.length }, 'exposure log: a batch could not be written and is lost');
      }
    });
    return this.chain;
  }

  async close(): Promise<number> {
    clearInterval(this.timer);
    await this.flush();
    if (this.buffer.length) await this.flush();
    if (this.dropped) serveLog.warn({ dropped: this.dropped }, 'exposure log dropped records: its buffer was full');
    return this.written;
  }
}

/**
 * Parquet dataset: a folder of `part-<ms>-<n>.parquet` files, one per flushed batch. Each is written
 * under a `.tmp` name and renamed when complete, so a crash mid-write leaves no truncated part that
 * would make the dataset unreadable (readers take `.parquet` files only).
 */
export class ParquetExposureLog extends BatchedSink {
  private seq = 0;
  constructor(readonly dir: string, options: ExposureLogOptions = {}) {
    super(options);
    mkdirSync(dir, { recursive: true });
  }

  protected async write(records: ExposureRecord[]): Promise<void> {
    const table = new arrow.Table({
      request_id: arrow.vectorFromArray(records.map((r) => r.requestId), new arrow.Utf8()),
      time_ms: arrow.vectorFromArray(records.map((r) => r.timeMs), new arrow.Float64()),
      user: arrow.vectorFromArray(records.map((r) => r.user), new arrow.Utf8()),
      items: arrow.vectorFromArray(records.map((r) => r.items), new arrow.List(new arrow.Field('item', new arrow.Utf8(), true))),
      model_version: arrow.vectorFromArray(records.map((r) => r.modelVersion), new arrow.Utf8()),
      arm: arrow.vectorFromArray(records.map((r) => r.arm), new arrow.Utf8()),
      scores: arrow.vectorFromArray(records.map((r) => r.scores ?? null), new arrow.List(new arrow.Field('score', new arrow.Float64(), true))),
    });
    const path = join(this.dir, `part-${Date.now()}-${String(this.seq++).padStart(6, '0')}.parquet`);
    await writeParquetFile(`${path}.tmp`, table);
    await rename(`${path}.tmp`, path);
  }
}

/** A PostgreSQL table (created if missing): one multi-row INSERT per flushed batch. */
export class PostgresExposureLog extends BatchedSink {
  private readonly pool: pg.Pool;
  private created: Promise<unknown> | undefined;
  constructor(readonly connectionString: string, readonly table: string, options: ExposureLogOptions = {}) {
    // Checked before super() starts the flush timer: a refused name leaves nothing running.
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(table)) throw new InvalidOptionError(`exposure table name must be an identifier (got ${table})`, { option: 'table' });
    super(options);
    this.pool = new pg.Pool({ connectionString, max: 2 });
  }

  protected async write(records: ExposureRecord[]): Promise<void> {
    // A table made before scores were logged gets the column.
    this.created ??= this.pool.query(
      `CREATE TABLE IF NOT EXISTS ${this.table} (request_id text PRIMARY KEY, time_ms double precision, "user" text, items text[], model_version text, arm text, scores double precision[]);
       ALTER TABLE ${this.table} ADD COLUMN IF NOT EXISTS scores double precision[]`,
    );
    await this.created;
    const values: unknown[] = [];
    const rows = records.map((r, i) => {
      values.push(r.requestId, r.timeMs, r.user, r.items, r.modelVersion, r.arm, r.scores ?? null);
      return `(${Array.from({ length: 7 }, (_, c) => `$${i * 7 + c + 1}`).join(',')})`;
    });
    await this.pool.query(`INSERT INTO ${this.table} (request_id, time_ms, "user", items, model_version, arm, scores) VALUES ${rows.join(',')}`, values);
  }

  override async close(): Promise<number> {
    const n = await super.close();
    await this.pool.end();
    return n;
  }
}
