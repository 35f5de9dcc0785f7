/**
 * Data suite (issue 4's benchmarks), every metric against a baseline measured in the same run,
 * interleaved run by run:
 *
 * - groupBy (sum + mean) by a low-cardinality key (100 groups) and a high-cardinality key (N/10
 *   groups), and a shuffle hash join of N × N/10 rows: shoal's local cluster against DuckDB
 *   (in-process, 2 threads) on the same generated data. Rows are generated inside each engine
 *   (shoal: `range()` read tasks + fused withColumn; DuckDB: `range()`), so both times include
 *   making the input. Goal ≤ 3× DuckDB (moonshot ≤ 2×). The groupBy SQL also sums the aggregates in
 *   its outer query: with only `count(*)` over the grouped subquery DuckDB's optimizer drops sum, avg
 *   and the column v altogether and times a bare GROUP BY, while shoal computes both aggregates.
 * - Parquet scan: rows/s of `readParquet(file)` on the cluster against one parquet-wasm read of the
 *   whole file in this process. Goal: faster than the baseline. Also a scan of 1 of the 4 columns
 *   against the all-column scan of the same run (projection before decode).
 * - PostgreSQL read: rows/s of `readPostgres` (1 and 4 partitions, range-partitioned on the primary
 *   key) against `psql -c "COPY (SELECT * FROM table) TO STDOUT" > /dev/null` of the same table. Goal
 *   ≥ 70% of it with one partition, more with several.
 * - CSV read: rows/s of `readCsv` (given schema) on a generated 2M-row × 6-column file against DuckDB's
 *   read_csv of the same file with the same types, both counting every column's non-null values.
 * - Memory: a groupBy over data three times the object store's cap (the data is shuffled through the
 *   store by a repartition first) completes; reports the workers' peak RSS (VmHWM from /proc).
 *
 * shoal runs on `init({ numCpus: 2 })` (one worker process with 2 task threads). SHOAL_BENCH_ROWS
 * overrides the row count N (default 10M).
 */
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync, rmSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import * as arrow from 'apache-arrow';
import * as pq from 'parquet-wasm';
import pg from 'pg';
import { init, shutdown } from 'shoal';
import { agg, col, range, readCsv, readParquet, readPostgres, type Dataset } from 'shoal/data';
import { repeat, type BenchContext } from '../lib/context.js';
import { makeResult, type BenchResult } from '../lib/result.js';
import { median } from '../lib/stats.js';
import { forceGc, perSecond, timeAsync } from '../lib/timing.js';

const ROWS = Number(process.env.SHOAL_BENCH_ROWS ?? 10_000_000);
const RIGHT_ROWS = Math.max(1, Math.floor(ROWS / 10));
/** 1.25M rows per partition at 10M: several tasks per CPU for overlap, few enough to keep per-task overheads small. */
const PARTITIONS = 8;
const PARQUET_ROWS = 5_000_000;
const PG_ROWS = 1_000_000;
const CSV_ROWS = 2_000_000;
const PG_URL = process.env.SHOAL_BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const MEMORY_STORE_BYTES = 64 * 1024 * 1024;
const fmtRows = (n: number): string => (n >= 1e6 ? `${+(n / 1e6).toFixed(1)}M` : `${+(n / 1e3).toFixed(1)}k`);

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
    metric: `groupBy sum+mean, 100 groups, ${fmtRows(ROWS)} rows`,
    shoal: () => facts().groupBy('k_low').agg(agg.sum('v', 's'), agg.mean('v', 'm')).count(),
    sql: `SELECT count(*), sum(s), sum(m) FROM (SELECT k_low, sum(v) AS s, avg(v) AS m FROM ${FACTS_SQL} GROUP BY k_low)`,
  },
  {
    key: 'groupby-high',
    metric: `groupBy sum+mean, ${fmtRows(RIGHT_ROWS)} groups, ${fmtRows(ROWS)} rows`,
    shoal: () => facts().groupBy('k_high').agg(agg.sum('v', 's'), agg.mean('v', 'm')).count(),
    sql: `SELECT count(*), sum(s), sum(m) FROM (SELECT k_high, sum(v) AS s, avg(v) AS m FROM ${FACTS_SQL} GROUP BY k_high)`,
  },
  {
    key: 'join',
    metric: `shuffle hash join ${fmtRows(ROWS)} × ${fmtRows(RIGHT_ROWS)} rows, count`,
    shoal: () =>
      facts()
        .join(range(RIGHT_ROWS, { numPartitions: 2 }).rename({ id: 'k_high' }).withColumn('w', col('k_high').mul(2)), 'k_high')
        .withOptions({ broadcastThresholdBytes: 0 })
        .count(),
    sql: `SELECT count(*) FROM ${FACTS_SQL} a JOIN (SELECT range AS k_high, range * 2 AS w FROM range(${RIGHT_ROWS})) b USING (k_high)`,
  },
];

