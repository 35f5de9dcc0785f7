/**
 * Streaming sources against the real services: PostgreSQL change data capture by logical
 * replication (commit order, LSN acknowledged only on commit, restart neither loses nor repeats,
 * a restarted server resumes from the slot) and a NATS JetStream durable consumer (at-least-once,
 * de-duplication by event id, malformed events dead-lettered with the reason, a restarted server).
 * Restart tests run on private servers started here; slots, publications and streams are dropped.
 */
import { connect } from '@nats-io/transport-node';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DEAD_LETTER_REASON_HEADER, InvalidOptionError, NatsSource, PostgresCdcSource, StreamSourceError, dropReplicationSlot, listReplicationSlots,
  type StreamRecord, type StreamSource,
} from 'shoal/data';
import { connectTestPostgres, uniqueTable } from '../../harness/postgres.js';
import { PrivateNats, PrivatePostgres } from '../../harness/private-servers.js';

/** Polls until `n` records arrived (or fails after a generous deadline). */
async function pollUntil(source: StreamSource, n: number, deadlineMs = 60_000): Promise<StreamRecord[]> {
  const out: StreamRecord[] = [];
  const end = Date.now() + deadlineMs;
  while (out.length < n && Date.now() < end) out.push(...(await source.poll(1000, 500)));
  return out;
}

const NATS = '127.0.0.1:4222';

async function natsUp(): Promise<boolean> {
  try {
    const nc = await connect({ servers: NATS, timeout: 3000 });
    await nc.close();
    return true;
  } catch (e) {
    if (process.env.CI) throw new Error(`NATS is required in CI but unreachable at ${NATS}: ${(e as Error).message}`);
    return false;
  }
}

describe('PostgresCdcSource (shared PostgreSQL)', () => {
  let admin: pg.Client | undefined;
  const table = uniqueTable('cdc_ratings');
  const slot = `${table}_slot`;
  const publication = `${table}_pub`;
  let url = '';
  beforeAll(async () => {
    admin = await connectTestPostgres();
    if (!admin) return;
    const p = admin as unknown as { user: string; host: string; port: number; database: string };
    url = `postgres://${p.user}@${p.host}:${p.port}/${p.database}`;
    await admin.query(`CREATE TABLE ${table} (id serial PRIMARY KEY, user_id int NOT NULL, listing_id bigint NOT NULL, rating real NOT NULL)`);
  });
  afterAll(async () => {
    if (!admin) return;
    await dropReplicationSlot(url, slot, publication);
    await admin.query(`DROP TABLE IF EXISTS ${table}`);
    await admin.end();
  });

  it('delivers inserts and updates in commit order; commit() acknowledges; a reopen neither loses nor repeats', async (ctx) => {
    if (!admin) return ctx.skip();
    const open = async (after?: string): Promise<PostgresCdcSource> => {
      const s = new PostgresCdcSource({ connection: url, slot, publication, tables: [table] });
      await s.open(after);
      return s;
    };
    let source = await open();
    await admin.query('BEGIN');
    for (let i = 0; i < 3; i++) await admin.query(`INSERT INTO ${table} (user_id, listing_id, rating) VALUES ($1, $2, 1)`, [i, 100 + i]);
    await admin.query('COMMIT');
    await admin.query(`INSERT INTO ${table} (user_id, listing_id, rating) VALUES (7, 200, 1)`);
    await admin.query(`UPDATE ${table} SET rating = 5 WHERE user_id = 7`);
    const first = await pollUntil(source, 5);
    expect(first.map((r) => r.kind)).toEqual(['insert', 'insert', 'insert', 'insert', 'update']);
    expect(first.map((r) => r.value.user_id)).toEqual([0, 1, 2, 7, 7]);
    expect(first[4]!.value.rating).toBe(5);
    expect(first[0]!.topic).toBe(`public.${table}`);
    // One transaction, one offset; offsets grow with commits; ids are unique.
    expect(new Set(first.slice(0, 3).map((r) => r.offset)).size).toBe(1);
    expect(source.compareOffsets(first[3]!.offset, first[0]!.offset)).toBeGreaterThan(0);
    expect(new Set(first.map((r) => r.id)).size).toBe(5);
    // Apply (commit) the first transaction only, then "crash".
    await source.commit(first[0]!.offset);
    await source.close();

    // Reopened from the slot alone: the two unacknowledged transactions again, not the first.
    source = await open();
    const again = await pollUntil(source, 2);
    expect(again.map((r) => r.id)).toEqual(first.slice(3).map((r) => r.id));
    await source.close();

    // Reopened after the sink's checkpoint (the last applied offset): nothing old, only what is new.
    source = await open(first[4]!.offset);
    await admin.query(`INSERT INTO ${table} (user_id, listing_id, rating) VALUES (9, 300, 1)`);
    const fresh = await pollUntil(source, 1);
    expect(fresh.map((r) => r.value.user_id)).toEqual([9]);
    expect(await source.poll(10, 300)).toEqual([]);
    await source.commit(fresh[0]!.offset);
    const slots = await listReplicationSlots(url);
    expect(slots.find((s) => s.slot === slot)?.active).toBe(true);
    await source.close();
  }, 180_000);

  it('refuses bad options and a missing publication with typed errors', async (ctx) => {
    if (!admin) return ctx.skip();
    expect(() => new PostgresCdcSource({ connection: url, slot: 'Bad-Slot', publication: 'p' })).toThrow(InvalidOptionError);
    expect(() => new PostgresCdcSource({ connection: url, slot: 'Bad-Slot', publication: 'p' })).toThrow(/'slot' must be 1-63 lower-case letters, digits or _/);
    expect(() => new PostgresCdcSource({ connection: url, slot: 's', publication: 'p', tables: [] })).toThrow(/'tables' must be a non-empty array/);
    expect(() => new PostgresCdcSource({ connection: url, slot: 's', publication: 'p', tables: ['x; drop table y'] })).toThrow(/'tables' must be/);
    const s = new PostgresCdcSource({ connection: url, slot: `${slot}_x`, publication: `${publication}_missing` });
    await expect(s.open()).rejects.toThrow(StreamSourceError);
    await expect(new PostgresCdcSource({ connection: url, slot: `${slot}_x`, publication: `${publication}_missing` }).open()).rejects.toThrow(/publication ".*_missing" does not exist and no tables were given/);
    await expect(s.poll(1, 0)).rejects.toThrow(/poll\(\) before open\(\)/);
  }, 60_000);
});

