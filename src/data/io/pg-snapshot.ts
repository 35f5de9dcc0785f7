import type { ClientBase } from 'pg';
import { PostgresError } from '../errors.js';

export interface ExportedSnapshot {
  /** Pass to `readPostgresPartition(..., { snapshot })` on other connections. */
  readonly snapshotId: string;
  /** Ends the exporting transaction; the snapshot can no longer be imported afterwards. */
  release(): Promise<void>;
}

/**
 * Opens a REPEATABLE READ transaction on `client` and exports its snapshot (`pg_export_snapshot()`).
 * Partition reads that import it see one consistent state of the database, whatever commits in
 * between. Keep `client` open and call `release()` after every partition has started reading.
 */
export async function exportSnapshot(client: ClientBase): Promise<ExportedSnapshot> {
  try {
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    const r = await client.query<{ id: string }>('SELECT pg_export_snapshot() AS id');
    const snapshotId = r.rows[0]!.id;
    let released = false;
    return {
      snapshotId,
      release: async () => {
        if (released) return;
        released = true;
        await client.query('COMMIT');
      },
    };
  } catch (cause) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw new PostgresError(`cannot export snapshot: ${cause instanceof Error ? cause.message : String(cause)}`, 'SELECT pg_export_snapshot()', undefined, { cause });
  }
}
