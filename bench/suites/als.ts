/**
 * ALS suite: seconds per iteration of distributed implicit ALS at rank 64 on synthetic data shaped
 * like MovieLens-20M (138,493 users, 26,744 items, ~144 ratings per user, item popularity by a
 * power law), generated on the fly; baseline: the single-process reference solver on the same data
 * in the same invocation. Anchor: Spark ALS needs 12.3 s per iteration on an 8-core desktop
 * (../shared/ANCHORS.md); target ≤ 12 s here.
 *
 * Size: `SHOAL_BENCH_ALS_SIZE` (default 2m; bench/run.ts rejects unknown flags), or `--size` when this
 * file is run directly: `node --expose-gc dist/bench/suites/als.js --size 20m`. Sizes: a number of ratings
 * (`2m`, `500k`, `20000000`); users scale with it at ML-20M's ratings per user, items stay 26,744.
 * The reference solver (exact, one thread) is measured at min(size, 2M) — at 20M it would take
 * minutes per iteration; the distributed trainer is measured at both sizes (at the large one with
 * the CG solver unless `--only cholesky-full`).
 */
import { tableFromArrays, type Table } from 'apache-arrow';
import { ALS, clusterStatus, init, isMain, referenceALS, shutdown, type ALSOptions } from 'shoal';
import type { BenchContext } from '../lib/context.js';
import { makeResult, type BenchResult } from '../lib/result.js';
import { forceGc } from '../lib/timing.js';

const ML20M = { users: 138_493, items: 26_744, ratings: 20_000_263 };
const RANK = 64;
const REFERENCE_MAX_RATINGS = 2_000_000;

export function parseSize(s: string): number {
  const m = /^(\d+(?:\.\d+)?)([kKmM]?)$/.exec(s.trim());
  if (!m) throw new Error(`--size must be a number of ratings like 2m, 500k or 20000000 (got ${s})`);
  const n = Number(m[1]) * (m[2]?.toLowerCase() === 'm' ? 1e6 : m[2]?.toLowerCase() === 'k' ? 1e3 : 1);
  if (!(n >= 1000)) throw new Error('--size must be at least 1000 ratings');
  return Math.round(n);
}

/** Synthetic implicit feedback: counts 1–5, users ~ ML-20M's activity, items by a power law. */
export function syntheticImplicit(numRatings: number, seed = 1): { table: Table; users: number; items: number } {
  const users = Math.max(10, Math.round((numRatings * ML20M.users) / ML20M.ratings));
  const items = Math.min(ML20M.items, Math.max(10, Math.round(numRatings / 20)));
  let s = seed >>> 0 || 1;
  const next = (): number => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
  const u = new Int32Array(numRatings);
  const it = new Int32Array(numRatings);
  const r = new Float32Array(numRatings);
  const perUser = numRatings / users;
  let k = 0;
  for (let user = 0; user < users && k < numRatings; user++) {
    // Activity ~ exponential around the mean; the last user takes the remainder.
    let n = user === users - 1 ? numRatings - k : Math.max(1, Math.round(-Math.log(1 - next()) * perUser));
    n = Math.min(n, numRatings - k);
    for (let j = 0; j < n; j++, k++) {
      u[k] = user;
      it[k] = Math.floor(items * next() ** 2.5); // power-law popularity
      r[k] = 1 + Math.floor(next() * 5);
    }
  }
  // Users past the point where ratings ran out get none; fill any tail.
  for (; k < numRatings; k++) {
    u[k] = Math.floor(next() * users);
    it[k] = Math.floor(items * next() ** 2.5);
    r[k] = 1;
  }
  return { table: tableFromArrays({ user: u, item: it, rating: r }), users, items };
}

async function logStoreUsage(ctx: BenchContext, when: string): Promise<void> {
  const status = await clusterStatus();
  for (const n of status.nodes) {
    const u = n.usage;
    if (u) ctx.log(`    ${when}: node ${n.hostname} rss ${(u.rssBytes / 2 ** 20).toFixed(0)} MiB, store ${(u.objectStoreBytes / 2 ** 20).toFixed(0)} MiB in ${u.objects} objects, spilled ${(u.spilledBytes / 2 ** 20).toFixed(0)} MiB`);
  }
}

async function timeDistributed(ctx: BenchContext, table: Table, iterations: number, extra: ALSOptions): Promise<number[]> {
  const times: number[] = [];
  const als = new ALS({ rank: RANK, maxIter: iterations, implicitPrefs: true, alpha: 1, regParam: 0.1, numUserBlocks: 8, numItemBlocks: 8, ...extra,
    onIteration: ({ iteration, durationMs }) => {
      times.push(durationMs / 1000);
      ctx.log(`    distributed iteration ${iteration}: ${(durationMs / 1000).toFixed(2)} s`);
    } });
  await als.fit(table);
  ctx.log(`    prepare (index, block, put): ${((als.lastFitStats?.prepareMs ?? 0) / 1000).toFixed(2)} s, exchange ${als.lastFitStats?.factorExchange}`);
  await logStoreUsage(ctx, 'after fit');
  return times;
}

