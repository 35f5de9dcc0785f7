/**
 * The Redis online store (layout in redis-client.ts). Every operation either finishes or fails with
 * an OnlineStoreUnavailableError within `operationTimeoutMs` — the connect and command timeouts bound
 * ioredis itself, and a last deadline covers anything queued while it reconnects.
 *
 * The materialization lock is `SET lock token NX PX lockTtlMs`, renewed while held and released only
 * by its holder (compare-and-delete), so a crashed holder's lock expires and two materializations of
 * one view never write at the same time.
 */
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { optionRules } from '../../core/index.js';
import { MaterializationLockedError, OnlineStoreUnavailableError } from './errors.js';
import type { OnlineReadRequest, OnlineRecord, OnlineStore, OnlineViewInfo, PartitionWriterSpec, RedisConnectionSpec } from './online-store.js';
import { decodeValue } from './redis-values.js';
import { connect, execPipeline, hashKey, hwmKey, lockKey, TS_FIELD, writeChunked } from './redis-client.js';

export interface RedisOnlineStoreOptions {
  /** `redis://host:port/db`. @default 'redis://127.0.0.1:6379/0' */
  readonly url?: string;
  /** Prefix of every key this store writes (one per deployment or test). @default 'shoal:fs' */
  readonly prefix?: string;
  /** @default 1000 */
  readonly connectTimeoutMs?: number;
  /** @default 1000 */
  readonly commandTimeoutMs?: number;
  /** Longest a read or any other small operation may take before OnlineStoreUnavailableError. @default 2000 */
  readonly operationTimeoutMs?: number;
  /** Longest a write of values (a push, one partition's share of a materialization) may take. @default 30000 */
  readonly writeTimeoutMs?: number;
  /** Expiry of a materialization lock whose holder stopped renewing it. @default 30000 */
  readonly lockTtlMs?: number;
}

const RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end";
const RENEW = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end";

function parseUrl(url: string, rules: ReturnType<typeof optionRules>): { host: string; port: number; db: number } {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return rules.fail('url', 'must be a redis://host:port/db URL', url);
  }
  if (u.protocol !== 'redis:') rules.fail('url', 'must be a redis://host:port/db URL', url);
  const db = u.pathname.length > 1 ? Number(u.pathname.slice(1)) : 0;
  if (!Number.isInteger(db) || db < 0) rules.fail('url', 'has a database number that is not a non-negative integer', url);
  return { host: u.hostname || '127.0.0.1', port: u.port ? Number(u.port) : 6379, db };
}

export class RedisOnlineStore implements OnlineStore {
  readonly target: string;
  /** The `redis://host:port/db` URL it connects to. */
  readonly url: string;
  readonly prefix: string;
  private readonly spec: RedisConnectionSpec;
  private readonly operationTimeoutMs: number;
  private readonly writeTimeoutMs: number;
  private readonly lockTtlMs: number;
  private readonly client: Redis;

  constructor(options: RedisOnlineStoreOptions = {}) {
    const rules = optionRules('RedisOnlineStore');
    rules.knownKeys(rules.object(options), ['url', 'prefix', 'connectTimeoutMs', 'commandTimeoutMs', 'operationTimeoutMs', 'writeTimeoutMs', 'lockTtlMs']);
    this.url = options.url ?? 'redis://127.0.0.1:6379/0';
    const { host, port, db } = parseUrl(this.url, rules);
    this.prefix = options.prefix ?? 'shoal:fs';
    if (typeof this.prefix !== 'string' || this.prefix === '') rules.fail('prefix', 'must be a non-empty string', this.prefix);
    this.spec = {
      host, port, db,
      connectTimeoutMs: rules.int('connectTimeoutMs', options.connectTimeoutMs, 1000),
      commandTimeoutMs: rules.int('commandTimeoutMs', options.commandTimeoutMs, 1000),
    };
    this.operationTimeoutMs = rules.int('operationTimeoutMs', options.operationTimeoutMs, 2000);
    this.writeTimeoutMs = rules.int('writeTimeoutMs', options.writeTimeoutMs, 30_000);
    this.lockTtlMs = rules.int('lockTtlMs', options.lockTtlMs, 30_000, { min: 100 });
    this.target = `redis ${host}:${port}/${db} (prefix ${this.prefix})`;
    this.client = connect(this.spec);
  }

