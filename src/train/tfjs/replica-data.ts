/**
 * A model replica as plain data: what it is built from (`ReplicaSpec`) and the state data-parallel
 * training keeps equal across replicas (`ReplicaState`). Kept apart from the replica itself
 * (tfjs-replica.ts), whose declarations name TensorFlow.js types: these travel to workers and into
 * checkpoints and saved models, and the public declarations that mention them must not pull in
 * TensorFlow.js's typings (an optional peer dependency).
 */
import type { LossName, ModelJSON, OptimizerConfig } from './trainer-options.js';

export interface ReplicaSpec {
  modelJSON: ModelJSON;
  loss: LossName;
  optimizer: Required<OptimizerConfig>;
  /** Rows per step on this replica. */
  localBatch: number;
  shuffle: boolean;
  seed: number;
  /** Replica index, mixed into the shuffling seed. */
  rank: number;
}

export interface TensorData {
  name: string;
  shape: number[];
  data: Float32Array;
}

/** Everything needed to resume: model weights and optimizer weights (with `iter`). */
export interface ReplicaState {
  weights: TensorData[];
  optimizer: TensorData[];
}
