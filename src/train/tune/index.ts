/** Hyperparameter search (`tune`): search spaces, schedulers, the driver loop. */
export { tune } from './tune.js';
export type { Trainable, StepTrainable, TrialMetrics, TrialResult, TuneResult } from './tune.js';
export { compileTuneOptions } from './tune-options.js';
export type { TuneOptions, CompiledTuneOptions } from './tune-options.js';
export { grid, choice, uniform, loguniform, randint, generateConfigs, isDomain, seededRandom } from './search-space.js';
export type { Domain, GridDomain, ChoiceDomain, UniformDomain, LogUniformDomain, RandIntDomain, SearchSpace, TrialConfig } from './search-space.js';
export { AshaScheduler, FifoScheduler } from './trial-scheduler-policy.js';
export type { TrialScheduler, TrialDecision, AshaParams } from './trial-scheduler-policy.js';
