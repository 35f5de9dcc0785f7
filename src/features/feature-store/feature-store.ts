/**
 * The feature store: definitions applied to a versioned registry, point-in-time training sets from
 * the offline sources, materialization into an online store, and online lookups for serving that
 * run on-demand features through the same fitted kernels as training. The online store is the
 * in-process one unless Redis is configured, so nothing needs a server by default.
 */
import { optionRules } from '../../core/index.js';
import type { Dataset } from '../../data/index.js';
import type { FeatureRow } from '../featurizer.js';
import { invalidOption } from '../errors.js';
import { entityKey, FeatureCatalog, type ResolvedFeatures } from './catalog.js';
import type { Definition, FeatureView } from './definitions.js';
import { OnlineStoreUnavailableError } from './errors.js';
import { definitionsFromSnapshot } from './from-registry.js';
import { historicalFeatures, type HistoricalOptions } from './historical.js';
import { materializeView, viewInfo, type MaterializeResult } from './materialize.js';
import { InProcessOnlineStore, type OnlineStore, type OnlineViewInfo } from './online-store.js';
import { RedisOnlineStore, type RedisOnlineStoreOptions } from './redis-online-store.js';
import { FileFeatureRegistry, SnapshotRegistry, type FeatureRegistry } from './registry.js';
import { checkSkew, type SkewOptions, type SkewReport } from './skew.js';
import { specOf, type AppliedDefinition, type RegistrySnapshot } from './specs.js';

export interface FeatureStoreOptions {
  /** A registry, or the folder of a file registry. @default FileFeatureRegistry at $SHOAL_HOME/features */
  readonly registry?: FeatureRegistry | string;
  /** An online store, or Redis options. @default an InProcessOnlineStore */
  readonly online?: OnlineStore | { readonly redis: RedisOnlineStoreOptions };
  /** Partitions of the shuffles by entity key. @default 8 */
  readonly numPartitions?: number;
  /** How long a materialization waits for another one of the same view to finish. @default 60000 */
  readonly lockWaitMs?: number;
}

export interface OnlineOptions {
  /**
   * When the online store is unavailable: 'throw' an OnlineStoreUnavailableError, or answer with null
   * stored features ('nulls', the serving fallback: the model's imputation fills them) after calling
   * `onUnavailable`. @default 'throw'
   */
  readonly fallback?: 'throw' | 'nulls';
  readonly onUnavailable?: (err: OnlineStoreUnavailableError) => void;
  /** The read time for TTLs (ms). @default Date.now() */
  readonly nowMs?: number;
}

export interface MaterializeOptions {
  /** Only these views. @default every feature view */
  readonly views?: readonly string[];
}

interface OnlinePlan {
  readonly views: readonly {
    readonly view: FeatureView;
    readonly info: OnlineViewInfo;
    /** Features read from the store. */
    readonly features: readonly string[];
    /** Columns of the row written from them (all of them when on-demand views follow, else the requested ones) and their index in `features`. */
    readonly write: readonly string[];
    readonly at: readonly number[];
  }[];
}

const plans = new WeakMap<ResolvedFeatures, OnlinePlan>();

/** What a lookup of `resolved` reads and writes, worked out once per resolution (the catalog caches those). */
function onlinePlan(resolved: ResolvedFeatures): OnlinePlan {
  let plan = plans.get(resolved);
  if (plan !== undefined) return plan;
  const outputs = new Set(resolved.outputs);
  const direct = resolved.onDemand.length === 0;
  plan = {
    views: resolved.views.map(({ view, features }) => {
      const names = features.map((f) => f.name);
      const at = names.flatMap((f, j) => (!direct || outputs.has(f) ? [j] : []));
      return { view, info: viewInfo(view), features: names, write: at.map((j) => names[j]!), at };
    }),
  };
  plans.set(resolved, plan);
  return plan;
}

const toMs = (t: Date | number, what: string): number => {
  const ms = t instanceof Date ? t.getTime() : t;
  if (typeof ms !== 'number' || !Number.isFinite(ms)) throw invalidOption(what, `must be a Date or epoch milliseconds; got ${String(t)}`, { stage: 'FeatureStore' });
  return ms;
};

export class FeatureStore {
  readonly registry: FeatureRegistry;
  readonly online: OnlineStore;
  readonly catalog = new FeatureCatalog();
  private readonly numPartitions: number;
  private readonly lockWaitMs: number;