describe('PostgresCdcSource (private PostgreSQL, restarted)', () => {
  let server: PrivatePostgres | undefined;
  beforeAll(async () => {
    server = await PrivatePostgres.start();
    await server.query('CREATE TABLE ratings (id serial PRIMARY KEY, user_id int NOT NULL, rating real NOT NULL)');
  }, 180_000);
  afterAll(async () => {
    await server?.stop();
  });

  it('resumes from the slot after PostgreSQL restarts: every change once', async () => {
    const s = server!;
    const source = new PostgresCdcSource({ connection: s.url, slot: 'restart_slot', publication: 'restart_pub', tables: ['ratings'], reconnectDelayMs: 200 });
    await source.open();
    try {
      for (let i = 0; i < 5; i++) await s.query('INSERT INTO ratings (user_id, rating) VALUES ($1, 1)', [i]);
      const before = await pollUntil(source, 5);
      await source.commit(before[4]!.offset);
      await s.restart();
      for (let i = 5; i < 8; i++) await s.query('INSERT INTO ratings (user_id, rating) VALUES ($1, 1)', [i]);
      const after = await pollUntil(source, 3, 120_000);
      expect(source.connections).toBeGreaterThan(1);
      // Changes polled before the restart are not handed out again by this source; the new ones arrive once, in order.
      const users = [...before, ...after].map((r) => r.value.user_id);
      expect(users).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
      await source.commit(after[2]!.offset);
    } finally {
      await source.close();
      await dropReplicationSlot(s.url, 'restart_slot', 'restart_pub');
    }
  }, 240_000);
});

