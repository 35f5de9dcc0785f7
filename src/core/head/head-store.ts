/**
 * Durable head state behind one small interface, so that a head killed and started again with the
 * same store gets its cluster back (like Ray's GCS tables in Redis). Two backends: a SQLite file
 * (the default, in the head's folder) and PostgreSQL (head-store-postgres.ts).
 *
 * What is stored is the metadata that changes rarely: cluster identity and token, sessions and nodes
 * seen, actors, placement groups, jobs, code bundle hashes. Tasks and objects are not: after a
 * restart the workers and drivers re-report them. Writes never wait: `put`/`delete` queue the change
 * and a batch is written after the current turn of the event loop (one transaction), so the
 * scheduler's hot path never touches the disk. Reads come from memory after `open()`.
 */
import Database from 'better-sqlite3';
import { chmodSync, existsSync } from 'node:fs';
import { HeadStoreError } from '../errors.js';
import { log } from '../log.js';
import { PRIVATE_FILE_MODE, touchPrivateFile } from '../private-files.js';
import { packMessage, unpackMessage } from '../wire/serialization.js';

/** Version of the tables' layout; a store written by a newer shoal is refused. */
export const HEAD_STORE_SCHEMA_VERSION = 1;

export interface JobRecord {
  id: string;
  status: 'PENDING' | 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'STOPPED';
  entrypoint: string;
  submittedAt: number;
  startedAt?: number | undefined;
  endedAt?: number | undefined;
  exitCode?: number | undefined;
  message?: string | undefined;
  logFile: string;
  /** The job's runner process (its own process group; the job's driver is its child). */
  pid?: number | undefined;
}

/**
 * Kinds of records; each kind is a keyed table of msgpack bodies. The `history-*` kinds are the
 * cluster's history for the dashboard (events, metric samples, last views, job output), kept under
 * a retention policy (head-events.ts, HeadHost.keep) and read back after the cluster stopped.
 */
export type RecordKind = 'meta' | 'session' | 'node' | 'actor' | 'pg' | 'job' | 'bundle' | HistoryKind;

/** Kinds of history records an extension may keep (HeadHost.keep). */
export type HistoryKind = 'history-event' | 'history-metric' | 'history-view' | 'history-job-log' | 'history-published';

/** Every record of a store, by kind then key. */
export type StoredRecords = Map<RecordKind, Map<string, unknown>>;

export interface HeadStore {
  /** What it is, for messages: a file path or a URL without password. */
  readonly description: string;
  /** Creates the tables on first use, checks the schema version, and loads every record. */
  open(): Promise<StoredRecords>;
  /** Queues an upsert (written after this turn of the event loop). */
  put(kind: RecordKind, key: string, value: unknown): void;
  /** Queues a delete. */
  delete(kind: RecordKind, key: string): void;
  /** Resolves once everything queued so far is written. */
  flush(): Promise<void>;
  close(): Promise<void>;
}

export interface StoreOp {
  kind: RecordKind;
  key: string;
  /** Packed body; undefined deletes the record. */
  body: Uint8Array | undefined;
}

/**
 * The queue shared by the backends: changes to one record coalesce (last write wins) and go out
 * as one batch; a failed batch is retried (a database that restarts must not lose the head's state).
 */
export abstract class WriteBehindStore implements HeadStore {
  abstract readonly description: string;
  private pending = new Map<string, StoreOp>();
  private writing?: Promise<void> | undefined;
  private scheduled = false;
  private closed = false;
  private failures = 0;

  abstract open(): Promise<StoredRecords>;
  /** Writes one batch in one transaction. */
  protected abstract writeBatch(ops: StoreOp[]): Promise<void> | void;
  protected abstract closeBackend(): Promise<void> | void;

  put(kind: RecordKind, key: string, value: unknown): void {
    this.queue({ kind, key, body: Uint8Array.from(packMessage(value)) });
  }

  delete(kind: RecordKind, key: string): void {
    this.queue({ kind, key, body: undefined });
  }

  private queue(op: StoreOp): void {
    if (this.closed) return;
    const k = `${op.kind}\0${op.key}`;
    this.pending.delete(k);
    this.pending.set(k, op);
    this.schedule(0);
  }

  private schedule(delayMs: number): void {
    if (this.scheduled) return;
    this.scheduled = true;
    const run = (): void => {
      this.scheduled = false;
      void this.drain();
    };
    if (delayMs > 0) setTimeout(run, delayMs).unref();
    else setImmediate(run);
  }

  private drain(): Promise<void> {
    if (this.writing || this.pending.size === 0) return this.writing ?? Promise.resolve();
    const batch = this.pending;
    this.pending = new Map();
    this.writing = (async () => {
      try {
        await this.writeBatch([...batch.values()]);
        this.failures = 0;
      } catch (err) {
        this.failures++;
        log.error({ err, store: this.description, ops: batch.size, failures: this.failures }, 'head store write failed; retrying');
        // Put the batch back under anything newer queued meanwhile.
        for (const [k, op] of batch) if (!this.pending.has(k)) this.pending.set(k, op);
        this.schedule(Math.min(5_000, 100 * 2 ** this.failures));
      } finally {
        this.writing = undefined;
      }
      if (this.pending.size > 0 && this.failures === 0) this.schedule(0);
    })();
    return this.writing;
  }

