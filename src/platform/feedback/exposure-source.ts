/**
 * Reading serving's exposure log back for the feedback loop: the Parquet dataset the ingress writes
 * (a folder of part files) or the PostgreSQL table, optionally cut to a time range. The exposure log
 * is small per request (an id, a time, a user, a few item ids), so a month of it fits a driver; the
 * join itself (online-metrics.ts) is a single pass.
 */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import pg from 'pg';
import { readParquetFile } from '../../data/index.js';
import { MonitoringInputError } from '../errors.js';
import type { Exposure } from './online-metrics.js';

/** Where the exposure log is: a Parquet folder (`ParquetExposureLog`) or a PostgreSQL table (`PostgresExposureLog`). */
export type ExposureSource = { dir: string } | { url: string; table: string };

/** Exposures in [from, to) (epoch ms; either end open), in time order. */
export async function readExposures(source: ExposureSource, range: { from?: number | undefined; to?: number | undefined } = {}): Promise<Exposure[]> {
  const from = range.from ?? -Infinity;
  const to = range.to ?? Infinity;
  const out: Exposure[] = [];
  if ('dir' in source) {
    let files: string[];
    try {
      files = (await readdir(source.dir)).filter((f) => f.endsWith('.parquet')).sort();
    } catch (err) {
      throw new MonitoringInputError('exposures', source.dir, `the exposure log folder ${source.dir} cannot be read: ${(err as Error).message}`);
    }
    for (const f of files) {
      const t = await readParquetFile(join(source.dir, f));
      const col = (name: string) => {
        const c = t.getChild(name);
        if (!c) throw new MonitoringInputError('exposures', name, `${join(source.dir, f)} has no column '${name}': not an exposure log part file`);
        return c;
      };
      const [rid, time, user, items, version, arm] = ['request_id', 'time_ms', 'user', 'items', 'model_version', 'arm'].map(col) as [
        ReturnType<typeof col>, ReturnType<typeof col>, ReturnType<typeof col>, ReturnType<typeof col>, ReturnType<typeof col>, ReturnType<typeof col>,
      ];
      for (let i = 0; i < t.numRows; i++) {
        const timeMs = Number(time.get(i));
        if (timeMs < from || timeMs >= to) continue;
        const list = items.get(i) as { toArray(): unknown[] } | null;
        out.push({
          requestId: String(rid.get(i)), timeMs, user: String(user.get(i)), items: list ? list.toArray().map(String) : [],
          modelVersion: String(version.get(i)), arm: String(arm.get(i)),
        });
      }
    }
  } else {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(source.table)) throw new MonitoringInputError('exposures', source.table, `exposure table name must be an identifier (got ${source.table})`);
    const client = new pg.Client({ connectionString: source.url });
    await client.connect();
    try {
      const res = await client.query<{ request_id: string; time_ms: number; user: string; items: string[]; model_version: string; arm: string }>(
        `SELECT request_id, time_ms, "user", items, model_version, arm FROM ${source.table} WHERE time_ms >= $1 AND time_ms < $2 ORDER BY time_ms`,
        [Number.isFinite(from) ? from : -1e300, Number.isFinite(to) ? to : 1e300],
      );
      for (const r of res.rows) out.push({ requestId: r.request_id, timeMs: Number(r.time_ms), user: r.user, items: r.items, modelVersion: r.model_version, arm: r.arm });
    } finally {
      await client.end();
    }
  }
  return out.sort((a, b) => a.timeMs - b.timeMs);
}
