/**
 * The rental model, live and kept current (issue 18): `npm start -- --live` serves an ALS model and
 * applies new ratings as they arrive, without restarting the replicas.
 *
 * Where ratings come from:
 * - PostgreSQL (`DATABASE_URL`): inserts into `ratings` and `listings`, by logical replication
 *   (PostgresCdcSource). At start a replication slot is created inside a REPEATABLE READ
 *   transaction whose snapshot is the slot's starting point (`USE_SNAPSHOT`), and the model's data
 *   is read in that transaction: every rating is in the start read or comes by replication,
 *   exactly once. The slot (`rental_live_<pid>`) is dropped at shutdown; one left by a crash is
 *   reported by `shoal status` (it keeps WAL). The LSN is acknowledged after the batch reached
 *   every replica.
 * - The embedded default: a watched folder (`<out>/incoming`): each `*.csv` file dropped there is
 *   read in name order — `user_id,listing_id,rating[,rated_at]` rows are ratings, `id[,neighbourhood]`
 *   rows are new listings — applied, then moved to `incoming/applied/` (read again at the next
 *   start, so nothing applied is lost). Write a file under another name and rename it to `.csv`.
 *
 * Each batch: new listings join the catalogue; each rating is added to its user's history (the
 * job's duplicate policy: implicit stays are summed, explicit ratings keep the latest); a listing
 * without a trained vector (new, or never rated before) gets one by fold-in from the users who rated
 * it; then every touched user is folded in (ALS's half-step for that user against the fixed item
 * vectors: fold-in.ts, the loss the model was trained with) and the new vectors go to every
 * replica (`broadcast('applyLive')`) — the next request for that user is answered with them.
 * Listings that already have a trained vector keep it until the next retrain (refitting one would
 * move every user's score for it while their vectors were fitted against the old one).
 *
 * A rating for a listing the catalogue does not have is **held** (not applied, counted) until that
 * listing is inserted, then applied in the same batch. A malformed rating (user or listing id not an
 * integer, rating outside (0, 5]) is rejected and counted by reason; updates and deletes of ratings
 * are ignored and counted (ratings are append-only here).
 *
 * A full retrain (`retrain()`, SIGHUP under `npm start`) fits ALS again on the history as it is
 * when it starts, while batches keep being applied to the serving model; when the fit is done the
 * batches stop for a moment, the users and listings touched since the retrain started are folded in
 * again against the new vectors, and that model replaces the old one by hot swap: none of the
 * updates that arrived during the retrain is lost.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { tableFromArrays, type Table } from 'apache-arrow';
import pg from 'pg';
import { dropReplicationSlot, PostgresCdcSource, type StreamRecord, type StreamSource } from 'shoal/data';
import type { DeploymentHandle, Serve } from 'shoal/serve';
import { ALS, FoldInSolver, foldInParams, type FoldInParams } from 'shoal/train';
import type { Feedback } from './prepare.js';
import type { LiveUpdate, ServedModel } from './served-model.js';
import { readTable, type Target } from './storage.js';

/** A live-update setup or runtime failure, saying what was wrong and where. */
export class LiveUpdateError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'LiveUpdateError';
  }
}

/** Where new ratings come from. */
export type LiveSourceSpec =
  | { kind: 'postgres'; url: string; schema?: string | undefined; slot?: string | undefined; publication?: string | undefined }
  | { kind: 'folder'; dir: string; tables?: Target | undefined };

export interface LiveModelOptions {
  /** The job's served model: the catalogue, neighbourhoods and fallback popularity come from it. */
  base: ServedModel;
  feedback: Feedback;
  /** ALS hyperparameters (the job's tuned ones). */
  als: { rank: number; regParam: number; maxIter: number; alpha?: number | undefined };
  /** Version label prefix. @default 'als-live' */
  versionPrefix?: string | undefined;
}

/** A rating as it arrives (ids as strings). */
export interface RatingRow {
  user: string;
  listing: string;
  rating: number;
}

/** Counters of what the live job did. */
export interface LiveStats {
  batches: number;
  /** Ratings added to the model (including released held ones). */
  applied: number;
  /** Ratings waiting for their listing now. */
  held: number;
  /** Held ratings applied once their listing appeared. */
  released: number;
  newListings: number;
  newUsers: number;
  /** Rejected ratings by reason. */
  rejected: Record<string, number>;
  /** Changes not applied (updates, deletes) by kind and table. */
  ignored: Record<string, number>;
  retrains: number;
  version: string;
}

