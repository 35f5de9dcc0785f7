/**
 * The exposure log's PostgreSQL sink against the real server (127.0.0.1:5432, db `test`; skipped
 * locally when unreachable, FAILS when CI is set): batched multi-row inserts into a table it creates,
 * rows equal to the records (items in order), the count written, and a bad table name refused.
 */
import type pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { PostgresExposureLog, type ExposureRecord } from 'shoal/serve';
import { connectTestPostgres, uniqueTable } from '../../harness/postgres.js';
import { NO_POSTGRES, skipBecause } from '../../harness/skip.js';

let client: pg.Client | undefined;
const table = uniqueTable('exposures_it');

beforeAll(async () => {
  client = await connectTestPostgres();
});
afterAll(async () => {
  await client?.query(`DROP TABLE IF EXISTS ${table}`).catch(() => undefined);
  await client?.end();
});

const urlOf = (c: pg.Client): string => `postgres://${encodeURIComponent(c.user ?? 'postgres')}@${c.host}:${c.port}/${c.database ?? 'test'}`;

it('appends every record in batches; the rows equal the records, items in order', async (ctx) => {
  if (!client) skipBecause(ctx, NO_POSTGRES);
  const log = new PostgresExposureLog(urlOf(client), table, { batchSize: 3, flushIntervalMs: 60_000 });
  const records: ExposureRecord[] = Array.from({ length: 7 }, (_, i) => ({
    requestId: `req-${i}`, timeMs: 1_700_000_000_000 + i, user: `user-${i % 3}`, items: [`l${i}`, `l${i + 10}`, `l${i + 20}`],
    modelVersion: i < 4 ? 'v1' : 'v2', arm: i % 2 ? 'canary' : 'stable', scores: i === 5 ? null : [0.5 + i, 0.25, -1],
  }));
  for (const r of records) log.append(r);
  expect(await log.close()).toBe(7);
  const { rows } = await client.query<{ request_id: string; time_ms: number; user: string; items: string[]; model_version: string; arm: string; scores: number[] | null }>(
    `SELECT request_id, time_ms, "user", items, model_version, arm, scores FROM ${table} ORDER BY request_id`,
  );
  expect(rows).toEqual(records.map((r) => ({ request_id: r.requestId, time_ms: r.timeMs, user: r.user, items: r.items, model_version: r.modelVersion, arm: r.arm, scores: r.scores })));
});

it('refuses a table name that is not an identifier, naming it', () => {
  expect(() => new PostgresExposureLog('postgres://127.0.0.1/test', 'x; DROP TABLE y')).toThrow(/exposure table name must be an identifier \(got x; DROP TABLE y\)/);
});
