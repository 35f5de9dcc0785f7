/**
 * Rental suite (`npm run bench -- rental`): the rental-recs job (examples/rental-recs) on synthetic
 * data from its generator, in the embedded default (Parquet in a temporary folder), at 1M and 10M
 * ratings: wall time of every stage (generate → read → validate + split → train → evaluate → train on
 * all → recommend top-5 → write) and end to end.
 *
 * Baselines, measured in the same invocation:
 * - the generate stage: the same generator run single-threaded in the driver process (no cluster,
 *   no writing) — the ratio is the cluster's speed-up, write included;
 * - every other stage and end to end: the same stage at 100k ratings scaled linearly to the size
 *   (ratio < 1: better than linear scaling from the small run).
 *
 * Sizes: `SHOAL_BENCH_RENTAL_SIZES` (default `1m,10m`). The tuning grid is one point (rank 16,
 * regParam 0.1, 5 iterations) so a run measures the pipeline, not the grid size; 1M takes
 * min(runs, 2) runs. Above `SHOAL_BENCH_RENTAL_FULL_MAX` ratings (default 2M) only the generator is
 * measured (one run, written to Parquet): the whole job at 10M does not fit in a few minutes on a
 * shared 2-core machine — top-5 for 833k users over 9.5k listings alone extrapolates from 1M to
 * about 30× the 1M recommend stage.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { init, shutdown } from 'shoal';
import { runJob, type JobResult } from '../../examples/rental-recs/job.js';
import { generateSynthetic } from '../../examples/rental-recs/load.js';
import type { BenchContext } from '../lib/context.js';
import { makeResult, type BenchResult } from '../lib/result.js';
import { forceGc } from '../lib/timing.js';

const GRID = { rank: [16], regParam: [0.1], maxIter: [5] };

function parseSize(s: string): number {
  const m = /^(\d+(?:\.\d+)?)([kKmM]?)$/.exec(s.trim());
  if (!m) throw new Error(`SHOAL_BENCH_RENTAL_SIZES: sizes like 1m,10m (got ${s})`);
  return Math.round(Number(m[1]) * (m[2]?.toLowerCase() === 'm' ? 1e6 : m[2]?.toLowerCase() === 'k' ? 1e3 : 1));
}

const label = (n: number): string => (n >= 1e6 ? `${n / 1e6}M` : `${n / 1e3}k`);

/**
 * The generator alone, single-threaded (the generate stage's baseline), in a worker thread: a driver
 * whose event loop is blocked for minutes loses its session (see the report), so never run it inline.
 */
function generateInDriver(ratings: number, seed: number): Promise<number> {
  const url = new URL('../../examples/rental-recs/world.js', import.meta.url).href;
  const code = `
    const { parentPort, workerData: d } = require('node:worker_threads');
    import(d.url).then((W) => {
      const t0 = performance.now();
      const s = W.scaleFor(d.ratings);
      const w = W.buildWorld(d.seed, s.listings);
      let rows = 0;
      for (let u = 0; u < s.users; u += 20000) rows += W.generateRatings(w, d.seed, u, Math.min(s.users, u + 20000), s.meanPerUser).user.length;
      parentPort.postMessage({ ms: performance.now() - t0, rows });
    });`;
  return new Promise((resolve, reject) => {
    const worker = new Worker(code, { eval: true, workerData: { url, ratings, seed } });
    worker.once('message', (m: { ms: number; rows: number }) => {
      void worker.terminate();
      if (m.rows === 0) reject(new Error('generator produced no rows'));
      else resolve(m.ms);
    });
    worker.once('error', reject);
  });
}

async function jobOnce(ctx: BenchContext, ratings: number): Promise<JobResult> {
  const dir = mkdtempSync(join(tmpdir(), 'shoal-bench-rental-'));
  try {
    const t0 = performance.now();
    const r = await runJob({ dataDir: dir, synthetic: ratings, seed: 42, grid: GRID, log: (l) => ctx.log(`    ${l}`) });
    r.stages.push({ name: 'end to end', ms: performance.now() - t0 });
    return r;
  } finally {
    rmSync(dir, { recursive: true, force: true });
    forceGc();
  }
}

