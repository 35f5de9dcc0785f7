/**
 * How featurizers run on the cluster: one built-in task, `shoalFeaturesKernel`, runs a kernel over a
 * partition. The kernel's parameters (fitted stages, sketch sizes, window specs) are a mapBatches
 * argument, so the Dataset puts them in the object store once per action and every task resolves
 * them on its worker.
 *
 * Kernel modules are imported lazily inside the task: this module stays free of side effects and of
 * import cycles with the model classes.
 */
import type * as arrow from 'apache-arrow';
import { remote } from '../core/index.js';
import type { Dataset } from '../data/index.js';
import type { SavedStage } from './featurizer.js';
import type { KernelPayload } from './kernel-payload.js';

/** Runs the payload's kernel over every partition of `dataset` (a narrow operator). */
export function mapWithPayload(dataset: Dataset, payload: KernelPayload): Dataset {
  return dataset.mapBatches(featuresKernelTask, { args: [payload] });
}

/** Applies saved model stages in order, as one per-partition task. */
export function applyStages(dataset: Dataset, stages: readonly SavedStage[]): Dataset {
  return mapWithPayload(dataset, { kind: 'stages', stages });
}

/** Built-in task: the payload's features kernel over one partition. */
export const featuresKernelTask = remote(async function shoalFeaturesKernel(table: arrow.Table, payload: KernelPayload): Promise<arrow.Table> {
  const { runKernel } = await import('./kernel-dispatch.js');
  return runKernel(payload, table);
});
