/**
 * How featurizers run on the cluster. `Dataset.mapBatches` takes a one-argument remote function, so a
 * kernel's parameters travel through the object store: the driver `put()`s a payload and adds a
 * constant carrier column whose *name* holds the payload's object id (names survive empty
 * partitions); the built-in task `shoalFeaturesKernel` reads the id from the schema, fetches the
 * payload once per worker (cached), drops the carrier and runs the kernel. The payload ref is pinned
 * to the returned dataset's plan, so it lives as long as the dataset does.
 *
 * Kernel modules are imported lazily inside the task: this module stays free of side effects and of
 * import cycles with the model classes.
 */
import type * as arrow from 'apache-arrow';
import { get, ObjectRef, put, remote } from '../core/index.js';
import { lit, type Dataset } from '../data/index.js';
import type { SavedStage } from './featurizer.js';
import type { KernelPayload } from './kernel-payload.js';

export const CARRIER_PREFIX = '__shoal_features$';

const pinned = new WeakMap<object, ObjectRef[]>();
const cache = new Map<string, unknown>();
const CACHE_ENTRIES = 32;

/** Runs the payload's kernel over every partition of `dataset` (a narrow operator). */
export function mapWithPayload(dataset: Dataset, payload: KernelPayload): Dataset {
  const ref = put(payload);
  const out = dataset.withColumn(`${CARRIER_PREFIX}${ref.id}`, lit(true)).mapBatches(featuresKernelTask);
  pinned.set(out.plan, [...(pinned.get(dataset.plan) ?? []), ref]);
  return out;
}

/** Applies saved model stages in order, as one per-partition task. */
export function applyStages(dataset: Dataset, stages: readonly SavedStage[]): Dataset {
  return mapWithPayload(dataset, { kind: 'stages', stages });
}

/** Built-in task: the features kernel named by the carrier column's payload, over one partition. */
export const featuresKernelTask = remote(async function shoalFeaturesKernel(table: arrow.Table): Promise<arrow.Table> {
  const carrier = table.schema.fields.find((f) => f.name.startsWith(CARRIER_PREFIX));
  if (carrier === undefined) throw new Error('shoalFeaturesKernel: the partition has no features carrier column');
  const id = carrier.name.slice(CARRIER_PREFIX.length);
  let payload = cache.get(id) as KernelPayload | undefined;
  if (payload === undefined) {
    payload = await get(new ObjectRef<KernelPayload>(id));
    if (cache.size >= CACHE_ENTRIES) cache.delete(cache.keys().next().value as string);
    cache.set(id, payload);
  }
  const input = table.select(table.schema.fields.filter((f) => f !== carrier).map((f) => f.name));
  const { runKernel } = await import('./kernel-dispatch.js');
  return runKernel(payload, input);
});