const isIntId = (v: unknown): v is string | number | bigint =>
  (typeof v === 'string' && /^-?\d{1,20}$/.test(v)) || (typeof v === 'number' && Number.isSafeInteger(v)) || typeof v === 'bigint';

/**
 * The live model's state on the driver: every user's history, the factor matrices, the held
 * ratings; applies batches and says what the replicas must change.
 */
export class LiveModel {
  readonly rank: number;
  readonly userIds: string[] = [];
  private readonly userIndex = new Map<string, number>();
  readonly listingIds: string[];
  private readonly listingIndex = new Map<string, number>();
  /** Neighbourhood names of listings appended live (catalogue index − base size). */
  private readonly newNbhd: (string | null)[] = [];
  /** Per user: catalogue index → rating, in arrival order. */
  readonly history: Map<number, number>[] = [];
  /** User vectors (capacity ≥ users × rank) and item vectors (catalogue × rank). */
  private U: Float32Array;
  private V: Float32Array;
  /** 1: the listing has a vector (trained or folded in). */
  private valid: Uint8Array;
  /** 1: the listing's vector is the last fit's (kept until the next retrain). */
  private trained: Uint8Array;
  /** Raters of listings without a trained vector: catalogue index → user → rating. */
  private raters = new Map<number, Map<number, number>>();
  private userSolver: FoldInSolver | undefined;
  params: FoldInParams | undefined;
  private readonly held = new Map<string, RatingRow[]>();
  /** Set while a retrain runs: what changed since its snapshot. */
  private since: { users: Set<number>; items: Set<number> } | undefined;
  private versionNo = 0;
  version = '';
  readonly stats: LiveStats;

  constructor(readonly o: LiveModelOptions) {
    this.rank = o.als.rank;
    this.listingIds = [...o.base.listingIds];
    this.listingIds.forEach((l, i) => this.listingIndex.set(l, i));
    const n = this.listingIds.length;
    this.U = new Float32Array(0);
    this.V = new Float32Array(n * this.rank);
    this.valid = new Uint8Array(n);
    this.trained = new Uint8Array(n);
    this.stats = { batches: 0, applied: 0, held: 0, released: 0, newListings: 0, newUsers: 0, rejected: {}, ignored: {}, retrains: 0, version: '' };
  }

  get numUsers(): number {
    return this.userIds.length;
  }

  /** Catalogue index of a listing id (undefined: not in the catalogue). */
  listing(id: string): number | undefined {
    return this.listingIndex.get(id);
  }

  user(id: string): number | undefined {
    return this.userIndex.get(id);
  }

  /** The user's vector as the model holds it now. */
  userFactors(id: string): Float32Array | undefined {
    const u = this.userIndex.get(id);
    return u === undefined ? undefined : this.U.slice(u * this.rank, (u + 1) * this.rank);
  }

  /** The listing's vector (undefined: none yet). */
  itemFactors(id: string): Float32Array | undefined {
    const i = this.listingIndex.get(id);
    return i === undefined || !this.valid[i] ? undefined : this.V.slice(i * this.rank, (i + 1) * this.rank);
  }

  /** The item vectors as they are now (catalogue × rank; zeros for listings without one). */
  itemMatrix(): Float32Array {
    return this.V.slice(0, this.listingIds.length * this.rank);
  }

  private addListing(id: string, nbhd: string | null): number {
    const i = this.listingIds.length;
    this.listingIds.push(id);
    this.listingIndex.set(id, i);
    this.newNbhd.push(nbhd);
    const n = i + 1;
    if (this.V.length < n * this.rank) {
      const cap = Math.max(n, 2 * (this.V.length / this.rank));
      const v = new Float32Array(cap * this.rank);
      v.set(this.V);
      this.V = v;
      const a = new Uint8Array(cap);
      a.set(this.valid);
      this.valid = a;
      const t = new Uint8Array(cap);
      t.set(this.trained);
      this.trained = t;
    }
    this.stats.newListings++;
    return i;
  }

  private addUser(id: string): number {
    const u = this.userIds.length;
    this.stats.newUsers++;
    this.userIds.push(id);
    this.userIndex.set(id, u);
    this.history.push(new Map());
    if (this.U.length < (u + 1) * this.rank) {
      const w = new Float32Array(Math.max((u + 1) * this.rank, 2 * this.U.length));
      w.set(this.U);
      this.U = w;
    }
    return u;
  }

