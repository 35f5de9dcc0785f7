/**
 * Change data capture from PostgreSQL by logical replication (pgoutput, through
 * pg-logical-replication): inserts, updates and deletes of the publication's tables arrive in
 * commit order, one transaction at a time, each record carrying its transaction's commit-end LSN
 * as offset. The LSN is acknowledged to the server only by `commit()` — after the caller applied
 * the records — never on receipt (the client library's automatic and periodic acknowledgements are
 * off: they would confirm what was received, not what was applied). So a crash re-delivers from
 * the named slot's confirmed position; with the sink's checkpointed offset passed to `open(after)`,
 * the re-delivered transactions the sink already holds are dropped here: nothing lost, nothing twice.
 *
 * A lost connection (PostgreSQL restarted) is retried until `close()`, resuming from the slot.
 * A slot keeps WAL on the server until it is acknowledged: a slot whose consumer is gone must be
 * dropped (`dropReplicationSlot`), or it makes PostgreSQL keep WAL forever.
 */
import pg from 'pg';
import { LogicalReplicationService, PgoutputPlugin, type Pgoutput } from 'pg-logical-replication';
import { optionRules } from '../../core/index.js';
import { StreamSourceError } from '../errors.js';
import type { PgConnection, StreamRecord, StreamSource } from './stream-source.js';

/** Options of {@link PostgresCdcSource}. */
export interface PostgresCdcOptions {
  /** Connection string or node-postgres client config of the database to capture. */
  connection: PgConnection;
  /** Replication slot (created with pgoutput when missing): lower-case letters, digits and `_`, at most 63. */
  slot: string;
  /** Publication to read (created `FOR TABLE` `tables` when missing). */
  publication: string;
  /** Tables of the publication when this source creates it (`name` or `schema.name`). @default none: the publication must exist */
  tables?: readonly string[] | undefined;
  /** Records held in memory before the replication stream is paused. @default 10000 */
  maxBufferedRecords?: number;
  /** Wait between reconnection attempts after the connection is lost. @default 500 */
  reconnectDelayMs?: number;
  /** Interval of standby status updates (keep-alive; they confirm only committed offsets). @default 5000 */
  statusIntervalMs?: number;
}

interface Txn {
  offset: string;
  records: StreamRecord[];
}

const NAME_RULE = /^[a-z0-9_]{1,63}$/;
const TABLE_RULE = /^([A-Za-z_][A-Za-z0-9_]*\.)?[A-Za-z_][A-Za-z0-9_]*$/;

/** The LSN `X/Y` as one number. */
export function parseLsn(lsn: string): bigint {
  const m = /^([0-9A-Fa-f]{1,8})\/([0-9A-Fa-f]{1,8})$/.exec(lsn);
  if (!m) throw new StreamSourceError('postgres-cdc', `"${lsn}" is not an LSN (hex X/Y)`);
  return (BigInt(`0x${m[1]}`) << 32n) | BigInt(`0x${m[2]}`);
}

/** The LSN of a number, `X/Y` in upper-case hex. */
export function formatLsn(lsn: bigint): string {
  return `${(lsn >> 32n).toString(16).toUpperCase()}/${(lsn & 0xffffffffn).toString(16).toUpperCase()}`;
}

const quoteIdent = (name: string): string => name.split('.').map((p) => `"${p.replace(/"/g, '""')}"`).join('.');
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A {@link StreamSource} over PostgreSQL logical replication (see the file header). */
export class PostgresCdcSource implements StreamSource {
  readonly name: string;
  private readonly o: Required<Omit<PostgresCdcOptions, 'tables'>> & { tables: readonly string[] | undefined };
  private readonly clientConfig: pg.ClientConfig;
  private service: LogicalReplicationService | undefined;
  private loop: Promise<void> | undefined;
  private closed = false;
  private opened = false;
  private readonly buffer: Txn[] = [];
  private buffered = 0;
  private current: { commitLsn: string; records: StreamRecord[]; timestampMs: number } | undefined;
  /** Highest offset handed to the buffer (or skipped as already applied). */
  private seen = 0n;
  /** Highest offset the caller committed (what the server is told). */
  private committed = 0n;
  private committedText = '0/00000000';
  private waiters: (() => void)[] = [];
  private paused = false;
  private statusTimer: NodeJS.Timeout | undefined;
  /** The last error of the replication connection, kept while it is being retried. */
  lastError: Error | undefined;
  /** Connections made (1 + reconnections), for tests and status. */
  connections = 0;

