/**
 * One loader for any Inside Airbnb city. Cities differ: the *detailed* listings file
 * (listings.csv.gz, ~75 columns: amenities, bedrooms, `neighbourhood_cleansed`, "$1,250.00" prices)
 * or the *summary* one (listings.csv, 17 columns: `neighbourhood`, plain prices); a calendar or
 * none; neighbourhood names in any script. So columns are found by name, each with a documented
 * fallback (`LISTING_COLUMNS`), and a column a city lacks becomes NULL — never an error unless the
 * job cannot run without it (listing id; reviewer, listing and date of a review).
 *
 * Why content hashes: the embedded tables are a cache of the CSVs. Keyed by a folder name, a cache
 * of one city was read for another (issue 21); keyed by the sha256 of the input files, a run reads
 * the tables of exactly the files it was given. Why a staging folder: a load killed halfway must
 * leave the previous tables readable — the tables are written into a sibling folder, the manifest
 * last, and the folder is renamed into place in one step.
 */
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, readFileSync, readdirSync } from 'node:fs';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { agg, col, lit, readCsv, type Dataset, type Expr } from 'shoal/data';
import { applySchema, replaceTable, type Target } from './storage.js';

/** A city's input folder is unusable (a file or a required column is missing). `code` is stable. */
export class CityInputError extends Error {
  readonly code: 'CITY_FILE_MISSING' | 'CITY_COLUMN_MISSING';
  constructor(
    message: string,
    code: CityInputError['code'],
    readonly file: string,
    readonly column?: string,
  ) {
    super(message);
    this.name = 'CityInputError';
    this.code = code;
  }
}

/** The files of one city, found in its folder (first existing name wins). */
export interface CityFiles {
  dir: string;
  listings: string;
  reviews: string;
  /** Absent in many published subsets: the job runs without it. */
  calendar: string | undefined;
  /** 'detailed' when the listings file has the detailed format's columns (amenities), else 'summary'. */
  format: 'detailed' | 'summary';
}

/** File names tried, in order: the detailed (gzip) file first, then the summary one. */
export const CITY_FILE_NAMES = {
  listings: ['listings.csv.gz', 'listings.csv'],
  reviews: ['reviews.csv.gz', 'reviews.csv'],
  calendar: ['calendar.csv.gz', 'calendar.csv'],
} as const;

/**
 * Listing columns of the job's `listings` table and where each comes from: the first source
 * column present wins; none present → NULL. Prices lose any currency sign and thousands separator.
 */
export const LISTING_COLUMNS: Record<string, { from: readonly string[]; type: 'int64' | 'int32' | 'float64' | 'utf8' | 'date' | 'price' }> = {
  id: { from: ['id'], type: 'int64' },
  name: { from: ['name'], type: 'utf8' },
  description: { from: ['description'], type: 'utf8' },
  neighbourhood: { from: ['neighbourhood_cleansed', 'neighbourhood', 'neighbourhood_group_cleansed', 'neighbourhood_group'], type: 'utf8' },
  room_type: { from: ['room_type'], type: 'utf8' },
  property_type: { from: ['property_type'], type: 'utf8' },
  price: { from: ['price'], type: 'price' },
  accommodates: { from: ['accommodates'], type: 'int32' },
  bedrooms: { from: ['bedrooms'], type: 'float64' },
  beds: { from: ['beds'], type: 'float64' },
  bathrooms: { from: ['bathrooms'], type: 'float64' },
  latitude: { from: ['latitude'], type: 'float64' },
  longitude: { from: ['longitude'], type: 'float64' },
  amenities: { from: ['amenities'], type: 'utf8' },
  minimum_nights: { from: ['minimum_nights'], type: 'float64' },
  availability_365: { from: ['availability_365'], type: 'float64' },
  host_id: { from: ['host_id'], type: 'int64' },
  first_seen: { from: ['first_review'], type: 'date' },
};

/** Review columns the job needs (each review is a stay). The summary reviews.csv has no reviewer: the detailed one is needed. */
const REVIEW_COLUMNS = ['reviewer_id', 'listing_id', 'date'] as const;

const firstExisting = (dir: string, names: readonly string[]): string | undefined => names.map((n) => join(dir, n)).find((p) => existsSync(p));

/** Header names of a CSV (plain or gzip), through the data layer's reader. */
async function columnsOf(path: string): Promise<string[]> {
  return (await readCsv(path).schema()).fields.map((f) => f.name);
}

