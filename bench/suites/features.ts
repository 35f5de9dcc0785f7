/**
 * Features suite: fit and transform of a six-stage featurization pipeline on generated rows, against
 * DuckDB computing the same statistics (fit) and the same output columns (transform) in SQL, in the
 * same run (interleaved run by run). Rows are generated inside each engine (shoal: `range()` read
 * tasks + fused withColumn; DuckDB: `range()`), so both times include making the input. shoal runs on
 * `init({ numCpus: 2 })`; DuckDB with 2 threads.
 *
 * Stages: Imputer(x, mean) → StandardScaler(x) → MinMaxScaler(y) → QuantileDiscretizer(y, 4 buckets,
 * sketch ε = 0.001) → StringIndexer(cat, 50 categories) → FrequencyEncoder(cat).
 *
 * Row count: FEATURES_BENCH_ROWS (default 10M, the issue's size: about 4.5 min per run on 2 cores, so
 * `--runs 1` is practical; `FEATURES_BENCH_ROWS=2000000` for a quick run).
 */
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { init, shutdown } from 'shoal';
import { agg, col, lit, range, when, type Dataset } from 'shoal/data';
import {
  FrequencyEncoder, Imputer, MinMaxScaler, Pipeline, QuantileDiscretizer, StandardScaler, StringIndexer, type PipelineModel,
} from 'shoal/features';
import { repeat, type BenchContext } from '../lib/context.js';
import { makeResult, type BenchResult } from '../lib/result.js';
import { forceGc, perSecond, timeAsync } from '../lib/timing.js';
import { median } from '../lib/stats.js';

const ROWS = Number(process.env.FEATURES_BENCH_ROWS ?? 10_000_000);
const PARTITIONS = 8;
const fmtRows = (n: number): string => (n >= 1e6 ? `${n / 1e6}M` : `${n / 1e3}k`);

function rows(): Dataset {
  return range(ROWS, { numPartitions: PARTITIONS })
    .withColumn('x', when(col('id').mod(10).eq(0), lit(null).cast('float64')).otherwise(col('id').mul(7919).mod(1000).cast('float64')))
    .withColumn('y', col('id').mul(31).mod(500).cast('float64'))
    .withColumn('cat', col('id').mul(13).mod(50).cast('utf8'));
}

const ROWS_SQL = `(SELECT range AS id, CASE WHEN range % 10 = 0 THEN NULL ELSE CAST((range * 7919) % 1000 AS DOUBLE) END AS x, CAST((range * 31) % 500 AS DOUBLE) AS y, CAST((range * 13) % 50 AS VARCHAR) AS cat FROM range(${ROWS}))`;

// The statistics the six stages fit, in SQL.
const FIT_SQL = `
WITH t AS ${ROWS_SQL}, m AS (SELECT avg(x) AS mx FROM t), i AS (SELECT coalesce(x, (SELECT mx FROM m)) AS xi, y, cat FROM t)
SELECT (SELECT avg(xi) FROM i), (SELECT stddev_samp(xi) FROM i), (SELECT min(y) FROM i), (SELECT max(y) FROM i),
       (SELECT approx_quantile(y, [0.25, 0.5, 0.75]) FROM i), (SELECT count(*) FROM (SELECT cat, count(*) FROM i GROUP BY cat))`;

function pipeline(): Pipeline {
  return new Pipeline([
    new Imputer({ inputCols: ['x'], strategy: 'mean' }),
    new StandardScaler({ inputCols: ['x'], outputCols: ['x_z'] }),
    new MinMaxScaler({ inputCols: ['y'], outputCols: ['y_mm'] }),
    new QuantileDiscretizer({ inputCol: 'y', numBuckets: 4 }),
    new StringIndexer({ inputCol: 'cat', handleInvalid: 'keep' }),
    new FrequencyEncoder({ inputCol: 'cat' }),
  ]);
}

/** The transform's outputs summed (so every output column is computed). */
async function shoalTransform(model: PipelineModel): Promise<number> {
  const [r] = await model
    .transform(rows())
    .agg(agg.sum('x_z', 'a'), agg.sum('y_mm', 'b'), agg.sum('y_bucket', 'c'), agg.sum('cat_index', 'd'), agg.sum('cat_freq', 'e'), agg.count(undefined, 'n'))
    .take(1);
  return Number(r!['n']);
}

