/**
 * The one backend interface of the platform store: a small SQL executor that both SQLite and
 * PostgreSQL implement, so that every query of the store (tracking, registry, lineage) is written
 * once. Statements use `?` placeholders (the PostgreSQL backend numbers them); the few spots where
 * the dialects differ ask `dialect`. A transaction sees its own writes and is all-or-nothing; on
 * SQLite it takes the write lock up front (BEGIN IMMEDIATE), on PostgreSQL it holds one connection.
 */

/** A value a statement takes or returns. */
export type SqlValue = string | number | null;

/** A row as returned: column name → value (numbers come back as numbers on both backends). */
export type SqlRow = Record<string, SqlValue>;

/** What statements run on: the backend itself, or a transaction of it. */
export interface SqlExecutor {
  readonly dialect: 'sqlite' | 'postgres';
  all<R = SqlRow>(sql: string, params?: readonly SqlValue[]): Promise<R[]>;
  get<R = SqlRow>(sql: string, params?: readonly SqlValue[]): Promise<R | undefined>;
  /** Runs a statement; resolves with the number of rows it changed. */
  run(sql: string, params?: readonly SqlValue[]): Promise<number>;
  /** Inserts many rows into `table` (columns in order), in as few statements as the backend allows. */
  insertMany(table: string, columns: readonly string[], rows: readonly SqlValue[][], onConflict?: string): Promise<void>;
}

export interface SqlBackend extends SqlExecutor {
  /** What it is, for messages: a file path or a URL without password. */
  readonly description: string;
  /** Runs `fn` in one transaction: committed when it resolves, rolled back when it throws. */
  transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T>;
  /** Runs DDL (several statements separated by `;`). */
  exec(sql: string): Promise<void>;
  close(): Promise<void>;
}

/** `FOR UPDATE` on PostgreSQL (locks the rows read in a transaction); nothing on SQLite, whose transactions hold the write lock already. */
export const forUpdate = (db: SqlExecutor): string => (db.dialect === 'postgres' ? ' FOR UPDATE' : '');
