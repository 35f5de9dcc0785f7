/**
 * Monitor suite (`npm run bench -- monitor`), issue 19:
 *
 * - drift: `detectDrift` (shoal/platform) of a generated current window against a generated
 *   reference, ROWS rows × 20 numeric columns each (default 10M; `SHOAL_BENCH_MONITOR_ROWS`), on
 *   `init({ numCpus: 2 })`: the columns are made in the read tasks (range + withColumn, 8
 *   partitions), then drift's two passes run as summary tasks (counts, moments, min/max per chunk;
 *   then 100-bin histograms on shared edges) and the driver calibrates thresholds over 10 reference
 *   chunks. Baseline: the same statistics computed by DuckDB (in process, 2 threads) over the same
 *   generated columns in the same run — per side, count/mean/var/min/max per column (by chunk for
 *   the reference), then the per-chunk 100-bin histograms on the shared edges (an UNPIVOT + GROUP
 *   BY). Both include generating the rows, twice (once per pass). Target ≤ 3× DuckDB.
 * - explanation latency: p50 of one answer of a served ALS model (ModelIndex.recommend, k = 5) with
 *   `explain` against the same call without it (the scoring call alone), on a synthetic model of
 *   5,000 listings × rank 32 and 1,000 users with 30 stays each.
 */
import { loadavg } from 'node:os';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { init, shutdown } from 'shoal';
import { col, range, type Dataset } from 'shoal/data';
import { detectDrift } from 'shoal/platform';
import { ModelIndex, type ServedModel } from '../../examples/rental-recs/served-model.js';
import { repeat, type BenchContext } from '../lib/context.js';
import { makeResult, type BenchResult } from '../lib/result.js';
import { timeAsync } from '../lib/timing.js';
import { percentile } from '../lib/stats.js';

const ROWS = Number(process.env.SHOAL_BENCH_MONITOR_ROWS ?? 10_000_000);
const COLUMNS = 20;
const PARTITIONS = 8;
const CHUNKS = 10;
const BINS = 100;
const fmtRows = (n: number): string => (n >= 1e6 ? `${+(n / 1e6).toFixed(1)}M` : `${+(n / 1e3).toFixed(1)}k`);
const load = (): string => loadavg()[0]!.toFixed(1);

/** Column k: ((id·P_k + S) mod M_k) as a double, the current window shifted by `shift` on every 4th column. */
const P = Array.from({ length: COLUMNS }, (_, k) => 7919 + 104_729 * k);
const M = Array.from({ length: COLUMNS }, (_, k) => 1000 + 37 * k);
const shiftOf = (side: 'ref' | 'cur', k: number): number => (side === 'cur' && k % 4 === 0 ? 0.05 * M[k]! : 0);
const seedOf = (side: 'ref' | 'cur'): number => (side === 'ref' ? 0 : 12_345);

function generated(side: 'ref' | 'cur'): Dataset {
  let ds = range(ROWS, { numPartitions: PARTITIONS });
  for (let k = 0; k < COLUMNS; k++) ds = ds.withColumn(`c${k}`, col('id').mul(P[k]!).add(seedOf(side)).mod(M[k]!).cast('float64').add(shiftOf(side, k)));
  return ds.drop('id');
}

function generatedSql(side: 'ref' | 'cur'): string {
  const cols = Array.from({ length: COLUMNS }, (_, k) => `CAST((range * ${P[k]} + ${seedOf(side)}) % ${M[k]} AS DOUBLE) + ${shiftOf(side, k)} AS c${k}`);
  return `(SELECT range % ${CHUNKS} AS chunk, ${cols.join(', ')} FROM range(${ROWS}))`;
}

/** DuckDB: the statistics drift computes, both passes, both sides. Returns the number of histogram rows (a checksum). */
async function duckDrift(conn: DuckDBConnection): Promise<number> {
  const names = Array.from({ length: COLUMNS }, (_, k) => `c${k}`);
  const moments = names.map((c) => `count(${c}), avg(${c}), var_pop(${c}), min(${c}), max(${c})`).join(', ');
  const [ref, cur] = await Promise.all([
    conn.runAndReadAll(`SELECT chunk, ${moments} FROM ${generatedSql('ref')} GROUP BY chunk`),
    conn.runAndReadAll(`SELECT ${moments} FROM ${generatedSql('cur')}`),
  ]);
  // Shared edges per column over both sides' ranges (as drift fixes them on the driver).
  const edges = names.map((_, k) => {
    let lo = Infinity;
    let hi = -Infinity;
    for (const row of ref.getRowsJS()) {
      lo = Math.min(lo, Number(row[1 + k * 5 + 3]));
      hi = Math.max(hi, Number(row[1 + k * 5 + 4]));
    }
    const c = cur.getRowsJS()[0]!;
    lo = Math.min(lo, Number(c[k * 5 + 3]));
    hi = Math.max(hi, Number(c[k * 5 + 4]));
    return { lo, width: (hi - lo) / BINS };
  });
  const ranges = `(VALUES ${edges.map((e, k) => `('c${k}', ${e.lo}, ${e.width})`).join(', ')}) AS e(name, lo, width)`;
  const hist = (side: 'ref' | 'cur', byChunk: boolean): string => `SELECT ${byChunk ? 'chunk, ' : ''}u.name, LEAST(CAST(floor((value - e.lo) / e.width) AS INTEGER), ${BINS - 1}) AS bin, count(*) AS n
    FROM (UNPIVOT ${generatedSql(side)} ON ${names.join(', ')} INTO NAME name VALUE value) u JOIN ${ranges} USING (name) GROUP BY ALL`;
  const [h1, h2] = await Promise.all([conn.runAndReadAll(`SELECT count(*) FROM (${hist('ref', true)})`), conn.runAndReadAll(`SELECT count(*) FROM (${hist('cur', false)})`)]);
  return Number(h1.getRowsJS()[0]![0]) + Number(h2.getRowsJS()[0]![0]);
}

