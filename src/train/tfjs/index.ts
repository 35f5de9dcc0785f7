/** Data-parallel TensorFlow.js training (`Trainer`), its options, and the pieces it is built from. */
export { Trainer, trainLocal } from './trainer.js';
export type { TrainerResult } from './trainer.js';
export { compileTrainerOptions, LOSSES } from './trainer-options.js';
export type {
  TrainerOptions, CompiledTrainerOptions, AllreduceAlgorithm, AllreduceTransport, ModelBuilder, ModelJSON, LossName, OptimizerConfig, TrainingData, EpochEvent,
} from './trainer-options.js';
export type { ReplicaState, TensorData } from './replica-data.js';
export { ringAllreduceMean, butterflyAllreduceMean, chunkBounds, Mailbox } from './ring-allreduce.js';
export type { RingTransport } from './ring-allreduce.js';
