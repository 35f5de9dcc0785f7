/**
 * From the ratings table to training data: validation (nulls, range, empty), the duplicate policy,
 * dense indices for users and listings (listing ids exceed 2^53, so they stay bigint and are mapped
 * to a catalogue index), and the leave-last-out split by date.
 *
 * Policies (also in README.md):
 * - A rating must be a finite number in (0, 5]; a NULL in any of the four columns, or a rating out
 *   of range, fails the job with a RatingsValidationError naming the column, the count and an
 *   example row (bad data is reported, not silently dropped).
 * - Duplicates of a (user, listing) pair: explicit ratings keep the latest (by rated_at; on the same
 *   day the higher rating); implicit feedback (every rating is 1: stays) collapses into one row whose
 *   rating is the number of stays (the confidence ALS weighs it by) and whose date is the latest.
 * - Leave-last-out: per user, the listings of the latest date are the test set, the listings of the
 *   date before that the validation set, if the user keeps at least one earlier listing for training.
 */
import type { Table } from 'apache-arrow';

export class RatingsValidationError extends Error {
  constructor(
    message: string,
    readonly column: string,
    readonly count: number,
  ) {
    super(message);
    this.name = 'RatingsValidationError';
  }
}

export type Feedback = 'implicit' | 'explicit';

export interface Interactions {
  /** Dense user index per row, and its original id. */
  user: Int32Array;
  userIds: Float64Array;
  /** Catalogue index per row; catalogue ids (bigint). */
  item: Int32Array;
  catalogue: BigInt64Array;
  rating: Float32Array;
  day: Int32Array;
  feedback: Feedback;
  rawRows: number;
  duplicatesRemoved: number;
  /** Rated listings absent from the listings table (kept in the catalogue). */
  unknownListings: number;
  /** Every rating row before the duplicate policy (dense indices), for splits by time: a stay before a cut stays in training even when the same pair recurs after it. */
  events: Events;
  /** The indices into `events` these rows were made of (a split's part). */
  eventRows: Int32Array;
}

/** Rating rows with dense user and catalogue indices, in input order. */
export interface Events {
  user: Int32Array;
  item: Int32Array;
  rating: Float32Array;
  day: Int32Array;
}

const DAY_MS = 86_400_000;

function column(t: Table, name: string) {
  const v = t.getChild(name);
  if (!v) throw new RatingsValidationError(`ratings has no column "${name}"`, name, 0);
  if (v.nullCount > 0) {
    let row = 0;
    while (v.isValid(row)) row++;
    throw new RatingsValidationError(`ratings.${name} has ${v.nullCount} NULL value(s) (first at row ${row})`, name, v.nullCount);
  }
  return v;
}

function toNumbers(t: Table, name: string): Float64Array {
  const v = column(t, name);
  const arr = v.toArray() as ArrayLike<number | bigint>;
  const out = new Float64Array(v.length);
  for (let i = 0; i < v.length; i++) out[i] = Number(arr[i]);
  return out;
}

function toBigInts(t: Table, name: string): BigInt64Array {
  const v = column(t, name);
  const arr = v.toArray() as ArrayLike<number | bigint>;
  if (arr instanceof BigInt64Array) return arr;
  return BigInt64Array.from(Array.from(arr, (x) => BigInt(Math.trunc(Number(x)))));
}

function toDays(t: Table, name: string): Int32Array {
  const v = column(t, name);
  const out = new Int32Array(v.length);
  let i = 0;
  for (const x of v as Iterable<unknown>) {
    const ms = x instanceof Date ? x.getTime() : Number(x);
    out[i++] = Math.floor(ms / DAY_MS);
  }
  return out;
}

