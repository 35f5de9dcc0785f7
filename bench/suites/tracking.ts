/**
 * Tracking suite (issue 15): metric points/s logged by 8 concurrent runs from tasks (each task opens
 * the driver's run from the SQLite store file and logs its points; a local cluster of 2 worker
 * processes × 2 threads) against plain batched SQLite inserts of the same rows in one process
 * (better-sqlite3, same pragmas, 10,000 rows per transaction — the baseline, same run; target
 * ≥ 0.5×); and `loadModel('models:/rental-bench@champion')` p50 for a model in the rental job's
 * stored format (JSON + tensors, sized like the Albany model) against reading its blob files
 * directly with readFile (no database, no checksum).
 */
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { get, init, shutdown } from 'shoal';
import { openStore, type Store } from 'shoal/store';
import { servedModelContents } from '../../examples/rental-recs/model-store.js';
import type { ServedModel } from '../../examples/rental-recs/served-model.js';
import { logPoints } from '../fixtures/store-tasks.js';
import type { BenchContext } from '../lib/context.js';
import { makeResult, type BenchResult } from '../lib/result.js';

const RUNS = 8;
const POINTS = 25_000;
const la = (): string => `load avg ${loadavg().map((x) => x.toFixed(1)).join(' ')}`;

/** The baseline: the same rows into a metrics table of a fresh SQLite file, batched, in this process. */
function plainInserts(dir: string): number {
  const db = new Database(join(dir, `plain-${Date.now()}.db`));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.exec('CREATE TABLE metrics (seq INTEGER PRIMARY KEY AUTOINCREMENT, run_id TEXT NOT NULL, key TEXT NOT NULL, value DOUBLE PRECISION NOT NULL, step BIGINT NOT NULL, ts BIGINT NOT NULL)');
  db.exec('CREATE INDEX metrics_run_key ON metrics (run_id, key, step)');
  const ins = db.prepare('INSERT INTO metrics (run_id, key, value, step, ts) VALUES (?, ?, ?, ?, ?)');
  const batch = db.transaction((run: string, from: number, to: number) => {
    const now = Date.now();
    for (let i = from; i < to; i++) ins.run(run, 'x', i, i, now);
  });
  const t0 = performance.now();
  for (let r = 0; r < RUNS; r++) for (let at = 0; at < POINTS; at += 10_000) batch(`run${r}`, at, Math.min(POINTS, at + 10_000));
  const ms = performance.now() - t0;
  db.close();
  return (RUNS * POINTS) / (ms / 1000);
}

/** A served model shaped like the Albany one: 40k users and 1.5k listings at rank 16, 60k rated pairs. */
function albanySizedModel(): ServedModel {
  const users = 40_000, items = 1_500, rank = 16, pairs = 60_000;
  const rnd = (n: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * 12.9898) * 0.5);
  const ptr = Int32Array.from({ length: users + 1 }, (_, u) => Math.round((u * pairs) / users));
  return {
    id: 'als', name: 'ALS (bench)', version: 'bench', userIds: Array.from({ length: users }, (_, i) => String(1_000_000 + i)),
    listingIds: Array.from({ length: items }, (_, i) => String(5_000 + i)),
    user: { users: rnd(users * rank), ctxPtr: null, ctxIdx: null, ctxVal: null },
    item: { rank, items: rnd(items * rank), valid: new Uint8Array(items).fill(1), bias: null, simPtr: null, simIdx: null, simVal: null },
    seen: { ptr, idx: Int32Array.from({ length: pairs }, (_, i) => (i * 7) % items) }, popularity: rnd(items), nbhd: new Int32Array(items), nbhdNames: ['A', 'B'],
  };
}

