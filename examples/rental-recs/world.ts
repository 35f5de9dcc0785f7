/**
 * The synthetic rental market, as pure functions of (seed, scale): listings with a taste cluster,
 * a ward and coordinates, a price driven by room type, size and location; users with a taste, a
 * price sensitivity and a home ward; and each user's ratings over time with monthly seasonality.
 * Every generator task rebuilds the same world from the seed, then generates only its own users,
 * so partitions are independent and the output is deterministic by seed at any partition count.
 */

export const DAY_MS = 86_400_000;
/** The synthetic market runs from 2019-01-01 for six years. */
export const START_DAY = Date.UTC(2019, 0, 1) / DAY_MS;
export const SPAN_DAYS = 6 * 365;
export const DIM = 8;
const INV_SQRT_DIM = 1 / Math.sqrt(DIM);
export const CLUSTERS = 8;
const WARDS = 15;
const ALBANY = { lat: 42.6526, lon: -73.7562 };
export const ROOM_TYPES = ['Entire home/apt', 'Private room', 'Shared room', 'Hotel room'] as const;
/** Relative stays by calendar month (summer and December peaks), from the shape of Albany's reviews. */
export const SEASONALITY = [0.6, 0.6, 0.75, 0.85, 1.1, 1.25, 1.4, 1.45, 1.2, 1.05, 0.85, 0.9];
const SEASON_MAX = Math.max(...SEASONALITY);
/** Acceptance probability of a day by its calendar month (a lookup instead of a Date per draw). */
const ACCEPT = Float64Array.from({ length: SPAN_DAYS + 1 }, (_, d) => SEASONALITY[new Date((START_DAY + d) * DAY_MS).getUTCMonth()]! / SEASON_MAX);

/** A small, fast, seedable PRNG (mulberry32), plus gaussians. */
export function rng(seed: number): { next(): number; gaussian(): number; int(n: number): number } {
  let a = seed >>> 0;
  const next = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    gaussian: () => Math.sqrt(-2 * Math.log(next() || 1e-12)) * Math.cos(2 * Math.PI * next()),
    int: (n: number) => Math.floor(next() * n),
  };
}

export const mix = (a: number, b: number): number => (Math.imul(a ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(b + 0x632be5ab, 0xc2b2ae35)) >>> 0;

export interface Scale {
  ratings: number;
  users: number;
  listings: number;
  meanPerUser: number;
}

/** Users and listings for a target number of ratings (≈12 ratings per user; catalogue ~ 3·√N). */
export function scaleFor(ratings: number): Scale {
  const meanPerUser = 12;
  const users = Math.max(10, Math.round(ratings / meanPerUser));
  const listings = Math.min(200_000, Math.max(60, Math.round(3 * Math.sqrt(ratings))));
  return { ratings, users, listings, meanPerUser };
}

export interface World {
  numListings: number;
  cluster: Int32Array;
  ward: Int32Array;
  lat: Float64Array;
  lon: Float64Array;
  roomType: Int32Array;
  accommodates: Int32Array;
  price: Float64Array;
  logPrice: Float64Array;
  quality: Float64Array;
  firstSeen: Int32Array;
  /** DIM latent taste coordinates per listing (cluster centre + noise). */
  vec: Float64Array;
  centres: Float64Array;
  wardLat: Float64Array;
  wardLon: Float64Array;
  /** Listings sorted by first_seen, and the cumulative popularity weights in that order. */
  byFirstSeen: Int32Array;
  popularity: Float64Array;
}

export function buildWorld(seed: number, numListings: number): World {
  const r = rng(mix(seed, 1));
  const centres = new Float64Array(CLUSTERS * DIM);
  for (let i = 0; i < centres.length; i++) centres[i] = r.gaussian();
  const wardLat = new Float64Array(WARDS);
  const wardLon = new Float64Array(WARDS);
  for (let w = 0; w < WARDS; w++) {
    wardLat[w] = ALBANY.lat + 0.04 * r.gaussian();
    wardLon[w] = ALBANY.lon + 0.05 * r.gaussian();
  }
  const n = numListings;
  const w: World = {
    numListings: n, cluster: new Int32Array(n), ward: new Int32Array(n), lat: new Float64Array(n), lon: new Float64Array(n),
    roomType: new Int32Array(n), accommodates: new Int32Array(n), price: new Float64Array(n), logPrice: new Float64Array(n),
    quality: new Float64Array(n), firstSeen: new Int32Array(n), vec: new Float64Array(n * DIM), centres, wardLat, wardLon,
    byFirstSeen: new Int32Array(n), popularity: new Float64Array(n),
  };
  for (let i = 0; i < n; i++) {
    const c = r.int(CLUSTERS);
    w.cluster[i] = c;
    const ward = Math.min(WARDS - 1, Math.floor(WARDS * r.next() ** 1.6)); // central wards are denser
    w.ward[i] = ward;
    w.lat[i] = wardLat[ward]! + 0.006 * r.gaussian();
    w.lon[i] = wardLon[ward]! + 0.008 * r.gaussian();
    const u = r.next();
    const room = u < 0.62 ? 0 : u < 0.95 ? 1 : u < 0.98 ? 2 : 3;
    w.roomType[i] = room;
    w.accommodates[i] = room === 0 ? 2 + r.int(7) : 1 + r.int(2);
    const dist = Math.hypot(w.lat[i]! - ALBANY.lat, (w.lon[i]! - ALBANY.lon) * 0.74);
    const base = [95, 55, 35, 140][room]! * (1 + 0.12 * (w.accommodates[i]! - 2)) * Math.exp(-3 * dist + 0.25 * r.gaussian());
    w.price[i] = Math.max(20, Math.round(base));
    w.logPrice[i] = Math.log(w.price[i]!);
    w.quality[i] = 0.5 * r.gaussian();
    // 35% of listings exist from the start; the rest appear over the six years (new listings).
    w.firstSeen[i] = START_DAY + (r.next() < 0.35 ? 0 : r.int(SPAN_DAYS - 30));
    for (let d = 0; d < DIM; d++) w.vec[i * DIM + d] = centres[c * DIM + d]! + 0.6 * r.gaussian();
  }
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => w.firstSeen[a]! - w.firstSeen[b]! || a - b);
  w.byFirstSeen = Int32Array.from(order);
  // Power-law popularity (a few listings get most stays), cumulative in first_seen order.
  let acc = 0;
  for (let k = 0; k < n; k++) {
    acc += 1 / (1 + (mix(seed, order[k]!) % n)) ** 0.8;
    w.popularity[k] = acc;
  }
  return w;
}