async function duckCount(conn: DuckDBConnection, sql: string): Promise<number> {
  const r = await conn.runAndReadAll(sql);
  return Number(r.getRowsJS()[0]![0]);
}

function failed(ctx: BenchContext, key: string, err: unknown): BenchResult {
  ctx.log(`  ${key} FAILED: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  return makeResult({ metric: `${key} (failed)`, unit: '', better: 'lower', samples: [], baseline: '', baselineSamples: [], notes: `failed: ${err instanceof Error ? err.message : String(err)}` });
}

async function engineCases(ctx: BenchContext, conn: DuckDBConnection, results: BenchResult[]): Promise<void> {
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
          target: 3 * median(r.baseline),
          samples: r.value,
          baseline: 'DuckDB in-process, 2 threads, same query',
          baselineSamples: r.baseline,
          notes: `${PARTITIONS} input partitions; time from building the plan to count() resolving (input generated inside each engine); target = 3 × the baseline median (issue goal; moonshot 2×)`,
        }),
      );
    } catch (err) {
      results.push(failed(ctx, c.key, err));
    }
  }
}

/** parquet-wasm read of the whole file into an Arrow table, in this process (the baseline). */
function wasmRead(bytes: Uint8Array): number {
  return arrow.tableFromIPC(pq.readParquet(bytes).intoIPCStream()).numRows;
}

async function parquetCase(ctx: BenchContext, conn: DuckDBConnection, results: BenchResult[]): Promise<void> {
  if (!ctx.enabled('parquet')) return;
  ctx.log('[parquet]');
  const dir = mkdtempSync(join(tmpdir(), 'shoal-bench-parquet-'));
  try {
    const file = join(dir, 'facts.parquet');
    // 8 row groups (one read task each); DuckDB writes it (snappy).
    await conn.run(
      `COPY (SELECT range AS id, range % 100 AS k, CAST((range * 7919) % 1000 AS DOUBLE) AS v, 'name-' || (range % 1000) AS s FROM range(${PARQUET_ROWS})) TO '${file}' (FORMAT parquet, ROW_GROUP_SIZE ${Math.ceil(PARQUET_ROWS / 8)})`,
    );
    // Every column is read (a filter over all of them that keeps every row), so the count is not from metadata.
    const scan = (): Promise<number> => readParquet(file).filter(col('id').ge(0).and(col('k').ge(0)).and(col('v').ge(0)).and(col('s').isNotNull())).count();
    // One column of four (projection pushed into the reader: the other column chunks are neither read nor decoded).
    const scanOne = (): Promise<number> => readParquet(file, { columns: ['k'] }).filter(col('k').ge(0)).count();
    const r = await repeat(
      ctx,
      'parquet',
      async () => {
        forceGc();
        let n = 0;
        const ms = await timeAsync(async () => {
          n = await scan();
        });
        let m = 0;
        const baseMs = await timeAsync(() => {
          m = wasmRead(readFileSync(file));
        });
        let one = 0;
        const oneMs = await timeAsync(async () => {
          one = await scanOne();
        });
        if (n !== PARQUET_ROWS || m !== PARQUET_ROWS || one !== PARQUET_ROWS) throw new Error(`parquet: shoal read ${n} rows (${one} with one column), parquet-wasm ${m}, expected ${PARQUET_ROWS}`);
        return { value: perSecond(n, ms), baseline: perSecond(m, baseMs), oneColumn: perSecond(one, oneMs) };
      },
      { warmup: 1 },
    );
    results.push(
      makeResult({
        metric: `Parquet scan, ${fmtRows(PARQUET_ROWS)} rows × 4 columns (8 row groups)`,
        unit: 'rows/s',
        better: 'higher',
        target: median(r.baseline),
        samples: r.value,
        baseline: 'one parquet-wasm read of the whole file, this process',
        baselineSamples: r.baseline,
        notes: 'shoal: readParquet(file) + a filter on every column that keeps every row, count(), 2 task threads; goal ratio > 1',
      }),
    );
    results.push(
      makeResult({
        metric: `Parquet scan, ${fmtRows(PARQUET_ROWS)} rows, 1 of 4 columns (projection before decode)`,
        unit: 'rows/s',
        better: 'higher',
        samples: r.oneColumn,
        baseline: 'shoal scan of all 4 columns, same run',
        baselineSamples: r.value,
        notes: "readParquet(file, { columns: ['k'] }) + a filter on k that keeps every row, count(); the other columns' chunks are neither read nor decoded",
      }),
    );
  } catch (err) {
    results.push(failed(ctx, 'parquet', err));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function psqlCopy(sql: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = execFile('sh', ['-c', `psql "${PG_URL}" -X -q -c "COPY (${sql}) TO STDOUT" > /dev/null`], (err) => (err ? reject(err) : resolve()));
    child.stdin?.end();
  });
}

async function postgresCase(ctx: BenchContext, results: BenchResult[]): Promise<void> {
  if (!ctx.enabled('postgres')) return;
  ctx.log('[postgres]');
  const table = `shoal_bench_read_${process.pid}`;
  let client: pg.Client | undefined;
  try {
    client = new pg.Client({ connectionString: PG_URL });
    await client.connect();
    await client.query(`DROP TABLE IF EXISTS ${table}`);
    await client.query(
      `CREATE TABLE ${table} AS SELECT g::bigint AS id, (g % 100)::int AS k, ((g * 7919) % 1000)::double precision AS v, 'name-' || (g % 1000) AS s FROM generate_series(1::bigint, ${PG_ROWS}::bigint) g`,
    );
    // A warehouse table has a primary key: each range partition is then an index range scan instead
    // of a scan of the whole table.
    await client.query(`ALTER TABLE ${table} ADD PRIMARY KEY (id)`);
    await client.query(`ANALYZE ${table}`);
    for (const parts of [1, 4]) {
      const read = (): Promise<number> =>
        readPostgres({ url: PG_URL, table, ...(parts > 1 ? { partitionColumn: 'id', lowerBound: 1, upperBound: PG_ROWS + 1, numPartitions: parts } : {}) }).count();
      const r = await repeat(
        ctx,
        `postgres-${parts}`,
        async () => {
          forceGc();
          let n = 0;
          const ms = await timeAsync(async () => {
            n = await read();
          });
          const baseMs = await timeAsync(() => psqlCopy(`SELECT * FROM ${table}`));
          if (n !== PG_ROWS) throw new Error(`postgres: read ${n} rows, expected ${PG_ROWS}`);
          return { value: perSecond(n, ms), baseline: perSecond(PG_ROWS, baseMs) };
        },
        { warmup: 1 },
      );
      results.push(
        makeResult({
          metric: `PostgreSQL read, ${fmtRows(PG_ROWS)} rows × 4 columns, ${parts} partition${parts > 1 ? 's' : ''}`,
          unit: 'rows/s',
          better: 'higher',
          target: parts === 1 ? 0.7 * median(r.baseline) : median(r.baseline),
          samples: r.value,
          baseline: 'psql COPY (SELECT *) TO STDOUT > /dev/null',
          baselineSamples: r.baseline,
          notes: `readPostgres(...).count() into Arrow on the cluster (2 task threads); target: ≥ 0.7× the baseline with one partition, ≥ 1× with several`,
        }),
      );
    }
  } catch (err) {
    results.push(failed(ctx, 'postgres', err));
  } finally {
    if (client !== undefined) {
      await client.query(`DROP TABLE IF EXISTS ${table}`).catch(() => undefined);
      await client.end().catch(() => undefined);
    }
  }
}

/** 6 columns: int64 id, int32 with nulls, float64, a string (some quoted, with commas), a date with nulls, float64 with nulls. */
const CSV_COLUMNS = { id: 'int64', qty: 'int32', price: 'float64', name: 'utf8', day: 'date', score: 'float64' } as const;
const CSV_DUCK_COLUMNS = "{'id': 'BIGINT', 'qty': 'INTEGER', 'price': 'DOUBLE', 'name': 'VARCHAR', 'day': 'DATE', 'score': 'DOUBLE'}";

async function csvCase(ctx: BenchContext, conn: DuckDBConnection, results: BenchResult[]): Promise<void> {
  if (!ctx.enabled('csv')) return;
  ctx.log('[csv]');
  const dir = mkdtempSync(join(tmpdir(), 'shoal-bench-csv-'));
  try {
    const file = join(dir, 'facts.csv');
    await conn.run(
      `COPY (SELECT range AS id, CASE WHEN range % 10 = 0 THEN NULL ELSE (range * 7919) % 100000 END::INTEGER AS qty, ((range * 31) % 100000) / 100.0 AS price, CASE WHEN range % 7 = 0 THEN 'item, ' || (range % 5000) ELSE 'item-' || (range % 5000) END AS name, CASE WHEN range % 9 = 0 THEN NULL ELSE DATE '2020-01-01' + CAST(range % 1500 AS INTEGER) END AS day, CASE WHEN range % 4 = 0 THEN NULL ELSE sqrt(range) END AS score FROM range(${CSV_ROWS})) TO '${file}' (FORMAT csv, HEADER true)`,
    );
    // Counting every column's non-null values makes both engines parse every field.
    const counts = ['id', 'qty', 'price', 'name', 'day', 'score'];
    const shoalCounts = async (): Promise<number[]> => {
      const [row] = await readCsv(file, { schema: CSV_COLUMNS, mode: 'failfast' })
        .agg(...counts.map((c) => agg.count(c, c)))
        .take(1);
      return counts.map((c) => Number(row![c]));
    };
    const duckCounts = async (): Promise<number[]> => {
      const r = await conn.runAndReadAll(`SELECT ${counts.map((c) => `count(${c})`).join(', ')} FROM read_csv('${file}', header = true, columns = ${CSV_DUCK_COLUMNS})`);
      return r.getRowsJS()[0]!.map(Number);
    };
    let checked = false;
    const r = await repeat(
      ctx,
      'csv',
      async () => {
        forceGc();
        let mine: number[] = [];
        const ms = await timeAsync(async () => {
          mine = await shoalCounts();
        });
        let theirs: number[] = [];
        const baseMs = await timeAsync(async () => {
          theirs = await duckCounts();
        });
        if (!checked && mine.join() !== theirs.join()) throw new Error(`csv: shoal counted ${mine.join(',')}, DuckDB ${theirs.join(',')}`);
        checked = true;
        return { value: perSecond(CSV_ROWS, ms), baseline: perSecond(CSV_ROWS, baseMs) };
      },
      { warmup: 1 },
    );
    results.push(
      makeResult({
        metric: `CSV read, ${fmtRows(CSV_ROWS)} rows × 6 columns (int, float, string, date, nulls)`,
        unit: 'rows/s',
        better: 'higher',
        samples: r.value,
        baseline: "DuckDB read_csv, in-process, 2 threads, same file and types",
        baselineSamples: r.baseline,
        notes: 'shoal: readCsv(file, { schema }) then a count of every column (one file = one read task); DuckDB: the same counts over read_csv with the same column types',
      }),
    );
  } catch (err) {
    results.push(failed(ctx, 'csv', err));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Peak RSS (VmHWM, bytes) of this process's child worker processes. */
function workerPeakRss(): number {
  let peak = 0;
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid !== process.pid || !readFileSync(`/proc/${d}/cmdline`, 'utf8').includes('worker-main')) continue;
      const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${d}/status`, 'utf8'));
      if (m) peak = Math.max(peak, Number(m[1]) * 1024);
    } catch {
      // the process exited while we looked
    }
  }
  return peak;
}

