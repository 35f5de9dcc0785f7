/**
 * The served model as plain data (what the job hands to the serving replicas) and how one request
 * is answered from it:
 *
 * - a known user with history: the model's scores (scoring.ts), their rated listings excluded;
 * - an unknown or cold user (no history): the fallback, the most popular listings (recency-weighted
 *   stays over all the data), in the requested neighbourhood when one is given;
 * - an anonymous visitor with recently viewed listings (`context`): the model scores them as a
 *   history — item-kNN sums their neighbours, factor models fold them in as the mean of their item
 *   factors — and the viewed listings are excluded; a model with neither (popularity) falls back;
 * - a user in serving's holdout slice (`req.holdout`): the popular listings, whoever they are — the
 *   feedback loop's non-personalised baseline.
 *
 * A `neighbourhood` restricts every answer to that neighbourhood's listings. Without one, a fallback
 * for a user whose preferred neighbourhood is known (`preferredNbhd`, from the feature store:
 * serving-features.ts) shows the popular listings of that neighbourhood.
 */
import type { Csr } from './evaluate.js';
import { Explainer, type Explanation, type ServedExplain } from './explain.js';
import { scoreUser, sliceUsers, type ItemSide, type UserSide } from './scoring.js';

export interface ServedModel {
  /** Candidate id (`als`, `neural`, `knn`, ...) and display name of the model. */
  id: string;
  name: string;
  /** Shown in every answer and in the `x-shoal-version` header's deployment version. */
  version: string;
  /** Original user id per dense user index. */
  userIds: string[];
  /** Listing id per catalogue index. */
  listingIds: string[];
  user: UserSide;
  item: ItemSide;
  /** Rated listings per dense user (never recommended to them). */
  seen: Csr;
  /** Recency-weighted stays per listing: the fallback's order. */
  popularity: Float32Array;
  /** Neighbourhood index per listing (−1: unknown) and the names. */
  nbhd: Int32Array;
  nbhdNames: string[];
  /** What the model keeps to explain its scores (explain.ts); absent: answers cannot be explained. */
  explain?: ServedExplain | undefined;
}

export interface Recommendation {
  id: string;
  score: number;
  /** The listing's stored attributes (feature store; serving-features.ts), when looked up and known. */
  listing?: Record<string, unknown> | null;
  /** Why it is recommended (asked with `explain`; explain.ts). */
  explanation?: Explanation;
}

export interface RecommendationAnswer {
  /** The user asked for (null for an anonymous visitor). */
  user: string | null;
  model: string;
  version: string;
  /** null: the model answered; otherwise why and how the fallback did. */
  fallback: null | { reason: string; by: 'popular' | 'popular in neighbourhood' | 'popular in preferred neighbourhood' };
  neighbourhood: string | null;
  /** Context listing ids that are not in the catalogue (ignored). */
  unknownContext: number;
  items: Recommendation[];
  /**
   * What the feature store said (live serving only): the user's aggregates, or why it could not be
   * read (the answer is then the model's alone).
   */
  features?: { user: Record<string, unknown> | null } | { unavailable: string };
}

export interface RecommendationQuery {
  user: string | null;
  k: number;
  /** Neighbourhood index (−1: any). */
  nbhd: number;
  /** Catalogue indices of recently viewed listings. */
  context: number[];
  unknownContext: number;
  /** Neighbourhood index the user prefers (−1 or absent: unknown): restricts a fallback when `nbhd` is −1. */
  preferredNbhd?: number;
  /** Explain every recommended listing (explain.ts). @default false */
  explain?: boolean;
  /** The user is in serving's holdout slice: the non-personalised ranking (the popular listings), never the model's. */
  holdout?: boolean;
}

/**
 * What a live model's replicas take between two versions (live-updates.ts): new listings appended
 * to the catalogue, then new item vectors, then users' new vectors and rated listings (a user the
 * replica does not know is appended). Factor models only (`item.items`, `user.users`).
 */
export interface LiveUpdate {
  /** Batches applied since the version was deployed (1, 2, ...). */
  seq: number;
  /** New catalogue entries, in catalogue order, with their neighbourhood's name (null: unknown). */
  listings: Array<{ id: string; nbhd: string | null }>;
  /** Catalogue index and vector of listings that got one (a new listing folded in). */
  items: Array<{ index: number; factors: number[] }>;
  /** Users' new vectors and all their rated listings (catalogue indices). */
  users: Array<{ id: string; factors: number[]; seen: number[] }>;
}

