/**
 * What `shoal status --database-url` reads, on the real PostgreSQL: a slot left by a crashed
 * consumer (created, never read) is listed inactive with the WAL it holds; the slot of a running
 * PostgresCdcSource is active. (Its rendering in status: test/unit/cli/replication-slots.test.ts.) Slots and
 * the table are dropped afterwards.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PostgresCdcSource, dropReplicationSlot, listReplicationSlots } from 'shoal/data';
import { connectTestPostgres, uniqueTable } from '../../harness/postgres.js';

describe('shoal status: replication slots', () => {
  let admin: pg.Client | undefined;
  const table = uniqueTable('slots');
  const orphan = `${table}_orphan`;
  const live = `${table}_live`;
  let url = '';
  beforeAll(async () => {
    admin = await connectTestPostgres();
    if (!admin) return;
    const p = admin as unknown as { user: string; host: string; port: number; database: string };
    url = `postgres://${p.user}@${p.host}:${p.port}/${p.database}`;
    await admin.query(`CREATE TABLE ${table} (id serial PRIMARY KEY)`);
    await admin.query("SELECT pg_create_logical_replication_slot($1, 'pgoutput')", [orphan]);
  });
  afterAll(async () => {
    if (!admin) return;
    await dropReplicationSlot(url, orphan);
    await dropReplicationSlot(url, live, `${live}_pub`);
    await admin.query(`DROP TABLE IF EXISTS ${table}`);
    await admin.end();
  });

  it('lists the slot nobody reads as inactive and the running consumer\'s as active', async (ctx) => {
    if (!admin) return ctx.skip();
    const source = new PostgresCdcSource({ connection: url, slot: live, publication: `${live}_pub`, tables: [table] });
    await source.open();
    try {
      const end = Date.now() + 60_000;
      let slots = await listReplicationSlots(url);
      while (Date.now() < end && !slots.find((x) => x.slot === live)?.active) {
        await new Promise((r) => setTimeout(r, 100));
        slots = await listReplicationSlots(url);
      }
      expect(slots.find((x) => x.slot === live)).toMatchObject({ plugin: 'pgoutput', active: true });
      const o = slots.find((x) => x.slot === orphan);
      expect(o).toMatchObject({ plugin: 'pgoutput', active: false });
      expect(o!.retainedWalBytes).toBeGreaterThanOrEqual(0);
    } finally {
      await source.close();
    }
  }, 120_000);
});