async function memoryCase(ctx: BenchContext, results: BenchResult[]): Promise<void> {
  if (!ctx.enabled('memory')) return;
  ctx.log('[memory]');
  // 4 columns × 8 bytes a row; three times the store's cap.
  const rows = Math.ceil((3 * MEMORY_STORE_BYTES) / 32);
  try {
    await init({ numCpus: 2, objectStoreMemory: MEMORY_STORE_BYTES });
    let groups = 0;
    const ms = await timeAsync(async () => {
      groups = await range(rows, { numPartitions: 24 })
        .withColumn('k', col('id').mod(1000))
        .withColumn('v', col('id').mul(3).mod(97).cast('float64'))
        .withColumn('w', col('id').mod(7))
        .repartition(24)
        .groupBy('k')
        .agg(agg.sum('v', 's'), agg.mean('w', 'm'))
        .count();
    });
    if (groups !== 1000) throw new Error(`memory: ${groups} groups, expected 1000`);
    const peak = workerPeakRss();
    results.push(
      makeResult({
        metric: `groupBy over ${fmtRows(rows)} rows (${((rows * 32) / 2 ** 20).toFixed(0)} MiB, 3× the store cap) completes: worker peak RSS`,
        unit: 'MiB',
        better: 'lower',
        samples: [peak / 2 ** 20],
        baseline: `object store cap (init({ objectStoreMemory }))`,
        baselineSamples: [MEMORY_STORE_BYTES / 2 ** 20],
        notes: `one run, ${(ms / 1000).toFixed(1)} s; the data goes through the store (repartition(24) before the groupBy); peak RSS = max VmHWM of the worker processes`,
      }),
    );
  } catch (err) {
    results.push(failed(ctx, 'memory', err));
  } finally {
    await shutdown();
  }
}

export async function run(ctx: BenchContext): Promise<BenchResult[]> {
  const results: BenchResult[] = [];
  ctx.log(`starting a local cluster: init({ numCpus: 2 }); N = ${ROWS} rows`);
  await init({ numCpus: 2 });
  const duck = await DuckDBInstance.create(':memory:', { threads: '2' });
  const conn = await duck.connect();
  try {
    await engineCases(ctx, conn, results);
    await parquetCase(ctx, conn, results);
    await postgresCase(ctx, results);
    await csvCase(ctx, conn, results);
  } finally {
    conn.closeSync();
    duck.closeSync();
    await shutdown();
  }
  await memoryCase(ctx, results);
  return results;
}
