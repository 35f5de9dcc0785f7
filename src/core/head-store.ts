/**
 * Durable head state behind one small interface. The embedded default is a SQLite file in the
 * head's folder (better-sqlite3); the job table is what survives a head restart today.
 */
import Database from 'better-sqlite3';

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
  pid?: number | undefined;
}

export interface HeadStore {
  saveJob(job: JobRecord): void;
  listJobs(): JobRecord[];
  getJob(id: string): JobRecord | undefined;
  close(): void;
}

export class SqliteHeadStore implements HeadStore {
  private readonly db: Database.Database;

  constructor(path: string) {
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    this.db.exec(`CREATE TABLE IF NOT EXISTS jobs (id TEXT PRIMARY KEY, body TEXT NOT NULL, submitted_at INTEGER NOT NULL)`);
  }

  saveJob(job: JobRecord): void {
    this.db
      .prepare('INSERT INTO jobs (id, body, submitted_at) VALUES (?, ?, ?) ON CONFLICT(id) DO UPDATE SET body = excluded.body')
      .run(job.id, JSON.stringify(job), job.submittedAt);
  }

  listJobs(): JobRecord[] {
    return (this.db.prepare('SELECT body FROM jobs ORDER BY submitted_at').all() as { body: string }[]).map((r) => JSON.parse(r.body));
  }

  getJob(id: string): JobRecord | undefined {
    const row = this.db.prepare('SELECT body FROM jobs WHERE id = ?').get(id) as { body: string } | undefined;
    return row ? JSON.parse(row.body) : undefined;
  }

  close(): void {
    this.db.close();
  }
}
