/**
 * Faults suite (`npm run bench -- faults`, issue 13): every module in bench/suites/faults/ is one
 * fault — a real operation on a local cluster with the fault injected (a killed writer, a write that
 * reads its own target, a CSV with a quote left open, …). Each fault gives one row: bad outcomes
 * (wrong results + lost writes + leaked files; target 0) against the same count for the operation
 * without the fault (the baseline, measured in the same run: always 0), with what ran, what was
 * expected and what happened in the notes. Then the totals the compass tracks: runs, wrong results,
 * lost writes, leaked files, seconds to recover (slowest).
 */
import { readdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import pg from 'pg';
import { init, shutdown, startLocalCluster } from 'shoal';
import { readFileSync } from 'node:fs';
import type { BenchContext } from '../lib/context.js';
import type { Fault, FaultOutcome } from '../lib/fault.js';
import { makeResult, type BenchResult } from '../lib/result.js';

const FAULTS_DIR = join(dirname(fileURLToPath(import.meta.url)), 'faults');

async function loadFaults(): Promise<Fault[]> {
  const files = readdirSync(FAULTS_DIR).filter((f) => f.endsWith('.js')).sort();
  const out: Fault[] = [];
  for (const f of files) {
    const mod = (await import(pathToFileURL(join(FAULTS_DIR, f)).href)) as { fault?: Fault };
    if (mod.fault) out.push(mod.fault);
  }
  return out;
}

async function postgresUrl(): Promise<string | undefined> {
  const url = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
  const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  try {
    await c.connect();
    return url;
  } catch {
    return undefined;
  } finally {
    await c.end().catch(() => undefined);
  }
}

export async function run(ctx: BenchContext): Promise<BenchResult[]> {
  const faults = (await loadFaults()).filter((f) => ctx.enabled(f.name));
  const runs = Math.min(ctx.runs, 2);
  const cluster = await startLocalCluster({ numWorkers: 1, numCpus: 2 });
  await init({ address: cluster.head.address, tokenFile: cluster.head.tokenFile });
  const token = readFileSync(cluster.head.tokenFile, 'utf8').trim();
  const pgUrl = await postgresUrl();
  const results: BenchResult[] = [];
  const totals = { runs: 0, wrong: 0, lost: 0, leaked: 0, recover: 0 };
  try {
    for (const f of faults) {
      const outcomes: FaultOutcome[] = [];
      for (let r = 0; r < runs; r++) {
        const dir = await mkdtemp(join(tmpdir(), `shoal-fault-${f.name.replace(/[^a-z0-9]+/gi, '-')}-`));
        try {
          const o = await f.run({ dir, postgresUrl: pgUrl, address: cluster.head.address, token, log: (m) => ctx.log(`  ${f.name}: ${m}`) });
          outcomes.push(o);
          ctx.log(`  ${f.name} run ${r + 1}/${runs}: ${o.skipped ? 'skipped' : o.happened}`);
        } catch (err) {
          // A fault that throws is a wrong result, reported as what happened.
          outcomes.push({ ran: f.name, expected: '(the fault module ran to completion)', happened: `threw ${(err as Error).message}`, wrongResults: 1, lostWrites: 0, leakedFiles: 0, recoverSeconds: 0 });
        } finally {
          await rm(dir, { recursive: true, force: true });
        }
      }
      const last = outcomes.at(-1)!;
      if (last.skipped) {
        results.push(makeResult({ metric: `${f.area}: ${f.name}`, unit: 'bad outcomes', better: 'lower', target: 0, samples: [0], baseline: 'same operation without the fault', baselineSamples: [0], notes: `SKIPPED: ${last.happened}` }));
        continue;
      }
      const bad = outcomes.map((o) => o.wrongResults + o.lostWrites + o.leakedFiles);
      for (const o of outcomes) {
        totals.runs++;
        totals.wrong += o.wrongResults;
        totals.lost += o.lostWrites;
        totals.leaked += o.leakedFiles;
        totals.recover = Math.max(totals.recover, o.recoverSeconds);
      }
      const sum = (k: 'wrongResults' | 'lostWrites' | 'leakedFiles'): number => outcomes.reduce((a, o) => a + o[k], 0);
      results.push(
        makeResult({
          metric: `${f.area}: ${f.name}`, unit: 'bad outcomes', better: 'lower', target: 0, samples: bad,
          baseline: 'same operation without the fault', baselineSamples: bad.map(() => 0),
          notes: `ran: ${last.ran} | expected: ${last.expected} | happened: ${last.happened} | wrong ${sum('wrongResults')}, lost ${sum('lostWrites')}, leaked ${sum('leakedFiles')}, recover ${Math.max(...outcomes.map((o) => o.recoverSeconds)).toFixed(2)} s over ${outcomes.length} runs`,
        }),
      );
    }
  } finally {
    await shutdown();
    await cluster.stop();
  }
  const total = (metric: string, value: number, unit: string, target: number | null): BenchResult =>
    makeResult({ metric: `total: ${metric}`, unit, better: 'lower', target, samples: [value], baseline: 'target', baselineSamples: [target ?? 0], notes: `${faults.length} faults × ${runs} runs` });
  results.push(
    makeResult({ metric: 'total: runs', unit: 'count', better: 'higher', samples: [totals.runs], baseline: 'faults × runs', baselineSamples: [faults.length * runs], notes: 'runs that executed (skipped ones excluded)' }),
    total('wrong results', totals.wrong, 'count', 0),
    total('lost writes', totals.lost, 'count', 0),
    total('leaked files', totals.leaked, 'count', 0),
    total('seconds to recover (slowest)', totals.recover, 's', null),
  );
  return results;
}