/** The generator alone at `size` (one run): cluster generation written to Parquet vs single-threaded in the driver. */
async function generatorOnly(ctx: BenchContext, size: number): Promise<BenchResult> {
  ctx.log(`[rental ${label(size)}] generator single-threaded in the driver`);
  const baseline = (await generateInDriver(size, 42)) / 1000;
  forceGc();
  const dir = mkdtempSync(join(tmpdir(), 'shoal-bench-rental-'));
  try {
    ctx.log(`[rental ${label(size)}] generator on the cluster → Parquet`);
    const t0 = performance.now();
    const rep = await generateSynthetic({ kind: 'parquet', dir }, size, 42);
    const s = (performance.now() - t0) / 1000;
    ctx.log(`    ${Object.entries(rep.stageMs).map(([k, v]) => `${k} ${(v / 1000).toFixed(2)} s`).join(', ')}; rows ${JSON.stringify(rep.tables)}`);
    return makeResult({
      metric: `rental ${label(size)}: generate (listings, users, ratings → Parquet), s`,
      unit: 's', better: 'lower', samples: [s], baseline: 'same generator single-threaded in one thread of the driver process (no cluster, no write)', baselineSamples: [baseline],
      notes: `one run; local cluster init({ numCpus: 2 }); ${Object.entries(rep.stageMs).map(([k, v]) => `${k} ${(v / 1000).toFixed(1)} s`).join(', ')}; ratings ${rep.tables.ratings}; the rest of the job is not run at this size (see the suite's header)`,
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
    forceGc();
  }
}

const stageKey = (name: string): string => (name.startsWith('generate') ? 'generate' : name);

export async function run(ctx: BenchContext): Promise<BenchResult[]> {
  const sizes = (process.env.SHOAL_BENCH_RENTAL_SIZES ?? '1m,10m').split(',').map(parseSize);
  const results: BenchResult[] = [];
  await init({ numCpus: 2 });
  try {
    ctx.log('[rental] reference run at 100k ratings');
    const small = await jobOnce(ctx, 100_000);
    const smallMs = new Map(small.stages.map((s) => [stageKey(s.name), s.ms]));
    const fullMax = parseSize(process.env.SHOAL_BENCH_RENTAL_FULL_MAX ?? '2m');
    for (const size of sizes) {
      if (!ctx.enabled(label(size))) continue;
      if (size > fullMax) {
        results.push(await generatorOnly(ctx, size));
        continue;
      }
      const runs = size >= 5e6 ? 1 : Math.min(ctx.runs, 2);
      const samples = new Map<string, number[]>();
      const genBaseline: number[] = [];
      let last: JobResult | undefined;
      for (let i = 0; i < runs; i++) {
        ctx.log(`[rental ${label(size)}] run ${i + 1}/${runs}: generator single-threaded in the driver`);
        genBaseline.push((await generateInDriver(size, 42)) / 1000);
        forceGc();
        ctx.log(`[rental ${label(size)}] run ${i + 1}/${runs}: the job`);
        last = await jobOnce(ctx, size);
        for (const s of last.stages) {
          const k = stageKey(s.name);
          samples.set(k, [...(samples.get(k) ?? []), s.ms / 1000]);
        }
      }
      const sizesNote = last ? `ratings ${last.sizes.ratings}, users ${last.sizes.users}, listings ${last.sizes.catalogue}` : '';
      for (const [stage, values] of samples) {
        const isGen = stage === 'generate';
        results.push(makeResult({
          metric: `rental ${label(size)}: ${stage}, s`,
          unit: 's', better: 'lower', samples: values,
          baseline: isGen ? 'same generator single-threaded in one thread of the driver process (no cluster, no write)' : `same stage at 100k ratings × ${size / 100_000}`,
          baselineSamples: isGen ? genBaseline : [((smallMs.get(stage) ?? NaN) / 1000) * (size / 100_000)],
          notes: `local cluster init({ numCpus: 2 }), embedded default (Parquet in a temp folder), explicit synthetic ratings; ${sizesNote}; grid one point (rank 16, λ 0.1, 5 iterations)`,
        }));
      }
      if (last) ctx.log(`[rental ${label(size)}] metrics: ${last.metrics.map((m) => `${m.model} HR@10 ${m.hr.toFixed(4)} NDCG@10 ${m.ndcg.toFixed(4)} RMSE ${m.rmse?.toFixed(4)}`).join('; ')}`);
    }
  } finally {
    await shutdown();
  }
  return results;
}
