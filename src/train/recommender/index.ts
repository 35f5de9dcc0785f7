/** The neural recommender: a two-tower TensorFlow.js model over item features, trained with the data-parallel `Trainer`. */
export { NeuralRecommender } from './neural-recommender.js';
export type { NeuralRecommenderFitStats } from './neural-recommender.js';
export { NeuralRecommenderModel } from './neural-recommender-model.js';
export type { NeuralRecommenderParams, TowerWeights } from './neural-recommender-model.js';
export { compileNeuralRecommenderOptions } from './recommender-options.js';
export type { NeuralRecommenderOptions, CompiledNeuralRecommenderOptions } from './recommender-options.js';
export { buildTwoTowerModel, USER_VECTOR_LAYER, ITEM_VECTOR_LAYER, ITEM_BIAS_LAYER } from './two-tower.js';
export type { TwoTowerBuilder, TwoTowerSpec } from './two-tower.js';
export { NEURAL_RECOMMENDER_FORMAT, NEURAL_RECOMMENDER_VERSION } from './recommender-model-io.js';