/** Indexes a model for lookups (user id → dense index, listing id → catalogue index). */
export class ModelIndex {
  readonly users = new Map<string, number>();
  readonly listings = new Map<string, number>();
  readonly nbhds = new Map<string, number>();
  private score: Float32Array;
  private excluded: Uint8Array;
  /** Rated listings of users a live update changed (they replace `m.seen`'s row). */
  private readonly seenLive = new Map<number, Int32Array>();
  /** The last live update's `seq` (0: none). */
  liveSeq = 0;
  private readonly explainer: Explainer;
  constructor(readonly m: ServedModel) {
    this.explainer = new Explainer(m);
    m.userIds.forEach((u, i) => this.users.set(u, i));
    m.listingIds.forEach((l, i) => this.listings.set(l, i));
    m.nbhdNames.forEach((n, i) => this.nbhds.set(n.toLowerCase(), i));
    this.score = new Float32Array(m.listingIds.length);
    this.excluded = new Uint8Array(m.listingIds.length);
  }

  private seenOf(u: number | undefined): Int32Array {
    if (u === undefined) return new Int32Array(0);
    return this.seenLive.get(u) ?? this.m.seen.idx.subarray(this.m.seen.ptr[u]!, this.m.seen.ptr[u + 1]!);
  }

  /** Applies a live update (see {@link LiveUpdate}); returns the users it changed. */
  apply(up: LiveUpdate): number {
    const m = this.m;
    const rank = m.item.rank;
    if (!m.item.items || !m.user.users || rank <= 0) throw new Error(`live updates need a factor model; ${m.id} has no user and item factors`);
    if (up.listings.length) {
      const n = m.listingIds.length + up.listings.length;
      const grow = <A extends Float32Array | Int32Array | Uint8Array>(a: A, size: number, fill = 0): A => {
        const b = new (a.constructor as new (n: number) => A)(size);
        b.set(a);
        b.fill(fill as never, a.length);
        return b;
      };
      for (const l of up.listings) {
        this.listings.set(l.id, m.listingIds.length);
        m.listingIds.push(l.id);
      }
      const nb = Int32Array.from(up.listings, (l) => {
        if (l.nbhd === null) return -1;
        let k = this.nbhds.get(l.nbhd.toLowerCase());
        if (k === undefined) {
          this.nbhds.set(l.nbhd.toLowerCase(), (k = m.nbhdNames.length));
          m.nbhdNames.push(l.nbhd);
        }
        return k;
      });
      m.nbhd = grow(m.nbhd, n, -1);
      m.nbhd.set(nb, n - nb.length);
      m.popularity = grow(m.popularity, n);
      m.item.items = grow(m.item.items, n * rank);
      m.item.valid = grow(m.item.valid ?? new Uint8Array(n - up.listings.length).fill(1), n);
      if (m.item.bias) m.item.bias = grow(m.item.bias, n);
      this.score = new Float32Array(n);
      this.excluded = new Uint8Array(n);
    }
    for (const it of up.items) {
      m.item.items.set(it.factors, it.index * rank);
      m.item.valid ??= new Uint8Array(m.listingIds.length).fill(1);
      m.item.valid[it.index] = 1;
    }
    for (const u of up.users) {
      let k = this.users.get(u.id);
      if (k === undefined) {
        k = m.userIds.length;
        this.users.set(u.id, k);
        m.userIds.push(u.id);
        if (m.user.users!.length < (k + 1) * rank) {
          const bigger: Float32Array = new Float32Array(Math.max((k + 1) * rank, 2 * m.user.users!.length));
          bigger.set(m.user.users!);
          m.user.users = bigger;
        }
      }
      m.user.users!.set(u.factors, k * rank);
      this.seenLive.set(k, Int32Array.from(u.seen));
    }
    this.liveSeq = up.seq;
    return up.users.length;
  }

  /** A user's vector and rated listing ids as this replica holds them (null: unknown user). */
  userState(user: string): { factors: number[]; seen: string[] } | null {
    const u = this.users.get(user);
    const rank = this.m.item.rank;
    if (u === undefined || !this.m.user.users) return null;
    return { factors: Array.from(this.m.user.users.subarray(u * rank, (u + 1) * rank)), seen: Array.from(this.seenOf(u), (i) => this.m.listingIds[i]!) };
  }