  async flush(): Promise<void> {
    for (let i = 0; i < 50 && (this.pending.size > 0 || this.writing); i++) {
      await (this.writing ?? this.drain());
      if (this.failures > 0) break;
    }
  }

  async close(): Promise<void> {
    await this.flush();
    this.closed = true;
    await this.closeBackend();
  }
}

/** Groups loaded rows into records, unpacking bodies. */
export function recordsFrom(rows: Iterable<{ kind: string; key: string; body: Uint8Array }>): StoredRecords {
  const out: StoredRecords = new Map();
  for (const r of rows) {
    let table = out.get(r.kind as RecordKind);
    if (!table) out.set(r.kind as RecordKind, (table = new Map()));
    table.set(r.key, unpackMessage(r.body));
  }
  return out;
}

/** The refusal of a store written by a newer shoal. */
export function checkSchemaVersion(store: string, found: number): void {
  if (!Number.isInteger(found) || found < 1) {
    throw new HeadStoreError(store, `its schema version '${String(found)}' is not a version shoal writes; is it a shoal head store?`);
  }
  if (found > HEAD_STORE_SCHEMA_VERSION) {
    throw new HeadStoreError(
      store,
      `it was written by a newer shoal (schema version ${found}); this shoal reads up to version ${HEAD_STORE_SCHEMA_VERSION}. Start the head with that shoal, or with another --store`,
    );
  }
}

export class SqliteHeadStore extends WriteBehindStore {
  readonly description: string;
  private db?: Database.Database;

  constructor(private readonly path: string) {
    super();
    this.description = `SQLite file ${path}`;
  }

  open(): Promise<StoredRecords> {
    try {
      // SQLite gives its -wal and -shm files the mode of the database file: make that 0600 first.
      makePrivate(this.path);
      const db = new Database(this.path);
      this.db = db;
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      db.exec(`CREATE TABLE IF NOT EXISTS head_meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
        CREATE TABLE IF NOT EXISTS head_records (kind TEXT NOT NULL, key TEXT NOT NULL, body BLOB NOT NULL, PRIMARY KEY (kind, key))`);
      const row = db.prepare(`SELECT value FROM head_meta WHERE name = 'schema_version'`).get() as { value: string } | undefined;
      if (row) checkSchemaVersion(this.description, Number(row.value));
      else db.prepare(`INSERT INTO head_meta (name, value) VALUES ('schema_version', ?)`).run(String(HEAD_STORE_SCHEMA_VERSION));
      const rows = db.prepare('SELECT kind, key, body FROM head_records').all() as Array<{ kind: string; key: string; body: Uint8Array }>;
      return Promise.resolve(recordsFrom(rows));
    } catch (err) {
      this.db?.close();
      this.db = undefined;
      if (err instanceof HeadStoreError) return Promise.reject(err);
      const code = (err as { code?: string }).code ?? '';
      const reason = code === 'SQLITE_NOTADB' || code === 'SQLITE_CORRUPT'
        ? `it is not a readable SQLite database (${(err as Error).message}); the file is corrupt or not a head store`
        : code === 'SQLITE_CANTOPEN'
          ? `cannot open it (${(err as Error).message}); check that the path is a writable file`
          : `cannot read it: ${(err as Error).message}`;
      return Promise.reject(new HeadStoreError(this.description, reason, { cause: err }));
    }
  }

  protected writeBatch(ops: StoreOp[]): void {
    const db = this.db;
    if (!db) return;
    const upsert = db.prepare('INSERT INTO head_records (kind, key, body) VALUES (?, ?, ?) ON CONFLICT(kind, key) DO UPDATE SET body = excluded.body');
    const del = db.prepare('DELETE FROM head_records WHERE kind = ? AND key = ?');
    db.transaction(() => {
      for (const op of ops) {
        if (op.body) upsert.run(op.kind, op.key, Buffer.from(op.body.buffer, op.body.byteOffset, op.body.byteLength));
        else del.run(op.kind, op.key);
      }
    })();
  }

  protected closeBackend(): void {
    this.db?.close();
    this.db = undefined;
  }
}

/** Makes a SQLite file (and its WAL and shared-memory files, if any) 0600; leaves paths it cannot open to SQLite's error. */
function makePrivate(path: string): void {
  try {
    touchPrivateFile(path);
  } catch {
    return; // a folder, a missing parent: SQLite says what is wrong
  }
  for (const extra of [`${path}-wal`, `${path}-shm`, `${path}-journal`]) if (existsSync(extra)) chmodSync(extra, PRIVATE_FILE_MODE);
}

