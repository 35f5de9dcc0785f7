/**
 * Point-in-time-correct training sets: for each entity row (join keys + an event time), the values of
 * each requested feature from the latest source row of that entity at or before the row's time and
 * not older than the view's TTL (else null) — the existing distributed `asOfJoin`, one per view.
 * On-demand features are then computed by their fitted pipelines on the cluster (`transform`), the
 * same kernels `getOnlineFeatures` runs in-process (`transformBatch`).
 */
import { col, fromRows, logicalTypeOf, type Dataset } from '../../data/index.js';
import { asOfJoin } from '../as-of-join.js';
import { invalidOption } from '../errors.js';
import type { FeatureCatalog } from './catalog.js';
import { EntityKeyTypeError } from './errors.js';
import { viewDataset } from './view-source.js';

export interface HistoricalOptions {
  /** The event-time column of the entity rows. @default 'event_timestamp' */
  readonly timestampField?: string;
  /** Partitions of each as-of join's shuffle. @default 8 */
  readonly numPartitions?: number;
}

const NUMERIC = ['int32', 'int64', 'float64'];

export async function historicalFeatures(catalog: FeatureCatalog, entityRows: Dataset | readonly Record<string, unknown>[], refs: readonly string[], options: HistoricalOptions = {}): Promise<Dataset> {
  const resolved = catalog.resolve(refs);
  const ts = options.timestampField ?? 'event_timestamp';
  let acc = Array.isArray(entityRows) ? fromRows(entityRows as Record<string, unknown>[]) : (entityRows as Dataset);
  const schema = await acc.schema();
  const entityCols = schema.fields.map((f) => f.name);
  if (!entityCols.includes(ts)) throw invalidOption('options.timestampField', `names "${ts}", which the entity rows do not have (columns: ${entityCols.join(', ')})`, { stage: 'getHistoricalFeatures' });
  // Join keys checked and cast once, so both sides of every as-of join key on the same strings.
  const casts = new Map<string, 'int64' | 'utf8'>();
  for (const { view } of resolved.views) {
    for (const e of view.entities) {
      for (const k of e.joinKeys) {
        const f = schema.fields.find((x) => x.name === k);
        const t = f === undefined ? 'missing' : logicalTypeOf(f.type, k);
        const ok = e.keyType === 'int64' ? NUMERIC.includes(t as string) : t === 'utf8';
        if (!ok) throw new EntityKeyTypeError(k, e.keyType, f === undefined ? 'no such column on the entity rows' : `a ${typeof t === 'object' ? 'list' : t} column`, 'getHistoricalFeatures');
        if (!(t === 'int64' && e.keyType === 'int64')) casts.set(k, e.keyType); // as in view-source.ts
      }
    }
  }
  acc = acc.select(...entityCols.map((c) => (casts.has(c) ? col(c).cast(casts.get(c)!).alias(c) : col(c))));
  const hidden = new Set<string>();
  for (const { view, features } of resolved.views) {
    const fds = await viewDataset(view, features);
    acc = await asOfJoin(acc, fds, {
      on: view.joinKeys, timestamp: { entity: ts, feature: view.timestampField }, ...(view.createdTimestampField !== null ? { createdTimestamp: view.createdTimestampField } : {}),
      ...(view.ttlMs !== null ? { ttlMs: view.ttlMs } : {}), numPartitions: options.numPartitions ?? 8,
    });
    for (const f of features) if (!resolved.outputs.includes(f.name)) hidden.add(f.name);
  }
  for (const { view } of resolved.onDemand) {
    acc = view.pipeline.transform(acc);
    for (const f of view.features) if (!resolved.outputs.includes(f.name)) hidden.add(f.name);
  }
  const out = await acc.schema();
  const keep = out.fields.map((f) => f.name).filter((c) => !hidden.has(c) && (entityCols.includes(c) || resolved.outputs.includes(c)));
  return acc.select(...keep);
}
