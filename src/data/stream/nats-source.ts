/**
 * An event log source on NATS JetStream (Kafka's role on this machine: durable streams, a durable
 * consumer per reader group, replay from a sequence). Delivery is at-least-once: messages are
 * acknowledged by `commit()` only, after the caller applied them, so a crash re-delivers them (after
 * the consumer's ack wait). Duplicates are dropped twice over: by event id (the `Nats-Msg-Id`
 * header, else the payload's `id` field) within a window of recent ids, and by stream sequence
 * against the sink's checkpoint given to `open(after)`. A malformed event — not a JSON object, no
 * id, or refused by `validate` — goes to a dead-letter stream with the reason in its headers and is
 * acknowledged, so processing goes on.
 *
 * Messages arrive through `consume()` (a pull consumer the client keeps topped up) into a buffer,
 * so `poll` returns as soon as events are there instead of waiting out a fetch. A lost server is
 * retried by the client (reconnect forever) and the consume loop restarts until `close()`.
 */
import { connect, headers, nanos, type NatsConnection } from '@nats-io/transport-node';
import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager, type JetStreamClient, type JsMsg } from '@nats-io/jetstream';
import { optionRules } from '../../core/index.js';
import { StreamSourceError } from '../errors.js';
import type { StreamRecord, StreamSource } from './stream-source.js';

/** Options of {@link NatsSource}. */
export interface NatsSourceOptions {
  /** NATS server(s), `host:port`. @default '127.0.0.1:4222' */
  servers?: string | string[];
  /** JetStream stream to read (created over `subjects` when missing). */
  stream: string;
  /** Subjects of the stream when this source creates it. @default [`${stream}.>`] */
  subjects?: readonly string[];
  /** Durable consumer name: readers sharing it share the work and the acknowledged position. */
  durable: string;
  /** Stream receiving malformed events (created when missing). @default `${stream}_DEAD_LETTER` */
  deadLetterStream?: string;
  /** Subject malformed events are published to. @default `dead-letter.${stream}` */
  deadLetterSubject?: string;
  /** Extra check of an event's payload: a reason string sends it to the dead-letter stream. @default none */
  validate?: ((value: Record<string, unknown>) => string | undefined) | undefined;
  /** How long an unacknowledged message waits before the server delivers it again. @default 30000 */
  ackWaitMs?: number;
  /** Event ids remembered for de-duplication. @default 100000 */
  dedupeWindow?: number;
  /** Messages the consumer keeps in flight (buffered here). @default 1000 */
  maxBufferedRecords?: number;
}

/** The header that carries the reason of a dead-lettered event. */
export const DEAD_LETTER_REASON_HEADER = 'Shoal-Dead-Letter-Reason';

const NAME_RULE = /^[A-Za-z0-9_-]{1,255}$/;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A {@link StreamSource} over a JetStream durable consumer (see the file header). */
export class NatsSource implements StreamSource {
  readonly name: string;
  private readonly o: Required<Omit<NatsSourceOptions, 'validate' | 'servers'>> & { servers: string[]; validate: NatsSourceOptions['validate'] };
  private nc: NatsConnection | undefined;
  private js: JetStreamClient | undefined;
  private loop: Promise<void> | undefined;
  private closed = false;
  private opened = false;
  private after = 0;
  private readonly buffer: StreamRecord[] = [];
  /** Messages delivered and not yet acknowledged, by stream sequence. */
  private readonly unacked = new Map<number, JsMsg>();
  /** Recent event ids and the stream sequence of their first delivery. */
  private readonly seenIds = new Map<string, number>();
  /** Duplicates waiting for their original to be committed: [original's sequence, message]. */
  private heldDuplicates: [number, JsMsg][] = [];
  private waiters: (() => void)[] = [];
  private stopConsume: (() => Promise<void>) | undefined;
  /** Events sent to the dead-letter stream by this source. */
  deadLettered = 0;
  /** Duplicates dropped (same event id, or at/before the checkpoint). */
  duplicates = 0;
  lastError: Error | undefined;

