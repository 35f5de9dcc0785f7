/**
 * The Feature store page's data: the feature store's registry (the file registry under
 * `$SHOAL_HOME/features`, or the folder given) and, when an online store is named (the Redis of
 * `SHOAL_FEATURES_REDIS_URL`, key prefix `SHOAL_FEATURES_REDIS_PREFIX`), each view's high-water mark
 * for its freshness. The features layer is imported on the first request only: a head that never
 * shows the page does not load it. A source's PostgreSQL URL is never shown (it may hold a password).
 */
import type { FeaturesView } from './api-types.js';

export interface FeaturesViewOptions {
  /** @default $SHOAL_HOME/features */
  registryDir?: string | undefined;
  /** @default SHOAL_FEATURES_REDIS_URL (none: freshness not known) */
  redisUrl?: string | undefined;
  /** @default SHOAL_FEATURES_REDIS_PREFIX, else the store's default */
  redisPrefix?: string | undefined;
}

type SourceLike = { kind: string; table?: string | undefined; query?: string | undefined; paths?: string | readonly string[] | undefined; name?: string | null | undefined };

function describeSource(s: SourceLike): string {
  if (s.kind === 'postgres') return s.table ? `postgres table ${s.table}` : 'postgres query';
  if (s.kind === 'parquet') return `parquet ${typeof s.paths === 'string' ? s.paths : (s.paths ?? []).join(', ')}`;
  return `dataset${s.name ? ` ${s.name}` : ''}`;
}

export async function featuresView(options: FeaturesViewOptions = {}): Promise<FeaturesView> {
  const f = await import('../features/index.js');
  const registry = new f.FileFeatureRegistry(options.registryDir ?? f.defaultRegistryDir());
  const snap = await registry.snapshot();
  const redisUrl = options.redisUrl ?? (process.env.SHOAL_FEATURES_REDIS_URL || undefined);
  const prefix = options.redisPrefix ?? (process.env.SHOAL_FEATURES_REDIS_PREFIX || undefined);
  const views: FeaturesView['views'] = [
    ...Object.values(snap.featureViews).map(({ version, appliedAt, spec }) => ({
      name: spec.name, kind: 'featureView' as const, version, appliedAt, entities: [...spec.entities], source: describeSource(spec.source as SourceLike),
      features: spec.features.map((x) => ({ name: x.name, type: String(x.type) })), ttlMs: spec.ttlMs, description: spec.description,
    })),
    ...Object.values(snap.onDemandFeatureViews).map(({ version, appliedAt, spec }) => ({
      name: spec.name, kind: 'onDemandFeatureView' as const, version, appliedAt, entities: [], source: `on demand from ${spec.sources.join(', ')}`,
      features: spec.features.map((x) => ({ name: x.name, type: String(x.type) })), ttlMs: null, description: spec.description,
    })),
  ].sort((a, b) => a.name.localeCompare(b.name));
  let online = 'no online store named (set SHOAL_FEATURES_REDIS_URL for freshness)';
  if (redisUrl) {
    const store = new f.RedisOnlineStore({ url: redisUrl, ...(prefix ? { prefix } : {}) });
    try {
      for (const v of views) if (v.kind === 'featureView') v.highWaterMark = await store.highWaterMark(v.name);
      online = `redis ${new URL(redisUrl).host}${prefix ? ` (prefix ${prefix})` : ''}`;
    } catch (err) {
      online = `the online store did not answer: ${(err as Error).message}`;
    } finally {
      await store.close().catch(() => undefined);
    }
  }
  return {
    registry: registry.location, online,
    entities: Object.values(snap.entities).map(({ version, spec }) => ({ name: spec.name, joinKeys: [...spec.joinKeys], keyType: String(spec.keyType), version, description: spec.description })),
    views,
  };
}
