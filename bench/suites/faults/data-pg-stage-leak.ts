/** A killed writer's `<table>_shoal_stage_*` table (no live session holds its lock) is dropped by the next write to the table. */
import pg from 'pg';
import { range } from 'shoal/data';
import type { Fault } from '../../lib/fault.js';

export const fault: Fault = {
  name: 'PostgreSQL staging table of a killed writer',
  area: 'data',
  async run({ postgresUrl }) {
    const ran = 'a recommendations-like table with two staging tables left by a killed run, then one overwrite';
    const expected = 'both staging tables dropped by the overwrite';
    if (!postgresUrl) return { ran, expected, happened: 'PostgreSQL unreachable', wrongResults: 0, lostWrites: 0, leakedFiles: 0, recoverSeconds: 0, skipped: true };
    const c = new pg.Client({ connectionString: postgresUrl });
    await c.connect();
    const t = `shoal_fault_stage_${process.pid}_${Date.now().toString(36)}`;
    const prefix = `${t.slice(0, 30)}_shoal_stage_`;
    try {
      await c.query(`CREATE TABLE ${t} (id bigint PRIMARY KEY)`);
      await c.query(`CREATE TABLE ${prefix}4194305_a (LIKE ${t})`);
      await c.query(`CREATE TABLE ${prefix}4194305_b (LIKE ${t})`);
      const started = performance.now();
      await range(20).writePostgres({ url: postgresUrl, table: t, mode: 'overwrite' });
      const seconds = (performance.now() - started) / 1000;
      const left = (await c.query(`SELECT count(*)::int AS n FROM pg_tables WHERE left(tablename, ${prefix.length}) = '${prefix}'`)).rows[0] as { n: number };
      const n = (await c.query(`SELECT count(*)::int AS n FROM ${t}`)).rows[0] as { n: number };
      return { ran, expected, happened: `${left.n} staging tables left; table has ${n.n} rows`, wrongResults: n.n === 20 ? 0 : 1, lostWrites: 0, leakedFiles: left.n, recoverSeconds: seconds };
    } finally {
      await c.query(`DROP TABLE IF EXISTS ${t}, ${prefix}4194305_a, ${prefix}4194305_b`).catch(() => undefined);
      await c.end();
    }
  },
};
