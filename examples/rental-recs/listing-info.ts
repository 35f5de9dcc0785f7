/**
 * The listing content the simple baselines and the hybrid model read, one entry per catalogue
 * index, from whatever columns the city has (city.ts loads missing ones as NULL; a table made
 * before that may lack them entirely: the same as NULL). Text is hashed character trigrams of the
 * name and description (works for any script: Chinese names have no spaces), L2-normalised.
 */
import type { Table } from 'apache-arrow';
import type { Dataset } from 'shoal/data';

export const TEXT_DIMS = 128;
export const AMENITY_DIMS = 32;

export interface ListingInfo {
  n: number;
  /** Neighbourhood index per listing (−1: unknown), and the names. */
  nbhd: Int32Array;
  nbhdNames: string[];
  room: Int32Array;
  roomNames: string[];
  /** Standardised latitude/longitude (0 when unknown), log price, size. */
  lat: Float32Array;
  lon: Float32Array;
  price: Float32Array;
  size: Float32Array;
  /** Standardised log minimum nights and availability over the next year (0 when unknown): listing attributes, not stays. */
  minNights: Float32Array;
  availability: Float32Array;
  /** Hashed trigram vectors (n × TEXT_DIMS) and amenity vectors (n × AMENITY_DIMS), L2-normalised (zero when absent). */
  text: Float32Array;
  amenities: Float32Array;
  /** Rank of the listing's id in the catalogue, 0..1: Inside Airbnb ids grow with creation time, so a high rank is a recently created listing. */
  idRank: Float32Array;
  /** Host index per listing (−1: unknown): a host's other listings are a co-stay signal of their own. */
  host: Int32Array;
  /** Which of the optional parts the city has. */
  has: { location: boolean; price: boolean; size: boolean; text: boolean; amenities: boolean };
}

const LISTING_INFO_COLUMNS = ['id', 'neighbourhood', 'room_type', 'price', 'latitude', 'longitude', 'accommodates', 'name', 'description', 'amenities', 'minimum_nights', 'availability_365', 'host_id'];

