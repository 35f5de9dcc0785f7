/**
 * Featurizes the real Inside Airbnb data of Albany, NY (../shared/data/airbnb-albany) with shoal's
 * features layer, on a local cluster:
 *
 * - listings: price text ("$1,200.00", empty for 37 listings) → number, imputed with the median
 *   (Imputer policy); amenities JSON list → multi-hot (unparsable/empty → all zeros); neighbourhood →
 *   StringIndexer(handleInvalid 'keep') → one-hot (an unseen ward gets the extra slot); missing review
 *   scores imputed with the mean; everything assembled into one vector;
 * - reviews: per listing, reviews in the last 30/90/365 days as of each review's date (strictly
 *   earlier reviews only), then as-of joined onto the listings at the scrape date (ttl 365 days);
 * - calendar: availability rate and mean nightly price per season, per listing.
 *
 * The fitted pipeline is saved, reloaded and applied to messy records in-process (the serving path).
 *
 *   npm run build && node dist/examples/rental-features/main.js
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { init, isMain, shutdown } from 'shoal';
import { agg, col, lit, readCsv, when } from 'shoal/data';
import {
  Imputer, MultiHotEncoder, OneHotEncoder, Pipeline, PipelineModel, StringIndexer, StringIndexerModel, TimeFeatures, VectorAssembler, asOfJoin,
  trailingWindowFeatures,
} from 'shoal/features';
import { albanyDataDir } from '../albany-data.js';


/** "$1,200.00" → 1200; empty or malformed → null. */
const priceNumber = (c: string) => col(c).regexpReplace('[$,]', '').cast('float64');

export async function main(): Promise<void> {
  const data = albanyDataDir();
  const started = performance.now();
  await init({ numCpus: 2 });

  const listings = readCsv(join(data, 'listings.csv'))
    .select('id', 'neighbourhood_cleansed', 'room_type', 'accommodates', 'amenities', 'price', 'review_scores_rating')
    .withColumn('price_usd', priceNumber('price'))
    .withColumn('scrape_date', lit('2024-11-05'));

  const model = await new Pipeline([
    new Imputer({ inputCols: ['price_usd'], strategy: 'median' }),
    new Imputer({ inputCols: ['review_scores_rating'], strategy: 'mean' }),
    new MultiHotEncoder({ inputCol: 'amenities', maxItems: 40 }),
    new StringIndexer({ inputCol: 'neighbourhood_cleansed', outputCol: 'hood_index', handleInvalid: 'keep' }),
    new OneHotEncoder({ inputCol: 'hood_index', outputCol: 'hood_vec', handleInvalid: 'keep' }),
    new VectorAssembler({ inputCols: ['price_usd', 'accommodates', 'review_scores_rating', 'hood_vec', 'amenities_multihot'], outputCol: 'features' }),
  ]).fit(listings);
  const featurized = model.transform(listings);
  const t = await featurized.collect();
  const features = t.getChild('features')!;
  console.log(`listings: ${t.numRows} rows → feature vectors of ${features.type.listSize as number} floats`);
  console.log(`  neighbourhoods (by frequency): ${(model.stages[3] as StringIndexerModel).labels.slice(0, 5).join(', ')} …`);

  // Reviews: trailing-window counts as of each review's date (no leakage: strictly earlier reviews).
  const reviews = readCsv(join(data, 'reviews.csv')).select('listing_id', 'date');
  const windows = await trailingWindowFeatures(reviews, { key: 'listing_id', timestamp: 'date', windows: [30, 90, 365] });
  const busiest = await windows.sort({ column: 'count_365d', ascending: false }).take(3);
  console.log('reviews with the most reviews of the same listing in the previous 365 days:');
  for (const r of busiest) console.log(`  listing ${String(r['listing_id'])} on ${new Date(Number(r['date'])).toISOString().slice(0, 10)}: ${String(r['count_30d'])}/${String(r['count_90d'])}/${String(r['count_365d'])} (30/90/365 d)`);

  // Point in time: each listing at the scrape date gets its latest review-window row (ttl 365 days).
  const asOf = await asOfJoin(
    listings.select(col('id').alias('listing_id'), col('scrape_date').cast('date').alias('as_of')),
    windows.select('listing_id', col('date').alias('review_date'), 'count_30d', 'count_90d', 'count_365d'),
    { on: 'listing_id', timestamp: { entity: 'as_of', feature: 'review_date' }, ttlMs: 365 * 86_400_000 },
  );
  const active = await asOf.filter(col('count_365d').isNotNull()).count();
  console.log(`as of 2024-11-05: ${active} of ${t.numRows} listings had a review in the previous year`);

  // Calendar: availability and seasonal nightly price per listing.
  const calendar = new TimeFeatures({ inputCol: 'date', features: ['season'], prefix: '' }).model.transform(
    readCsv(join(data, 'calendar.csv.gz')).withColumn('price_usd', priceNumber('price')).withColumn('avail', when(col('available').eq('t'), 1).otherwise(0)),
  );
  const seasonal = await calendar
    .withColumn('summer_price', when(col('season').eq(2), col('price_usd')).otherwise(lit(null).cast('float64')))
    .withColumn('winter_price', when(col('season').eq(0), col('price_usd')).otherwise(lit(null).cast('float64')))
    .groupBy('listing_id')
    .agg(agg.mean('avail', 'availability'), agg.mean('summer_price', 'summer_price'), agg.mean('winter_price', 'winter_price'))
    .agg(agg.mean('availability', 'availability'), agg.mean('summer_price', 'summer_price'), agg.mean('winter_price', 'winter_price'))
    .take(1);
  const s = seasonal[0]!;
  console.log(`calendar: mean availability ${(100 * Number(s['availability'])).toFixed(1)}%, mean listing price summer $${Number(s['summer_price']).toFixed(0)} vs winter $${Number(s['winter_price']).toFixed(0)}`);

  // Serving: save, reload, and featurize messy records with no cluster involved.
  const dir = await mkdtemp(join(tmpdir(), 'rental-features-'));
  await model.save(dir);
  const serving = await PipelineModel.load(dir);
  const messy = serving.transformRow({
    id: 1, neighbourhood_cleansed: 'A WARD NEVER SEEN', room_type: 'Private room', accommodates: 2, amenities: 'not json', price: '', price_usd: null, review_scores_rating: null, scrape_date: '2024-11-05',
  })!;
  console.log(`serving a messy record (empty price, no score, unseen ward, bad amenities): price → ${String(messy['price_usd'])}, hood_index → ${String(messy['hood_index'])}, ${(messy['features'] as number[]).length} features`);
  console.log(`saved pipeline in ${dir}; done in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  await shutdown();
}

if (isMain(import.meta)) {
  main().catch(async (err) => {
    console.error(err);
    await shutdown();
    process.exit(1);
  });
}