  constructor(options: FeatureStoreOptions = {}) {
    const rules = optionRules('FeatureStore');
    rules.knownKeys(rules.object(options), ['registry', 'online', 'numPartitions', 'lockWaitMs']);
    this.registry = options.registry === undefined || typeof options.registry === 'string' ? new FileFeatureRegistry(options.registry) : options.registry;
    const o = options.online;
    this.online = o === undefined ? new InProcessOnlineStore() : 'redis' in o ? new RedisOnlineStore(o.redis) : o;
    this.numPartitions = rules.int('numPartitions', options.numPartitions, 8);
    this.lockWaitMs = rules.int('lockWaitMs', options.lockWaitMs, 60_000, { min: 0 });
  }

  /**
   * A store serving what `registry` holds (for processes that did not define the views, like the
   * CLI): views over PostgreSQL or Parquet; the others fail with FeatureSourceError saying why.
   */
  static async fromRegistry(options: FeatureStoreOptions = {}): Promise<FeatureStore> {
    const store = new FeatureStore(options);
    const { definitions, unavailable } = definitionsFromSnapshot(await store.registry.snapshot());
    store.catalog.add(definitions);
    for (const [name, why] of unavailable) store.catalog.unavailable.set(name, why);
    return store;
  }

  /**
   * A store for a serving process: every feature view of `snapshot` (a registry's, or the one the
   * defining process hands over) is served by `getOnlineFeatures` from `options.online`, including
   * views over in-memory Datasets, whose values the defining process materialized; their training
   * sets and materialization fail here with FeatureSourceError. On-demand views are not served (their
   * pipelines are held in memory). Nothing is written to a registry.
   */
  static forServing(snapshot: RegistrySnapshot, options: Omit<FeatureStoreOptions, 'registry'> = {}): FeatureStore {
    const store = new FeatureStore({ ...options, registry: new SnapshotRegistry(snapshot) });
    const { definitions, unavailable } = definitionsFromSnapshot(snapshot, { onlineOnly: true });
    store.catalog.add(definitions);
    for (const [name, why] of unavailable) store.catalog.unavailable.set(name, why);
    return store;
  }

  /** Records the definitions in the registry (a changed one gets a new version) and serves them. */
  async apply(definitions: readonly Definition[]): Promise<AppliedDefinition[]> {
    const all = definitions.flatMap((d): Definition[] => (d.kind === 'featureView' ? [...d.entities, d] : [d]));
    const unique = [...new Map(all.map((d) => [`${d.kind}:${d.name}`, d])).values()];
    const applied = await this.registry.apply(unique.map(specOf));
    this.catalog.add(unique);
    return applied;
  }

  /** A point-in-time-correct training set (see historical.ts). */
  getHistoricalFeatures(entityRows: Dataset | readonly Record<string, unknown>[], features: readonly string[], options: HistoricalOptions = {}): Promise<Dataset> {
    return historicalFeatures(this.catalog, entityRows, features, { numPartitions: this.numPartitions, ...options });
  }

  private viewsOf(options: MaterializeOptions): string[] {
    return options.views === undefined ? [...this.catalog.views.keys()] : options.views.map((v) => this.catalog.view(v).name);
  }

  /** Writes the latest value per entity with event time in [start, end) of each view to the online store. */
  async materialize(start: Date | number, end: Date | number, options: MaterializeOptions = {}): Promise<MaterializeResult[]> {
    const startMs = toMs(start, 'start');
    const endMs = toMs(end, 'end');
    if (endMs <= startMs) throw invalidOption('end', `must be after start (${new Date(startMs).toISOString()}); got ${new Date(endMs).toISOString()}`, { stage: 'FeatureStore' });
    const out: MaterializeResult[] = [];
    for (const v of this.viewsOf(options)) out.push(await materializeView(this.online, this.catalog.view(v), { startMs, endMs, nowMs: Date.now(), numPartitions: this.numPartitions, lockWaitMs: this.lockWaitMs }));
    return out;
  }

  /** Each view from its high-water mark minus its allowed lateness (or the beginning) to `end`. */
  async materializeIncremental(end: Date | number = Date.now(), options: MaterializeOptions = {}): Promise<MaterializeResult[]> {
    const endMs = toMs(end, 'end');
    const out: MaterializeResult[] = [];
    for (const name of this.viewsOf(options)) {
      const view = this.catalog.view(name);
      const hwm = await this.online.highWaterMark(name);
      const startMs = hwm === null ? -8.64e15 : hwm - view.allowedLatenessMs;
      out.push(await materializeView(this.online, view, { startMs, endMs, nowMs: Date.now(), numPartitions: this.numPartitions, lockWaitMs: this.lockWaitMs }));
    }
    return out;
  }

