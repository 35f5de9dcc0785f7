/**
 * Data suite: Dataset groupBy and join on generated rows against DuckDB running the same query on
 * the same machine, in the same run (interleaved run by run). Rows are generated inside the engines
 * (shoal: `range()` read tasks + fused withColumn; DuckDB: `range()`), so both times include making
 * the input. shoal runs on `init({ numCpus: 2 })`: one worker process with 2 task threads.
 */
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { agg, col, init, range, shutdown, type Dataset } from 'shoal';
import { repeat, type BenchContext } from '../lib/context.js';
import { makeResult, type BenchResult } from '../lib/result.js';
import { forceGc, timeAsync } from '../lib/timing.js';

const ROWS = 2_000_000;
const RIGHT_ROWS = 100_000;
const PARTITIONS = 8;

function facts(): Dataset {
  return range(ROWS, { numPartitions: PARTITIONS })
    .withColumn('k_low', col('id').mod(100))
    .withColumn('k_high', col('id').mod(RIGHT_ROWS))
    .withColumn('v', col('id').mul(7919).mod(1000).cast('float64'));
}

const FACTS_SQL = `(SELECT range AS id, range % 100 AS k_low, range % ${RIGHT_ROWS} AS k_high, CAST((range * 7919) % 1000 AS DOUBLE) AS v FROM range(${ROWS}))`;

interface Case {
  key: string;
  metric: string;
  shoal: () => Promise<number>;
  sql: string;
}

const CASES: Case[] = [
  {
    key: 'groupby-low',
    metric: `groupBy sum+mean, 100 groups, ${ROWS / 1e6}M rows`,
    shoal: () => facts().groupBy('k_low').agg(agg.sum('v', 's'), agg.mean('v', 'm')).count(),
    sql: `SELECT count(*) FROM (SELECT k_low, sum(v), avg(v) FROM ${FACTS_SQL} GROUP BY k_low)`,
  },
  {
    key: 'groupby-high',
    metric: `groupBy sum+mean, ${RIGHT_ROWS / 1000}k groups, ${ROWS / 1e6}M rows`,
    shoal: () => facts().groupBy('k_high').agg(agg.sum('v', 's'), agg.mean('v', 'm')).count(),
    sql: `SELECT count(*) FROM (SELECT k_high, sum(v), avg(v) FROM ${FACTS_SQL} GROUP BY k_high)`,
  },
  {
    key: 'join',
    metric: `shuffle hash join ${ROWS / 1e6}M × ${RIGHT_ROWS / 1000}k rows, count`,
    shoal: () =>
      facts()
        .join(range(RIGHT_ROWS, { numPartitions: 2 }).rename({ id: 'k_high' }).withColumn('w', col('k_high').mul(2)), 'k_high')
        .withOptions({ broadcastThresholdRows: 0 })
        .count(),
    sql: `SELECT count(*) FROM ${FACTS_SQL} a JOIN (SELECT range AS k_high, range * 2 AS w FROM range(${RIGHT_ROWS})) b USING (k_high)`,
  },
];

async function duckCount(conn: DuckDBConnection, sql: string): Promise<number> {
  const r = await conn.runAndReadAll(sql);
  return Number(r.getRowsJS()[0]![0]);
}

export async function run(ctx: BenchContext): Promise<BenchResult[]> {
  const results: BenchResult[] = [];
  ctx.log('starting a local cluster: init({ numCpus: 2 })');
  await init({ numCpus: 2 });
  const duck = await DuckDBInstance.create(':memory:', { threads: '2' });
  const conn = await duck.connect();
  try {
    for (const c of CASES) {
      if (!ctx.enabled(c.key)) continue;
      ctx.log(`[${c.key}]`);
      try {
        let checked = false;
        const r = await repeat(
          ctx,
          c.key,
          async () => {
            forceGc();
            let shoalCount = 0;
            const ms = await timeAsync(async () => {
              shoalCount = await c.shoal();
            });
            let duckResult = 0;
            const baseMs = await timeAsync(async () => {
              duckResult = await duckCount(conn, c.sql);
            });
            if (!checked && shoalCount !== duckResult) throw new Error(`${c.key}: shoal counted ${shoalCount} rows, DuckDB ${duckResult}`);
            checked = true;
            return { value: ms, baseline: baseMs };
          },
          { warmup: 1 },
        );
        results.push(
          makeResult({
            metric: c.metric,
            unit: 'ms',
            better: 'lower',
            samples: r.value,
            baseline: 'DuckDB in-process, 2 threads, same query',
            baselineSamples: r.baseline,
            notes: `${PARTITIONS} input partitions; time from building the plan to count() resolving (input generated inside each engine); issue goal ≤ 3× DuckDB (ratio ≤ 3)`,
          }),
        );
      } catch (err) {
        ctx.log(`  ${c.key} FAILED: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
        results.push(makeResult({ metric: `${c.key} (failed)`, unit: '', better: 'lower', samples: [], baseline: '', baselineSamples: [], notes: `failed: ${err instanceof Error ? err.message : String(err)}` }));
      }
    }
  } finally {
    conn.closeSync();
    duck.closeSync();
    await shutdown();
  }
  return results;
}
