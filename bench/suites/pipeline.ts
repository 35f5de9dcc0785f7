/**
 * Pipeline suite (issue 17): the orchestrator's overhead per step, for an empty 50-step DAG run on a
 * local cluster (2 worker processes × 2 threads) with the cache off, against the same trivial tasks
 * submitted directly with `remote()` in the same run (the baseline) — target ≤ 20 ms per step:
 *
 * - chain: 50 steps, each taking the previous one's output; the baseline submits the 50 tasks one
 *   after the other, awaiting each (the orchestrator must see a step's outputs to key the next);
 * - wide: 50 independent steps; the baseline submits the 50 tasks at once and awaits them all;
 * - cached: the chain again with the cache on, every step a hit (no task runs);
 * - rental: the rental job's pipeline (examples/rental-recs/pipeline.ts) on the Albany embedded
 *   default — a first run (every step runs: `noCache`) against the all-cached second run after it,
 *   wall time of runPipeline each (the cluster up, the city's Parquet tables loaded once before).
 *
 * Overhead per step = (pipeline wall time − baseline wall time) / 50, per run; medians over runs.
 * What the orchestrator adds per step: a child run in the store (SQLite), the step's record written
 * at start and end, a cache lookup, the inputs' cache key.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { get, init, shutdown } from 'shoal';
import { fromStep, pipeline, runPipeline, type Pipeline } from 'shoal/platform';
import { openStore, type Store } from 'shoal/store';
import { link, linkTask } from '../fixtures/pipeline-tasks.js';
import { rentalPipeline } from '../../examples/rental-recs/pipeline.js';
import type { BenchContext } from '../lib/context.js';
import { makeResult, type BenchResult } from '../lib/result.js';

const STEPS = 50;
const la = (): string => `load avg ${loadavg().map((x) => x.toFixed(1)).join(' ')}`;

const chain: Pipeline = pipeline('bench-chain', {
  steps: Array.from({ length: STEPS }, (_, i) => ({ step: link, name: `s${i}`, inputs: i ? { prev: fromStep(`s${i - 1}`, 'n') } : {} })),
});
const wide: Pipeline = pipeline('bench-wide', {
  steps: Array.from({ length: STEPS }, (_, i) => ({ step: link, name: `w${i}`, inputs: {} })),
});

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

async function directChain(): Promise<void> {
  let n = 0;
  for (let i = 0; i < STEPS; i++) n = await get(linkTask.remote(n));
  if (n !== STEPS) throw new Error(`chain computed ${n}`);
}

async function directWide(): Promise<void> {
  const all = await get(Array.from({ length: STEPS }, () => linkTask.remote(0)));
  if (all.length !== STEPS) throw new Error('wide lost tasks');
}

export async function run(ctx: BenchContext): Promise<BenchResult[]> {
  const results: BenchResult[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'shoal-pipeline-bench-'));
  const store: Store = await openStore({ url: join(dir, 'store.db'), artifactDir: join(dir, 'artifacts') });
  await init({ numWorkers: 2, numCpus: 2 });
  try {
    ctx.log('warm-up (bundles imported, store opened on every thread)');
    await runPipeline(chain, { store, noCache: true });
    await runPipeline(wide, { store, noCache: true });
    await directChain();
    await directWide();
    const shapes: Array<{ key: string; p: Pipeline; direct: () => Promise<void>; what: string }> = [
      { key: 'chain', p: chain, direct: directChain, what: 'each step takes the previous one\'s output; baseline: tasks submitted and awaited one by one' },
      { key: 'wide', p: wide, direct: directWide, what: 'independent steps; baseline: tasks submitted at once, awaited together' },
    ];
    for (const s of shapes) {
      if (!ctx.enabled(s.key)) continue;
      ctx.log(`[${s.key}]`);
      const pipe: number[] = [];
      const base: number[] = [];
      for (let r = 0; r < ctx.runs; r++) {
        // Interleaved, alternating which goes first, so load drift hits both alike.
        const order = r % 2 === 0 ? ['p', 'b'] : ['b', 'p'];
        let p = 0;
        let b = 0;
        for (const o of order) {
          if (o === 'p') p = await timed(() => runPipeline(s.p, { store, noCache: true }));
          else b = await timed(s.direct);
        }
        pipe.push(p);
        base.push(b);
        ctx.log(`  run ${r + 1}: pipeline ${p.toFixed(0)} ms, direct ${b.toFixed(0)} ms → ${((p - b) / STEPS).toFixed(2)} ms/step overhead; ${la()}`);
      }
      results.push(makeResult({
        metric: `${s.key}: ${STEPS}-step empty pipeline, cache off`, unit: 'ms', better: 'lower', samples: pipe,
        baseline: `the same ${STEPS} tasks submitted directly`, baselineSamples: base, notes: `${s.what}; ${la()}`,
      }));
      results.push(makeResult({
        metric: `${s.key}: overhead per step`, unit: 'ms/step', better: 'lower', target: 20, samples: pipe.map((p, i) => (p - base[i]!) / STEPS),
        baseline: 'direct task per step', baselineSamples: base.map((b) => b / STEPS), notes: `(pipeline − direct) / ${STEPS} per run; ${la()}`,
      }));
    }
    if (ctx.enabled('cached')) {
      ctx.log('[cached]');
      await runPipeline(chain, { store });
      const hit: number[] = [];
      const base: number[] = [];
      for (let r = 0; r < ctx.runs; r++) {
        hit.push(await timed(async () => {
          const res = await runPipeline(chain, { store });
          if (!res.steps.every((x) => x.state === 'cached')) throw new Error('a step of the cached chain ran');
        }));
        base.push(await timed(directChain));
        ctx.log(`  run ${r + 1}: all-cached chain ${hit[r]!.toFixed(0)} ms, direct chain ${base[r]!.toFixed(0)} ms; ${la()}`);
      }
      results.push(makeResult({
        metric: `cached: ${STEPS}-step chain, every step a cache hit`, unit: 'ms', better: 'lower', samples: hit,
        baseline: `the same ${STEPS} tasks submitted directly (chain)`, baselineSamples: base, notes: `no task runs; lookups and records in SQLite; ${la()}`,
      }));
    }
    if (ctx.enabled('rental')) {
      ctx.log('[rental] Albany, embedded default');
      const first: number[] = [];
      const cached: number[] = [];
      // Neural fits and the 9-point ALS grid make a first run take a minute: at most 3 pairs.
      for (let r = 0; r < Math.min(ctx.runs, 3); r++) {
        first.push(await timed(async () => {
          const res = await runPipeline(rentalPipeline, { store, noCache: true });
          if (!res.steps.every((x) => x.state === 'succeeded')) throw new Error('a step of the first rental run did not run');
        }));
        cached.push(await timed(async () => {
          const res = await runPipeline(rentalPipeline, { store });
          const ran = res.steps.filter((x) => x.state !== 'cached');
          if (ran.length) throw new Error(`steps of the second rental run were not cache hits: ${ran.map((x) => `${x.step} ${x.state}`).join(', ')}`);
        }));
        ctx.log(`  run ${r + 1}: first run ${(first[r]! / 1000).toFixed(1)} s, all-cached second run ${cached[r]!.toFixed(0)} ms; ${la()}`);
      }
      results.push(makeResult({
        metric: 'rental: all-cached second run (Albany, 8 steps)', unit: 'ms', better: 'lower', samples: cached,
        baseline: 'rental pipeline first run (every step runs)', baselineSamples: first,
        notes: `wall time of runPipeline; first run: tables read, feature store, 9-point ALS grid ∥ 2 neural fits, evaluation; ${la()}`,
      }));
    }
  } finally {
    await shutdown();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
  return results;
}
