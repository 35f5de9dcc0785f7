/**
 * Remote functions of the rental-recs job. They live in their own module (workers import it as a
 * shipped bundle to find them by name): the synthetic generator's partition functions (used with
 * `Dataset.mapBatches`, so generation scales with the cluster and writes straight to Parquet or
 * PostgreSQL without passing through the driver), and top-k scoring that excludes rated items.
 */
import { DateDay, Float32, Float64, Int32, Int64, makeData, makeVector, Table, Utf8, vectorFromArray, type Vector } from 'apache-arrow';
import { remote } from 'shoal';
import { scoreUser, type ItemSide, type UserSide } from './scoring.js';
import { buildWorld, generateRatings, ROOM_TYPES, scaleFor, userFirstSeen } from './world.js';

const int64 = (xs: ArrayLike<number>): Vector => makeVector(BigInt64Array.from(Array.from(xs, (x) => BigInt(x))));
const dateDay = (days: Int32Array): Vector => makeVector(makeData({ type: new DateDay(), length: days.length, data: days }));

interface GenParams {
  part: number;
  parts: number;
  seed: number;
  ratings: number;
}

/**
 * The generator's input: one row per partition (`id` from range()) with `seed`, `ratings`, `parts`
 * columns. An empty input (the Dataset planner probes a batch function's output schema with one)
 * yields an empty output of the same schema.
 */
function params(t: Table): GenParams {
  if (t.numRows === 0) return { part: 0, parts: 1, seed: 0, ratings: 0 };
  if (t.numRows !== 1) throw new Error(`generator partitions must hold exactly one row (got ${t.numRows})`);
  const num = (c: string): number => Number(t.getChild(c)!.get(0));
  return { part: num('id'), parts: num('parts'), seed: num('seed'), ratings: num('ratings') };
}

const range = (n: number, part: number, parts: number): [number, number] => n === 0 ? [0, 0] : [Math.floor((part * n) / parts), Math.floor(((part + 1) * n) / parts)];

/** Ratings of this partition's users: user_id, listing_id (int64), rating (float32 stars 1–5), rated_at (date). */
export const genRatingsBatch = remote(function genRatingsBatch(t: Table): Table {
  const p = params(t);
  const s = scaleFor(p.ratings);
  const world = buildWorld(p.seed, p.ratings ? s.listings : 0);
  const [u0, u1] = range(p.ratings ? s.users : 0, p.part, p.parts);
  const cols = generateRatings(world, p.seed, u0, u1, s.meanPerUser);
  return new Table({
    user_id: int64(cols.user),
    listing_id: int64(cols.listing),
    rating: makeVector(cols.rating),
    rated_at: dateDay(cols.day),
  });
});

/** This partition's users: id, first_seen. */
export const genUsersBatch = remote(function genUsersBatch(t: Table): Table {
  const p = params(t);
  const s = scaleFor(p.ratings);
  const [u0, u1] = range(p.ratings ? s.users : 0, p.part, p.parts);
  const ids = Array.from({ length: u1 - u0 }, (_, k) => u0 + k + 1);
  return new Table({ id: int64(ids), first_seen: dateDay(Int32Array.from(ids, (id) => userFirstSeen(p.seed, id - 1))) });
});

