/**
 * Training/serving skew check: for a sample of a view's entities, the values a training set built at
 * time t holds (`getHistoricalFeatures` at t) against what the online store serves at t. They must be
 * identical; a difference means the online store is stale (rows newer than its high-water mark) or
 * was written by something else than this view's materialization.
 */
import { vectorOf } from '../columns.js';
import { tableToRows } from '../featurizer.js';
import { entityKey } from './catalog.js';
import type { FeatureStore } from './feature-store.js';
import { keyStrings } from './key-strings.js';
import { viewDataset } from './view-source.js';

export interface SkewOptions {
  /** Entities compared (distinct join keys of the source, the first found). @default 1000 */
  readonly sample?: number;
  /** The time t (ms). @default now */
  readonly atMs?: number;
}

export interface SkewMismatch {
  readonly entity: Readonly<Record<string, unknown>>;
  readonly feature: string;
  readonly historical: unknown;
  readonly online: unknown;
}

export interface SkewReport {
  readonly view: string;
  readonly atMs: number;
  /** The view's high-water mark when checked (null before any materialization). */
  readonly highWaterMarkMs: number | null;
  readonly entities: number;
  readonly features: readonly string[];
  readonly mismatches: readonly SkewMismatch[];
  readonly identical: boolean;
}

const TS = '__shoal_skew_ts';

export async function checkSkew(store: FeatureStore, viewName: string, options: SkewOptions = {}): Promise<SkewReport> {
  const view = store.catalog.view(viewName);
  const sample = options.sample ?? 1000;
  const atMs = options.atMs ?? Date.now();
  const src = await viewDataset(view);
  // Keys read exactly (int64 ids past 2^53 as bigints): plain numbers would merge or miss entities.
  const keyTable = await src.select(...view.joinKeys).distinct().limit(sample).toArrow();
  const keyTypes = new Map(view.entities.flatMap((e) => e.joinKeys.map((k) => [k, e.keyType] as const)));
  const keyCols = view.joinKeys.map((k) => ({ k, int: keyTypes.get(k) === 'int64', values: keyStrings(vectorOf(keyTable, k)) }));
  const keyRows: Record<string, unknown>[] = [];
  for (let i = 0; i < keyTable.numRows; i++) {
    if (keyCols.some((c) => c.values[i] === null)) continue;
    keyRows.push(Object.fromEntries(keyCols.map((c) => [c.k, c.int ? BigInt(c.values[i]!) : c.values[i]])));
  }
  const refs = view.features.map((f) => `${view.name}:${f.name}`);
  const highWaterMarkMs = await store.online.highWaterMark(view.name);
  if (keyRows.length === 0) return { view: view.name, atMs, highWaterMarkMs, entities: 0, features: refs, mismatches: [], identical: true };
  const online = await store.getOnlineFeatures(keyRows, refs, { nowMs: atMs });
  const histTable = await (await store.getHistoricalFeatures(keyRows.map((r) => ({ ...r, [TS]: atMs })), refs, { timestampField: TS })).toArrow();
  const historical = tableToRows(histTable);
  const histKeys = view.joinKeys.map((k) => keyStrings(vectorOf(histTable, k)));
  const byKey = new Map(historical.map((r, i) => [histKeys.length === 1 ? histKeys[0]![i]! : JSON.stringify(histKeys.map((c) => c[i])), r]));
  const mismatches: SkewMismatch[] = [];
  for (const o of online) {
    const h = byKey.get(entityKey(view, o, 'checkSkew'));
    for (const f of view.features) {
      const hv = h?.[f.name] ?? null;
      const ov = o[f.name] ?? null;
      if (!Object.is(hv, ov)) mismatches.push({ entity: Object.fromEntries(view.joinKeys.map((k) => [k, o[k]])), feature: f.name, historical: hv, online: ov });
    }
  }
  return { view: view.name, atMs, highWaterMarkMs, entities: keyRows.length, features: refs, mismatches, identical: mismatches.length === 0 };
}