/** Finds a city's files; throws CityInputError naming what is missing and where. */
export function findCityFiles(dir: string): Omit<CityFiles, 'format'> {
  const abs = resolve(dir);
  if (!existsSync(abs)) throw new CityInputError(`input folder ${abs} does not exist`, 'CITY_FILE_MISSING', abs);
  const listings = firstExisting(abs, CITY_FILE_NAMES.listings);
  const reviews = firstExisting(abs, CITY_FILE_NAMES.reviews);
  const need = (what: string, p: string | undefined, names: readonly string[]): string => {
    if (p) return p;
    throw new CityInputError(`${abs} has no ${what} file (looked for ${names.join(', ')}; it has: ${readdirSync(abs).join(', ') || 'nothing'})`, 'CITY_FILE_MISSING', join(abs, names[names.length - 1]!));
  };
  return {
    dir: abs,
    listings: need('listings', listings, CITY_FILE_NAMES.listings),
    reviews: need('reviews', reviews, CITY_FILE_NAMES.reviews),
    calendar: firstExisting(abs, CITY_FILE_NAMES.calendar),
  };
}

/** Version of the tables this loader makes: part of the cache key, so a loader change reloads. */
export const LOADER_VERSION = 2;

/** sha256 of the loader version and the input files (names and bytes, in a fixed order): the cache key of their tables. */
export async function contentHash(files: Omit<CityFiles, 'format'>): Promise<string> {
  const h = createHash('sha256');
  h.update(`shoal rental-recs city loader v${LOADER_VERSION}\0`);
  for (const p of [files.listings, files.reviews, files.calendar]) {
    if (!p) continue;
    h.update(`${basename(p)}\0`);
    for await (const chunk of createReadStream(p)) h.update(chunk as Buffer);
    h.update('\0');
  }
  return h.digest('hex');
}

/** What a loaded table folder was loaded from (`source.json`, written last). */
export interface CityManifest {
  /** The input folder, as given (absolute). */
  dir: string;
  /** sha256 of the input files (contentHash). */
  hash: string;
  format: 'detailed' | 'summary';
  files: string[];
  calendar: boolean;
  tables: Record<string, number>;
  /** Listing columns that the city lacks (NULL in the table). */
  missingColumns: string[];
  loadedAt: string;
}

export const MANIFEST = 'source.json';

export function readManifest(tablesDir: string): CityManifest | undefined {
  const p = join(tablesDir, MANIFEST);
  if (!existsSync(p)) return undefined;
  try {
    return JSON.parse(readFileSync(p, 'utf8')) as CityManifest;
  } catch {
    return undefined;
  }
}

/** The data's name in reports: its folder and the hash prefix of its files. */
export const describeSource = (m: { dir: string; hash?: string | undefined }): string => (m.hash ? `${m.dir} (sha256 ${m.hash.slice(0, 12)})` : m.dir);

/** The folder of a city's cached tables under `root`: the input folder's name and the content hash. */
export function cacheDirFor(root: string, inputDir: string, hash: string): string {
  const name = basename(resolve(inputDir)).normalize('NFKD').replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^-+|-+$/g, '') || 'city';
  return join(root, `${name}-${hash.slice(0, 16)}`);
}

const priceExpr = (c: string): Expr => col(c).cast('utf8').regexpReplace('[^0-9.\\-]', '').cast('float64');

function listingSelect(have: Set<string>): { exprs: Expr[]; missing: string[] } {
  const exprs: Expr[] = [];
  const missing: string[] = [];
  for (const [name, spec] of Object.entries(LISTING_COLUMNS)) {
    const src = spec.from.find((c) => have.has(c));
    if (!src) {
      missing.push(name);
      exprs.push(lit(null, spec.type === 'price' ? 'float64' : spec.type).alias(name));
    } else if (spec.type === 'price') exprs.push(priceExpr(src).alias(name));
    else if (spec.type === 'utf8') exprs.push(col(src).cast('utf8').alias(name));
    else exprs.push(col(src).cast(spec.type).alias(name));
  }
  return { exprs, missing };
}

export interface CityLoad {
  files: CityFiles;
  hash: string;
  tables: Record<string, number>;
  missingColumns: string[];
}

/**
 * Reads a city's CSVs into the job's tables in `target` (listings, users, ratings, and calendar
 * when the city has one). PostgreSQL: each table replaced atomically. Parquet: prefer
 * `loadCityCached`, which makes the whole load atomic.
 */
