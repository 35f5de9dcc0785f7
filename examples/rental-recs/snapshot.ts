/**
 * The served model as the job leaves it (served-model.ts): the final scorer's two sides, the users'
 * rated listings, the fallback's popularity and the neighbourhoods — plain data for the replicas.
 */
import { recencyPopularity } from './baselines.js';
import { sidesOf, type Csr, type Scorer } from './evaluate.js';
import type { ListingInfo } from './listing-info.js';
import type { Interactions } from './prepare.js';
import type { ServedModel } from './served-model.js';
import type { ServedExplain } from './explain.js';

/**
 * `seen` must be `csrOf(all, every row of all)`: an ALS model's explanation data takes each entry's
 * rating from `all` in the same order.
 */
export function snapshotOf(a: { id: string; scorer: Scorer; x: Interactions; all: Interactions; seen: Csr; info: ListingInfo; cutDay: number; version: string }): ServedModel {
  const { user, item } = sidesOf(a.scorer);
  const e = a.scorer.kind === 'popularity' ? undefined : a.scorer.explain;
  let explain: ServedExplain | undefined;
  if (e?.kind === 'als') {
    const ratings = new Float32Array(a.seen.idx.length);
    const fill = a.seen.ptr.slice(0, a.seen.ptr.length - 1);
    for (let r = 0; r < a.all.user.length; r++) ratings[fill[a.all.user[r]!]!++] = a.all.rating[r]!;
    explain = { ...e, ratings };
  } else explain = e;
  return {
    id: a.id, name: a.scorer.name, version: a.version,
    userIds: Array.from(a.x.userIds, (u) => String(u)),
    listingIds: Array.from(a.x.catalogue, (l) => String(l)),
    user, item, seen: a.seen,
    popularity: recencyPopularity(a.all, a.cutDay),
    nbhd: a.info.nbhd, nbhdNames: a.info.nbhdNames, explain,
  };
}
