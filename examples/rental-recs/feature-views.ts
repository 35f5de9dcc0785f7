/**
 * The rental job's features as feature-store views (issue 16): listing features (price, size,
 * location, room type, ward, amenities) and user aggregates (stays so far and in the trailing 90 days,
 * and the preferred neighbourhood: the most frequent neighbourhood of their stays, ties to the one
 * stayed in most recently — from the ratings, leakage-free: a stay counts from the next instant on,
 * so the row of a stay at t holds what was known strictly before t). The job builds a
 * point-in-time training set of its stays from them and materializes the latest values into the
 * online store — the in-process one unless Redis is configured — so serving can call
 * `onlineFeaturesFor(store, userId, listingIds)` and see the values training saw.
 *
 * Listings are a snapshot without history: their rows are valid from the epoch on (event time 0 ms).
 */
import { agg, col, lit, type Dataset } from 'shoal/data';
import { FeatureStore, defineEntity, defineFeatureView, trailingWindowFeatures, type FeatureRow, type FeatureView } from 'shoal/features';

export const listingEntity = defineEntity({ name: 'listing', joinKeys: 'listing_id', description: 'a rental listing' });
export const userEntity = defineEntity({ name: 'user', joinKeys: 'user_id', description: 'a guest' });

/** The features serving reads: listing attributes and the user's aggregates. */
export const RENTAL_FEATURES = [
  'listing_features:price', 'listing_features:accommodates', 'listing_features:bedrooms', 'listing_features:latitude', 'listing_features:longitude',
  'listing_features:room_type', 'listing_features:neighbourhood', 'listing_features:amenities', 'user_stats:stays', 'user_stats:stays_90d',
  'user_stats:preferred_neighbourhood',
] as const;

/** The two views over the job's listings and ratings tables. */
export async function rentalFeatureViews(listings: Dataset, ratings: Dataset): Promise<FeatureView[]> {
  const listingRows = listings.select(
    col('id').alias('listing_id'), lit(0).cast('float64').alias('valid_from'), col('price').cast('float64').alias('price'),
    col('accommodates').cast('float64').alias('accommodates'), col('bedrooms').cast('float64').alias('bedrooms'),
    col('latitude').cast('float64').alias('latitude'), col('longitude').cast('float64').alias('longitude'),
    col('room_type'), col('neighbourhood'), col('amenities'),
  );
  const listingView = defineFeatureView({
    name: 'listing_features', entities: [listingEntity], source: { kind: 'dataset', name: 'listings', dataset: listingRows.cache() }, timestampField: 'valid_from',
    features: { price: 'float64', accommodates: 'float64', bedrooms: 'float64', latitude: 'float64', longitude: 'float64', room_type: 'utf8', neighbourhood: 'utf8', amenities: 'utf8' },
    description: 'listing attributes (a snapshot, valid from the epoch)',
  });
  // Cached: the training set and the materialization read both sources (the windows are computed once).
  const userView = defineFeatureView({
    name: 'user_stats', entities: [userEntity], source: { kind: 'dataset', name: 'ratings with trailing windows', dataset: (await userStats(listings, ratings)).cache() },
    timestampField: 'rated_at', features: { stays: 'float64', stays_90d: 'float64', preferred_neighbourhood: 'utf8' },
    description: "the user's stays before each stay: in total, in the trailing 90 days, and their most frequent neighbourhood (ties: the most recent)",
  });
  return [listingView, userView];
}

/**
 * One row per stay (user_id, rated_at) with the user's aggregates over their stays strictly before
 * it: `stays`, `stays_90d` and `preferred_neighbourhood` (the listing's neighbourhood of those stays
 * most often; a tie goes to the neighbourhood of the latest stay among the tied; null before the
 * first stay, and stays in listings without a neighbourhood do not count for it) — and one row per
 * user the day after their last stay, over all their stays. `rated_at` is a timestamp.
 */