  constructor(options: NatsSourceOptions) {
    const r = optionRules('NatsSource');
    const o = r.object(options as unknown as Record<string, unknown>);
    r.knownKeys(o, new Set(['servers', 'stream', 'subjects', 'durable', 'deadLetterStream', 'deadLetterSubject', 'validate', 'ackWaitMs', 'dedupeWindow', 'maxBufferedRecords']));
    const name = (key: string, v: unknown, dflt?: string): string => {
      const x: unknown = v ?? dflt;
      if (typeof x !== 'string' || !NAME_RULE.test(x)) r.fail(key, 'must be 1-255 letters, digits, _ or -', v);
      return x as string;
    };
    const stream = name('stream', o.stream);
    const servers = o.servers ?? '127.0.0.1:4222';
    if (!(typeof servers === 'string' || (Array.isArray(servers) && servers.length > 0 && servers.every((s) => typeof s === 'string')))) r.fail('servers', 'must be host:port or a non-empty array of them', servers);
    const subjects = o.subjects ?? [`${stream}.>`];
    if (!Array.isArray(subjects) || subjects.length === 0 || !subjects.every((s) => typeof s === 'string' && s.length > 0)) r.fail('subjects', 'must be a non-empty array of subjects', subjects);
    this.o = {
      servers: typeof servers === 'string' ? [servers] : (servers as string[]),
      stream,
      subjects: subjects as string[],
      durable: name('durable', o.durable),
      deadLetterStream: name('deadLetterStream', o.deadLetterStream, `${stream}_DEAD_LETTER`),
      deadLetterSubject: r.text('deadLetterSubject', o.deadLetterSubject) ?? `dead-letter.${stream}`,
      validate: r.fn('validate', o.validate) as NatsSourceOptions['validate'],
      ackWaitMs: r.int('ackWaitMs', o.ackWaitMs, 30_000, { min: 100 }),
      dedupeWindow: r.int('dedupeWindow', o.dedupeWindow, 100_000),
      maxBufferedRecords: r.int('maxBufferedRecords', o.maxBufferedRecords, 1000),
    };
    this.name = `nats:${stream}/${this.o.durable}`;
  }

  async open(after?: string): Promise<void> {
    if (this.closed) throw new StreamSourceError(this.name, 'open() after close()');
    if (this.opened) throw new StreamSourceError(this.name, 'already open');
    if (after !== undefined) this.after = this.parse(after);
    try {
      this.nc = await connect({ servers: this.o.servers, maxReconnectAttempts: -1, reconnectTimeWait: 250, name: this.name });
      const jsm = await jetstreamManager(this.nc);
      const ensureStream = async (stream: string, subjects: string[]): Promise<void> => {
        try {
          await jsm.streams.info(stream);
        } catch {
          await jsm.streams.add({ name: stream, subjects });
        }
      };
      await ensureStream(this.o.stream, [...this.o.subjects]);
      await ensureStream(this.o.deadLetterStream, [this.o.deadLetterSubject]);
      try {
        await jsm.consumers.info(this.o.stream, this.o.durable);
      } catch {
        await jsm.consumers.add(this.o.stream, {
          durable_name: this.o.durable, ack_policy: AckPolicy.Explicit, deliver_policy: DeliverPolicy.All,
          ack_wait: nanos(this.o.ackWaitMs), max_ack_pending: Math.max(this.o.maxBufferedRecords * 4, 1000),
        });
      }
      this.js = jetstream(this.nc);
    } catch (e) {
      await this.nc?.close().catch(() => undefined);
      throw new StreamSourceError(this.name, `could not open the stream and its consumer on ${this.o.servers.join(',')}: ${(e as Error).message}`, { cause: e });
    }
    this.opened = true;
    this.loop = this.consumeLoop();
  }