/** Validates, deduplicates and indexes the ratings; `listingIds` is the listings table's id column. */
export function prepareRatings(t: Table, listingIds: BigInt64Array, feedbackOption: Feedback | 'auto' = 'auto'): Interactions {
  const n = t.numRows;
  if (n === 0) throw new RatingsValidationError('the ratings table is empty: nothing to train on (load data with --load-albany or --synthetic N)', 'ratings', 0);
  const users = toNumbers(t, 'user_id');
  const listings = toBigInts(t, 'listing_id');
  const ratings = toNumbers(t, 'rating');
  const days = toDays(t, 'rated_at');
  let bad = 0;
  let firstBad = -1;
  let allOnes = true;
  for (let i = 0; i < n; i++) {
    const r = ratings[i]!;
    if (!(r > 0 && r <= 5)) {
      bad++;
      if (firstBad < 0) firstBad = i;
    }
    if (r !== 1) allOnes = false;
    if (!Number.isSafeInteger(users[i]!)) throw new RatingsValidationError(`ratings.user_id ${users[i]} at row ${i} is not a safe integer`, 'user_id', 1);
  }
  if (bad > 0) {
    throw new RatingsValidationError(
      `ratings.rating has ${bad} value(s) outside (0, 5] (first: user ${users[firstBad]}, listing ${listings[firstBad]}, rating ${ratings[firstBad]})`,
      'rating', bad,
    );
  }
  const feedback: Feedback = feedbackOption === 'auto' ? (allOnes ? 'implicit' : 'explicit') : feedbackOption;

  // Catalogue: the listings table, then any rated listing it lacks.
  const catIndex = new Map<bigint, number>();
  for (const id of listingIds) if (!catIndex.has(id)) catIndex.set(id, catIndex.size);
  const known = catIndex.size;
  const item = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const id = listings[i]!;
    let k = catIndex.get(id);
    if (k === undefined) catIndex.set(id, (k = catIndex.size));
    item[i] = k;
  }
  const catalogue = BigInt64Array.from(catIndex.keys());

  // Users: dense indices in ascending id order.
  const sortedIds = Float64Array.from(new Set(users)).sort();
  const uIndex = new Map<number, number>();
  sortedIds.forEach((id, k) => uIndex.set(id, k));
  const user = Int32Array.from(users, (id) => uIndex.get(id)!);

  const events: Events = { user, item, rating: Float32Array.from(ratings), day: days };
  return collapse({ userIds: sortedIds, catalogue, feedback, unknownListings: catalogue.length - known, events }, Int32Array.from({ length: n }, (_, i) => i));
}

/**
 * The Interactions of a subset of `base.events` (indices `keep`) by the duplicate policy, in the
 * same user and catalogue index space: what a model fitted before a cut date sees.
 */
export function collapse(base: Pick<Interactions, 'userIds' | 'catalogue' | 'feedback' | 'unknownListings' | 'events'>, keep: Int32Array): Interactions {
  const { user, item, rating: ratings, day: days } = base.events;
  const feedback = base.feedback;
  const n = keep.length;
  // Sort rows by (user, item, day, rating) and apply the duplicate policy in one pass.
  const order = Uint32Array.from(keep).sort(
    (a, b) => user[a]! - user[b]! || item[a]! - item[b]! || days[a]! - days[b]! || ratings[a]! - ratings[b]!,
  );
  const oU: number[] = [];
  const oI: number[] = [];
  const oR: number[] = [];
  const oD: number[] = [];
  for (let k = 0; k < n; k++) {
    const i = order[k]!;
    const last = oU.length - 1;
    if (last >= 0 && oU[last] === user[i] && oI[last] === item[i]) {
      // Rows are in date order: this one is later (or same day, higher rating).
      oR[last] = feedback === 'implicit' ? oR[last]! + ratings[i]! : ratings[i]!;
      oD[last] = days[i]!;
    } else {
      oU.push(user[i]!);
      oI.push(item[i]!);
      oR.push(ratings[i]!);
      oD.push(days[i]!);
    }
  }
  return {
    user: Int32Array.from(oU), userIds: base.userIds, item: Int32Array.from(oI), catalogue: base.catalogue,
    rating: Float32Array.from(oR), day: Int32Array.from(oD), feedback, rawRows: n, duplicatesRemoved: n - oU.length,
    unknownListings: base.unknownListings, events: base.events, eventRows: keep,
  };
}

/** Row indices of each part of the leave-last-out split (rows of an Interactions, sorted by user). */
export interface Split {
  train: Int32Array;
  validation: Int32Array;
  test: Int32Array;
}

export function leaveLastOut(x: Interactions): Split {
  const train: number[] = [];
  const validation: number[] = [];
  const test: number[] = [];
  const n = x.user.length;
  let start = 0;
  while (start < n) {
    let end = start;
    while (end < n && x.user[end] === x.user[start]) end++;
    const rows = Array.from({ length: end - start }, (_, k) => start + k).sort((a, b) => x.day[a]! - x.day[b]! || a - b);
    const days = rows.map((r) => x.day[r]!);
    const lastDay = days[days.length - 1]!;
    const firstTest = days.indexOf(lastDay);
    if (firstTest === 0) {
      train.push(...rows); // one date only: nothing to hold out
    } else {
      test.push(...rows.slice(firstTest));
      const prevDay = days[firstTest - 1]!;
      const firstVal = days.indexOf(prevDay);
      if (firstVal > 0) {
        validation.push(...rows.slice(firstVal, firstTest));
        train.push(...rows.slice(0, firstVal));
      } else train.push(...rows.slice(0, firstTest));
    }
    start = end;
  }
  return { train: Int32Array.from(train), validation: Int32Array.from(validation), test: Int32Array.from(test) };
}