  recommend(q: RecommendationQuery): RecommendationAnswer {
    const m = this.m;
    const n = m.listingIds.length;
    const u = q.user === null ? undefined : this.users.get(q.user);
    const seen = this.seenOf(u);
    const hasHistory = seen.length > 0;
    const canUseContext = q.context.length > 0 && (m.item.simPtr !== null || (m.item.items !== null && m.item.rank > 0));
    let fallback: RecommendationAnswer['fallback'] = null;
    let nbhd = q.nbhd;
    if (q.holdout) {
      this.score.set(m.popularity);
      fallback = { reason: 'holdout: this user is in the non-personalised slice (serving holdoutPercent)', by: q.nbhd >= 0 ? 'popular in neighbourhood' : 'popular' };
    } else if (hasHistory) {
      scoreUser(sliceUsers(m.user, m.item.rank, [u!]), 0, m.item, n, this.score);
      if (q.context.length && m.item.simPtr) this.addContext(q.context);
    } else if (canUseContext) {
      scoreUser(this.foldIn(q.context), 0, m.item, n, this.score);
    } else {
      this.score.set(m.popularity);
      const preferred = q.nbhd < 0 && q.preferredNbhd !== undefined && q.preferredNbhd >= 0;
      if (preferred) nbhd = q.preferredNbhd!;
      const by = preferred ? 'popular in preferred neighbourhood' : q.nbhd >= 0 ? 'popular in neighbourhood' : 'popular';
      const why = q.user === null ? (q.context.length ? `the model (${m.id}) cannot score viewed listings` : 'anonymous visitor without context')
        : u === undefined ? `unknown user ${q.user}` : `user ${q.user} has no history`;
      fallback = { reason: preferred ? `${why}; the feature store knows their preferred neighbourhood` : why, by };
    }
    for (const i of seen) this.excluded[i] = 1;
    for (const i of q.context) this.excluded[i] = 1;
    const best = this.top(q.k, nbhd);
    for (const i of seen) this.excluded[i] = 0;
    for (const i of q.context) this.excluded[i] = 0;
    const items: Recommendation[] = best.map((i) => ({ id: m.listingIds[i]!, score: this.score[i]! }));
    if (q.explain) {
      // Only the model's own score of a known user with history is explained (not a fallback, not viewed listings).
      const why = this.explainer.explain(hasHistory && fallback === null && q.context.length === 0 ? u : undefined, best);
      items.forEach((it, j) => (it.explanation = why[j]!));
    }
    return {
      user: q.user, model: m.name, version: m.version, fallback, neighbourhood: nbhd >= 0 ? m.nbhdNames[nbhd]! : null,
      unknownContext: q.unknownContext, items,
    };
  }

  /** The user side of an anonymous history: the mean of its item factors, and the listings as kNN context. */
  private foldIn(context: number[]): UserSide {
    const { rank, items } = this.m.item;
    let users: Float32Array | null = null;
    if (items && rank > 0) {
      users = new Float32Array(rank);
      for (const i of context) for (let f = 0; f < rank; f++) users[f]! += items[i * rank + f]! / context.length;
    }
    return { users, ctxPtr: Int32Array.of(0, context.length), ctxIdx: Int32Array.from(context), ctxVal: new Float32Array(context.length).fill(1) };
  }

  private addContext(context: number[]): void {
    const { simPtr, simIdx, simVal } = this.m.item;
    for (const src of context) for (let p = simPtr![src]!; p < simPtr![src + 1]!; p++) this.score[simIdx![p]!]! += simVal![p]!;
  }

  /** The k best-scored listings' catalogue indices (finite score, not excluded, in `nbhd` when ≥ 0), best first; ties by catalogue order. */
  private top(k: number, nbhd: number): number[] {
    const best: number[] = [];
    const s = this.score;
    for (let i = 0; i < s.length; i++) {
      const v = s[i]!;
      if (this.excluded[i] || !Number.isFinite(v) || (nbhd >= 0 && this.m.nbhd[i] !== nbhd)) continue;
      if (best.length === k && !(v > s[best[k - 1]!]!)) continue;
      let pos = best.length < k ? best.push(i) - 1 : k - 1;
      while (pos > 0 && v > s[best[pos - 1]!]!) {
        best[pos] = best[pos - 1]!;
        pos--;
      }
      best[pos] = i;
    }
    return best;
  }
}