  /** Adds a rating to the history (the duplicate policy); returns the user's index. */
  private addRating(r: RatingRow, i: number): number {
    const u = this.userIndex.get(r.user) ?? this.addUser(r.user);
    const h = this.history[u]!;
    const v = this.o.feedback === 'implicit' ? (h.get(i) ?? 0) + r.rating : r.rating;
    h.set(i, v);
    if (!this.trained[i]) {
      let m = this.raters.get(i);
      if (!m) this.raters.set(i, (m = new Map()));
      m.set(u, v);
    }
    this.since?.users.add(u);
    if (!this.trained[i]) this.since?.items.add(i);
    return u;
  }

  /**
   * The start: the listings and ratings read at the slot's snapshot (ratings in commit or file
   * order; explicit ratings ordered by time so the latest is kept), then the first fit.
   */
  async start(listings: Array<{ id: string; nbhd: string | null }>, ratings: RatingRow[], records: readonly StreamRecord[] = []): Promise<ServedModel> {
    for (const l of listings) if (!this.listingIndex.has(l.id)) this.addListing(l.id, l.nbhd);
    for (const id of this.o.base.userIds) this.addUser(id);
    for (const r of ratings) this.admit(r, []);
    this.ingest(records);
    Object.assign(this.stats, { applied: 0, released: 0, newListings: 0, newUsers: 0, rejected: {}, ignored: {} });
    await this.refit();
    return this.servedModel();
  }

  /** A valid rating is added (or held); returns whether it was added. */
  private admit(r: RatingRow, out: number[]): boolean {
    const i = this.listingIndex.get(r.listing);
    if (i === undefined) {
      let l = this.held.get(r.listing);
      if (!l) this.held.set(r.listing, (l = []));
      l.push(r);
      this.stats.held++;
      return false;
    }
    out.push(this.addRating(r, i));
    this.stats.applied++;
    return true;
  }

  private reject(reason: string): void {
    this.stats.rejected[reason] = (this.stats.rejected[reason] ?? 0) + 1;
  }

  /** Checks one captured rating; a reason string when it cannot be applied. */
  private ratingOf(v: Record<string, unknown>): RatingRow | string {
    if (!isIntId(v.user_id)) return 'user_id is not an integer';
    if (!isIntId(v.listing_id)) return 'listing_id is not an integer';
    const rating = typeof v.rating === 'number' ? v.rating : typeof v.rating === 'string' && v.rating.trim() !== '' ? Number(v.rating) : NaN;
    if (!(rating > 0 && rating <= 5)) return 'rating is not in (0, 5]';
    return { user: String(v.user_id), listing: String(v.listing_id), rating };
  }

  /** Adds a batch's listings and ratings to the state (held, rejected, ignored as the rules say); returns the users touched. */
  private ingest(records: readonly StreamRecord[]): number[] {
    const touchedUsers: number[] = [];
    for (const rec of records) {
      const table = rec.topic.slice(rec.topic.lastIndexOf('.') + 1);
      if (rec.kind !== 'insert') {
        const k = `${rec.kind} of ${table}`;
        this.stats.ignored[k] = (this.stats.ignored[k] ?? 0) + 1;
        continue;
      }
      if (table === 'listings') {
        const id = rec.value.id;
        if (!isIntId(id)) {
          this.reject('listing id is not an integer');
          continue;
        }
        const key = String(id);
        if (this.listingIndex.has(key)) continue;
        const nb = rec.value.neighbourhood;
        this.addListing(key, typeof nb === 'string' && nb !== '' ? nb : null);
        const waiting = this.held.get(key);
        if (waiting) {
          this.held.delete(key);
          this.stats.held -= waiting.length;
          for (const r of waiting) this.admit(r, touchedUsers);
          this.stats.released += waiting.length;
        }
      } else if (table === 'ratings') {
        const r = this.ratingOf(rec.value);
        if (typeof r === 'string') this.reject(r);
        else this.admit(r, touchedUsers);
      } else this.reject(`${rec.topic} is neither ratings nor listings`);
    }
    return touchedUsers;
  }