async function loadBench(ctx: BenchContext, store: Store): Promise<BenchResult[]> {
  const run = await store.startRun({ experiment: 'bench' });
  const uri = await run.logModel('model', servedModelContents(albanySizedModel()));
  await run.end();
  const v = await store.registerModel('rental-bench', uri);
  await store.setAlias('rental-bench', 'champion', v.version);
  const entries = await store.listArtifacts(run.id, 'model');
  const bytes = entries.reduce((s, e) => s + e.bytes, 0);
  const direct = async (): Promise<void> => {
    const files = await Promise.all(entries.map((e) => readFile(store.artifacts.pathOf(e.sha256))));
    JSON.parse(files[entries.findIndex((e) => e.path.endsWith('MLmodel.json'))]!.toString());
  };
  const time = async (fn: () => Promise<unknown>): Promise<number> => {
    const t0 = performance.now();
    await fn();
    return performance.now() - t0;
  };
  const p50 = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const load: number[] = [];
  const base: number[] = [];
  for (let i = 0; i < 3; i++) await store.loadModel('models:/rental-bench@champion'); // warm-up
  for (let r = 0; r < ctx.runs; r++) {
    const l: number[] = [];
    const b: number[] = [];
    for (let i = 0; i < 20; i++) {
      l.push(await time(() => store.loadModel('models:/rental-bench@champion')));
      b.push(await time(direct));
    }
    load.push(p50(l));
    base.push(p50(b));
    ctx.log(`  run ${r + 1}: loadModel p50 ${p50(l).toFixed(2)} ms, readFile p50 ${p50(b).toFixed(2)} ms (${(bytes / 1e6).toFixed(1)} MB in ${entries.length} files); ${la()}`);
  }
  return [makeResult({
    metric: `loadModel p50 (models:/…@champion, ${(bytes / 1e6).toFixed(1)} MB, ${entries.length} files)`, unit: 'ms', better: 'lower', samples: load,
    baseline: 'readFile of the same blobs (no DB, no sha256)', baselineSamples: base, notes: `alias → version → run artifacts, every file's sha256 checked; ${la()}`,
  })];
}

export async function run(ctx: BenchContext): Promise<BenchResult[]> {
  const results: BenchResult[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'shoal-tracking-bench-'));
  const store = await openStore({ url: join(dir, 'store.db'), artifactDir: join(dir, 'artifacts') });
  try {
    if (ctx.enabled('points')) {
      await init({ numWorkers: 2, numCpus: 2 });
      try {
        ctx.log('[points] warm-up');
        const warm = await store.startRun({ experiment: 'bench' });
        await get(logPoints.remote(warm.ref(), 'warm', 1_000));
        await warm.end();
        const rate: number[] = [];
        const base: number[] = [];
        for (let r = 0; r < ctx.runs; r++) {
          const runs = await Promise.all(Array.from({ length: RUNS }, (_, i) => store.startRun({ experiment: 'bench', name: `r${r}-${i}` })));
          const t0 = performance.now();
          await get(runs.map((x) => logPoints.remote(x.ref(), 'x', POINTS)));
          const ms = performance.now() - t0;
          for (const x of runs) await x.end();
          const stored = (await store.db.get<{ n: number }>(`SELECT COUNT(*) AS n FROM metrics WHERE run_id IN (${runs.map(() => '?').join(', ')})`, runs.map((x) => x.id)))!.n;
          if (stored !== RUNS * POINTS) throw new Error(`lost points: ${stored} of ${RUNS * POINTS} stored`);
          rate.push((RUNS * POINTS) / (ms / 1000));
          base.push(plainInserts(dir));
          ctx.log(`  run ${r + 1}: ${rate[r]!.toFixed(0)} points/s from tasks (all ${stored} stored), plain batched inserts ${base[r]!.toFixed(0)} points/s; ${la()}`);
        }
        results.push(makeResult({
          metric: `metric points/s, ${RUNS} runs logging from tasks at once`, unit: 'points/s', better: 'higher', samples: rate,
          baseline: 'plain batched SQLite inserts, one process', baselineSamples: base,
          notes: `target ≥ 0.5× baseline; ${RUNS} × ${POINTS} points, 2 workers × 2 threads, one SQLite file (WAL); ${la()}`,
        }));
      } finally {
        await shutdown();
      }
    }
    if (ctx.enabled('load')) {
      ctx.log('[load]');
      results.push(...(await loadBench(ctx, store)));
    }
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
  return results;
}