  private async consumeLoop(): Promise<void> {
    while (!this.closed) {
      try {
        const consumer = await this.js!.consumers.get(this.o.stream, this.o.durable);
        const messages = await consumer.consume({ max_messages: this.o.maxBufferedRecords, expires: 5000 });
        this.stopConsume = async () => {
          await messages.close();
        };
        for await (const m of messages) {
          await this.onMessage(m);
          if (this.closed) break;
        }
      } catch (e) {
        this.lastError = e as Error;
      }
      if (!this.closed) await sleep(250);
    }
  }

  private async onMessage(m: JsMsg): Promise<void> {
    const seq = m.seq;
    if (seq <= this.after) {
      // Applied before this process started (the sink's checkpoint): drop, and let the server forget it.
      this.duplicates++;
      m.ack();
      return;
    }
    let reason: string | undefined;
    let value: Record<string, unknown> | undefined;
    try {
      const parsed = JSON.parse(new TextDecoder().decode(m.data)) as unknown;
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) reason = 'the payload is not a JSON object';
      else value = parsed as Record<string, unknown>;
    } catch (e) {
      reason = `the payload is not JSON (${(e as Error).message})`;
    }
    const headerId = m.headers?.get('Nats-Msg-Id');
    const bodyId = value?.id;
    const id = headerId ? headerId : typeof bodyId === 'string' || typeof bodyId === 'number' ? String(bodyId) : undefined;
    if (!reason && id === undefined) reason = 'the event has no id (a Nats-Msg-Id header or an "id" field)';
    if (!reason && this.o.validate) {
      try {
        reason = this.o.validate(value!);
      } catch (e) {
        reason = `validate threw: ${(e as Error).message}`;
      }
    }
    if (reason) {
      await this.deadLetter(m, reason);
      return;
    }
    const original = this.seenIds.get(id!);
    if (original !== undefined) {
      // Never handed out; acknowledged once the original is applied (a crash before that redelivers both).
      this.duplicates++;
      if (original <= this.after) m.ack();
      else this.heldDuplicates.push([original, m]);
      return;
    }
    this.seenIds.set(id!, seq);
    if (this.seenIds.size > this.o.dedupeWindow) this.seenIds.delete(this.seenIds.keys().next().value!);
    this.unacked.set(seq, m);
    this.buffer.push({ offset: String(seq), id: id!, kind: 'event', value: value!, topic: m.subject, timestampMs: Number(BigInt(m.info.timestampNanos) / 1_000_000n) });
    for (const w of this.waiters.splice(0)) w();
  }

  private async deadLetter(m: JsMsg, reason: string): Promise<void> {
    const h = headers();
    h.set(DEAD_LETTER_REASON_HEADER, reason.replace(/[\r\n]+/g, ' '));
    h.set('Shoal-Source-Stream', this.o.stream);
    h.set('Shoal-Source-Subject', m.subject);
    h.set('Shoal-Source-Seq', String(m.seq));
    await this.js!.publish(this.o.deadLetterSubject, m.data, { headers: h });
    this.deadLettered++;
    m.ack();
  }

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
    return this.buffer.splice(0, maxRecords);
  }

  async commit(offset: string): Promise<void> {
    const upTo = this.parse(offset);
    for (const [seq, m] of this.unacked) {
      if (seq <= upTo) {
        m.ack();
        this.unacked.delete(seq);
      }
    }
    if (upTo > this.after) this.after = upTo;
    this.heldDuplicates = this.heldDuplicates.filter(([original, m]) => {
      if (original > upTo) return true;
      m.ack();
      return false;
    });
    await this.nc?.flush().catch(() => undefined);
  }

  compareOffsets(a: string, b: string): number {
    return this.parse(a) - this.parse(b);
  }

  private parse(offset: string): number {
    const n = Number(offset);
    if (!Number.isSafeInteger(n) || n < 0) throw new StreamSourceError(this.name, `"${offset}" is not a stream sequence`);
    return n;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const w of this.waiters.splice(0)) w();
    await this.stopConsume?.().catch(() => undefined);
    await this.nc?.flush().catch(() => undefined);
    await this.nc?.close().catch(() => undefined);
    await this.loop;
  }
}