describe('NatsSource (shared NATS JetStream)', () => {
  let up = false;
  const stream = `shoal_test_${process.pid}_${Date.now().toString(36)}`;
  beforeAll(async () => {
    up = await natsUp();
  });
  afterAll(async () => {
    if (!up) return;
    const nc = await connect({ servers: NATS });
    const jsm = await jetstreamManager(nc);
    for (const s of [stream, `${stream}_DEAD_LETTER`]) await jsm.streams.delete(s).catch(() => undefined);
    await nc.close();
  });

  it('de-duplicates by event id, dead-letters malformed events with the reason, and redelivers what was not committed', async (ctx) => {
    if (!up) return ctx.skip();
    const open = async (after?: string): Promise<NatsSource> => {
      const s = new NatsSource({ servers: NATS, stream, durable: 'ratings', ackWaitMs: 1000, validate: (v) => (typeof v.user !== 'number' ? 'field "user" must be a number' : undefined) });
      await s.open(after);
      return s;
    };
    let source = await open();
    const nc = await connect({ servers: NATS });
    const enc = (x: unknown): string => JSON.stringify(x);
    nc.publish(`${stream}.clicks`, enc({ id: 'e1', user: 1, listing: 10 }));
    nc.publish(`${stream}.clicks`, enc({ id: 'e2', user: 2, listing: 11 }));
    nc.publish(`${stream}.clicks`, enc({ id: 'e1', user: 1, listing: 10 })); // a duplicate
    nc.publish(`${stream}.clicks`, 'not json');
    nc.publish(`${stream}.clicks`, enc({ user: 3 })); // no id
    nc.publish(`${stream}.clicks`, enc({ id: 'e3', user: 'x' })); // refused by validate
    nc.publish(`${stream}.views`, enc({ id: 'e4', user: 4, listing: 12 }));
    await nc.flush();
    const got = await pollUntil(source, 3);
    expect(got.map((r) => r.id)).toEqual(['e1', 'e2', 'e4']);
    expect(got[2]!.topic).toBe(`${stream}.views`);
    const end = Date.now() + 30_000;
    while ((source.deadLettered < 3 || source.duplicates < 1) && Date.now() < end) await source.poll(10, 200);
    expect(source.deadLettered).toBe(3);
    expect(source.duplicates).toBe(1);
    // The dead-letter stream holds the three, each with its reason.
    const jsm = await jetstreamManager(nc);
    const reasons: string[] = [];
    for (let seq = 1; seq <= 3; seq++) {
      const msg = await jsm.streams.getMessage(`${stream}_DEAD_LETTER`, { seq });
      reasons.push(msg?.header.get(DEAD_LETTER_REASON_HEADER) ?? '(missing)');
    }
    expect(reasons).toEqual([expect.stringMatching(/not JSON/), expect.stringMatching(/has no id/), 'field "user" must be a number']);

    // Commit the first two, "crash" without committing e4: it comes back (at-least-once), e1 and e2 do not.
    await source.commit(got[1]!.offset);
    await source.close();
    source = await open();
    const redelivered = await pollUntil(source, 1);
    expect(redelivered.map((r) => r.id)).toEqual(['e4']);
    await source.close();
    // With the sink's checkpoint at e4 the redelivery is dropped.
    source = await open(got[2]!.offset);
    nc.publish(`${stream}.clicks`, enc({ id: 'e5', user: 5, listing: 13 }));
    const next = await pollUntil(source, 1);
    expect(next.map((r) => r.id)).toEqual(['e5']);
    await source.commit(next[0]!.offset);
    await source.close();
    await nc.close();
  }, 180_000);

  it('refuses bad options with typed errors', () => {
    expect(() => new NatsSource({ stream: 'a b', durable: 'd' })).toThrow(/'stream' must be 1-255 letters, digits, _ or -/);
    expect(() => new NatsSource({ stream: 's', durable: 'd', ackWaitMs: 5 })).toThrow(InvalidOptionError);
    expect(() => new NatsSource({ stream: 's', durable: 'd', colour: 1 } as never)).toThrow(/'colour' is not an option of NatsSource/);
  });
});

describe('NatsSource (private NATS server, restarted)', () => {
  let server: PrivateNats | undefined;
  beforeAll(async () => {
    server = await PrivateNats.start();
  }, 120_000);
  afterAll(async () => {
    await server?.stop();
  });

  it('goes on after the NATS server restarts, nothing lost', async () => {
    const s = server!;
    const source = new NatsSource({ servers: s.server, stream: 'events', durable: 'reader', ackWaitMs: 2000 });
    await source.open();
    try {
      const pub = async (from: number, to: number): Promise<void> => {
        const nc = await connect({ servers: s.server });
        const js = jetstream(nc);
        for (let i = from; i < to; i++) await js.publish('events.rating', JSON.stringify({ id: `r${i}`, user: i }), { msgID: `r${i}` });
        await nc.close();
      };
      await pub(0, 5);
      const before = await pollUntil(source, 5);
      await source.commit(before[4]!.offset);
      await s.restart();
      await pub(5, 10);
      const after = await pollUntil(source, 5, 120_000);
      expect([...before, ...after].map((r) => r.id)).toEqual(Array.from({ length: 10 }, (_, i) => `r${i}`));
      await source.commit(after[4]!.offset);
    } finally {
      await source.close();
    }
  }, 240_000);
});