  /** Writes fresh rows (join keys, event time, features) of `view` to the online store (the latest per entity). */
  async push(viewName: string, rows: readonly Record<string, unknown>[]): Promise<number> {
    const view = this.catalog.view(viewName);
    const info = viewInfo(view);
    const latest = new Map<string, { eventTs: number; values: unknown[] }>();
    rows.forEach((r, i) => {
      const key = entityKey(view, r, `push("${viewName}") row ${i}`);
      const t = r[view.timestampField];
      const eventTs = t instanceof Date ? t.getTime() : typeof t === 'number' ? t : typeof t === 'string' ? Date.parse(t) : NaN;
      if (!Number.isFinite(eventTs)) throw invalidOption(`rows[${i}].${view.timestampField}`, `must be the event time (Date, epoch ms or ISO string); got ${String(t)}`, { stage: `push("${viewName}")` });
      const prev = latest.get(key);
      if (prev === undefined || prev.eventTs <= eventTs) latest.set(key, { eventTs, values: info.features.map((f) => r[f] ?? null) });
    });
    await this.online.write(info, [...latest].map(([key, v]) => ({ key, ...v })), Date.now());
    return latest.size;
  }

  /**
   * Features of each entity row for serving: stored features in one round trip for the whole batch,
   * then on-demand features through their pipelines' `transformBatch`. Rows keep their input order
   * and carry their own fields; a missing or expired entity gives nulls.
   */
  async getOnlineFeatures(entityRows: readonly Record<string, unknown>[], features: readonly string[], options: OnlineOptions = {}): Promise<FeatureRow[]> {
    if (!Array.isArray(entityRows)) throw invalidOption('entityRows', 'must be an array of rows holding the join keys', { stage: 'getOnlineFeatures' });
    const resolved = this.catalog.resolve(features);
    const plan = onlinePlan(resolved);
    const n = entityRows.length;
    const requests = plan.views.map(({ view, info, features: fs }) => {
      const keys = new Array<string>(n);
      for (let i = 0; i < n; i++) keys[i] = entityKey(view, entityRows[i]!, `getOnlineFeatures entity row ${i}`);
      return { view: info, features: fs, keys };
    });
    let values: (unknown[] | null)[][];
    try {
      values = await this.online.read(requests, options.nowMs ?? Date.now());
    } catch (err) {
      if (!(err instanceof OnlineStoreUnavailableError) || options.fallback !== 'nulls') throw err;
      options.onUnavailable?.(err);
      values = requests.map((q) => q.keys.map(() => null));
    }
    // Each row is a fresh object filled key by key: `{ ...entityRow }` followed by added properties
    // gives every row a map V8 cannot share, which cost more than the whole Redis round trip (issue 16).
    let rows = new Array<FeatureRow>(n);
    for (let i = 0; i < n; i++) {
      const r = entityRows[i]!;
      const row: FeatureRow = {};
      for (const k of Object.keys(r)) row[k] = r[k];
      for (let v = 0; v < plan.views.length; v++) {
        const got = values[v]![i];
        const { write, at } = plan.views[v]!;
        for (let j = 0; j < write.length; j++) row[write[j]!] = got == null ? null : (got[at[j]!] ?? null);
      }
      rows[i] = row;
    }
    if (resolved.onDemand.length === 0) return rows;
    for (const { view } of resolved.onDemand) rows = view.pipeline.transformBatch(rows);
    const keep = new Set([...Object.keys(entityRows[0] ?? {}), ...resolved.outputs]);
    return rows.map((r) => Object.fromEntries(Object.entries(r).filter(([k]) => keep.has(k))));
  }

  /** Compares historical values at t with what the online store serves at t for a sample of the view's entities. */
  checkSkew(view: string, options: SkewOptions = {}): Promise<SkewReport> {
    return checkSkew(this, view, options);
  }

  /** Each view's high-water mark (ms; null before its first materialization). */
  async highWaterMarks(): Promise<Record<string, number | null>> {
    const out: Record<string, number | null> = {};
    for (const v of this.catalog.views.keys()) out[v] = await this.online.highWaterMark(v);
    return out;
  }

  async close(): Promise<void> {
    await this.online.close();
  }
}