/** Index into byFirstSeen of the first listing not yet on the market at `day`. */
function availableCount(w: World, day: number): number {
  let lo = 0;
  let hi = w.numListings;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (w.firstSeen[w.byFirstSeen[mid]!]! <= day) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** A user's first_seen day: arrivals accelerate over time (the platform grows: new users). */
export function userFirstSeen(seed: number, user: number): number {
  const r = rng(mix(mix(seed, 2), user));
  return START_DAY + Math.floor((SPAN_DAYS - 60) * Math.sqrt(r.next()));
}

export interface RatingColumns {
  user: Float64Array;
  listing: Float64Array;
  rating: Float32Array;
  day: Int32Array;
}

/**
 * Ratings of users [u0, u1) (ids are 1-based: user id = index + 1; listing id = index + 1).
 * Each stay picks the best of 12 candidates (popularity-weighted, on the market that day) by
 * taste · listing + quality − price sensitivity · log price − distance from the home ward + noise;
 * the stars follow the same utility. Dates follow the user's life time and monthly seasonality.
 */
export function generateRatings(w: World, seed: number, u0: number, u1: number, meanPerUser: number): RatingColumns {
  const user: number[] = [];
  const listing: number[] = [];
  const rating: number[] = [];
  const day: number[] = [];
  const taste = new Float64Array(DIM);
  const end = START_DAY + SPAN_DAYS;
  for (let u = u0; u < u1; u++) {
    const r = rng(mix(mix(seed, 3), u));
    const c = r.int(CLUSTERS);
    for (let d = 0; d < DIM; d++) taste[d] = w.centres[c * DIM + d]! + 0.5 * r.gaussian();
    const priceSens = Math.max(0, 0.8 + 0.5 * r.gaussian());
    const homeWard = r.int(w.wardLat.length);
    const bias = 0.3 * r.gaussian();
    const first = userFirstSeen(seed, u);
    // Heavy-tailed activity: most users rate a few listings, some rate many.
    const n = Math.max(1, Math.min(400, Math.round(-Math.log(1 - r.next()) * meanPerUser * (0.5 + r.next()))));
    const seen = new Set<number>();
    for (let k = 0; k < n; k++) {
      // Seasonality by rejection: draw a day in the user's life time, accept by the month's weight.
      let dd = first;
      for (let tries = 0; tries < 8; tries++) {
        dd = first + r.int(Math.max(1, end - first));
        if (r.next() <= ACCEPT[dd - START_DAY]!) break;
      }
      const avail = availableCount(w, dd);
      if (avail === 0) continue;
      const total = w.popularity[avail - 1]!;
      let best = -1;
      let bestU = -Infinity;
      for (let cand = 0; cand < 12; cand++) {
        const x = r.next() * total;
        let lo = 0;
        let hi = avail - 1;
        while (lo < hi) {
          const mid = (lo + hi) >> 1;
          if (w.popularity[mid]! < x) lo = mid + 1;
          else hi = mid;
        }
        const i = w.byFirstSeen[lo]!;
        if (seen.has(i)) continue;
        let dot = 0;
        for (let d = 0; d < DIM; d++) dot += taste[d]! * w.vec[i * DIM + d]!;
        const dLat = w.lat[i]! - w.wardLat[homeWard]!;
        const dLon = (w.lon[i]! - w.wardLon[homeWard]!) * 0.74;
        const dist = Math.sqrt(dLat * dLat + dLon * dLon);
        // Noise: a sum of two uniforms (triangular, sd ≈ 0.29) is much cheaper than a gaussian here.
        const util = dot * INV_SQRT_DIM + w.quality[i]! - priceSens * (w.logPrice[i]! - 4.4) - 8 * dist + 0.5 * (r.next() + r.next() - 1);
        if (util > bestU) {
          bestU = util;
          best = i;
        }
      }
      if (best < 0) continue;
      seen.add(best);
      // The best of 12 has utility ≈ 2.4 ± 1.3: centre it so stars spread over 1–5 (mean ≈ 3.6).
      const stars = Math.min(5, Math.max(1, Math.round(3.6 + bias + 0.7 * (bestU - 2.4) + 0.5 * r.gaussian())));
      user.push(u + 1);
      listing.push(best + 1);
      rating.push(stars);
      day.push(dd);
    }
  }
  return { user: Float64Array.from(user), listing: Float64Array.from(listing), rating: Float32Array.from(rating), day: Int32Array.from(day) };
}
