/**
 * Listing features for the neural model, with shoal's featurization pipeline (fitted on the
 * cluster): log price, size and location imputed with medians (Albany has 37 listings without a
 * price), room type and ward one-hot (an unseen one gets the extra slot), amenities multi-hot (the
 * 40 most frequent; unparsable JSON → none), all assembled into one vector per listing — plus
 * review aggregates computed from the interactions a model is trained on (stays in total and in
 * the last year of that data: nothing from the held-out rows leaks in).
 *
 * Policy: a rated listing missing from the listings table gets the catalogue's mean feature vector
 * (counted in the report); the neural model itself rejects items without features. A numeric column
 * the city does not have (NULL in every row: the summary listings format has no `accommodates` or
 * `bedrooms`, nor amenities) is left out — there is nothing to fit — and named in `ListingFeatures.absent`.
 */
import type { Table } from 'apache-arrow';
import { col, type Dataset } from 'shoal/data';
import { Imputer, MultiHotEncoder, OneHotEncoder, Pipeline, StringIndexer, VectorAssembler, type VectorAssemblerModel } from 'shoal/features';
import type { Interactions } from './prepare.js';

/** Listing columns the featurization reads (checked up front with the job's other inputs). */
export const LISTING_FEATURE_COLUMNS = ['id', 'neighbourhood', 'room_type', 'price', 'accommodates', 'bedrooms', 'latitude', 'longitude', 'amenities'] as const;

const NUMERIC = ['log_price', 'accommodates', 'bedrooms', 'latitude', 'longitude'];

export interface ListingFeatures {
  /** catalogue index × width, row-major. */
  matrix: Float32Array;
  width: number;
  /** Catalogue listings that had no listings row (mean vector). */
  imputed: number;
  /** Width of each part, for the report. */
  parts: Record<string, number>;
  /** Columns left out: NULL in every listing. */
  absent: string[];
}

/** Fits the pipeline on the listings and returns one feature row per catalogue index. */
export async function featurizeListings(listings: Dataset, x: Interactions): Promise<ListingFeatures> {
  const ds = listings.select(
    col('id'), col('neighbourhood'), col('room_type'), col('amenities'),
    col('price').cast('float64').add(1).log().alias('log_price'),
    col('accommodates').cast('float64').alias('accommodates'),
    col('bedrooms').cast('float64').alias('bedrooms'),
    col('latitude').cast('float64').alias('latitude'),
    col('longitude').cast('float64').alias('longitude'),
  );
  // A column NULL in every listing (a city without it) has nothing to fit: it is left out.
  const probe = await ds.toArrow();
  const has = (c: string): boolean => {
    const v = probe.getChild(c);
    return v !== null && v.nullCount < probe.numRows;
  };
  const numeric = NUMERIC.filter(has);
  const categorical = [
    { input: 'room_type', name: 'room type', out: 'room_type' },
    { input: 'neighbourhood', name: 'ward', out: 'ward' },
  ].filter((c) => has(c.input));
  const amenities = has('amenities');
  const absent = [...NUMERIC, 'room_type', 'neighbourhood', 'amenities'].filter((c) => !has(c));
  const model = await new Pipeline([
    ...(numeric.length ? [new Imputer({ inputCols: numeric, strategy: 'median' })] : []),
    ...categorical.flatMap((c) => [
      new StringIndexer({ inputCol: c.input, outputCol: `${c.out}_index`, handleInvalid: 'keep' }),
      new OneHotEncoder({ inputCol: `${c.out}_index`, outputCol: `${c.out}_vec`, handleInvalid: 'keep' }),
    ]),
    ...(amenities ? [new MultiHotEncoder({ inputCol: 'amenities', outputCol: 'amenities_vec', maxItems: 40 })] : []),
    new VectorAssembler({ inputCols: [...numeric, ...categorical.map((c) => `${c.out}_vec`), ...(amenities ? ['amenities_vec'] : [])], outputCol: 'features' }),
  ]).fit(ds);
  const t: Table = await model.transform(ds).select('id', 'features').toArrow();
  const assembler = model.stages[model.stages.length - 1] as VectorAssemblerModel;
  const parts: Record<string, number> = {};
  if (numeric.length) parts[`${numeric.join(', ')} (${numeric.length})`] = numeric.length;
  [...categorical.map((c) => c.name), ...(amenities ? ['amenities'] : [])].forEach((name, k) => {
    parts[name] = assembler.sizes[numeric.length + k]!;
  });
  const width = (t.getChild('features')!.type as { listSize: number }).listSize;
  const index = new Map<bigint, number>();
  x.catalogue.forEach((id, i) => index.set(id, i));
  const numItems = x.catalogue.length;
  const matrix = new Float32Array(numItems * width);
  const have = new Uint8Array(numItems);
  const ids = t.getChild('id')!;
  const feats = t.getChild('features')!;
  for (let r = 0; r < t.numRows; r++) {
    const raw: unknown = ids.get(r);
    const i = index.get(typeof raw === 'bigint' ? raw : BigInt(Number(raw)));
    if (i === undefined) continue; // a listing nobody rated is in the catalogue already; ids not in it cannot occur
    matrix.set((feats.get(r) as { toArray(): Float32Array }).toArray(), i * width);
    have[i] = 1;
  }
  let imputed = 0;
  const mean = new Float32Array(width);
  const known = have.reduce((s, h) => s + h, 0);
  for (let i = 0; i < numItems; i++) if (have[i]) for (let j = 0; j < width; j++) mean[j]! += matrix[i * width + j]! / Math.max(1, known);
  for (let i = 0; i < numItems; i++) {
    if (have[i]) continue;
    matrix.set(mean, i * width);
    imputed++;
  }
  return { matrix, width, imputed, parts, absent };
}

/** Review aggregates of each catalogue listing over `rows`: log(1 + stays), log(1 + stays in the last 365 days of `rows`). */
export const AGGREGATES = 2;

export function reviewAggregates(x: Interactions, rows: Int32Array): Float32Array {
  const n = x.catalogue.length;
  let last = -Infinity;
  for (const r of rows) last = Math.max(last, x.day[r]!);
  const all = new Float32Array(n);
  const recent = new Float32Array(n);
  for (const r of rows) {
    all[x.item[r]!]! += 1;
    if (x.day[r]! > last - 365) recent[x.item[r]!]! += 1;
  }
  const out = new Float32Array(n * AGGREGATES);
  for (let i = 0; i < n; i++) {
    out[i * AGGREGATES] = Math.log1p(all[i]!);
    out[i * AGGREGATES + 1] = Math.log1p(recent[i]!);
  }
  return out;
}
