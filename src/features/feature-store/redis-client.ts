/**
 * Redis layout and connection, shared by the driver's store and the partition writers on workers.
 *
 * Layout: one hash per view and entity, `<prefix>:v:<view>:<entity key>`, with one field per feature
 * and `_ts` (event time, ms), each value msgpackr-encoded; the hash expires (PEXPIREAT) when its
 * values pass the view's TTL. A write is a script that compares `_ts` first, so values are never
 * replaced by older ones (a materialization of an older range, a late push) — one command per entity,
 * as HSET + PEXPIREAT were two. A lookup of many entities and views is one pipeline of HMGETs: one
 * round trip. High-water marks live in `<prefix>:hwm:<view>`, materialization locks in `<prefix>:lock:<view>`.
 *
 * Connections are bounded so that a Redis that is down fails fast instead of hanging: a connect
 * timeout, a command timeout, one retry per request, and the offline queue flushed with an error.
 */
import { createHash } from 'node:crypto';
import { Redis } from 'ioredis';
import { pack } from 'msgpackr';
import type { OnlineRecord, OnlineViewInfo, RedisConnectionSpec } from './online-store.js';

export const TS_FIELD = '_ts';
/** Entities per write pipeline: big enough to amortize the round trip, small enough that its last reply comes soon. */
export const WRITE_CHUNK = 2000;

export const hashKey = (prefix: string, view: string, key: string): string => `${prefix}:v:${view}:${key}`;
export const hwmKey = (prefix: string, view: string): string => `${prefix}:hwm:${view}`;
export const lockKey = (prefix: string, view: string): string => `${prefix}:lock:${view}`;

export function connect(spec: RedisConnectionSpec): Redis {
  const client = new Redis({
    host: spec.host,
    port: spec.port,
    db: spec.db,
    lazyConnect: true,
    connectTimeout: spec.connectTimeoutMs,
    commandTimeout: spec.commandTimeoutMs,
    maxRetriesPerRequest: 1,
    // Keep reconnecting in the background (a serving process recovers when Redis is back), slowly.
    retryStrategy: (times) => Math.min(times * 200, 2000),
    enableReadyCheck: false,
  });
  client.on('error', () => undefined); // surfaced by the commands that fail, as OnlineStoreUnavailableError
  return client;
}

/** KEYS[1] the hash; ARGV: event time, expire-at ms or '', then field/value pairs. Returns 1 when written. */
const WRITE_SCRIPT = `local cur = redis.call('hget', KEYS[1], '_ts')
if cur and cmsgpack.unpack(cur) > tonumber(ARGV[1]) then return 0 end
redis.call('hset', KEYS[1], unpack(ARGV, 3))
if ARGV[2] ~= '' then redis.call('pexpireat', KEYS[1], ARGV[2]) end
return 1`;
const WRITE_SHA = createHash('sha1').update(WRITE_SCRIPT).digest('hex');

/** Makes sure the write script is cached in Redis (EVALSHA in pipelines needs it; SCRIPT FLUSH or a restart drop it). */
export async function loadWriteScript(client: Redis): Promise<void> {
  await client.script('LOAD', WRITE_SCRIPT);
}

/** Queues the writes of `records` on `pipe` (the write script per entity); skips already-expired ones. Needs loadWriteScript() first. */
export function queueWrites(pipe: ReturnType<Redis['pipeline']>, prefix: string, view: OnlineViewInfo, records: readonly OnlineRecord[], nowMs: number): number {
  let n = 0;
  const fields = view.features;
  for (const r of records) {
    const expireAt = view.ttlMs === null ? null : r.eventTs + view.ttlMs;
    if (expireAt !== null && expireAt <= nowMs) continue;
    const args: (string | Buffer)[] = [String(r.eventTs), expireAt === null ? '' : String(Math.ceil(expireAt))];
    for (let i = 0; i < fields.length; i++) args.push(fields[i]!, pack(r.values[i] ?? null));
    args.push(TS_FIELD, pack(r.eventTs));
    pipe.evalsha(WRITE_SHA, 1, hashKey(prefix, view.name, r.key), ...args);
    n++;
  }
  return n;
}

/** Runs a pipeline and throws the first command error (ioredis resolves per-command errors in the result). */
export async function execPipeline(pipe: ReturnType<Redis['pipeline']>): Promise<unknown[]> {
  const results = (await pipe.exec()) ?? [];
  const out: unknown[] = [];
  for (const [err, value] of results) {
    if (err) throw err;
    out.push(value);
  }
  return out;
}

/** Writes `records` in pipelines of WRITE_CHUNK entities (each reply within the command timeout); returns how many were written. */
export async function writeChunked(client: Redis, prefix: string, view: OnlineViewInfo, records: readonly OnlineRecord[], nowMs: number): Promise<number> {
  let n = 0;
  if (records.length > 0) await loadWriteScript(client);
  for (let i = 0; i < records.length; i += WRITE_CHUNK) {
    const pipe = client.pipeline();
    const queued = queueWrites(pipe, prefix, view, records.slice(i, i + WRITE_CHUNK), nowMs);
    if (queued > 0) await execPipeline(pipe);
    n += queued;
  }
  return n;
}
