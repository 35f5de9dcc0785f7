/**
 * Point-in-time (as-of) join with Feast's historical-retrieval semantics: each entity row gets the
 * feature values of the latest feature row with the same key whose timestamp is at or before the
 * entity's timestamp and, with `ttl`, not older than `ttl` (entity_ts − ttl ≤ feature_ts ≤ entity_ts).
 * Entity rows without such a row keep nulls (a left join). Ties among feature rows at the same
 * timestamp resolve to the one with the larger `createdTimestamp` when given, then to the one later
 * in partition order.
 *
 * Distributed as a sort-merge: both sides are aligned into one schema (null-filled), unioned, hash
 * repartitioned by key, and each partition merges its entity and feature rows. Output row order is
 * by partition. Feature value columns must be scalar (not lists) and not collide with entity columns.
 */
import type * as arrow from 'apache-arrow';
import { col, lit, logicalTypeOf, takeTable, type Dataset, type Expr } from '../data/index.js';
import { readMillis, readStrings, setColumns, vectorOf } from './columns.js';
import { mapWithPayload } from './distributed.js';
import { invalidOption } from './errors.js';
import { checkColumns } from './fit-stats.js';
import type { AsOfSpec } from './kernel-payload.js';
import { columnList } from './options.js';

export interface AsOfJoinOptions {
  /** Join key column(s), present on both sides. */
  readonly on: string | readonly string[];
  /** Timestamp column: one name for both sides, or `{ entity, feature }`. */
  readonly timestamp: string | { readonly entity: string; readonly feature: string };
  /** Feature-side column that breaks ties of equal feature timestamps (the larger wins; not output). @default none */
  readonly createdTimestamp?: string;
  /** Maximum feature age in milliseconds (inclusive). @default no limit */
  readonly ttlMs?: number;
  /** Partitions of the shuffle by key. @default 8 */
  readonly numPartitions?: number;
}

const SIDE = '__shoal_asof_side';
const FEATURE_TS = '__shoal_asof_feature_ts';
const CREATED_TS = '__shoal_asof_created_ts';

/** For each entity row, the latest feature values at or before its timestamp and within `ttlMs`. */
export async function asOfJoin(entities: Dataset, features: Dataset, options: AsOfJoinOptions): Promise<Dataset> {
  const stage = 'asOfJoin';
  const on = columnList(stage, 'on', options.on);
  const ets = typeof options.timestamp === 'string' ? options.timestamp : options.timestamp.entity;
  const fts = typeof options.timestamp === 'string' ? options.timestamp : options.timestamp.feature;
  const ttl = options.ttlMs ?? null;
  if (ttl !== null && !(ttl >= 0)) throw invalidOption('options.ttlMs', `must be a non-negative number of milliseconds; got ${ttl}`, { stage });
  const es = await checkColumns(entities, [...on, ets], stage, ['numeric', 'string', 'bool', 'date', 'timestamp']);
  const cts = options.createdTimestamp ?? null;
  const fs = await checkColumns(features, [...on, fts, ...(cts !== null ? [cts] : [])], stage, ['numeric', 'string', 'bool', 'date', 'timestamp']);
  const entityCols = es.fields.map((f) => f.name);
  const featureCols = fs.fields.map((f) => f.name).filter((c) => !on.includes(c) && c !== fts && c !== cts);
  for (const c of featureCols) if (entityCols.includes(c)) throw invalidOption('features', `column "${c}" also exists on the entity side (rename one)`, { stage, column: c });
  const typeOf = (schema: arrow.Schema, c: string): string => {
    const t = logicalTypeOf(schema.fields.find((f) => f.name === c)!.type, c);
    if (typeof t === 'object') throw invalidOption('features', `column "${c}" is a list; as-of join carries scalar columns only`, { stage, column: c });
    return t;
  };
  const nullOf = (schema: arrow.Schema, c: string): Expr => lit(null).cast(typeOf(schema, c) as 'float64').alias(c);
  const entityOnly = entityCols.filter((c) => !on.includes(c));
  const createdLeft = cts !== null ? [lit(null).cast(typeOf(fs, cts) as 'float64').alias(CREATED_TS)] : [];
  const createdRight = cts !== null ? [col(cts).alias(CREATED_TS)] : [];
  const left = entities.select(...on, ...entityOnly, ...featureCols.map((c) => nullOf(fs, c)), lit(null).cast(typeOf(fs, fts) as 'float64').alias(FEATURE_TS), ...createdLeft, lit(true).alias(SIDE));
  const right = features.select(...on, ...entityOnly.map((c) => nullOf(es, c)), ...featureCols, col(fts).alias(FEATURE_TS), ...createdRight, lit(false).alias(SIDE));
  const spec: AsOfSpec = {
    on, entityTimestamp: ets, featureTimestamp: FEATURE_TS, createdTimestamp: cts !== null ? CREATED_TS : null, ttlMs: ttl, sideColumn: SIDE, entityColumns: entityCols, featureColumns: featureCols,
  };
  return mapWithPayload(left.union(right).repartition(options.numPartitions ?? 8, ...on), { kind: 'asof', spec });
}

/** The per-partition merge. */
export function asOfKernel(table: arrow.Table, spec: AsOfSpec): arrow.Table {
  const n = table.numRows;
  const side = vectorOf(table, spec.sideColumn);
  const keys = spec.on.map((k) => readStrings(vectorOf(table, k)));
  const keyOf = (i: number): string => JSON.stringify(keys.map((c) => c[i]));
  const ets = readMillis(vectorOf(table, spec.entityTimestamp));
  const fts = readMillis(vectorOf(table, spec.featureTimestamp));
  const entityRows: number[] = [];
  const byKey = new Map<string, number[]>();
  for (let i = 0; i < n; i++) {
    if (side.get(i) === true) entityRows.push(i);
    else if (!Number.isNaN(fts[i]!)) {
      const k = keyOf(i);
      let g = byKey.get(k);
      if (g === undefined) byKey.set(k, (g = []));
      g.push(i);
    }
  }
  const cts = spec.createdTimestamp ? readMillis(vectorOf(table, spec.createdTimestamp)) : null;
  const created = (i: number): number => (cts === null || Number.isNaN(cts[i]!) ? -Infinity : cts[i]!);
  for (const g of byKey.values()) g.sort((a, b) => fts[a]! - fts[b]! || (cts === null ? 0 : Math.sign(created(a) - created(b)) || 0) || a - b);
  const match = new Int32Array(entityRows.length).fill(-1);
  entityRows.forEach((i, r) => {
    const g = byKey.get(keyOf(i));
    const t = ets[i]!;
    if (g === undefined || Number.isNaN(t)) return;
    let lo = 0;
    let hi = g.length; // first index with fts > t
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (fts[g[mid]!]! <= t) lo = mid + 1;
      else hi = mid;
    }
    if (lo === 0) return;
    const j = g[lo - 1]!;
    if (spec.ttlMs !== null && t - fts[j]! > spec.ttlMs) return;
    match[r] = j;
  });
  const entities = takeTable(table.select([...spec.entityColumns]), Int32Array.from(entityRows));
  const feats = takeTable(table.select([...spec.featureColumns]), match, true);
  return setColumns(entities, spec.featureColumns.map((c) => [c, feats.getChild(c)!] as const));
}
