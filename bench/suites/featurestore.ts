/**
 * Feature store suite (issue 16), each metric against a baseline measured in the same run,
 * interleaved run by run:
 *
 * - [lookup] getOnlineFeatures of 100 entities × 20 features from Redis (one view, one pipeline of
 *   HMGETs, msgpackr values decoded into rows), p50 and p99 over LOOKUPS calls, against one raw
 *   ioredis pipeline of HMGETs of the same keys and fields (values left as Buffers). Target p50 ≤ 1.5×.
 * - [materialize] materialize() of MAT_ROWS entities × 10 features into Redis (source Dataset →
 *   shuffle by key → latest per key → pipelined writes from the partitions on the workers), against
 *   the same rows written by this process in raw pipelined HSETs of msgpackr values. Target ≥ 0.7×.
 * - [historical] getHistoricalFeatures of HIST_ROWS entity rows × 10 features (point-in-time, from
 *   HIST_ROWS feature rows over 100k entities) against DuckDB's ASOF LEFT JOIN on the same generated
 *   data (2 threads); the row count and a feature's sum are checked equal.
 *
 * shoal runs on `init({ numCpus: 2 })`; Redis at 127.0.0.1:6379 (REDIS_URL), keys under a unique prefix
 * removed at the end.
 */
import { mkdtempSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { Redis } from 'ioredis';
import { pack } from 'msgpackr';
import { init, shutdown } from 'shoal';
import { agg, col, range, type Dataset } from 'shoal/data';
import { FeatureStore, RedisOnlineStore, defineEntity, defineFeatureView } from 'shoal/features';
import { repeat, type BenchContext } from '../lib/context.js';
import { makeResult, type BenchResult } from '../lib/result.js';
import { forceGc, latencySummary, perSecond, timeAsync } from '../lib/timing.js';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379/0';
const LOOKUP_ENTITIES = 10_000;
const LOOKUPS = Number(process.env.FEATURESTORE_LOOKUPS ?? 2000);
const MAT_ROWS = Number(process.env.FEATURESTORE_MAT_ROWS ?? 200_000);
const HIST_ROWS = Number(process.env.FEATURESTORE_HIST_ROWS ?? 1_000_000);
const HIST_KEYS = 100_000;
const PARTITIONS = 8;
const fmtRows = (n: number): string => (n >= 1e6 ? `${n / 1e6}M` : `${n / 1e3}k`);
const registryDir = mkdtempSync(join(tmpdir(), 'shoal-bench-fs-'));
const names = (n: number, p: string): string[] => Array.from({ length: n }, (_, j) => `${p}${j}`);

function entityRows(n: number, features: readonly string[]): Dataset {
  let ds = range(n, { numPartitions: PARTITIONS }).withColumn('ts', col('id').mod(1000).cast('float64'));
  features.forEach((f, j) => (ds = ds.withColumn(f, col('id').mul(j + 3).mod(997).cast('float64'))));
  return ds;
}

async function lookup(ctx: BenchContext, prefix: string, results: BenchResult[]): Promise<void> {
  const features = names(20, 'f');
  const listing = defineEntity({ name: 'listing', joinKeys: 'id' });
  const view = defineFeatureView({ name: 'wide', entities: [listing], source: { kind: 'dataset', dataset: entityRows(LOOKUP_ENTITIES, features) }, timestampField: 'ts', features: Object.fromEntries(features.map((f) => [f, 'float64' as const])) });
  const fs = new FeatureStore({ registry: registryDir, online: { redis: { url: REDIS_URL, prefix } } });
  const raw = new Redis(REDIS_URL);
  try {
    await fs.apply([view]);
    await fs.materialize(0, 1000);
    let seed = 7;
    const batch = (): { id: number }[] => Array.from({ length: 100 }, () => ({ id: (seed = (seed * 48271) % 2147483647) % LOOKUP_ENTITIES }));
    const rawLookup = async (rows: { id: number }[]): Promise<void> => {
      const pipe = raw.pipeline();
      for (const r of rows) pipe.hmgetBuffer(`${prefix}:v:wide:${r.id}`, ...features, '_ts');
      await pipe.exec();
    };
    const check = await fs.getOnlineFeatures([{ id: 5 }], features.map((f) => `wide:${f}`));
    if (check[0]!['f1'] !== (5 * 4) % 997) throw new Error(`lookup: wrong value ${String(check[0]!['f1'])}`);
    const refs = features.map((f) => `wide:${f}`);
    const r = await repeat(ctx, 'lookup', async () => {
      forceGc();
      const ours: number[] = [];
      const base: number[] = [];
      for (let i = 0; i < LOOKUPS; i++) {
        const rows = batch();
        // Alternate which goes first, so neither always runs right after the other's garbage.
        for (const which of i % 2 === 0 ? ['ours', 'base'] : ['base', 'ours']) {
          const t0 = performance.now();
          if (which === 'ours') await fs.getOnlineFeatures(rows, refs);
          else await rawLookup(rows);
          (which === 'ours' ? ours : base).push(performance.now() - t0);
        }
      }
      const a = latencySummary(ours);
      const b = latencySummary(base);
      return { p50: a.p50, p99: a.p99, baseP50: b.p50, baseP99: b.p99 };
    }, { warmup: 1 });
    const common = { unit: 'ms', better: 'lower' as const, baseline: 'one raw ioredis pipeline of HMGETs of the same 100 keys × 21 fields (Buffers, not decoded)' };
    results.push(makeResult({ ...common, metric: 'online lookup 100 entities × 20 features, p50', samples: r.p50, baselineSamples: r.baseP50, target: 1.5 * Math.min(...r.baseP50), notes: `${LOOKUPS} calls per run, alternating with the baseline; target = 1.5 × the best run's baseline p50; includes key checks, msgpackr decode and row building` }));
    results.push(makeResult({ ...common, metric: 'online lookup 100 entities × 20 features, p99', samples: r.p99, baselineSamples: r.baseP99 }));
  } finally {
    raw.disconnect();
    await fs.close();
  }
}

async function materialize(ctx: BenchContext, prefix: string, results: BenchResult[]): Promise<void> {
  const features = names(10, 'm');
  const listing = defineEntity({ name: 'listing', joinKeys: 'id' });
  const source = await entityRows(MAT_ROWS, features).materialize();
  const view = defineFeatureView({ name: 'mat', entities: [listing], source: { kind: 'dataset', dataset: source }, timestampField: 'ts', features: Object.fromEntries(features.map((f) => [f, 'float64' as const])) });
  const fs = new FeatureStore({ registry: registryDir, online: { redis: { url: REDIS_URL, prefix } }, numPartitions: PARTITIONS });
  const raw = new Redis(REDIS_URL);
  const rows = (await source.toArrow()).toArray().map((r) => r.toJSON() as Record<string, number>);
  const rawWrite = async (): Promise<void> => {
    for (let i = 0; i < rows.length; i += 10_000) {
      const pipe = raw.pipeline();
      for (const r of rows.slice(i, i + 10_000)) {
        const args: (string | Buffer)[] = [];
        for (const f of features) args.push(f, pack(r[f]));
        args.push('_ts', pack(r['ts']));
        pipe.hset(`${prefix}:raw:${r['id']}`, ...(args as [string, Buffer]));
      }
      await pipe.exec();
    }
  };
  try {
    await fs.apply([view]);
    const r = await repeat(ctx, 'materialize', async () => {
      forceGc();
      let n = 0;
      const ms = await timeAsync(async () => {
        n = (await fs.materialize(0, 1000))[0]!.rows;
      });
      if (n !== MAT_ROWS) throw new Error(`materialize wrote ${n} rows, expected ${MAT_ROWS}`);
      const baseMs = await timeAsync(rawWrite);
      return { value: perSecond(MAT_ROWS, ms), baseline: perSecond(MAT_ROWS, baseMs) };
    }, { warmup: 1 });
    results.push(makeResult({
      metric: `materialize ${fmtRows(MAT_ROWS)} entities × 10 features into Redis`, unit: 'rows/s', better: 'higher', samples: r.value, target: 0.7 * Math.max(...r.baseline),
      baseline: 'this process: raw pipelined HSETs (10k per pipeline) of the same rows, msgpackr values, rows already in memory',
      baselineSamples: r.baseline, notes: `source cached in the object store; ${PARTITIONS} partitions: shuffle by key, latest per key, writes from the workers; target = 0.7 × the best run's baseline`,
    }));
  } finally {
    raw.disconnect();
    await fs.close();
  }
}

async function historical(ctx: BenchContext, results: BenchResult[]): Promise<void> {
  const features = names(10, 'h');
  const user = defineEntity({ name: 'user', joinKeys: 'k' });
  // Feature rows: HIST_KEYS entities, each with HIST_ROWS / HIST_KEYS updates at distinct times.
  let src = range(HIST_ROWS, { numPartitions: PARTITIONS }).withColumn('k', col('id').mod(HIST_KEYS)).withColumn('ft', col('id').div(HIST_KEYS).floor().mul(100_000).add(col('id').mod(1000)).cast('float64'));
  features.forEach((f, j) => (src = src.withColumn(f, col('id').mul(j + 3).mod(997).cast('float64'))));
  const view = defineFeatureView({ name: 'hist', entities: [user], source: { kind: 'dataset', dataset: src.drop('id') }, timestampField: 'ft', features: Object.fromEntries(features.map((f) => [f, 'float64' as const])) });
  const entities = range(HIST_ROWS, { numPartitions: PARTITIONS }).withColumn('k', col('id').mul(7919).mod(HIST_KEYS)).withColumn('event_timestamp', col('id').mul(31).mod(1_000_000).cast('float64'));
  const fs = new FeatureStore({ registry: registryDir, numPartitions: PARTITIONS });
  await fs.apply([view]);
  const duck = await DuckDBInstance.create(':memory:', { threads: '2' });
  const conn = await duck.connect();
  const fsql = features.map((f, j) => `CAST((range * ${j + 3}) % 997 AS DOUBLE) AS ${f}`).join(', ');
  const sql = `WITH f AS (SELECT range % ${HIST_KEYS} AS k, CAST((range // ${HIST_KEYS}) * 100000 + range % 1000 AS DOUBLE) AS ft, ${fsql} FROM range(${HIST_ROWS})),
e AS (SELECT range AS id, (range * 7919) % ${HIST_KEYS} AS k, CAST((range * 31) % 1000000 AS DOUBLE) AS event_timestamp FROM range(${HIST_ROWS}))
SELECT count(*), sum(h1), ${features.map((f) => `count(${f})`).join(' + ')} FROM e ASOF LEFT JOIN f ON e.k = f.k AND e.event_timestamp >= f.ft`;
  try {
    let checked = false;
    const r = await repeat(ctx, 'historical', async () => {
      forceGc();
      let ours: Record<string, unknown> = {};
      const ms = await timeAsync(async () => {
        const ds = await fs.getHistoricalFeatures(entities, features.map((f) => `hist:${f}`));
        [ours] = await ds.agg(agg.count(undefined, 'n'), agg.sum('h1', 's'), ...features.map((f) => agg.count(f, `c_${f}`))).take(1) as [Record<string, unknown>];
      });
      let theirs: unknown[] = [];
      const baseMs = await timeAsync(async () => {
        theirs = (await conn.runAndReadAll(sql)).getRowsJS()[0]!;
      });
      const nonNull = features.reduce((a, f) => a + Number(ours[`c_${f}`]), 0);
      if (!checked && (Number(ours['n']) !== Number(theirs[0]) || Number(ours['s']) !== Number(theirs[1]) || nonNull !== Number(theirs[2]))) {
        throw new Error(`historical: shoal n=${String(ours['n'])} sum=${String(ours['s'])} non-null=${nonNull}; DuckDB ${theirs.map(String).join(', ')}`);
      }
      checked = true;
      return { value: perSecond(HIST_ROWS, ms), baseline: perSecond(HIST_ROWS, baseMs) };
    }, { warmup: 1 });
    results.push(makeResult({
      metric: `historical retrieval ${fmtRows(HIST_ROWS)} entity rows × 10 features`, unit: 'rows/s', better: 'higher', samples: r.value,
      baseline: 'DuckDB in-process, 2 threads: ASOF LEFT JOIN on the same generated data', baselineSamples: r.baseline,
      notes: `${fmtRows(HIST_ROWS)} feature rows over ${HIST_KEYS / 1000}k entities; both generate their input; row count, a feature's sum and non-null counts checked equal; ${PARTITIONS} partitions`,
    }));
  } finally {
    conn.closeSync();
    duck.closeSync();
  }
}

export async function run(ctx: BenchContext): Promise<BenchResult[]> {
  const results: BenchResult[] = [];
  const prefix = `shoal-bench:fs:${process.pid}`;
  ctx.log('starting a local cluster: init({ numCpus: 2 })');
  await init({ numCpus: 2 });
  try {
    if (ctx.enabled('lookup')) {
      ctx.log('[lookup]');
      await lookup(ctx, prefix, results);
    }
    if (ctx.enabled('materialize')) {
      ctx.log('[materialize]');
      await materialize(ctx, prefix, results);
    }
    if (ctx.enabled('historical')) {
      ctx.log('[historical]');
      await historical(ctx, results);
    }
  } finally {
    const cleanup = new RedisOnlineStore({ url: REDIS_URL, prefix });
    await cleanup.clear().catch(() => undefined);
    await cleanup.close();
    await rm(registryDir, { recursive: true, force: true });
    await shutdown();
  }
  return results;
}
