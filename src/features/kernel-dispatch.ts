/** Runs a kernel payload over one partition (imported lazily by the built-in task in distributed.ts). */
import type * as arrow from 'apache-arrow';
import './all-models.js';
import { asOfKernel } from './as-of-join.js';
import { modelFromJSON } from './featurizer.js';
import { itemSetsPartition } from './multi-hot.js';
import type { KernelPayload } from './kernel-payload.js';
import { latestKernel } from './feature-store/latest-kernel.js';
import { sketchPartition } from './quantile-sketch.js';
import { docFreqPartition } from './text.js';
import { trailingWindowKernel } from './trailing-windows.js';

const modelCache = new WeakMap<object, ReturnType<typeof modelFromJSON>[]>();

export function runKernel(payload: KernelPayload, table: arrow.Table): arrow.Table {
  switch (payload.kind) {
    case 'stages': {
      let models = modelCache.get(payload);
      if (models === undefined) modelCache.set(payload, (models = payload.stages.map((s, i) => modelFromJSON(s, `${i}:${s.className}`))));
      return models.reduce((t, m) => m.transformTable(t), table);
    }
    case 'quantileSketch':
      return sketchPartition(table, payload.columns, payload.k);
    case 'docFreq':
      return docFreqPartition(table, payload.column);
    case 'itemSets':
      return itemSetsPartition(table, payload.column);
    case 'trailing':
      return trailingWindowKernel(table, payload.spec);
    case 'asof':
      return asOfKernel(table, payload.spec);
    case 'latest':
      return latestKernel(table, payload.spec);
  }
}