  /** Applies a batch of records (`ratings` and `listings` changes) and returns the replicas' update. */
  applyBatch(records: readonly StreamRecord[]): LiveUpdate {
    const firstNew = this.listingIds.length;
    const touchedUsers = this.ingest(records);
    this.stats.batches++;
    // Listings without a trained vector that got ratings: folded in against the users' vectors.
    const items: LiveUpdate['items'] = [];
    const itemRows = new Set<number>();
    for (const u of touchedUsers) for (const i of this.history[u]!.keys()) if (!this.trained[i] && !itemRows.has(i)) itemRows.add(i);
    if (itemRows.size) items.push(...this.foldInItems([...itemRows]));
    const users = this.foldInUsers([...new Set(touchedUsers)]);
    const listings = this.listingIds.slice(firstNew).map((id, k) => ({ id, nbhd: this.newNbhd[firstNew - this.o.base.listingIds.length + k] ?? null }));
    return { seq: this.stats.batches, listings, items, users };
  }

  /** Folds listings (catalogue indices) in against the user vectors; returns their new vectors. */
  private foldInItems(rows: number[]): LiveUpdate['items'] {
    const r = this.rank;
    const solver = new FoldInSolver(this.U.subarray(0, this.numUsers * r), this.params!);
    const out: LiveUpdate['items'] = [];
    for (const i of rows) {
      const m = this.raters.get(i);
      if (!m || m.size === 0) continue;
      const f = solver.solve(Int32Array.from(m.keys()), Float32Array.from(m.values()));
      this.V.set(f, i * r);
      this.valid[i] = 1;
      out.push({ index: i, factors: Array.from(f) });
    }
    if (out.length) this.userSolver = undefined; // the item side changed: YᵀY again
    return out;
  }

  /** Folds users in against the item vectors (their listings without a vector are left out). */
  private foldInUsers(users: number[]): LiveUpdate['users'] {
    const r = this.rank;
    this.userSolver ??= new FoldInSolver(this.V.subarray(0, this.listingIds.length * r), this.params!);
    return users.map((u) => {
      const h = this.history[u]!;
      const rows: number[] = [];
      const vals: number[] = [];
      for (const [i, v] of h) if (this.valid[i]) {
        rows.push(i);
        vals.push(v);
      }
      const f = this.userSolver!.solve(Int32Array.from(rows), Float32Array.from(vals));
      this.U.set(f, u * r);
      return { id: this.userIds[u]!, factors: Array.from(f), seen: [...h.keys()] };
    });
  }

  /** The history as (user, item, rating) columns. */
  private triples(): { user: Int32Array; item: Int32Array; rating: Float32Array } {
    let n = 0;
    for (const h of this.history) n += h.size;
    const user = new Int32Array(n);
    const item = new Int32Array(n);
    const rating = new Float32Array(n);
    let k = 0;
    this.history.forEach((h, u) => {
      for (const [i, v] of h) {
        user[k] = u;
        item[k] = i;
        rating[k++] = v;
      }
    });
    return { user, item, rating };
  }

  /** Fits ALS on `data` (the history at some point); resolves to the factors by dense index. */
  private async fit(data: { user: Int32Array; item: Int32Array; rating: Float32Array }): Promise<{ users: Map<number, Float32Array>; items: Map<number, Float32Array>; params: FoldInParams }> {
    if (data.user.length === 0) throw new LiveUpdateError('live model: no ratings to train on');
    const { rank, regParam, maxIter, alpha } = this.o.als;
    const blocks = Math.max(1, Math.min(8, Math.ceil(data.user.length / 200_000) * 2));
    const model = await new ALS({
      rank, regParam, maxIter, implicitPrefs: this.o.feedback === 'implicit', alpha: alpha ?? 20, seed: 1, numUserBlocks: blocks, numItemBlocks: blocks,
    }).fit(tableFromArrays(data) as Table);
    const rows = (m: typeof model.userFactorMatrix): Map<number, Float32Array> => {
      const out = new Map<number, Float32Array>();
      m.ids.forEach((id, k) => out.set(Number(id), m.factors.slice(k * rank, (k + 1) * rank)));
      return out;
    };
    return { users: rows(model.userFactorMatrix), items: rows(model.itemFactorMatrix), params: foldInParams(rank, model.params as unknown as Record<string, unknown>) };
  }

  /** Fits on the whole history now and installs the result (the start). */
  private async refit(): Promise<void> {
    this.install(await this.fit(this.triples()));
  }