  constructor(options: PostgresCdcOptions) {
    const r = optionRules('PostgresCdcSource');
    const o = r.object(options as unknown as Record<string, unknown>);
    r.knownKeys(o, new Set(['connection', 'slot', 'publication', 'tables', 'maxBufferedRecords', 'reconnectDelayMs', 'statusIntervalMs']));
    if (typeof o.connection !== 'string' && (typeof o.connection !== 'object' || o.connection === null)) r.fail('connection', 'must be a connection string or a client config', o.connection);
    if (typeof o.slot !== 'string' || !NAME_RULE.test(o.slot)) r.fail('slot', 'must be 1-63 lower-case letters, digits or _', o.slot);
    if (typeof o.publication !== 'string' || !NAME_RULE.test(o.publication)) r.fail('publication', 'must be 1-63 lower-case letters, digits or _', o.publication);
    const tables = o.tables as unknown;
    if (tables !== undefined && (!Array.isArray(tables) || tables.length === 0 || !tables.every((t) => typeof t === 'string' && TABLE_RULE.test(t)))) {
      r.fail('tables', 'must be a non-empty array of table names (name or schema.name)', tables);
    }
    this.o = {
      connection: o.connection as PgConnection,
      slot: o.slot as string,
      publication: o.publication as string,
      tables: tables as readonly string[] | undefined,
      maxBufferedRecords: r.int('maxBufferedRecords', o.maxBufferedRecords, 10_000),
      reconnectDelayMs: r.int('reconnectDelayMs', o.reconnectDelayMs, 500),
      statusIntervalMs: r.int('statusIntervalMs', o.statusIntervalMs, 5000),
    };
    this.clientConfig = typeof this.o.connection === 'string' ? { connectionString: this.o.connection } : { ...this.o.connection };
    this.name = `postgres-cdc:${this.o.slot}`;
  }

  async open(after?: string): Promise<void> {
    if (this.closed) throw new StreamSourceError(this.name, 'open() after close()');
    if (this.opened) throw new StreamSourceError(this.name, 'already open');
    if (after !== undefined) {
      this.seen = parseLsn(after);
      this.committed = this.seen;
      this.committedText = after;
    }
    const admin = new pg.Client(this.clientConfig);
    try {
      await admin.connect();
      const level = (await admin.query<{ wal_level: string }>('SHOW wal_level')).rows[0]?.wal_level;
      if (level !== 'logical') throw new StreamSourceError(this.name, `the server's wal_level is ${String(level)}; logical replication needs wal_level = logical (ALTER SYSTEM SET wal_level = logical, then restart PostgreSQL)`);
      const pub = await admin.query('SELECT 1 FROM pg_publication WHERE pubname = $1', [this.o.publication]);
      if (pub.rowCount === 0) {
        if (!this.o.tables) throw new StreamSourceError(this.name, `publication "${this.o.publication}" does not exist and no tables were given to create it`);
        await admin.query(`CREATE PUBLICATION ${quoteIdent(this.o.publication)} FOR TABLE ${this.o.tables.map(quoteIdent).join(', ')}`);
      }
      const slot = await admin.query<{ plugin: string | null }>('SELECT plugin FROM pg_replication_slots WHERE slot_name = $1', [this.o.slot]);
      if (slot.rowCount === 0) await admin.query("SELECT pg_create_logical_replication_slot($1, 'pgoutput')", [this.o.slot]);
      else if (slot.rows[0]!.plugin !== 'pgoutput') throw new StreamSourceError(this.name, `slot "${this.o.slot}" exists with plugin ${String(slot.rows[0]!.plugin)}, not pgoutput`);
    } catch (e) {
      if (e instanceof StreamSourceError) throw e;
      throw new StreamSourceError(this.name, `could not prepare the publication and slot: ${(e as Error).message}`, { cause: e });
    } finally {
      await admin.end().catch(() => undefined);
    }
    this.opened = true;
    this.loop = this.replicate();
    this.statusTimer = setInterval(() => void this.sendStatus(), this.o.statusIntervalMs);
    this.statusTimer.unref();
  }