async function driftRows(ctx: BenchContext): Promise<BenchResult[]> {
  const instance = await DuckDBInstance.create(':memory:', { threads: '2' });
  const conn = await instance.connect();
  const loads: string[] = [];
  let drifted: string[] = [];
  try {
    const r = await repeat(ctx, 'drift', async () => {
      loads.push(load());
      const shoal = await timeAsync(async () => {
        drifted = (await detectDrift(generated('ref'), generated('cur'), { bins: BINS, chunks: CHUNKS })).drifted;
      });
      const duck = await timeAsync(() => duckDrift(conn));
      return { shoal, duck };
    });
    return [makeResult({
      metric: `drift ${fmtRows(ROWS)} rows × ${COLUMNS} columns (both windows, 2 passes)`, unit: 'ms', better: 'lower', target: null, samples: r.shoal,
      baseline: 'DuckDB in-process (2 threads): same statistics over the same generated columns', baselineSamples: r.duck,
      notes: `target ≤ 3× DuckDB; drifted columns found: ${drifted.join(', ') || 'none'} (every 4th is shifted by 5% of its range); ${PARTITIONS} partitions, ${CHUNKS} reference chunks, ${BINS} bins; load per run ${loads.join(', ')}`,
    })];
  } finally {
    conn.closeSync();
  }
}

/** A synthetic served ALS model (random factors; every user 30 stays). */
function syntheticAls(): ServedModel {
  const n = 5000;
  const users = 1000;
  const rank = 32;
  const stays = 30;
  let s = 7;
  const rand = (): number => ((s = (s * 48271) % 2147483647) / 2147483647);
  const ptr = Int32Array.from({ length: users + 1 }, (_, u) => u * stays);
  const idx = Int32Array.from({ length: users * stays }, () => Math.floor(rand() * n));
  return {
    id: 'als', name: 'ALS (synthetic)', version: 'bench', userIds: Array.from({ length: users }, (_, u) => `u${u}`), listingIds: Array.from({ length: n }, (_, i) => `l${i}`),
    user: { users: Float32Array.from({ length: users * rank }, () => rand() - 0.5), ctxPtr: null, ctxIdx: null, ctxVal: null },
    item: { rank, items: Float32Array.from({ length: n * rank }, () => (rand() - 0.5) / 4), valid: null, bias: null, simPtr: null, simIdx: null, simVal: null },
    seen: { ptr, idx }, popularity: new Float32Array(n), nbhd: new Int32Array(n).fill(-1), nbhdNames: [],
    explain: { kind: 'als', regParam: 0.1, alpha: 20, implicitPrefs: true, ratings: new Float32Array(users * stays).fill(1) },
  };
}

async function explainRows(ctx: BenchContext): Promise<BenchResult[]> {
  const index = new ModelIndex(syntheticAls());
  const ask = (u: number, explain: boolean): void => void index.recommend({ user: `u${u % 1000}`, k: 5, nbhd: -1, context: [], unknownContext: 0, explain });
  ask(0, true); // builds YᵀY once, as a replica's first explained answer does
  const loads: string[] = [];
  const r = await repeat(ctx, 'explain', async () => {
    loads.push(load());
    const plain: number[] = [];
    const explained: number[] = [];
    for (let i = 0; i < 400; i++) {
      let t = performance.now();
      ask(i, false);
      plain.push(performance.now() - t);
      t = performance.now();
      ask(i, true);
      explained.push(performance.now() - t);
    }
    return { explained: percentile(explained, 50), plain: percentile(plain, 50) };
  }, { warmup: 1 });
  return [makeResult({
    metric: 'explained answer p50 (ALS, k = 5: top-3 past stays per item)', unit: 'ms', better: 'lower', samples: r.explained,
    baseline: 'the same answer without explain (the scoring call alone)', baselineSamples: r.plain,
    notes: `synthetic served ALS: 5,000 listings × rank 32, 1,000 users × 30 stays; 400 answers per run, interleaved; in process (no HTTP); load per run ${loads.join(', ')}`,
  })];
}

export async function run(ctx: BenchContext): Promise<BenchResult[]> {
  const results: BenchResult[] = [];
  if (ctx.enabled('explain')) results.push(...(await explainRows(ctx)));
  if (ctx.enabled('drift')) {
    await init({ numCpus: 2 });
    try {
      results.push(...(await driftRows(ctx)));
    } finally {
      await shutdown();
    }
  }
  return results;
}
