/**
 * The store on a SQLite file (better-sqlite3). Several processes on one host may open the same file
 * (the driver, and tasks logging from worker processes): WAL mode lets readers run beside the one
 * writer, `busy_timeout` makes a writer wait for the lock instead of failing, and transactions take
 * the write lock first (BEGIN IMMEDIATE) so two of them never deadlock upgrading a read lock.
 * better-sqlite3 is synchronous; an async transaction holds a queue so nothing of this thread
 * interleaves with it. The queue is per file, shared by every connection of this thread: a second
 * connection's BEGIN IMMEDIATE waiting synchronously for the first one's lock would block the very
 * event loop the first one needs to commit.
 */
import Database from 'better-sqlite3';
import { chmodSync, existsSync } from 'node:fs';
import { dirname } from 'node:path';
import { makePrivateDir, touchPrivateFile, PRIVATE_FILE_MODE } from '../../core/index.js';
import { StoreUnavailableError } from '../errors.js';
import type { SqlBackend, SqlExecutor, SqlRow, SqlValue } from './sql-backend.js';

/** How long a writer waits for another process's write lock before failing. */
const BUSY_TIMEOUT_MS = 30_000;

/** Per file: the tail of the queue of this thread's statements and transactions on it. */
const queues = new Map<string, Promise<unknown>>();

export class SqliteBackend implements SqlBackend {
  readonly dialect = 'sqlite' as const;
  readonly description: string;
  private readonly db: Database.Database;
  private readonly statements = new Map<string, Database.Statement>();

  constructor(readonly path: string) {
    this.description = `SQLite file ${path}`;
    try {
      makePrivateDir(dirname(path));
      touchPrivateFile(path);
      for (const extra of [`${path}-wal`, `${path}-shm`]) if (existsSync(extra)) chmodSync(extra, PRIVATE_FILE_MODE);
      this.db = new Database(path);
      this.db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
      this.db.pragma('journal_mode = WAL');
      this.db.pragma('synchronous = NORMAL');
      this.db.pragma('foreign_keys = ON');
    } catch (err) {
      throw new StoreUnavailableError(this.description, `cannot open it: ${(err as Error).message}`, { cause: err });
    }
  }

  private stmt(sql: string): Database.Statement {
    let s = this.statements.get(sql);
    if (!s) {
      s = this.db.prepare(sql);
      this.statements.set(sql, s);
    }
    return s;
  }

  /** Runs `fn` after everything queued before it (the executor's own statements skip the queue). */
  private serial<T>(fn: () => Promise<T> | T): Promise<T> {
    const next = (queues.get(this.path) ?? Promise.resolve()).then(fn, fn);
    const tail = next.catch(() => undefined);
    queues.set(this.path, tail);
    void tail.then(() => {
      if (queues.get(this.path) === tail) queues.delete(this.path);
    });
    return next;
  }

  private readonly direct: SqlExecutor = {
    dialect: 'sqlite',
    all: <R>(sql: string, params: readonly SqlValue[] = []) => Promise.resolve(this.stmt(sql).all(...params) as R[]),
    get: <R>(sql: string, params: readonly SqlValue[] = []) => Promise.resolve(this.stmt(sql).get(...params) as R | undefined),
    run: (sql: string, params: readonly SqlValue[] = []) => Promise.resolve(this.stmt(sql).run(...params).changes),
    insertMany: (table, columns, rows, onConflict = '') => {
      if (rows.length === 0) return Promise.resolve();
      const s = this.stmt(`INSERT INTO ${table} (${columns.join(', ')}) VALUES (${columns.map(() => '?').join(', ')}) ${onConflict}`);
      this.db.transaction(() => {
        for (const r of rows) s.run(...r);
      })();
      return Promise.resolve();
    },
  };

  all<R = SqlRow>(sql: string, params?: readonly SqlValue[]): Promise<R[]> {
    return this.serial(() => this.direct.all<R>(sql, params));
  }
  get<R = SqlRow>(sql: string, params?: readonly SqlValue[]): Promise<R | undefined> {
    return this.serial(() => this.direct.get<R>(sql, params));
  }
  run(sql: string, params?: readonly SqlValue[]): Promise<number> {
    return this.serial(() => this.direct.run(sql, params));
  }
  insertMany(table: string, columns: readonly string[], rows: readonly SqlValue[][], onConflict?: string): Promise<void> {
    return this.serial(() => this.direct.insertMany(table, columns, rows, onConflict));
  }

  transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    return this.serial(async () => {
      this.stmt('BEGIN IMMEDIATE').run();
      try {
        const tx: SqlExecutor = {
          ...this.direct,
          // Inside a transaction, many rows go in one by one (a nested better-sqlite3 transaction is a savepoint).
          insertMany: (table, columns, rows, onConflict = '') => {
            const s = rows.length ? this.stmt(`INSERT INTO ${table} (${columns.join(', ')}) VALUES (${columns.map(() => '?').join(', ')}) ${onConflict}`) : undefined;
            for (const r of rows) s!.run(...r);
            return Promise.resolve();
          },
        };
        const out = await fn(tx);
        this.stmt('COMMIT').run();
        return out;
      } catch (err) {
        if (this.db.inTransaction) this.stmt('ROLLBACK').run();
        throw err;
      }
    });
  }

  exec(sql: string): Promise<void> {
    return this.serial(() => {
      this.db.exec(sql);
    });
  }

  close(): Promise<void> {
    return this.serial(() => {
      this.statements.clear();
      if (this.db.open) this.db.close();
    });
  }
}