/** This partition's slice of the listings table (same columns as the real data's listings). */
export const genListingsBatch = remote(function genListingsBatch(t: Table): Table {
  const p = params(t);
  const s = scaleFor(p.ratings);
  const w = buildWorld(p.seed, p.ratings ? s.listings : 0);
  const [i0, i1] = range(p.ratings ? s.listings : 0, p.part, p.parts);
  const idx = Array.from({ length: i1 - i0 }, (_, k) => i0 + k);
  return new Table({
    id: int64(idx.map((i) => i + 1)),
    name: vectorFromArray(idx.map((i) => `${ROOM_TYPES[w.roomType[i]!]} in ward ${w.ward[i]! + 1} (taste ${w.cluster[i]})`), new Utf8()),
    neighbourhood: vectorFromArray(idx.map((i) => `WARD ${w.ward[i]! + 1}`), new Utf8()),
    room_type: vectorFromArray(idx.map((i) => ROOM_TYPES[w.roomType[i]!]!), new Utf8()),
    price: vectorFromArray(idx.map((i) => w.price[i]!), new Float64()),
    accommodates: vectorFromArray(idx.map((i) => w.accommodates[i]!), new Int32()),
    bedrooms: vectorFromArray(idx.map((i) => Math.max(1, Math.ceil(w.accommodates[i]! / 2))), new Float64()),
    latitude: vectorFromArray(idx.map((i) => w.lat[i]!), new Float64()),
    longitude: vectorFromArray(idx.map((i) => w.lon[i]!), new Float64()),
    amenities: vectorFromArray(idx.map((i) => JSON.stringify(['Wifi', ...(w.roomType[i] === 0 ? ['Kitchen'] : []), ...(w.price[i]! > 120 ? ['Pool'] : [])])), new Utf8()),
    host_id: int64(idx.map((i) => 1 + (i % Math.max(1, Math.floor(s.listings / 3))))),
    first_seen: dateDay(Int32Array.from(idx, (i) => w.firstSeen[i]!)),
  });
});

/** Top-k of a chunk of users, per user `k` slots (index −1 and score −Infinity when fewer candidates). */
export interface TopK {
  indices: Int32Array;
  scores: Float32Array;
}

/**
 * Scores every catalogue item for a chunk of users (scoring.ts: factors, prior, item-kNN) and keeps
 * the `k` best that the user has not rated (listings scored −Infinity or NaN are never kept). Ties:
 * the lower item index first. `seenPtr`/`seenIdx` are the users' rated items in CSR form.
 */
export const topKExcluding = remote(function topKExcluding(
  us: UserSide, numUsers: number, it: ItemSide, numItems: number, seenPtr: Int32Array, seenIdx: Int32Array, k: number,
): TopK {
  const indices = new Int32Array(numUsers * k).fill(-1);
  const scores = new Float32Array(numUsers * k).fill(-Infinity);
  const score = new Float32Array(numItems);
  const excluded = new Uint8Array(numItems);
  for (let u = 0; u < numUsers; u++) {
    scoreUser(us, u, it, numItems, score);
    for (let j = seenPtr[u]!; j < seenPtr[u + 1]!; j++) excluded[seenIdx[j]!] = 1;
    // Insertion into a sorted list of k (k is small: 5–10).
    const base = u * k;
    let filled = 0;
    for (let i = 0; i < numItems; i++) {
      const s = score[i]!;
      if (excluded[i] || s === -Infinity || Number.isNaN(s)) continue;
      if (filled === k && !(s > scores[base + k - 1]!)) continue;
      let pos = filled < k ? filled++ : k - 1;
      while (pos > 0 && s > scores[base + pos - 1]!) {
        scores[base + pos] = scores[base + pos - 1]!;
        indices[base + pos] = indices[base + pos - 1]!;
        pos--;
      }
      scores[base + pos] = s;
      indices[base + pos] = i;
    }
    for (let j = seenPtr[u]!; j < seenPtr[u + 1]!; j++) excluded[seenIdx[j]!] = 0;
  }
  return { indices, scores };
});

// Re-exported so callers can build Arrow columns the same way the generator does.
export { int64, dateDay };
export const float32 = (xs: Float32Array): Vector => makeVector(makeData({ type: new Float32(), length: xs.length, data: xs }));
export const int32 = (xs: Int32Array): Vector => makeVector(makeData({ type: new Int32(), length: xs.length, data: xs }));
export const int64FromBig = (xs: BigInt64Array): Vector => makeVector(makeData({ type: new Int64(), length: xs.length, data: xs }));
