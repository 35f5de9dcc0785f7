/**
 * Rental suite (`npm run bench -- rental`): the rental-recs job (examples/rental-recs) on synthetic
 * data from its generator, in the embedded default (Parquet in a temporary folder), at 1M and 10M
 * ratings: wall time of every stage and end to end, and the driver's CPU time.
 *
 * Two modes, by size:
 * - up to `SHOAL_BENCH_RENTAL_FULL_MAX` ratings (default 2M), the whole job as `npm start` runs it
 *   (ALS, the neural two-tower model fitted three times — train for the model selection, train +
 *   validation for the test metrics, all data for serving — evaluation, top-5, write), except that
 *   the tuning grid is one point (rank 16, regParam 0.1, 5 iterations) so a run measures the
 *   pipeline, not the grid size;
 * - above it, the stages that scale with the data (generate → read → validate + split → train ALS
 *   → evaluate → train on all → recommend top-5 for every user → write) with the neural model off:
 *   the neural model trains on one worker at a few 10k samples/s (5 samples per rating, 3 epochs,
 *   3 fits), about an hour and a half per fit at 10M on this machine, so it is measured at 1M only.
 *
 * Baselines, measured in the same invocation:
 * - the generate stage: the same generator run single-threaded in the driver process (no cluster,
 *   no writing) — the ratio is the cluster's speed-up, write included;
 * - every other stage and end to end: the same stage, same mode, at 100k ratings scaled linearly to
 *   the size (ratio < 1: better than linear scaling from the small run).
 *
 * Sizes: `SHOAL_BENCH_RENTAL_SIZES` (default `1m,10m`); one run per size above 1M, else
 * min(runs, 2).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { init, shutdown } from 'shoal';
import { runJob, type JobOptions, type JobResult } from '../../examples/rental-recs/job.js';
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

type Mode = 'full' | 'scaling';
const MODE_OPTIONS: Record<Mode, Partial<JobOptions>> = { full: { grid: GRID }, scaling: { grid: GRID, neural: false } };
const MODE_NOTE: Record<Mode, string> = {
  full: 'the whole job (neural model fitted 3 times, served model chosen on validation)',
  scaling: 'the stages that scale, neural model off (too slow at this size: see the suite header)',
};

interface JobRun {
  result: JobResult;
  /** Driver process CPU (user + system), s. */
  cpuS: number;
  load: [number, number];
}

async function jobOnce(ctx: BenchContext, ratings: number, mode: Mode): Promise<JobRun> {
  const dir = mkdtempSync(join(tmpdir(), 'shoal-bench-rental-'));
  try {
    const load0 = loadavg()[0]!;
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const result = await runJob({ dataDir: dir, synthetic: ratings, seed: 42, ...MODE_OPTIONS[mode], log: (l) => ctx.log(`    ${l}`) });
    result.stages.push({ name: 'end to end', ms: performance.now() - t0 });
    const cpu = process.cpuUsage(cpu0);
    const run: JobRun = { result, cpuS: (cpu.user + cpu.system) / 1e6, load: [load0, loadavg()[0]!] };
    ctx.log(`    end to end ${(result.stages.at(-1)!.ms / 1000).toFixed(1)} s, driver CPU ${run.cpuS.toFixed(1)} s, 1-min load ${run.load[0].toFixed(1)} → ${run.load[1].toFixed(1)}`);
    return run;
  } finally {
    rmSync(dir, { recursive: true, force: true });
    forceGc();
  }
}

const stageKey = (name: string): string => (name.startsWith('generate') ? 'generate' : name);

export async function run(ctx: BenchContext): Promise<BenchResult[]> {
  const sizes = (process.env.SHOAL_BENCH_RENTAL_SIZES ?? '1m,10m').split(',').map(parseSize);
  const fullMax = parseSize(process.env.SHOAL_BENCH_RENTAL_FULL_MAX ?? '2m');
  const results: BenchResult[] = [];
  await init({ numCpus: 2 });
  try {
    // The 100k reference run of each mode, made when a size first needs it.
    const reference = new Map<Mode, Map<string, number>>();
    const referenceOf = async (mode: Mode): Promise<Map<string, number>> => {
      let ms = reference.get(mode);
      if (!ms) {
        ctx.log(`[rental] reference run at 100k ratings (${mode})`);
        const small = await jobOnce(ctx, 100_000, mode);
        ms = new Map(small.result.stages.map((s) => [stageKey(s.name), s.ms]));
        reference.set(mode, ms);
      }
      return ms;
    };
    for (const size of sizes) {
      if (!ctx.enabled(label(size))) continue;
      const mode: Mode = size > fullMax ? 'scaling' : 'full';
      const smallMs = await referenceOf(mode);
      const runs = size > 1e6 ? 1 : Math.min(ctx.runs, 2);
      const samples = new Map<string, number[]>();
      const genBaseline: number[] = [];
      const cpu: number[] = [];
      const loads: string[] = [];
      let last: JobResult | undefined;
      for (let i = 0; i < runs; i++) {
        ctx.log(`[rental ${label(size)}] run ${i + 1}/${runs}: generator single-threaded in the driver`);
        genBaseline.push((await generateInDriver(size, 42)) / 1000);
        forceGc();
        ctx.log(`[rental ${label(size)}] run ${i + 1}/${runs}: the job (${mode})`);
        const run = await jobOnce(ctx, size, mode);
        last = run.result;
        cpu.push(run.cpuS);
        loads.push(`${run.load[0].toFixed(1)}→${run.load[1].toFixed(1)}`);
        for (const s of last.stages) {
          const k = stageKey(s.name);
          samples.set(k, [...(samples.get(k) ?? []), s.ms / 1000]);
        }
      }
      const sizesNote = last ? `ratings ${last.sizes.ratings}, users ${last.sizes.users}, listings ${last.sizes.catalogue}` : '';
      const common = `${MODE_NOTE[mode]}; local cluster init({ numCpus: 2 }), embedded default (Parquet in a temp folder), explicit synthetic ratings; ${sizesNote}; ` +
        `grid one point (rank 16, λ 0.1, 5 iterations); driver CPU ${cpu.map((c) => `${c.toFixed(1)} s`).join(', ')}; 1-min load average start→end ${loads.join(', ')}`;
      for (const [stage, values] of samples) {
        const isGen = stage === 'generate';
        results.push(makeResult({
          metric: `rental ${label(size)}: ${stage}, s`,
          unit: 's', better: 'lower', samples: values,
          baseline: isGen ? 'same generator single-threaded in one thread of the driver process (no cluster, no write)' : `same stage at 100k ratings × ${size / 100_000}`,
          baselineSamples: isGen ? genBaseline : [((smallMs.get(stage) ?? NaN) / 1000) * (size / 100_000)],
          notes: common,
        }));
      }
      if (last) ctx.log(`[rental ${label(size)}] metrics: ${last.metrics.map((m) => `${m.model} HR@10 ${m.hr.toFixed(4)} NDCG@10 ${m.ndcg.toFixed(4)} RMSE ${m.rmse?.toFixed(4)}`).join('; ')}`);
    }
  } finally {
    await shutdown();
  }
  return results;
}