  /** Runs `op` against Redis, turning any failure or a missed deadline into OnlineStoreUnavailableError. */
  private async call<T>(operation: string, op: (c: Redis) => Promise<T>, timeoutMs = this.operationTimeoutMs): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      if (this.client.status === 'wait') void this.client.connect().catch(() => undefined);
      return await Promise.race([op(this.client), deadline]);
    } catch (err) {
      if (err instanceof MaterializationLockedError) throw err;
      throw new OnlineStoreUnavailableError(this.target, operation, err);
    } finally {
      clearTimeout(timer);
    }
  }

  async write(view: OnlineViewInfo, records: readonly OnlineRecord[], nowMs: number): Promise<void> {
    await this.call('write', (c) => writeChunked(c, this.prefix, view, records, nowMs), this.writeTimeoutMs);
  }

  read(requests: readonly OnlineReadRequest[], nowMs: number): Promise<(unknown[] | null)[][]> {
    return this.call('read', async (c) => {
      const pipe = c.pipeline();
      for (const { view, keys, features } of requests) {
        const keyPrefix = hashKey(this.prefix, view.name, '');
        const fields = [...features, TS_FIELD];
        for (const k of keys) pipe.hmgetBuffer(keyPrefix + k, ...fields);
      }
      const replies = (await execPipeline(pipe)) as (Buffer | null)[][];
      let i = 0;
      return requests.map(({ view, keys, features }) => {
        const nf = features.length;
        const out = new Array<unknown[] | null>(keys.length);
        for (let e = 0; e < keys.length; e++) {
          const reply = replies[i++]!;
          const ts = reply[nf];
          if (ts == null || (view.ttlMs !== null && (decodeValue(ts) as number) + view.ttlMs <= nowMs)) {
            out[e] = null;
            continue;
          }
          const values = new Array<unknown>(nf);
          for (let j = 0; j < nf; j++) {
            const b = reply[j];
            values[j] = b == null ? null : decodeValue(b);
          }
          out[e] = values;
        }
        return out;
      });
    });
  }

  async highWaterMark(view: string): Promise<number | null> {
    const v = await this.call('read high-water mark', (c) => c.get(hwmKey(this.prefix, view)));
    return v === null ? null : Number(v);
  }

  async setHighWaterMark(view: string, ms: number): Promise<void> {
    await this.call('write high-water mark', (c) => c.set(hwmKey(this.prefix, view), String(ms)));
  }

  async withLock<T>(view: string, waitMs: number, fn: () => Promise<T>): Promise<T> {
    const key = lockKey(this.prefix, view);
    const token = randomUUID();
    const start = Date.now();
    for (let delay = 20; ; delay = Math.min(delay * 2, 250)) {
      const ok = await this.call('take materialization lock', (c) => c.set(key, token, 'PX', this.lockTtlMs, 'NX'));
      if (ok === 'OK') break;
      if (Date.now() - start + delay > waitMs) throw new MaterializationLockedError(view, Date.now() - start);
      await new Promise((r) => setTimeout(r, delay));
    }
    const renew = setInterval(() => void this.client.eval(RENEW, 1, key, token, String(this.lockTtlMs)).catch(() => undefined), Math.floor(this.lockTtlMs / 3));
    renew.unref();
    try {
      return await fn();
    } finally {
      clearInterval(renew);
      await this.call('release materialization lock', (c) => c.eval(RELEASE, 1, key, token)).catch(() => undefined);
    }
  }

  partitionWriter(): PartitionWriterSpec {
    return { kind: 'redis', connection: { ...this.spec, commandTimeoutMs: this.writeTimeoutMs }, prefix: this.prefix };
  }

  /** Deletes every key under this store's prefix (tests, teardown); bounded by writeTimeoutMs (it scans the whole key space). */
  async clear(): Promise<void> {
    await this.call('clear', async (c) => {
      let cursor = '0';
      do {
        const [next, keys] = await c.scan(cursor, 'MATCH', `${this.prefix}:*`, 'COUNT', 1000);
        cursor = next;
        if (keys.length > 0) await c.unlink(...keys);
      } while (cursor !== '0');
    }, this.writeTimeoutMs);
  }

  async close(): Promise<void> {
    this.client.disconnect();
    return Promise.resolve();
  }
}
