/**
 * shoal train layer: distributed training on the core runtime. So far: block ALS with Spark MLlib
 * parity (explicit and implicit feedback, NNLS, cold start, top-k recommendations, save/load).
 *
 * @example
 * ```ts
 * import { init, shutdown, ALS } from 'shoal';
 * await init();
 * const model = await new ALS({ rank: 10, implicitPrefs: true }).fit([{ user: 1, item: 7, rating: 3 }, ...]);
 * console.log((await model.recommendForAllUsers(5)).toArray());
 * await shutdown();
 * ```
 */
export {
  TrainError, InvalidTrainOptionError, InvalidTrainingDataError, InvalidIdError, NumericalError, ModelFormatError, ModelVersionError,
} from './errors.js';
export { ALS } from './als/als.js';
export type { ALSFitStats } from './als/als.js';
export { ALSModel } from './als/als-model.js';
export type { ALSModelParams, FactorMatrix } from './als/als-model.js';
export { compileALSOptions } from './als/als-options.js';
export type { ALSOptions, CompiledALSOptions, ColdStartStrategy, FactorExchange, ALSSolver } from './als/als-options.js';
export type { RatingsInput, ArrowConvertible } from './als/als-data.js';
export { referenceALS } from './als/reference-als.js';
export type { ReferenceALSResult } from './als/reference-als.js';
export { ALS_MODEL_FORMAT, ALS_MODEL_VERSION } from './als/als-model-io.js';
