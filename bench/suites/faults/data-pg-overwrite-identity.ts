/**
 * writePostgres overwrite of a table with a view, a GRANT and a COMMENT (the rental job's
 * `recommendations` swap): all three survive and the view sees the new rows (drop-and-rename lost the
 * grant and comment, and the view made the job fail after the compute).
 */
import pg from 'pg';
import { range } from 'shoal/data';
import type { Fault } from '../../lib/fault.js';

export const fault: Fault = {
  name: 'PostgreSQL overwrite of a table with a view, grant, comment',
  area: 'data',
  async run({ postgresUrl }) {
    const ran = "range(50).writePostgres({ mode: 'overwrite' }) onto a 10-row table with a view, a GRANT and a COMMENT";
    const expected = 'view, grant and comment kept; 50 rows; the view reads them';
    if (!postgresUrl) return { ran, expected, happened: 'PostgreSQL unreachable', wrongResults: 0, lostWrites: 0, leakedFiles: 0, recoverSeconds: 0, skipped: true };
    const c = new pg.Client({ connectionString: postgresUrl });
    await c.connect();
    const t = `shoal_fault_ident_${process.pid}_${Date.now().toString(36)}`;
    try {
      await c.query(`CREATE TABLE ${t} (id bigint PRIMARY KEY)`);
      await c.query(`INSERT INTO ${t} SELECT generate_series(0, 9)`);
      await c.query(`CREATE ROLE ${t}_r`);
      await c.query(`GRANT SELECT ON ${t} TO ${t}_r`);
      await c.query(`COMMENT ON TABLE ${t} IS 'kept'`);
      await c.query(`CREATE VIEW ${t}_v AS SELECT id FROM ${t}`);
      const err = await range(50).writePostgres({ url: postgresUrl, table: t, mode: 'overwrite' }).catch((e: unknown) => e);
      const row = (
        await c.query(
          `SELECT (SELECT count(*)::int FROM ${t}_v) AS v, has_table_privilege('${t}_r', '${t}', 'SELECT') AS g, obj_description('${t}'::regclass, 'pg_class') AS d`,
        )
      ).rows[0] as { v: number; g: boolean; d: string | null };
      const lost = (row.g ? 0 : 1) + (row.d === 'kept' ? 0 : 1);
      return {
        ran, expected,
        happened: `${err instanceof Error ? `failed: ${err.message}` : 'written'}; view reads ${row.v} rows; grant ${row.g ? 'kept' : 'LOST'}; comment ${row.d === 'kept' ? 'kept' : 'LOST'}`,
        wrongResults: row.v === 50 ? 0 : 1,
        lostWrites: lost,
        leakedFiles: 0,
        recoverSeconds: 0,
      };
    } finally {
      await c.query(`DROP TABLE IF EXISTS ${t} CASCADE`).catch(() => undefined);
      await c.query(`DROP ROLE IF EXISTS ${t}_r`).catch(() => undefined);
      await c.end();
    }
  },
};