export async function loadCity(target: Target, inputDir: string, hash?: string): Promise<CityLoad> {
  const found = findCityFiles(inputDir);
  const listingCols = new Set(await columnsOf(found.listings));
  if (!listingCols.has('id')) throw new CityInputError(`${found.listings} has no column "id" (it has: ${[...listingCols].join(', ')})`, 'CITY_COLUMN_MISSING', found.listings, 'id');
  const reviewCols = new Set(await columnsOf(found.reviews));
  for (const c of REVIEW_COLUMNS) {
    if (!reviewCols.has(c)) {
      const hint = c === 'reviewer_id' ? ' (the summary reviews.csv has no reviewer: use the detailed reviews.csv.gz)' : '';
      throw new CityInputError(`${found.reviews} has no column "${c}"${hint} (it has: ${[...reviewCols].join(', ')})`, 'CITY_COLUMN_MISSING', found.reviews, c);
    }
  }
  const files: CityFiles = { ...found, format: listingCols.has('amenities') ? 'detailed' : 'summary' };
  if (target.kind === 'postgres') await applySchema(target.url, target.schema, target.schemaFile);
  const { exprs, missing } = listingSelect(listingCols);
  const listings = readCsv(files.listings).select(...exprs).filter(col('id').isNotNull());
  const reviews = readCsv(files.reviews)
    .select(col('reviewer_id').cast('int64').alias('reviewer_id'), col('listing_id').cast('int64').alias('listing_id'), col('date').cast('date').alias('date'))
    .filter(col('reviewer_id').isNotNull().and(col('listing_id').isNotNull()).and(col('date').isNotNull()));
  const ratings = reviews.select(col('reviewer_id').alias('user_id'), col('listing_id'), lit(1).cast('float64').alias('rating'), col('date').alias('rated_at'));
  const users = reviews.groupBy('reviewer_id').agg(agg.min('date', 'first_seen')).select(col('reviewer_id').alias('id'), col('first_seen'));
  const parts: Array<[string, Dataset, string[] | undefined]> = [
    ['listings', listings, ['id']],
    ['users', users, ['id']],
    ['ratings', ratings, undefined],
  ];
  if (files.calendar) {
    const calCols = new Set(await columnsOf(files.calendar));
    parts.push(['calendar', readCsv(files.calendar).select(
      col('listing_id').cast('int64').alias('listing_id'),
      col('date').cast('date').alias('date'),
      (calCols.has('available') ? col('available').cast('utf8').eq('t') : lit(null, 'bool')).alias('available'),
      (calCols.has('price') ? priceExpr('price') : lit(null, 'float64')).alias('price'),
    ), undefined]);
  }
  const tables: Record<string, number> = {};
  for (const [name, ds, keys] of parts) tables[name] = await replaceTable(target, name, ds, keys);
  return { files, hash: hash ?? (await contentHash(found)), tables, missingColumns: missing };
}

export interface CachedCity {
  /** The folder holding the city's tables (readable as a Parquet target). */
  dir: string;
  manifest: CityManifest;
  /** False when the tables were already there for these exact input files. */
  loaded: boolean;
}

/**
 * The Parquet tables of the city in `inputDir`, loaded once per content: the cache folder is
 * `tablesDir` when given (replaced when it holds other data), else `<root>/<name>-<hash>`. The load
 * is written into a staging sibling and renamed into place, so a killed load leaves the previous
 * tables (and their manifest) as they were.
 */
export async function loadCityCached(inputDir: string, opts: { root: string; tablesDir?: string | undefined }): Promise<CachedCity> {
  const found = findCityFiles(inputDir);
  const hash = await contentHash(found);
  const dir = opts.tablesDir ? resolve(opts.tablesDir) : cacheDirFor(opts.root, found.dir, hash);
  const have = readManifest(dir);
  if (have && have.hash === hash && existsSync(join(dir, 'ratings')) && existsSync(join(dir, 'listings'))) return { dir, manifest: have, loaded: false };
  await mkdir(dirname(dir), { recursive: true });
  const tag = `${process.pid}-${Date.now().toString(36)}`;
  const staging = `${dir}.staging-${tag}`;
  const old = `${dir}.old-${tag}`;
  try {
    const load = await loadCity({ kind: 'parquet', dir: staging }, found.dir, hash);
    const manifest: CityManifest = {
      dir: found.dir, hash, format: load.files.format,
      files: [load.files.listings, load.files.reviews, load.files.calendar].filter((p): p is string => !!p).map((p) => basename(p)),
      calendar: !!load.files.calendar, tables: load.tables, missingColumns: load.missingColumns, loadedAt: new Date().toISOString(),
    };
    await writeFile(join(staging, MANIFEST), JSON.stringify(manifest, null, 2));
    if (existsSync(dir)) await rename(dir, old);
    await rename(staging, dir);
    await rm(old, { recursive: true, force: true });
    return { dir, manifest, loaded: true };
  } catch (err) {
    await rm(staging, { recursive: true, force: true });
    throw err;
  }
}
