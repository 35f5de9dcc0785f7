/**
 * The online store interface, and the embedded default that keeps values in this process's memory
 * (so `getOnlineFeatures` works with no server; Redis is the production choice, redis-online-store.ts).
 *
 * A store holds, per view and entity key, the latest feature values and their event time; a write
 * never replaces values with older ones (equal times: the write wins). A value
 * whose event time is more than the view's TTL before the read time is not served (null), as the
 * historical retrieval at that time would not return it either.
 */
import { MaterializationLockedError } from './errors.js';

/** What a store needs to know of a view. */
export interface OnlineViewInfo {
  readonly name: string;
  /** All its features, in definition order (the order of `OnlineRecord.values`). */
  readonly features: readonly string[];
  readonly ttlMs: number | null;
}

/** One entity's latest values of one view. */
export interface OnlineRecord {
  /** The encoded entity key (see encodeEntityKey). */
  readonly key: string;
  readonly eventTs: number;
  readonly values: readonly unknown[];
}

export interface OnlineReadRequest {
  readonly view: OnlineViewInfo;
  readonly keys: readonly string[];
  readonly features: readonly string[];
}

/** How partitions write on workers: a serializable description, or null when only this process can write. */
export type PartitionWriterSpec = { readonly kind: 'redis'; readonly connection: RedisConnectionSpec; readonly prefix: string };

export interface RedisConnectionSpec {
  readonly host: string;
  readonly port: number;
  readonly db: number;
  readonly connectTimeoutMs: number;
  readonly commandTimeoutMs: number;
}

export interface OnlineStore {
  /** For messages: `in-process`, `redis 127.0.0.1:6379/0 (prefix p)`. */
  readonly target: string;
  write(view: OnlineViewInfo, records: readonly OnlineRecord[], nowMs: number): Promise<void>;
  /** All requests in one round trip; per request, per key, the requested values or null (missing or expired). */
  read(requests: readonly OnlineReadRequest[], nowMs: number): Promise<(unknown[] | null)[][]>;
  highWaterMark(view: string): Promise<number | null>;
  setHighWaterMark(view: string, ms: number): Promise<void>;
  /** Runs `fn` holding the view's materialization lock; waits up to `waitMs` for it, then MaterializationLockedError. */
  withLock<T>(view: string, waitMs: number, fn: () => Promise<T>): Promise<T>;
  partitionWriter(): PartitionWriterSpec | null;
  close(): Promise<void>;
}

interface Slot {
  eventTs: number;
  values: Map<string, unknown>;
}

/**
 * The contents of an in-process store as plain data (structured-clone and msgpack safe): what a
 * process that materialized hands to serving processes that have no Redis to read
 * (`new InProcessOnlineStore(dump)`).
 */
export interface OnlineStoreDump {
  readonly views: Readonly<Record<string, readonly { readonly key: string; readonly eventTs: number; readonly values: Readonly<Record<string, unknown>> }[]>>;
  readonly highWaterMarks: Readonly<Record<string, number>>;
}

/** The embedded default: values in a Map of this process. */
export class InProcessOnlineStore implements OnlineStore {
  readonly target = 'in-process';
  private readonly data = new Map<string, Map<string, Slot>>();
  private readonly marks = new Map<string, number>();
  private readonly locks = new Map<string, Promise<void>>();

  /** An empty store, or one holding `dump` (see {@link InProcessOnlineStore.dump}). */
  constructor(dump?: OnlineStoreDump) {
    if (dump === undefined) return;
    for (const [view, records] of Object.entries(dump.views)) {
      this.data.set(view, new Map(records.map((r) => [r.key, { eventTs: r.eventTs, values: new Map(Object.entries(r.values)) }])));
    }
    for (const [view, ms] of Object.entries(dump.highWaterMarks)) this.marks.set(view, ms);
  }

  /** Every stored value and high-water mark, as plain data. */
  dump(): OnlineStoreDump {
    const views: Record<string, { key: string; eventTs: number; values: Record<string, unknown> }[]> = {};
    for (const [view, m] of this.data) views[view] = [...m].map(([key, slot]) => ({ key, eventTs: slot.eventTs, values: Object.fromEntries(slot.values) }));
    return { views, highWaterMarks: Object.fromEntries(this.marks) };
  }

  write(view: OnlineViewInfo, records: readonly OnlineRecord[], nowMs: number): Promise<void> {
    let m = this.data.get(view.name);
    if (m === undefined) this.data.set(view.name, (m = new Map()));
    for (const r of records) {
      if (view.ttlMs !== null && r.eventTs + view.ttlMs <= nowMs) continue; // expired already: Redis would drop it too
      const slot: Slot = m.get(r.key) ?? { eventTs: r.eventTs, values: new Map() };
      if (slot.eventTs > r.eventTs) continue; // never replace newer values (a materialization of an older range, a late push)
      slot.eventTs = r.eventTs;
      view.features.forEach((f, i) => slot.values.set(f, r.values[i] ?? null));
      m.set(r.key, slot);
    }
    return Promise.resolve();
  }

  read(requests: readonly OnlineReadRequest[], nowMs: number): Promise<(unknown[] | null)[][]> {
    return Promise.resolve(
      requests.map(({ view, keys, features }) => {
        const m = this.data.get(view.name);
        return keys.map((k) => {
          const slot = m?.get(k);
          if (slot === undefined || (view.ttlMs !== null && slot.eventTs + view.ttlMs <= nowMs)) return null;
          return features.map((f) => slot.values.get(f) ?? null);
        });
      }),
    );
  }

  highWaterMark(view: string): Promise<number | null> {
    return Promise.resolve(this.marks.get(view) ?? null);
  }

  setHighWaterMark(view: string, ms: number): Promise<void> {
    this.marks.set(view, ms);
    return Promise.resolve();
  }

  async withLock<T>(view: string, waitMs: number, fn: () => Promise<T>): Promise<T> {
    const start = Date.now();
    for (;;) {
      const held = this.locks.get(view);
      if (held === undefined) break;
      const left = waitMs - (Date.now() - start);
      if (left <= 0) throw new MaterializationLockedError(view, Date.now() - start);
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([held, new Promise((r) => (timer = setTimeout(r, left)))]);
      clearTimeout(timer);
    }
    let release!: () => void;
    this.locks.set(view, new Promise<void>((r) => (release = r)));
    try {
      return await fn();
    } finally {
      this.locks.delete(view);
      release();
    }
  }

  partitionWriter(): null {
    return null;
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