  private install(f: { users: Map<number, Float32Array>; items: Map<number, Float32Array>; params: FoldInParams }): void {
    const r = this.rank;
    this.params = f.params;
    this.U.fill(0);
    for (const [u, v] of f.users) this.U.set(v, u * r);
    this.V.fill(0);
    this.valid.fill(0);
    this.trained.fill(0);
    for (const [i, v] of f.items) {
      this.V.set(v, i * r);
      this.valid[i] = 1;
      this.trained[i] = 1;
    }
    this.raters = new Map();
    this.history.forEach((h, u) => {
      for (const [i, v] of h) if (!this.trained[i]) {
        let m = this.raters.get(i);
        if (!m) this.raters.set(i, (m = new Map()));
        m.set(u, v);
      }
    });
    this.userSolver = undefined;
    this.versionNo++;
    this.version = `${this.o.versionPrefix ?? 'als-live'}-${this.versionNo}`;
    this.stats.version = this.version;
  }

  /**
   * A full retrain: fits on the history as it is now (batches keep being applied meanwhile), then
   * `install()` puts the fit in place with what arrived since folded in again — the caller holds
   * the batches off while it deploys the returned model, and calls `rollback()` if that fails
   * (`cancel()` instead of `install()` drops the retrain).
   */
  async retrain(): Promise<{ install: () => { model: ServedModel; rollback: () => void }; cancel: () => void; reapplied: { users: number; listings: number } }> {
    this.since = { users: new Set(), items: new Set() };
    let fitted;
    try {
      fitted = await this.fit(this.triples());
    } catch (err) {
      this.since = undefined;
      throw err;
    }
    const reapplied = { users: 0, listings: 0 };
    return {
      reapplied,
      cancel: () => {
        this.since = undefined;
      },
      install: () => {
        const since = this.since!;
        this.since = undefined;
        const before = {
          U: this.U.slice(), V: this.V.slice(), valid: this.valid.slice(), trained: this.trained.slice(), raters: this.raters,
          params: this.params, versionNo: this.versionNo, version: this.version,
        };
        this.install(fitted);
        const items = [...since.items].filter((i) => !this.trained[i]);
        reapplied.listings = this.foldInItems(items).length;
        reapplied.users = this.foldInUsers([...since.users]).length;
        this.stats.retrains++;
        return {
          model: this.servedModel(),
          // The swap failed: back to the vectors the replicas still serve.
          rollback: () => {
            Object.assign(this, before);
            this.userSolver = undefined;
            this.stats.version = before.version;
            this.stats.retrains--;
          },
        };
      },
    };
  }

  /** The served model of the current state (what new replicas start from). */
  servedModel(): ServedModel {
    const b = this.o.base;
    const n = this.listingIds.length;
    const baseN = b.listingIds.length;
    const nbhdNames = [...b.nbhdNames];
    const nbhd = new Int32Array(n).fill(-1);
    nbhd.set(b.nbhd.subarray(0, baseN));
    for (let k = 0; k < n - baseN; k++) {
      const name = this.newNbhd[k];
      if (name == null) continue;
      let j = nbhdNames.findIndex((x) => x.toLowerCase() === name.toLowerCase());
      if (j < 0) j = nbhdNames.push(name) - 1;
      nbhd[baseN + k] = j;
    }
    const popularity = new Float32Array(n);
    popularity.set(b.popularity.subarray(0, baseN));
    const ptr = new Int32Array(this.numUsers + 1);
    this.history.forEach((h, u) => (ptr[u + 1] = ptr[u]! + h.size));
    const idx = new Int32Array(ptr[this.numUsers]!);
    this.history.forEach((h, u) => idx.set([...h.keys()], ptr[u]!));
    const { rank, regParam, maxIter } = this.o.als;
    return {
      id: 'als', name: `ALS (rank ${rank}, λ ${regParam}, ${maxIter} iter; live)`, version: this.version,
      userIds: [...this.userIds], listingIds: [...this.listingIds],
      user: { users: this.U.slice(0, this.numUsers * this.rank), ctxPtr: null, ctxIdx: null, ctxVal: null },
      item: { rank: this.rank, items: this.V.slice(0, n * this.rank), valid: this.valid.slice(0, n), bias: null, simPtr: null, simIdx: null, simVal: null },
      seen: { ptr, idx }, popularity, nbhd, nbhdNames,
    };
  }
}

