/**
 * Materialization: the latest row per entity with an event time in [start, end) goes to the online
 * store. The source is hash-repartitioned by join key and each partition keeps its latest rows
 * (latest-kernel.ts); with Redis, every partition then writes its rows itself, pipelined, on the
 * worker that holds it (partitions in parallel); the in-process store is written from this process.
 * The whole run holds the view's lock, so two materializations of one view never interleave, and
 * ends by moving the view's high-water mark to `end`.
 *
 * Late rows: `materializeIncremental` reads from (high-water mark − allowedLatenessMs), so a row that
 * arrives after its view was materialized past its event time is picked up by the next incremental run
 * only if its event time is at or after that point; an older one needs a full `materialize(start, end)`.
 */
import type * as arrow from 'apache-arrow';
import { remote } from '../../core/index.js';
import type { Dataset } from '../../data/index.js';
import { plain, readMillis, vectorOf } from '../columns.js';
import { mapWithPayload } from '../distributed.js';
import type { FeatureView } from './definitions.js';
import { OnlineStoreUnavailableError } from './errors.js';
import { keyStrings } from './key-strings.js';
import type { OnlineRecord, OnlineStore, OnlineViewInfo, PartitionWriterSpec } from './online-store.js';
import { viewDataset } from './view-source.js';

export interface MaterializeResult {
  readonly view: string;
  /** Entities written. */
  readonly rows: number;
  readonly startMs: number;
  readonly endMs: number;
  readonly ms: number;
}

const infos = new WeakMap<FeatureView, OnlineViewInfo>();

/** What the online store needs of `view` (one object per view: stores may key their own caches on it). */
export function viewInfo(view: FeatureView): OnlineViewInfo {
  let info = infos.get(view);
  if (info === undefined) infos.set(view, (info = { name: view.name, features: view.features.map((f) => f.name), ttlMs: view.ttlMs }));
  return info;
}

/** The online records of a table of latest rows (join keys, event time, features). */
export function recordsOf(table: arrow.Table, view: { readonly joinKeys: readonly string[]; readonly timestampField: string; readonly features: readonly string[] }): OnlineRecord[] {
  const keys = view.joinKeys.map((k) => keyStrings(vectorOf(table, k)));
  const ts = readMillis(vectorOf(table, view.timestampField));
  const cols = view.features.map((f) => vectorOf(table, f));
  const out: OnlineRecord[] = new Array<OnlineRecord>(table.numRows);
  for (let i = 0; i < table.numRows; i++) {
    const key = keys.length === 1 ? keys[0]![i]! : JSON.stringify(keys.map((c) => c[i]));
    out[i] = { key, eventTs: ts[i]!, values: cols.map((c) => plain(c.get(i)) ?? null) };
  }
  return out;
}

interface WriteTaskArgs {
  readonly writer: PartitionWriterSpec;
  readonly view: OnlineViewInfo;
  readonly joinKeys: readonly string[];
  readonly timestampField: string;
  readonly nowMs: number;
}

/** Built-in task: writes one partition's latest rows to Redis; returns a one-row table of the count. */
export const writePartitionTask = remote(async function shoalFeatureStoreWritePartition(table: arrow.Table, args: WriteTaskArgs): Promise<arrow.Table> {
  const [{ connect, writeChunked }, arrowLib] = await Promise.all([import('./redis-client.js'), import('apache-arrow')]);
  const records = recordsOf(table, { joinKeys: args.joinKeys, timestampField: args.timestampField, features: args.view.features });
  const client = connect(args.writer.connection);
  try {
    await client.connect();
    const n = await writeChunked(client, args.writer.prefix, args.view, records, args.nowMs);
    return arrowLib.tableFromArrays({ written: Float64Array.of(n) });
  } catch (err) {
    const c = args.writer.connection;
    throw new OnlineStoreUnavailableError(`redis ${c.host}:${c.port}/${c.db} (prefix ${args.writer.prefix})`, `materialize "${args.view.name}": write a partition`, err);
  } finally {
    client.disconnect();
  }
});

export interface MaterializeRun {
  readonly startMs: number;
  readonly endMs: number;
  readonly nowMs: number;
  readonly numPartitions: number;
  readonly lockWaitMs: number;
}

/** Materializes one view under its lock; moves its high-water mark to `endMs` (never backwards). */
export async function materializeView(store: OnlineStore, view: FeatureView, run: MaterializeRun): Promise<MaterializeResult> {
  return store.withLock(view.name, run.lockWaitMs, async () => {
    const t0 = performance.now();
    const src: Dataset = await viewDataset(view);
    const latest = mapWithPayload(src.repartition(run.numPartitions, ...view.joinKeys), { kind: 'latest', spec: { keys: view.joinKeys, timestamp: view.timestampField, created: view.createdTimestampField, startMs: run.startMs, endMs: run.endMs } });
    const info = viewInfo(view);
    const writer = store.partitionWriter();
    let rows = 0;
    if (writer !== null) {
      const counts = await latest.mapBatches(writePartitionTask, { args: [{ writer, view: info, joinKeys: view.joinKeys, timestampField: view.timestampField, nowMs: run.nowMs } satisfies WriteTaskArgs] }).toArrow();
      for (const v of counts.getChild('written') ?? []) rows += Number(v);
    } else {
      for await (const batch of latest.iterBatches()) {
        const records = recordsOf(batch, { joinKeys: view.joinKeys, timestampField: view.timestampField, features: info.features });
        await store.write(info, records, run.nowMs);
        rows += records.length;
      }
    }
    const hwm = await store.highWaterMark(view.name);
    if (hwm === null || run.endMs > hwm) await store.setHighWaterMark(view.name, run.endMs);
    return { view: view.name, rows, startMs: run.startMs, endMs: run.endMs, ms: performance.now() - t0 };
  });
}