  /** Replication connections until close(), each resuming from the committed offset (or the slot's). */
  private async replicate(): Promise<void> {
    while (!this.closed) {
      // No flow control: 'data' and 'heartbeat' are then emitted in wire order, synchronously, so a
      // keepalive is seen only after every change sent before it (back-pressure pauses the socket).
      const service = new LogicalReplicationService(this.clientConfig, { acknowledge: { auto: false, timeoutSeconds: 0 }, flowControl: { enabled: false } });
      this.service = service;
      service.on('error', (e: Error) => {
        this.lastError = e;
      });
      service.on('data', (_lsn: string, msg: Pgoutput.Message) => this.onMessage(msg));
      service.on('heartbeat', (lsn: string, _ts: number, respond: boolean) => {
        // Idle (nothing buffered, polled-but-uncommitted or half-received): everything up to the
        // server's position is applied, so confirm it — the slot moves past WAL of other tables and
        // a shutting-down server need not wait for us.
        if (this.buffered === 0 && this.outstanding === 0 && !this.current) this.noteCommitted(lsn, parseLsn(lsn));
        if (respond) void this.sendStatus();
      });
      try {
        this.connections++;
        await service.subscribe(new PgoutputPlugin({ protoVersion: 1, publicationNames: [this.o.publication] }), this.o.slot, this.committedText);
      } catch (e) {
        this.lastError = e as Error;
      }
      this.current = undefined; // a transaction cut off by the lost connection is sent again in full
      await service.destroy().catch(() => undefined);
      if (this.service === service) this.service = undefined;
      if (!this.closed) await sleep(this.o.reconnectDelayMs);
    }
  }

  private onMessage(msg: Pgoutput.Message): void {
    switch (msg.tag) {
      case 'begin':
        this.current = { commitLsn: msg.commitLsn ?? '0/0', records: [], timestampMs: Number(msg.commitTime as bigint / 1000n) };
        return;
      case 'insert':
      case 'update':
      case 'delete': {
        const cur = this.current;
        if (!cur) return;
        const value = msg.tag === 'delete' ? (msg.old ?? msg.key ?? {}) : msg.new;
        cur.records.push({
          offset: '', id: `${cur.commitLsn}:${cur.records.length}`, kind: msg.tag, value,
          topic: `${msg.relation.schema}.${msg.relation.name}`, timestampMs: cur.timestampMs,
        });
        return;
      }
      case 'commit': {
        const cur = this.current;
        this.current = undefined;
        const offset = msg.commitEndLsn;
        if (!cur || offset === null) return;
        const at = parseLsn(offset);
        if (at <= this.seen) return; // applied before (the sink's checkpoint) or already buffered
        this.seen = at;
        if (cur.records.length === 0) {
          // Nothing of ours in it: confirm it once everything before it is committed, so the slot moves on.
          if (this.buffered === 0 && this.outstanding === 0) this.noteCommitted(offset, at);
          return;
        }
        for (const rec of cur.records) rec.offset = offset;
        this.buffer.push({ offset, records: cur.records });
        this.buffered += cur.records.length;
        for (const w of this.waiters.splice(0)) w();
        if (this.buffered >= this.o.maxBufferedRecords) this.pauseSocket(true);
        return;
      }
      default:
        return;
    }
  }

  /** Records polled and not yet committed. */
  private outstanding = 0;
  private polledUpTo = 0n;

