/**
 * The served model as the job leaves it (served-model.ts): the final scorer's two sides, the users'
 * rated listings, the fallback's popularity and the neighbourhoods — plain data for the replicas.
 */
import { recencyPopularity } from './baselines.js';
import { sidesOf, type Csr, type Scorer } from './evaluate.js';
import type { ListingInfo } from './listing-info.js';
import type { Interactions } from './prepare.js';
import type { ServedModel } from './served-model.js';

export function snapshotOf(a: { id: string; scorer: Scorer; x: Interactions; all: Interactions; seen: Csr; info: ListingInfo; cutDay: number; version: string }): ServedModel {
  const { user, item } = sidesOf(a.scorer);
  return {
    id: a.id, name: a.scorer.name, version: a.version,
    userIds: Array.from(a.x.userIds, (u) => String(u)),
    listingIds: Array.from(a.x.catalogue, (l) => String(l)),
    user, item, seen: a.seen,
    popularity: recencyPopularity(a.all, a.cutDay),
    nbhd: a.info.nbhd, nbhdNames: a.info.nbhdNames,
  };
}
