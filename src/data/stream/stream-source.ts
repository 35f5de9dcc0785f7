/**
 * The source side of streaming, as Spark Structured Streaming has it: a source hands out records in
 * order with a position (`offset`) the source can resume from, and forgets them only when told the
 * records up to an offset are applied (`commit`). Exactly-once comes from the sink, not the source:
 * the sink stores the last applied offset in the same transaction as its write, and on restart the
 * query reopens the source `after` that offset — records at or before it (which the source may
 * deliver again, having never been told to forget them) are dropped by the source.
 *
 * A new transport (Kafka: offsets per partition, commit by consumer group) is one more class
 * implementing {@link StreamSource}: offsets are opaque strings the source alone compares.
 */

/** What a record is: a row change captured from a table, or an event from a log. */
/**
 * How a PostgreSQL source or sink connects: a URL, or node-postgres client settings. Declared here
 * (not as pg's ClientConfig) so shoal's published declarations need no @types/pg.
 */
export type PgConnection = string | PgClientSettings;

/** node-postgres client settings (any of pg's ClientConfig fields; these are the usual ones). */
export interface PgClientSettings {
  connectionString?: string;
  host?: string;
  port?: number;
  user?: string;
  password?: string;
  database?: string;
  ssl?: boolean | object;
  [setting: string]: unknown;
}

export type StreamRecordKind = 'insert' | 'update' | 'delete' | 'event';

/** One record of a stream. */
export interface StreamRecord<T = Record<string, unknown>> {
  /** Position of the record in its source; records of one source transaction share it. Opaque outside the source. */
  offset: string;
  /** Unique id of the record (the event id, or `<commit lsn>:<n>` for a captured change): the key of de-duplication. */
  id: string;
  kind: StreamRecordKind;
  /** The row (new row for insert/update, old key for delete) or the event's payload. */
  value: T;
  /** Table (`schema.name`) of a captured change, or the subject of an event. */
  topic: string;
  /** When the source says it happened (commit time, publish time), ms since the epoch: the event time of windows by default. */
  timestampMs: number;
}

/** A streaming source (see the file header for the contract). */
export interface StreamSource<T = Record<string, unknown>> {
  /** Stable name of the source (kind and the server-side name it reads), used in checkpoints and errors. */
  readonly name: string;
  /**
   * Connects. Records at or before `after` (an offset this source produced earlier, typically the
   * one a sink checkpointed) are never handed out again.
   */
  open(after?: string | undefined): Promise<void>;
  /**
   * The next records in order: waits up to `maxWaitMs` for the first one, then returns what has
   * arrived, at most `maxRecords` (a source may return a whole transaction past that cap rather
   * than split it). An empty array means nothing arrived in time.
   */
  poll(maxRecords: number, maxWaitMs: number): Promise<StreamRecord<T>[]>;
  /** The records up to and including `offset` are applied durably: the server may drop them (ack). */
  commit(offset: string): Promise<void>;
  /** Orders two offsets of this source: negative, zero or positive. */
  compareOffsets(a: string, b: string): number;
  /** Disconnects; records polled but not committed are delivered again by the next `open`. */
  close(): Promise<void>;
}

/** Whether `x` looks like a {@link StreamSource} (a runtime guard for `readStream`). */
export function isStreamSource(x: unknown): x is StreamSource {
  if (typeof x !== 'object' || x === null) return false;
  const s = x as Record<string, unknown>;
  return typeof s.name === 'string' && ['open', 'poll', 'commit', 'compareOffsets', 'close'].every((m) => typeof s[m] === 'function');
}
