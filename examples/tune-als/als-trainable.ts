/**
 * The trainable of the tune-als example: one trial = fit ALS with the trial's rank, maxIter and
 * regParam on the training ratings, score RMSE on the validation ratings. It runs as a task; the
 * ratings arrive as refs inside the config (put once by the driver, read here with `get`), and ALS
 * itself fans out block-solve tasks from inside this task.
 */
import { get, remote, type ObjectRef } from 'shoal';
import { ALS } from 'shoal/train';
import type { Table } from 'apache-arrow';

export interface AlsTrialConfig {
  rank: number;
  maxIter: number;
  regParam: number;
  train: ObjectRef<Table>;
  validation: ObjectRef<Table>;
}

export const alsTrial = remote(async function alsTrial(config: AlsTrialConfig) {
  const [train, validation] = await Promise.all([get(config.train), get(config.validation)]);
  const started = performance.now();
  const model = await new ALS({ rank: config.rank, maxIter: config.maxIter, regParam: config.regParam, numUserBlocks: 2, numItemBlocks: 2, seed: 1 }).fit(train);
  const scored = await model.transform(validation, { coldStartStrategy: 'drop' });
  const rating = scored.getChild('rating')!;
  const prediction = scored.getChild('prediction')!;
  let se = 0;
  for (let i = 0; i < scored.numRows; i++) se += (Number(rating.get(i)) - Number(prediction.get(i))) ** 2;
  return { rmse: Math.sqrt(se / scored.numRows), fitMs: performance.now() - started, scored: scored.numRows };
});