/**
 * A watched folder of CSV files as a {@link StreamSource}: `*.csv` files in name order, one record
 * per row (topic `ratings` or `listings` by the header), offset = the file's name; `commit(offset)`
 * moves the files up to it into `applied/`. A file with neither header is one rejected record.
 */
export class CsvFolderSource implements StreamSource {
  readonly name: string;
  readonly appliedDir: string;
  private handedOut = new Set<string>();
  private closed = false;
  constructor(readonly dir: string) {
    this.name = `csv-folder:${dir}`;
    this.appliedDir = join(dir, 'applied');
  }

  async open(): Promise<void> {
    mkdirSync(this.appliedDir, { recursive: true });
  }

  /** The rows of one file as records. */
  static read(dir: string, file: string): StreamRecord[] {
    const lines = readFileSync(join(dir, file), 'utf8').split(/\r?\n/).filter((l) => l.trim() !== '');
    const header = (lines[0] ?? '').split(',').map((h) => h.trim().toLowerCase());
    const topic = header.includes('user_id') && header.includes('listing_id') && header.includes('rating') ? 'ratings' : header[0] === 'id' ? 'listings' : undefined;
    if (!topic) return [{ offset: file, id: `${file}:0`, kind: 'insert', topic: `file ${file} (header "${lines[0] ?? ''}")`, value: {}, timestampMs: Date.now() }];
    return lines.slice(1).map((l, k) => {
      const cells = l.split(',').map((c) => c.trim());
      const value: Record<string, unknown> = {};
      header.forEach((h, j) => (value[h] = cells[j]));
      return { offset: file, id: `${file}:${k + 1}`, kind: 'insert' as const, value, topic, timestampMs: Date.now() };
    });
  }

  private pending(): string[] {
    if (!existsSync(this.dir)) return [];
    return readdirSync(this.dir).filter((f) => f.endsWith('.csv') && !this.handedOut.has(f)).sort();
  }

  async poll(maxRecords: number, maxWaitMs: number): Promise<StreamRecord[]> {
    const end = Date.now() + maxWaitMs;
    for (;;) {
      const out: StreamRecord[] = [];
      for (const f of this.pending()) {
        if (out.length >= maxRecords) break;
        this.handedOut.add(f);
        out.push(...CsvFolderSource.read(this.dir, f));
      }
      if (out.length || this.closed || Date.now() >= end) return out;
      await new Promise((r) => setTimeout(r, Math.min(100, Math.max(1, end - Date.now()))));
    }
  }

  async commit(offset: string): Promise<void> {
    for (const f of [...this.handedOut].sort()) {
      if (f > offset) break;
      renameSync(join(this.dir, f), join(this.appliedDir, f));
      this.handedOut.delete(f);
    }
  }