/** DuckDB's equivalent transform with the fitted constants inlined. */
function transformSql(model: PipelineModel): string {
  const [imp, std, mm, bucket, idx, freq] = model.stages as unknown as [
    { surrogates: Float64Array }, { mean: Float64Array; std: Float64Array }, { originalMin: Float64Array; originalMax: Float64Array },
    { splits: number[] }, { labels: string[] }, { labels: string[]; values: Float64Array },
  ];
  const inner = bucket.splits.slice(1, -1);
  const bucketCase = `CASE ${inner.map((s, i) => `WHEN y < ${s} THEN ${i}`).join(' ')} ELSE ${inner.length} END`;
  const idxValues = idx.labels.map((l, i) => `('${l}', ${i})`).join(',');
  const freqValues = freq.labels.map((l, i) => `('${l}', ${freq.values[i]})`).join(',');
  return `WITH t AS ${ROWS_SQL}, ix(cat, i) AS (VALUES ${idxValues}), fq(cat, f) AS (VALUES ${freqValues})
SELECT sum((coalesce(x, ${imp.surrogates[0]}) - ${std.mean[0]}) / ${std.std[0]}), sum((y - ${mm.originalMin[0]}) / ${mm.originalMax[0]! - mm.originalMin[0]!}),
       sum(${bucketCase}), sum(coalesce(ix.i, ${idx.labels.length})), sum(fq.f), count(*)
FROM t LEFT JOIN ix USING (cat) LEFT JOIN fq USING (cat)`;
}

async function duckRun(conn: DuckDBConnection, sql: string): Promise<unknown[]> {
  const r = await conn.runAndReadAll(sql);
  return r.getRowsJS()[0]!;
}

export async function run(ctx: BenchContext): Promise<BenchResult[]> {
  const results: BenchResult[] = [];
  ctx.log(`starting a local cluster: init({ numCpus: 2 }); ${fmtRows(ROWS)} rows`);
  await init({ numCpus: 2 });
  const duck = await DuckDBInstance.create(':memory:', { threads: '2' });
  const conn = await duck.connect();
  try {
    let model: PipelineModel | undefined;
    if (ctx.enabled('fit')) {
      ctx.log('[fit]');
      const r = await repeat(ctx, 'fit', async () => {
        forceGc();
        const ms = await timeAsync(async () => {
          model = await pipeline().fit(rows());
        });
        const baseMs = await timeAsync(() => duckRun(conn, FIT_SQL));
        return { value: perSecond(ROWS, ms), baseline: perSecond(ROWS, baseMs) };
      }, { warmup: 1 });
      results.push(
        makeResult({
          metric: `fit of a six-stage pipeline, ${fmtRows(ROWS)} rows`,
          unit: 'rows/s',
          better: 'higher',
          samples: r.value,
          baseline: 'DuckDB in-process, 2 threads: the same statistics in one SQL query',
          baselineSamples: r.baseline,
          notes: `${PARTITIONS} partitions; stages fitted in order, each on the input transformed by the earlier stages it depends on (Pipeline.fit caches the generated input once and reads it 6 times); DuckDB computes mean, stddev_samp of the imputed column, min/max, approx_quantile and group counts in one query`,
        }),
      );
    }
    if (ctx.enabled('transform')) {
      ctx.log('[transform]');
      model ??= await pipeline().fit(rows());
      const m = model;
      const sql = transformSql(m);
      let checked = false;
      const r = await repeat(
        ctx,
        'transform',
        async () => {
          forceGc();
          let n = 0;
          const ms = await timeAsync(async () => {
            n = await shoalTransform(m);
          });
          let duckN = 0;
          const baseMs = await timeAsync(async () => {
            duckN = Number((await duckRun(conn, sql))[5]);
          });
          if (!checked && (n !== ROWS || duckN !== ROWS)) throw new Error(`transform: shoal ${n} rows, DuckDB ${duckN}, expected ${ROWS}`);
          checked = true;
          return { value: perSecond(ROWS, ms), baseline: perSecond(ROWS, baseMs) };
        },
        { warmup: 1 },
      );
      results.push(
        makeResult({
          metric: `transform of the fitted six-stage pipeline, ${fmtRows(ROWS)} rows`,
          unit: 'rows/s',
          better: 'higher',
          samples: r.value,
          baseline: 'DuckDB in-process, 2 threads: the same output columns in SQL (fitted constants inlined), summed',
          baselineSamples: r.baseline,
          notes: `${PARTITIONS} partitions, one fused per-partition task running all six kernels, outputs summed by a global agg; median baseline ${median(r.baseline).toPrecision(3)} rows/s`,
        }),
      );
    }
  } finally {
    conn.closeSync();
    duck.closeSync();
    await shutdown();
  }
  return results;
}
