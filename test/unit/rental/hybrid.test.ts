/**
 * The learned hybrid (examples/rental-recs/hybrid.ts) on a small market where users keep to one
 * neighbourhood: it learns that, and a listing nobody has stayed in yet does not sink by
 * construction — its popularity prior is the one its content predicts, so it ranks by its content
 * (above the unrated listings of the other neighbourhood), not below every warm listing; and that
 * prior reads the host: a new listing of a host whose other listings are stayed in ranks above an
 * otherwise alike new listing of a host with none.
 */
import { DateDay, Float64, Int64, makeData, makeVector, Table } from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { scoresOf } from '../../../examples/rental-recs/evaluate.js';
import { fitHybrid } from '../../../examples/rental-recs/hybrid.js';
import { AMENITY_DIMS, TEXT_DIMS, type ListingInfo } from '../../../examples/rental-recs/listing-info.js';
import { prepareRatings } from '../../../examples/rental-recs/prepare.js';

const N = 40;

function info(host: Int32Array = Int32Array.from({ length: N }, (_, i) => i)): ListingInfo {
  const nbhd = Int32Array.from({ length: N }, (_, i) => i % 2);
  return {
    n: N, nbhd, nbhdNames: ['A', 'B'], room: new Int32Array(N), roomNames: ['Entire home/apt'],
    lat: Float32Array.from(nbhd, (g) => (g ? 1 : -1)), lon: new Float32Array(N), price: new Float32Array(N), size: new Float32Array(N),
    minNights: new Float32Array(N), availability: new Float32Array(N), host, idRank: Float32Array.from({ length: N }, (_, i) => i / (N - 1)),
    text: new Float32Array(N * TEXT_DIMS), amenities: new Float32Array(N * AMENITY_DIMS),
    has: { location: true, price: false, size: false, text: false, amenities: false },
  };
}

function stays(rows: Array<[number, number, number]>): Table {
  return new Table({
    user_id: makeVector(makeData({ type: new Int64(), length: rows.length, data: BigInt64Array.from(rows, (x) => BigInt(x[0])) })),
    listing_id: makeVector(makeData({ type: new Int64(), length: rows.length, data: BigInt64Array.from(rows, (x) => BigInt(x[1])) })),
    rating: makeVector(makeData({ type: new Float64(), length: rows.length, data: new Float64Array(rows.length).fill(1) })),
    rated_at: makeVector(makeData({ type: new DateDay(), length: rows.length, data: Int32Array.from(rows, (x) => 18_000 + x[2]) })),
  });
}

describe('hybrid', () => {
  it('learns the neighbourhood signal, and ranks a never-stayed listing by its content, not at the bottom', () => {
    // 300 users, each keeping to neighbourhood u % 2; listings 36..39 never stayed in (cold).
    let a = 9;
    const r = (): number => ((a = (a * 1103515245 + 12345) % 2147483648) / 2147483648);
    const rows: Array<[number, number, number]> = [];
    for (let u = 0; u < 300; u++) {
      for (let k = 0; k < 4; k++) {
        const i = 2 * Math.floor(r() * 18) + (u % 2);
        rows.push([u + 1, i, Math.floor(r() * 700)]);
      }
    }
    const t = stays(rows);
    const x = prepareRatings(t, BigInt64Array.from({ length: N }, (_, i) => BigInt(i)));
    const fit = fitHybrid(x, 18_000 + 700, info());
    const w = new Map(fit.weights.map((f) => [f.feature, f.weight]));
    expect(w.get('same neighbourhood')).toBeGreaterThan(0);
    const cold = [36, 37, 38, 39].map((id) => x.catalogue.indexOf(BigInt(id)));
    const users = Int32Array.from({ length: 20 }, (_, u) => u);
    const scores = scoresOf(fit.scorer, users, x.catalogue.length);
    const numItems = x.catalogue.length;
    let percentile = 0;
    for (const u of users) {
      const row = scores.subarray(u * numItems, (u + 1) * numItems);
      const g = (Number(x.userIds[u]) - 1) % 2; // the user's neighbourhood (user id u + 1 keeps to u % 2)
      const mine = cold.find((i) => Number(x.catalogue[i]) % 2 === g)!;
      const other = cold.find((i) => Number(x.catalogue[i]) % 2 !== g)!;
      expect(row[mine]).toBeGreaterThan(row[other]!);
      percentile += Array.from(row).filter((s, i) => i !== mine && s > row[mine]!).length / (numItems - 1);
    }
    // Half the catalogue is in the user's neighbourhood: a cold listing there ranks in the top half, not last.
    expect(percentile / users.length).toBeLessThan(0.5);
  });

  it("prices a new listing by its host's other listings' stays", () => {
    // Host 0 owns listings 0..7 (stayed in half the time) and the new listing 36; every other
    // listing, and the new listing 38 (same neighbourhood, no stays), has a host of its own.
    const host = Int32Array.from({ length: N }, (_, i) => (i < 8 || i === 36 ? 0 : i));
    let a = 5;
    const r = (): number => ((a = (a * 1103515245 + 12345) % 2147483648) / 2147483648);
    const rows: Array<[number, number, number]> = [];
    for (let u = 0; u < 300; u++) {
      for (let k = 0; k < 4; k++) {
        const i = r() < 0.5 ? 2 * Math.floor(r() * 4) + (u % 2) : 2 * Math.floor(r() * 18) + (u % 2);
        rows.push([u + 1, i, Math.floor(r() * 700)]);
      }
    }
    const x = prepareRatings(stays(rows), BigInt64Array.from({ length: N }, (_, i) => BigInt(i)));
    const [withHost, without] = [36, 38].map((id) => x.catalogue.indexOf(BigInt(id)));
    const content = info(host);
    content.idRank[without!] = content.idRank[withHost!]!; // alike but for the host
    const fit = fitHybrid(x, 18_000 + 700, content);
    // The listing prior (the scorer's bias: the user-side terms, same host as the history among them, are apart).
    const s = fit.scorer;
    if (s.kind !== 'hybrid' || !s.bias) throw new Error('the hybrid scorer has a listing prior');
    expect(s.bias[withHost!]).toBeGreaterThan(s.bias[without!]!);
  });
});