  compareOffsets(a: string, b: string): number {
    return a < b ? -1 : a > b ? 1 : 0;
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}

const quoteIdent = (name: string): string => `"${name.replace(/"/g, '""')}"`;

/**
 * Opens the PostgreSQL side: the publication of `<schema>.ratings` and `<schema>.listings`, a new
 * slot whose snapshot the start read uses, and the CDC source on it.
 */
async function openPostgres(spec: Extract<LiveSourceSpec, { kind: 'postgres' }>): Promise<{ source: StreamSource; listings: Array<{ id: string; nbhd: string | null }>; ratings: RatingRow[]; drop: () => Promise<void> }> {
  const schema = spec.schema ?? 'public';
  const slot = spec.slot ?? `rental_live_${process.pid}`;
  const publication = spec.publication ?? `rental_live_${schema.toLowerCase().replace(/[^a-z0-9_]/g, '_')}`.slice(0, 63);
  const tables = `${quoteIdent(schema)}.ratings, ${quoteIdent(schema)}.listings`;
  const admin = new pg.Client({ connectionString: spec.url });
  await admin.connect();
  try {
    const level = (await admin.query<{ wal_level: string }>('SHOW wal_level')).rows[0]?.wal_level;
    if (level !== 'logical') throw new LiveUpdateError(`--live with DATABASE_URL reads new ratings by logical replication, but the server's wal_level is ${String(level)} (ALTER SYSTEM SET wal_level = logical, then restart PostgreSQL)`);
    const pub = await admin.query('SELECT 1 FROM pg_publication WHERE pubname = $1', [publication]);
    // SET TABLE every start: a job that reloaded the tables (a new table under the old name) left the publication empty.
    await admin.query(pub.rowCount === 0 ? `CREATE PUBLICATION ${quoteIdent(publication)} FOR TABLE ${tables}` : `ALTER PUBLICATION ${quoteIdent(publication)} SET TABLE ${tables}`);
  } finally {
    await admin.end();
  }
  const repl = new pg.Client({ connectionString: spec.url, replication: 'database' } as pg.ClientConfig);
  await repl.connect();
  let listings: Array<{ id: string; nbhd: string | null }>;
  let ratings: RatingRow[];
  try {
    await repl.query('BEGIN READ ONLY ISOLATION LEVEL REPEATABLE READ');
    await repl.query(`CREATE_REPLICATION_SLOT ${quoteIdent(slot)} LOGICAL pgoutput USE_SNAPSHOT`);
    const l = await repl.query<{ id: string; neighbourhood: string | null }>(`SELECT id::text AS id, neighbourhood FROM ${quoteIdent(schema)}.listings`);
    const r = await repl.query<{ user_id: string; listing_id: string; rating: number }>(
      `SELECT user_id::text AS user_id, listing_id::text AS listing_id, rating FROM ${quoteIdent(schema)}.ratings ORDER BY rated_at`,
    );
    await repl.query('COMMIT');
    listings = l.rows.map((x) => ({ id: x.id, nbhd: x.neighbourhood }));
    ratings = r.rows.map((x) => ({ user: x.user_id, listing: x.listing_id, rating: Number(x.rating) }));
  } catch (err) {
    await repl.end().catch(() => undefined);
    await dropReplicationSlot(spec.url, slot).catch(() => undefined);
    throw new LiveUpdateError(`could not create replication slot ${slot} and read ${schema}.ratings at its snapshot: ${(err as Error).message}`, { cause: err });
  }
  await repl.end();
  const source = new PostgresCdcSource({ connection: spec.url, slot, publication });
  return { source, listings, ratings, drop: () => dropReplicationSlot(spec.url, slot) };
}

/** Opens the folder side: the tables' ratings and listings, then the files applied before, then the watched folder. */
async function openFolder(spec: Extract<LiveSourceSpec, { kind: 'folder' }>): Promise<{ source: StreamSource; listings: Array<{ id: string; nbhd: string | null }>; ratings: RatingRow[]; records: StreamRecord[]; drop: () => Promise<void> }> {
  const listings: Array<{ id: string; nbhd: string | null }> = [];
  const ratings: RatingRow[] = [];
  if (spec.tables) {
    const l = await readTable(spec.tables, 'listings').select('id', 'neighbourhood').collect();
    for (const row of l.toArray()) listings.push({ id: String(row.id), nbhd: row.neighbourhood == null ? null : String(row.neighbourhood) });
    const r = await readTable(spec.tables, 'ratings').select('user_id', 'listing_id', 'rating', 'rated_at').collect();
    const rows = r.toArray().map((x) => ({ user: String(x.user_id), listing: String(x.listing_id), rating: Number(x.rating), at: Number(x.rated_at) }));
    rows.sort((a, b) => a.at - b.at);
    for (const x of rows) ratings.push({ user: x.user, listing: x.listing, rating: x.rating });
  }
  const source = new CsvFolderSource(spec.dir);
  const applied = existsSync(source.appliedDir) ? readdirSync(source.appliedDir).filter((f) => f.endsWith('.csv')).sort() : [];
  const records = applied.flatMap((f) => CsvFolderSource.read(source.appliedDir, f));
  return { source, listings, ratings, records, drop: async () => undefined };
}

/** What `startLive` needs to deploy. */
export interface LiveDeploy {
  serve: Serve;
  /** Deploys (or hot-swaps) the served model; resolves once it serves. */
  deploy: (model: ServedModel) => Promise<void>;
  /** Deployment name of the replicas. @default 'recommendations' */
  deployment?: string | undefined;
}

/** Called after each batch reached the replicas: records read, users refit, new listings, milliseconds from read to every replica. */
export type OnBatch = (b: { records: number; users: number; listings: number; ms: number; stats: LiveStats }) => void;

/** A running live job: batches applied as they arrive, retrain on demand. */
export class LiveUpdates {
  private stopping = false;
  private loop: Promise<void> | undefined;
  private gate: Promise<void> = Promise.resolve();
  private retraining: Promise<{ users: number; listings: number }> | undefined;
  private handle: DeploymentHandle;
  /** The loop's failure, when it stopped on one. */
  error: Error | undefined;

