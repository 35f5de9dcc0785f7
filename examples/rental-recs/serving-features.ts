/**
 * What the live rental model reads from the feature store (issue 16): per request, the user's
 * aggregates (user_stats) and the answered listings' attributes (listing_features), from the online
 * store the job materialized — Redis when the job ran with one (`--redis URL` / SHOAL_REDIS_URL),
 * else a copy of the job's in-process store handed to each replica. Nothing comes from the job's
 * in-memory tables.
 *
 * What the answer does with them:
 * - a user the model cannot score (unknown to it, or no history in it) whose preferred neighbourhood
 *   the feature store knows gets the popular listings of that neighbourhood (fallback
 *   `popular in preferred neighbourhood`) unless the request names a neighbourhood;
 * - every answered listing carries its stored attributes (`items[].listing`), and the answer the
 *   user's (`features.user`).
 *
 * The documented fallback when the online store is unavailable (Redis down or slow): the answer is
 * the model's alone, with `features: { unavailable: "<why>" }` and no listing attributes — never a
 * hang, never a 500. A read fails within the store's operation timeout (SERVING_REDIS below); after a
 * failure the store is not asked again for `retryAfterMs`, so an outage costs one timeout per
 * replica per second, not one per request.
 */
import {
  FeatureStore, InProcessOnlineStore, OnlineStoreUnavailableError, RedisOnlineStore,
  type FeatureRow, type OnlineStoreDump, type RedisOnlineStoreOptions, type RegistrySnapshot,
} from 'shoal/features';
import type { ModelIndex, RecommendationAnswer, RecommendationQuery } from './served-model.js';

/** The listing attributes an answer shows, and the user aggregates it reads. */
export const SERVED_LISTING_FEATURES = ['price', 'room_type', 'neighbourhood', 'accommodates', 'bedrooms'] as const;
export const SERVED_USER_FEATURES = ['stays', 'stays_90d', 'preferred_neighbourhood'] as const;
const LISTING_REFS = SERVED_LISTING_FEATURES.map((f) => `listing_features:${f}`);
const USER_REFS = SERVED_USER_FEATURES.map((f) => `user_stats:${f}`);

/** Timeouts of a serving replica's Redis connection: an answer must not wait long for features. */
export const SERVING_REDIS = { connectTimeoutMs: 500, commandTimeoutMs: 500, operationTimeoutMs: 1000 } as const;

/** What the job hands to each replica (plain data: it crosses to the replicas' processes). */
export interface ServingFeatures {
  /** The job's views as its registry recorded them. */
  readonly snapshot: RegistrySnapshot;
  /** Where the materialized values are. */
  readonly online: { readonly redis: RedisOnlineStoreOptions } | { readonly dump: OnlineStoreDump };
}

/** The serving side of the job's feature store: its registry snapshot and its online store (Redis, or a copy of the in-process one). */
export async function servingFeaturesOf(store: FeatureStore): Promise<ServingFeatures> {
  const snapshot = await store.registry.snapshot();
  const o = store.online;
  if (o instanceof RedisOnlineStore) return { snapshot, online: { redis: { url: o.url, prefix: o.prefix, ...SERVING_REDIS } } };
  if (o instanceof InProcessOnlineStore) return { snapshot, online: { dump: o.dump() } };
  throw new Error(`the live model reads Redis or the in-process online store; the job's is ${o.target}`);
}

/** A replica's feature store (online reads only). */
export function openServingFeatures(f: ServingFeatures): FeatureStore {
  return FeatureStore.forServing(f.snapshot, { online: 'redis' in f.online ? f.online : new InProcessOnlineStore(f.online.dump) });
}

/** Join keys are integers: a non-integer id (an unknown user like "guest-7") has no stored features. */
const intKey = (id: string): number | bigint | null => {
  if (!/^\d{1,19}$/.test(id)) return null;
  const n = Number(id);
  return Number.isSafeInteger(n) ? n : BigInt(id);
};

const pick = (row: FeatureRow | undefined, names: readonly string[]): Record<string, unknown> | null => {
  if (row === undefined || names.every((n) => row[n] == null)) return null;
  return Object.fromEntries(names.map((n) => [n, row[n] ?? null]));
};

/** One replica's lookups, with the outage rule above. */
export class FeatureLookup {
  private downUntil = 0;
  private lastError = '';

  constructor(
    readonly store: FeatureStore,
    private readonly retryAfterMs = 1000,
  ) {}

  /** Runs `read`; null (and the reason in `unavailable`) when the online store is unavailable. */
  private async guarded(read: () => Promise<FeatureRow[]>): Promise<{ rows: FeatureRow[] | null; unavailable: string | null }> {
    if (Date.now() < this.downUntil) return { rows: null, unavailable: this.lastError };
    try {
      return { rows: await read(), unavailable: null };
    } catch (err) {
      if (!(err instanceof OnlineStoreUnavailableError)) throw err;
      this.downUntil = Date.now() + this.retryAfterMs;
      this.lastError = err.message;
      return { rows: null, unavailable: err.message };
    }
  }

  /** The user's aggregates (null: not in the store, or no integer id). */
  async user(userId: string | null): Promise<{ user: Record<string, unknown> | null; unavailable: string | null }> {
    const key = userId === null ? null : intKey(userId);
    if (key === null) return { user: null, unavailable: null };
    const { rows, unavailable } = await this.guarded(() => this.store.getOnlineFeatures([{ user_id: key }], USER_REFS));
    return { user: pick(rows?.[0], SERVED_USER_FEATURES), unavailable };
  }

  /** The listings' attributes, in order (null per listing not in the store; all null when unavailable). */
  async listings(ids: readonly string[]): Promise<{ listings: (Record<string, unknown> | null)[]; unavailable: string | null }> {
    const keyed = ids.map((id, i) => ({ i, key: intKey(id) })).filter((k) => k.key !== null);
    const out: (Record<string, unknown> | null)[] = ids.map(() => null);
    if (keyed.length === 0) return { listings: out, unavailable: null };
    const { rows, unavailable } = await this.guarded(() => this.store.getOnlineFeatures(keyed.map((k) => ({ listing_id: k.key })), LISTING_REFS));
    if (rows !== null) keyed.forEach((k, j) => (out[k.i] = pick(rows[j], SERVED_LISTING_FEATURES)));
    return { listings: out, unavailable };
  }

  close(): Promise<void> {
    return this.store.close();
  }
}

/**
 * One answer with the feature store: the user's aggregates first (their preferred neighbourhood can
 * pick the fallback), the model's answer, then the answered listings' attributes.
 */
export async function recommendWithFeatures(index: ModelIndex, lookup: FeatureLookup, q: RecommendationQuery): Promise<RecommendationAnswer> {
  const u = await lookup.user(q.user);
  const preferred = u.user?.preferred_neighbourhood;
  const preferredNbhd = typeof preferred === 'string' ? (index.nbhds.get(preferred.toLowerCase()) ?? -1) : -1;
  const answer = index.recommend({ ...q, preferredNbhd });
  const l = u.unavailable === null ? await lookup.listings(answer.items.map((i) => i.id)) : null;
  const unavailable = u.unavailable ?? l?.unavailable ?? null;
  answer.items.forEach((item, j) => (item.listing = l?.listings[j] ?? null));
  answer.features = unavailable !== null ? { unavailable } : { user: u.user };
  return answer;
}