/** FNV-1a of a string, for feature hashing. */
function hash(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

function normalise(v: Float32Array, off: number, dims: number): void {
  let s = 0;
  for (let d = 0; d < dims; d++) s += v[off + d]! ** 2;
  if (s > 0) for (let d = 0; d < dims; d++) v[off + d]! /= Math.sqrt(s);
}

function standardise(v: Float32Array, known: Uint8Array): boolean {
  let n = 0;
  let sum = 0;
  let sq = 0;
  for (let i = 0; i < v.length; i++) if (known[i]) {
    n++;
    sum += v[i]!;
    sq += v[i]! ** 2;
  }
  if (n === 0) {
    v.fill(0);
    return false;
  }
  const mean = sum / n;
  const std = Math.sqrt(Math.max(1e-12, sq / n - mean * mean));
  for (let i = 0; i < v.length; i++) v[i] = known[i] ? (v[i]! - mean) / std : 0;
  return true;
}

/** Reads the listings table's content columns and lays them out by catalogue index. */
export async function readListingInfo(listings: Dataset, catalogue: BigInt64Array): Promise<ListingInfo> {
  const names = (await listings.schema()).fields.map((f) => f.name);
  const t: Table = await listings.select(...LISTING_INFO_COLUMNS.filter((c) => names.includes(c))).toArrow();
  const n = catalogue.length;
  const index = new Map<bigint, number>();
  catalogue.forEach((id, i) => index.set(id, i));
  const get = (c: string, r: number): unknown => t.getChild(c)?.get(r) ?? null;
  const info: ListingInfo = {
    n, nbhd: new Int32Array(n).fill(-1), nbhdNames: [], room: new Int32Array(n).fill(-1), roomNames: [],
    lat: new Float32Array(n), lon: new Float32Array(n), price: new Float32Array(n), size: new Float32Array(n),
    minNights: new Float32Array(n), availability: new Float32Array(n), host: new Int32Array(n).fill(-1),
    idRank: new Float32Array(n),
    text: new Float32Array(n * TEXT_DIMS), amenities: new Float32Array(n * AMENITY_DIMS),
    has: { location: false, price: false, size: false, text: false, amenities: false },
  };
  const hosts = new Map<string, number>();
  const nb = new Map<string, number>();
  const rt = new Map<string, number>();
  const knownLoc = new Uint8Array(n);
  const knownPrice = new Uint8Array(n);
  const knownSize = new Uint8Array(n);
  const knownNights = new Uint8Array(n);
  const knownAvail = new Uint8Array(n);
  const ids = t.getChild('id')!;
  for (let r = 0; r < t.numRows; r++) {
    const raw: unknown = ids.get(r);
    if (raw === null) continue;
    const i = index.get(typeof raw === 'bigint' ? raw : BigInt(Math.trunc(Number(raw))));
    if (i === undefined) continue;
    const nbName = get('neighbourhood', r);
    if (typeof nbName === 'string' && nbName) {
      if (!nb.has(nbName)) nb.set(nbName, nb.size);
      info.nbhd[i] = nb.get(nbName)!;
    }
    const room = get('room_type', r);
    if (typeof room === 'string' && room) {
      if (!rt.has(room)) rt.set(room, rt.size);
      info.room[i] = rt.get(room)!;
    }
    const lat = Number(get('latitude', r) ?? NaN);
    const lon = Number(get('longitude', r) ?? NaN);
    if (Number.isFinite(lat) && Number.isFinite(lon)) {
      info.lat[i] = lat;
      info.lon[i] = lon * Math.cos((lat * Math.PI) / 180); // east-west degrees shrink with latitude
      knownLoc[i] = 1;
    }
    const price = Number(get('price', r) ?? NaN);
    if (Number.isFinite(price) && price > 0) {
      info.price[i] = Math.log(price);
      knownPrice[i] = 1;
    }
    const size = Number(get('accommodates', r) ?? NaN);
    if (Number.isFinite(size) && size > 0) {
      info.size[i] = Math.log(size);
      knownSize[i] = 1;
    }
    const host = get('host_id', r);
    if (host !== null && host !== undefined) {
      const key = String(host);
      if (!hosts.has(key)) hosts.set(key, hosts.size);
      info.host[i] = hosts.get(key)!;
    }
    const nights = Number(get('minimum_nights', r) ?? NaN);
    if (Number.isFinite(nights) && nights > 0) {
      info.minNights[i] = Math.log(nights);
      knownNights[i] = 1;
    }
    const avail = Number(get('availability_365', r) ?? NaN);
    if (Number.isFinite(avail) && avail >= 0) {
      info.availability[i] = avail / 365;
      knownAvail[i] = 1;
    }
    const text = `${String(get('name', r) ?? '')} ${String(get('description', r) ?? '')}`.toLowerCase().replace(/\s+/g, ' ').trim();
    if (text) {
      const padded = ` ${text} `;
      for (let c = 0; c + 3 <= padded.length; c++) info.text[i * TEXT_DIMS + (hash(padded.slice(c, c + 3)) % TEXT_DIMS)]! += 1;
      normalise(info.text, i * TEXT_DIMS, TEXT_DIMS);
      info.has.text = true;
    }
    const am = get('amenities', r);
    if (typeof am === 'string' && am.startsWith('[')) {
      try {
        for (const a of JSON.parse(am) as unknown[]) info.amenities[i * AMENITY_DIMS + (hash(String(a).toLowerCase()) % AMENITY_DIMS)]! += 1;
        normalise(info.amenities, i * AMENITY_DIMS, AMENITY_DIMS);
        info.has.amenities = true;
      } catch {
        // not JSON: no amenities for this listing
      }
    }
  }
  const byId = Array.from({ length: n }, (_, i) => i).sort((a, b) => (catalogue[a]! < catalogue[b]! ? -1 : catalogue[a]! > catalogue[b]! ? 1 : 0));
  byId.forEach((i, k) => (info.idRank[i] = n > 1 ? k / (n - 1) : 0));
  info.nbhdNames = [...nb.keys()];
  info.roomNames = [...rt.keys()];
  // One scale for both coordinates (distances stay isotropic): the latitude's spread.
  let latStd = 0;
  {
    const known = knownLoc.reduce((s, k) => s + k, 0);
    if (known > 0) {
      let sum = 0;
      let sumLon = 0;
      for (let i = 0; i < n; i++) if (knownLoc[i]) {
        sum += info.lat[i]!;
        sumLon += info.lon[i]!;
      }
      const mLat = sum / known;
      const mLon = sumLon / known;
      let sq = 0;
      for (let i = 0; i < n; i++) if (knownLoc[i]) sq += (info.lat[i]! - mLat) ** 2 + (info.lon[i]! - mLon) ** 2;
      latStd = Math.sqrt(sq / known / 2) || 1;
      for (let i = 0; i < n; i++) {
        info.lat[i] = knownLoc[i] ? (info.lat[i]! - mLat) / latStd : 0;
        info.lon[i] = knownLoc[i] ? (info.lon[i]! - mLon) / latStd : 0;
      }
      info.has.location = true;
    }
  }
  info.has.price = standardise(info.price, knownPrice);
  info.has.size = standardise(info.size, knownSize);
  standardise(info.minNights, knownNights);
  standardise(info.availability, knownAvail);
  return info;
}
