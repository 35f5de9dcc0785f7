/** Parameters of the per-partition kernels the features layer runs through `mapWithPayload` (a mapBatches argument). */
import type { SavedStage } from './featurizer.js';

export interface TrailingWindowSpec {
  readonly key: readonly string[];
  readonly timestamp: string;
  readonly windowsMs: readonly { readonly name: string; readonly ms: number }[];
  readonly aggs: readonly { readonly column: string; readonly op: 'mean' | 'sum' | 'count' | 'mode'; readonly as: string }[];
}

export interface AsOfSpec {
  readonly on: readonly string[];
  readonly entityTimestamp: string;
  readonly featureTimestamp: string;
  readonly ttlMs: number | null;
  /** Feature-side column breaking ties of equal feature times (larger wins); null: partition order. */
  readonly createdTimestamp?: string | null;
  readonly sideColumn: string;
  readonly entityColumns: readonly string[];
  readonly featureColumns: readonly string[];
}

/** Latest row per key with an event time in [startMs, endMs) (materialization); ties go to the later row. */
export interface LatestSpec {
  readonly keys: readonly string[];
  readonly timestamp: string;
  /** Breaks ties of equal times (larger wins); null: partition order. */
  readonly created?: string | null;
  readonly startMs: number;
  readonly endMs: number;
}

export type KernelPayload =
  | { readonly kind: 'stages'; readonly stages: readonly SavedStage[] }
  | { readonly kind: 'quantileSketch'; readonly columns: readonly string[]; readonly k: number }
  | { readonly kind: 'docFreq'; readonly column: string }
  | { readonly kind: 'itemSets'; readonly column: string }
  | { readonly kind: 'trailing'; readonly spec: TrailingWindowSpec }
  | { readonly kind: 'asof'; readonly spec: AsOfSpec }
  | { readonly kind: 'latest'; readonly spec: LatestSpec };