  async poll(maxRecords: number, maxWaitMs: number): Promise<StreamRecord[]> {
    if (!this.opened || this.closed) throw new StreamSourceError(this.name, this.closed ? 'poll() after close()' : 'poll() before open()');
    if (this.buffer.length === 0 && maxWaitMs > 0) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(() => {
          this.waiters = this.waiters.filter((w) => w !== done);
          resolve();
        }, maxWaitMs);
        const done = (): void => {
          clearTimeout(t);
          resolve();
        };
        this.waiters.push(done);
      });
    }
    const out: StreamRecord[] = [];
    while (this.buffer.length > 0 && (out.length === 0 || out.length + this.buffer[0]!.records.length <= maxRecords)) {
      const txn = this.buffer.shift()!;
      out.push(...txn.records);
      this.buffered -= txn.records.length;
      this.polledUpTo = parseLsn(txn.offset);
    }
    this.outstanding += out.length;
    if (this.paused && this.buffered < this.o.maxBufferedRecords) this.pauseSocket(false);
    return out;
  }

  /** Back-pressure: pauses (or resumes) reading the replication socket (the client library has no public switch without flow control). */
  private pauseSocket(pause: boolean): void {
    this.paused = pause;
    const stream = (this.service as unknown as { _connection?: { stream?: { pause?: () => void; resume?: () => void } } } | undefined)?._connection?.stream;
    if (pause) stream?.pause?.();
    else stream?.resume?.();
  }

  async commit(offset: string): Promise<void> {
    const at = parseLsn(offset);
    if (at > this.polledUpTo) throw new StreamSourceError(this.name, `commit(${offset}) is past the last polled offset`);
    if (at >= this.polledUpTo) this.outstanding = 0;
    this.noteCommitted(offset, at);
    await this.sendStatus();
  }

  private noteCommitted(offset: string, at: bigint): void {
    if (at > this.committed) {
      this.committed = at;
      this.committedText = offset;
    }
  }

  /** Tells the server what is applied (never more). */
  private async sendStatus(): Promise<void> {
    const s = this.service;
    if (!s || s.isStop() || this.committed === 0n) return;
    // acknowledge(x) reports x + 1; the server wants exactly the end of what is applied (a walsender
    // shutting down waits until the confirmed position equals what it sent), so report committed − 1 + 1.
    await s.acknowledge(formatLsn(this.committed - 1n)).catch(() => undefined);
  }

  compareOffsets(a: string, b: string): number {
    const x = parseLsn(a);
    const y = parseLsn(b);
    return x < y ? -1 : x > y ? 1 : 0;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.statusTimer) clearInterval(this.statusTimer);
    for (const w of this.waiters.splice(0)) w();
    await this.sendStatus();
    await this.service?.destroy().catch(() => undefined);
    await this.loop;
  }
}

/** Replication slots of a server with whether a consumer is attached and how much WAL each holds back. */
export async function listReplicationSlots(connection: PgConnection): Promise<{ slot: string; plugin: string | null; active: boolean; retainedWalBytes: number | null }[]> {
  const client = new pg.Client(typeof connection === 'string' ? { connectionString: connection } : (connection as pg.ClientConfig));
  await client.connect();
  try {
    const res = await client.query<{ slot_name: string; plugin: string | null; active: boolean; retained: string | null }>(
      'SELECT slot_name, plugin, active, pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn)::text AS retained FROM pg_replication_slots ORDER BY slot_name',
    );
    return res.rows.map((r) => ({ slot: r.slot_name, plugin: r.plugin, active: r.active, retainedWalBytes: r.retained === null ? null : Number(r.retained) }));
  } finally {
    await client.end();
  }
}

/**
 * Drops a replication slot (and, when given, a publication) if they exist. A slot still held by a
 * consumer that is going away is waited for up to `waitMs`, then its connection is terminated.
 */
export async function dropReplicationSlot(connection: PgConnection, slot: string, publication?: string, waitMs = 10_000): Promise<void> {
  const client = new pg.Client(typeof connection === 'string' ? { connectionString: connection } : (connection as pg.ClientConfig));
  await client.connect();
  try {
    const end = Date.now() + waitMs;
    for (;;) {
      const r = await client.query<{ active_pid: number | null }>('SELECT active_pid FROM pg_replication_slots WHERE slot_name = $1', [slot]);
      const pid = r.rows[0]?.active_pid ?? null;
      if (r.rowCount === 0 || pid === null) break;
      if (Date.now() > end) await client.query('SELECT pg_terminate_backend($1)', [pid]);
      await sleep(100);
    }
    await client.query('SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1', [slot]);
    if (publication !== undefined) await client.query(`DROP PUBLICATION IF EXISTS ${quoteIdent(publication)}`);
  } finally {
    await client.end();
  }
}