async function timeReference(ctx: BenchContext, table: Table, iterations: number): Promise<number[]> {
  const times: number[] = [];
  await referenceALS(table, { rank: RANK, maxIter: iterations, implicitPrefs: true, alpha: 1, regParam: 0.1, solver: 'cholesky',
    onIteration: ({ iteration, durationMs }) => {
      times.push(durationMs / 1000);
      ctx.log(`    reference iteration ${iteration}: ${(durationMs / 1000).toFixed(2)} s`);
    } });
  return times;
}

const VARIANTS: Array<[string, ALSOptions, string]> = [
  ['cholesky', { solver: 'cholesky' }, 'exact Cholesky per row (Spark\'s solver)'],
  ['cg', { solver: 'cg', cgSteps: 3 }, '3 CG steps per row warm-started from the previous factors (benfred/implicit\'s solver; A never formed)'],
];

/**
 * Default (`npm run bench -- als`, a few minutes): at 2M ratings, the reference solver (baseline) and
 * the distributed trainer with both solvers. With `SHOAL_BENCH_ALS_SIZE=20m` (or `--size 20m`), also
 * the distributed trainer at that size — CG only (exact Cholesky at 20M takes minutes per
 * iteration; add it with `--only cholesky-full`).
 */
export async function run(ctx: BenchContext, sizeArg?: string): Promise<BenchResult[]> {
  const size = parseSize(sizeArg ?? process.env.SHOAL_BENCH_ALS_SIZE ?? '2m');
  const refSize = Math.min(size, REFERENCE_MAX_RATINGS);
  // Each "run" is one ALS iteration (an iteration at 20M takes tens of seconds).
  const iterations = Math.max(2, Math.min(ctx.runs, 3));
  const results: BenchResult[] = [];
  await init({ numCpus: 2 });
  try {
    ctx.log(`[als] generating ${refSize.toLocaleString()} ratings`);
    const small = syntheticImplicit(refSize);
    const refTimes = await timeReference(ctx, small.table, iterations);
    forceGc();
    for (const [name, extra, how] of VARIANTS) {
      if (!ctx.enabled(`${name}-small`) && !ctx.enabled(name)) continue;
      ctx.log(`[als ${name}] ${refSize.toLocaleString()} ratings, distributed`);
      const t = await timeDistributed(ctx, small.table, iterations, extra);
      results.push(makeResult({
        metric: `ALS implicit rank ${RANK}, ${name}, ${(refSize / 1e6).toFixed(1)}M ratings (${small.users} users × ${small.items} items), s/iteration`,
        unit: 's', better: 'lower', samples: t, baseline: 'reference solver (exact Cholesky, 1 thread, same data, same run)', baselineSamples: refTimes,
        notes: `local cluster init({ numCpus: 2 }), 8×8 blocks, each sample one iteration (items then users); ${how}`,
      }));
      forceGc();
    }
    if (size > refSize) {
      ctx.log(`[als] generating ${size.toLocaleString()} ratings`);
      const big = syntheticImplicit(size);
      for (const [name, extra, how] of VARIANTS) {
        if (name === 'cholesky' ? !ctx.only?.test(`${name}-full`) : !ctx.enabled(`${name}-full`) && !ctx.enabled(name)) continue;
        ctx.log(`[als ${name}] ${size.toLocaleString()} ratings, distributed`);
        const t = await timeDistributed(ctx, big.table, iterations, extra);
        results.push(makeResult({
          metric: `ALS implicit rank ${RANK}, ${name}, ${(size / 1e6).toFixed(1)}M ratings (${big.users} users × ${big.items} items), s/iteration`,
          unit: 's', better: 'lower', target: 12, samples: t,
          baseline: `reference solver (exact Cholesky) at ${(refSize / 1e6).toFixed(1)}M ratings scaled ×${(size / refSize).toFixed(1)} (too slow to run at full size)`,
          baselineSamples: refTimes.map((x) => (x * size) / refSize),
          notes: `target 12 s: Spark anchor 12.3 s/iteration on 8 cores (ML-20M, rank 64); this machine has 2 cores; local cluster init({ numCpus: 2 }), 8×8 blocks; ${how}`,
        }));
        forceGc();
      }
    }
  } finally {
    await shutdown();
  }
  return results;
}

if (isMain(import.meta)) {
  const i = process.argv.indexOf('--size');
  const sizeArg = i >= 0 ? process.argv[i + 1] : process.argv.find((a) => a.startsWith('--size='))?.slice(7);
  const ctx: BenchContext = { suite: 'als', runs: 3, enabled: () => true, log: (m) => process.stderr.write(`${m}\n`) };
  run(ctx, sizeArg).then(
    (results) => {
      for (const r of results) process.stdout.write(`${r.metric}: ${r.value.toFixed(2)} s (baseline ${r.baselineValue.toFixed(2)} s, ratio ${r.ratio.toFixed(3)})\n`);
      process.exit(0);
    },
    (err: unknown) => {
      process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exit(1);
    },
  );
}
