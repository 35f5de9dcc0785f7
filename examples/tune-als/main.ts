/**
 * The rental tutorial's model selection: grid search over ALS rank × maxIter × regParam by
 * validation RMSE, each trial a task on the cluster (`tune`), on synthetic ratings drawn from a
 * known rank-6 model plus noise (σ = 0.3, so the best RMSE approaches 0.3).
 *
 *   npm run build && node dist/examples/tune-als/main.js
 */
import { tableFromArrays, type Table } from 'apache-arrow';
import { init, isMain, put, shutdown } from 'shoal';
import { grid, tune } from 'shoal/train';
import { alsTrial, type AlsTrialConfig } from './als-trainable.js';

/** Ratings of a rank-`rank` model plus Gaussian noise; `density` of the user × item pairs are rated. */
export function syntheticRatings(numUsers: number, numItems: number, rank: number, density: number, noise: number, seed: number): { train: Table; validation: Table } {
  let s = seed >>> 0 || 1;
  const next = (): number => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
  const gauss = (): number => Math.sqrt(-2 * Math.log(next() || 1e-12)) * Math.cos(2 * Math.PI * next());
  const U = Float64Array.from({ length: numUsers * rank }, () => gauss() / Math.sqrt(rank) * 1.5);
  const V = Float64Array.from({ length: numItems * rank }, () => gauss() / Math.sqrt(rank) * 1.5);
  const rows = { train: { user: [] as number[], item: [] as number[], rating: [] as number[] }, validation: { user: [] as number[], item: [] as number[], rating: [] as number[] } };
  for (let u = 0; u < numUsers; u++) {
    for (let i = 0; i < numItems; i++) {
      if (next() >= density) continue;
      let r = 0;
      for (let f = 0; f < rank; f++) r += U[u * rank + f]! * V[i * rank + f]!;
      const split = next() < 0.8 ? rows.train : rows.validation;
      split.user.push(u);
      split.item.push(i);
      split.rating.push(r + noise * gauss());
    }
  }
  const toTable = (c: typeof rows.train): Table => tableFromArrays({ user: Int32Array.from(c.user), item: Int32Array.from(c.item), rating: Float32Array.from(c.rating) });
  return { train: toTable(rows.train), validation: toTable(rows.validation) };
}

async function main(): Promise<void> {
  await init();
  try {
    const { train, validation } = syntheticRatings(400, 300, 6, 0.12, 0.3, 7);
    console.log(`ratings: ${train.numRows} train, ${validation.numRows} validation (rank-6 truth, noise σ = 0.3)`);
    const result = await tune({ task: alsTrial }, {
      searchSpace: { rank: grid([2, 6, 12]), maxIter: grid([5, 10]), regParam: grid([0.01, 0.1, 1.0]), train: put(train), validation: put(validation) },
      metric: 'rmse', mode: 'min',
      onResult: ({ config, metrics }) => {
        const c = config as unknown as AlsTrialConfig;
        console.log(`  rank ${String(c.rank).padStart(2)}  maxIter ${String(c.maxIter).padStart(2)}  regParam ${String(c.regParam).padEnd(4)}  RMSE ${Number(metrics.rmse).toFixed(4)}`);
      },
    });
    const best = result.bestConfig as unknown as AlsTrialConfig;
    console.log(`best: rank ${best.rank}, maxIter ${best.maxIter}, regParam ${best.regParam} — validation RMSE ${Number(result.bestTrial.lastResult?.rmse).toFixed(4)}` +
      ` (${result.trials.length} trials in ${(result.wallMs / 1000).toFixed(1)} s)`);
  } finally {
    await shutdown();
  }
}

if (isMain(import.meta)) await main();