  constructor(
    readonly model: LiveModel,
    private readonly source: StreamSource,
    private readonly d: LiveDeploy,
    private readonly dropSlot: () => Promise<void>,
    private readonly onBatch: OnBatch | undefined,
  ) {
    this.handle = d.serve.controller.handle(d.deployment ?? 'recommendations');
  }

  get stats(): LiveStats {
    return this.model.stats;
  }

  /** Runs `fn` with the batches held off (one at a time). */
  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.gate.then(fn);
    this.gate = run.then(() => undefined, () => undefined);
    return run;
  }

  /** Resolves when the loop ended: after `stop()`, or on a failure (then in `error`). */
  get finished(): Promise<void> {
    return this.loop ?? Promise.resolve();
  }

  /** @internal Starts the loop: poll → apply → broadcast → commit. */
  run(): void {
    this.loop = (async () => {
      while (!this.stopping) {
        const recs = await this.source.poll(5000, 200);
        if (recs.length === 0) continue;
        const t0 = performance.now();
        const up = await this.exclusive(async () => {
          const update = this.model.applyBatch(recs);
          if (update.users.length || update.items.length || update.listings.length) await this.handle.broadcast('applyLive', update);
          return update;
        });
        await this.source.commit(recs[recs.length - 1]!.offset);
        this.onBatch?.({ records: recs.length, users: up.users.length, listings: up.listings.length, ms: performance.now() - t0, stats: this.stats });
      }
    })().catch((err: unknown) => {
      this.error = err instanceof Error ? err : new Error(String(err));
    });
  }

  /**
   * A full retrain replacing the model by hot swap; updates that arrive meanwhile are applied to
   * the serving model and folded in again on top of the new one. A second call while one runs
   * waits for that one. Resolves to what was re-applied. `afterFit` runs between the fit and the
   * swap, batches still flowing (tests use it to land updates in that window).
   */
  retrain(o: { afterFit?: (() => Promise<void>) | undefined } = {}): Promise<{ users: number; listings: number }> {
    this.retraining ??= (async () => {
      try {
        const r = await this.model.retrain();
        try {
          await o.afterFit?.();
        } catch (err) {
          r.cancel();
          throw err;
        }
        await this.exclusive(async () => {
          const { model, rollback } = r.install();
          try {
            await this.d.deploy(model);
          } catch (err) {
            rollback();
            throw new LiveUpdateError(`retrain: the hot swap to ${model.version} failed, ${this.model.version} keeps serving: ${(err as Error).message}`, { cause: err });
          }
          this.handle = this.d.serve.controller.handle(this.d.deployment ?? 'recommendations');
        });
        return r.reapplied;
      } finally {
        this.retraining = undefined;
      }
    })();
    return this.retraining;
  }

  /** Stops the loop, closes the source and drops the PostgreSQL slot (the model keeps serving until the serve instance stops). */
  async stop(): Promise<void> {
    this.stopping = true;
    await this.loop;
    await this.retraining?.catch(() => undefined);
    await this.source.close();
    await this.dropSlot().catch(() => undefined);
  }
}

/**
 * Starts the live job: reads the start data (see the file header), fits ALS, deploys the model
 * with `d.deploy`, then applies new ratings from `spec` until `stop()`.
 */
export async function startLive(o: LiveModelOptions & { source: LiveSourceSpec; onBatch?: OnBatch | undefined }, d: LiveDeploy): Promise<LiveUpdates> {
  const opened = o.source.kind === 'postgres' ? { ...(await openPostgres(o.source)), records: [] as StreamRecord[] } : await openFolder(o.source);
  try {
    const model = new LiveModel(o);
    await model.start(opened.listings, opened.ratings, opened.records);
    await d.deploy(model.servedModel());
    await opened.source.open();
    const live = new LiveUpdates(model, opened.source, d, opened.drop, o.onBatch);
    live.run();
    return live;
  } catch (err) {
    await opened.source.close().catch(() => undefined);
    await opened.drop().catch(() => undefined);
    throw err;
  }
}
