/**
 * Chaos suite: a job of many tasks (two stages, the second consuming blocks held in worker stores)
 * and actor calls runs on a local cluster of 3 single-CPU workers while worker processes are killed
 * at random (and replaced, to keep capacity) for the length of the job. It reports the job's time
 * against the same job without faults (measured in the same run), tasks retried, objects
 * reconstructed from lineage, and wrong results (must be 0).
 */
import { get, init, shutdown, startLocalCluster, clusterStatus } from 'shoal';
import { makeBlock, ScorerActor, sumBlock } from '../fixtures/chaos-tasks.js';
import { makeResult, type BenchResult } from '../lib/result.js';
import type { BenchContext } from '../lib/context.js';

const BLOCKS = 1000;
const ACTOR_CALLS = 300;
const KILL_EVERY_MS = 700;

interface Counters {
  tasksRetried: number;
  objectsReconstructed: number;
}
const counters = async (): Promise<Counters> => ((await clusterStatus()) as unknown as { counters: Counters }).counters;

/** What the job must return, computed in this process. */
function expected(): { sums: number[]; scores: number[] } {
  const sums = Array.from({ length: BLOCKS }, (_, i) => {
    let x = i + 1;
    let s = 0;
    for (let k = 0; k < 20_000; k++) {
      x = (x * 1103515245 + 12345) % 2147483648;
      s += x / 2147483648;
    }
    return s;
  });
  const scores = Array.from({ length: ACTOR_CALLS }, (_, i) => {
    let s = 0;
    for (let k = 1; k <= 20_000; k++) s += ((i * k) % 97) / 97;
    return s;
  });
  return { sums, scores };
}

async function job(): Promise<{ sums: number[]; scores: number[] }> {
  const actors = [ScorerActor.remote(), ScorerActor.remote()];
  const blocks = Array.from({ length: BLOCKS }, (_, i) => makeBlock.remote(i));
  const sums = blocks.map((b) => sumBlock.remote(b));
  const scores = Array.from({ length: ACTOR_CALLS }, (_, i) => actors[i % 2]!.score.remote(i));
  return { sums: await get(sums, { timeoutMs: 300_000 }), scores: await get(scores, { timeoutMs: 300_000 }) };
}

function wrong(got: { sums: number[]; scores: number[] }, want: { sums: number[]; scores: number[] }): number {
  let n = 0;
  got.sums.forEach((v, i) => (Math.abs(v - want.sums[i]!) > 1e-9 ? n++ : 0));
  got.scores.forEach((v, i) => (Math.abs(v - want.scores[i]!) > 1e-9 ? n++ : 0));
  return n;
}

export async function run(ctx: BenchContext): Promise<BenchResult[]> {
  const want = expected();
  const runs = Math.min(ctx.runs, 3);
  const clean: number[] = [];
  const faulty: number[] = [];
  // Per mode (faults: [1], none: [0]): measured in both, so each count has its same-run baseline.
  const retried: [number[], number[]] = [[], []];
  const reconstructed: [number[], number[]] = [[], []];
  const wrongResults: [number[], number[]] = [[], []];
  const kills: [number[], number[]] = [[], []];
  for (let r = 0; r < runs; r++) {
    for (const withFaults of [false, true]) {
      const cluster = await startLocalCluster({ numWorkers: 3, numCpus: 1, objectStoreBytes: 256 * 2 ** 20, headOptions: { nodeTimeoutMs: 3000 } });
      await init({ address: cluster.head.address, tokenFile: cluster.head.tokenFile });
      try {
        const before = await counters();
        let killed = 0;
        let stop = false;
        const chaos = withFaults
          ? (async () => {
              while (!stop) {
                await new Promise((res) => setTimeout(res, KILL_EVERY_MS));
                if (stop) break;
                const workers = cluster.processes.slice(1).filter((p) => p.child.exitCode === null && p.child.signalCode === null);
                const victim = workers[Math.floor(Math.random() * workers.length)];
                if (!victim) continue;
                victim.child.kill('SIGKILL');
                killed++;
                await cluster.addWorker().catch(() => undefined);
              }
            })()
          : Promise.resolve();
        const started = performance.now();
        const got = await job();
        const ms = performance.now() - started;
        stop = true;
        await chaos;
        const after = await counters();
        const m = withFaults ? 1 : 0;
        (withFaults ? faulty : clean).push(ms);
        retried[m].push(after.tasksRetried - before.tasksRetried);
        reconstructed[m].push(after.objectsReconstructed - before.objectsReconstructed);
        wrongResults[m].push(wrong(got, want));
        kills[m].push(killed);
        ctx.log(`  run ${r + 1}/${runs} ${withFaults ? `with faults (${killed} workers killed)` : 'without faults'}: ${(ms / 1000).toFixed(2)} s`);
      } finally {
        await shutdown();
        await cluster.stop();
      }
    }
  }
  const note = `${BLOCKS} block tasks + ${BLOCKS} sum tasks + ${ACTOR_CALLS} actor calls on 3 single-CPU workers; a random worker SIGKILLed every ${KILL_EVERY_MS} ms and replaced`;
  const count = (metric: string, [none, faults]: [number[], number[]], target: number | null = null, better: 'higher' | 'lower' = 'lower'): BenchResult =>
    makeResult({ metric, unit: 'count', better, target, samples: faults, baseline: 'same job without faults', baselineSamples: none, notes: note });
  return [
    makeResult({ metric: 'job time with faults', unit: 's', better: 'lower', samples: faulty.map((m) => m / 1000), baseline: 'same job without faults', baselineSamples: clean.map((m) => m / 1000), notes: note }),
    count('workers killed during the job', kills, null, 'higher'),
    count('tasks retried', retried),
    count('objects reconstructed from lineage', reconstructed),
    count('wrong results', wrongResults, 0),
  ];
}