export async function userStats(listings: Dataset, ratings: Dataset): Promise<Dataset> {
  const nbhd = listings.select(col('id').cast('int64').alias('listing_id'), col('neighbourhood'));
  const events = ratings.select(col('user_id'), col('listing_id').cast('int64').alias('listing_id'), col('rated_at').cast('timestamp').alias('rated_at'), col('rating'))
    .join(nbhd, 'listing_id', 'left');
  // One more row per user, the day after their last stay, that is no stay itself (no rating, no
  // neighbourhood): its aggregates cover every stay, so the latest value (what serving reads) counts
  // the last stay too, while the row of each stay still holds only the stays strictly before it.
  const after = ratings.groupBy('user_id').agg(agg.max('rated_at', 'last')).select(
    col('user_id'), lit(null).cast('int64').alias('listing_id'), col('last').addDays(1).cast('timestamp').alias('rated_at'),
    lit(null).cast('float64').alias('rating'), lit(null).cast('utf8').alias('neighbourhood'),
  );
  // Both sides with the same types (a source's rating may be float32, its neighbourhood dictionary-encoded).
  const stays = events.select(col('user_id'), col('listing_id'), col('rated_at'), col('rating').cast('float64').alias('rating'), col('neighbourhood').cast('utf8').alias('neighbourhood')).union(after);
  const out = await trailingWindowFeatures(stays, {
    key: 'user_id', timestamp: 'rated_at', windows: [90], numPartitions: 2,
    aggs: [{ column: 'rating', op: 'count', as: 'stays' }, { column: 'neighbourhood', op: 'mode', as: 'preferred_neighbourhood' }],
  });
  return out.select('user_id', 'rated_at', 'stays', 'stays_90d', 'preferred_neighbourhood');
}

export interface RentalFeatureSummary {
  /** Rows of the point-in-time training set (one per stay). */
  readonly trainingRows: number;
  /** Share of training rows with the listing's price / the user's earlier stays known. */
  readonly priceKnown: number;
  readonly userHistoryKnown: number;
  /** Entities materialized into the online store, per view. */
  readonly materialized: Readonly<Record<string, number>>;
}

/** Applies the views, builds the training set of the stays, materializes everything up to now. */
export async function buildRentalFeatures(store: FeatureStore, listings: Dataset, ratings: Dataset): Promise<RentalFeatureSummary> {
  await store.apply(await rentalFeatureViews(listings, ratings));
  const entityRows = ratings.select(col('user_id'), col('listing_id'), col('rated_at').cast('timestamp').alias('event_timestamp'));
  const training = await store.getHistoricalFeatures(entityRows, ['listing_features:price', 'user_stats:stays']);
  const t = await training.select(col('price').isNull().not().cast('float64').alias('p'), col('stays').gt(0).cast('float64').alias('s')).toArrow();
  let p = 0;
  let s = 0;
  const pc = t.getChild('p')!;
  const sc = t.getChild('s')!;
  for (let i = 0; i < t.numRows; i++) {
    p += Number(pc.get(i) ?? 0);
    s += Number(sc.get(i) ?? 0);
  }
  // Everything up to now (not incremental: listings are rows at the epoch, and a Redis store kept
  // from an earlier run has a high-water mark past them, so a changed listing would be skipped).
  const done = await store.materialize(0, Date.now());
  return {
    trainingRows: t.numRows, priceKnown: t.numRows ? p / t.numRows : 0, userHistoryKnown: t.numRows ? s / t.numRows : 0,
    materialized: Object.fromEntries(done.map((d) => [d.view, d.rows])),
  };
}

/** The listing_features the neural model's featurization reads (featurize.ts), in the columns it reads them as. */
export const NEURAL_LISTING_FEATURES = ['price', 'accommodates', 'bedrooms', 'latitude', 'longitude', 'room_type', 'neighbourhood', 'amenities'] as const;

/**
 * The neural model's listing inputs from the feature store: listing_features of `listingIds` by the
 * store's point-in-time join at `atMs` (`getHistoricalFeatures`; the values valid at that time, as
 * `getOnlineFeatures` serves them after a materialization up to it), as the rows featurizeListings
 * reads (`id` and the listing columns).
 */
export async function listingFeaturesAt(store: FeatureStore, listingIds: ArrayLike<bigint | number>, atMs: number): Promise<Dataset> {
  const rows = Array.from(listingIds, (id) => ({ listing_id: id, event_timestamp: atMs }));
  const ds = await store.getHistoricalFeatures(rows, NEURAL_LISTING_FEATURES.map((f) => `listing_features:${f}`));
  return ds.select(col('listing_id').alias('id'), ...NEURAL_LISTING_FEATURES.map((f) => col(f)));
}

/** Serving: one user's aggregates and the candidate listings' attributes, in one online-store round trip. */
export function onlineFeaturesFor(store: FeatureStore, userId: number, listingIds: readonly number[]): Promise<FeatureRow[]> {
  return store.getOnlineFeatures(listingIds.map((listingId) => ({ user_id: userId, listing_id: listingId })), RENTAL_FEATURES, { fallback: 'nulls' });
}
