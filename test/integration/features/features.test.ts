/**
 * Featurizers, pipelines, trailing windows and as-of joins on a real cluster: fit statistics computed
 * as distributed aggregations, transforms as per-partition tasks, compared with in-process serving
 * (no train/serve skew), brute-force references and DuckDB's ASOF JOIN.
 */
import * as arrow from 'apache-arrow';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { col, fromArrow } from 'shoal/data';
import {
  ColumnTypeError, EmptyDatasetError, FeatureHasher, FrequencyEncoder, MultiHotEncoder, StringIndexerModel, HashingTF, IDF, Imputer,
  MinMaxScaler, OneHotEncoder, Pipeline, PipelineModel, QuantileDiscretizer, StandardScaler, StringIndexer, TargetEncoder, TimeFeatures,
  Tokenizer, VectorAssembler, asOfJoin, tableToRows, trailingWindowFeatures,
  InvalidValueError,
} from 'shoal/features';
import { TestCluster } from '../../harness/test-cluster.js';
import { slotOf, vectorWith } from '../../unit/features/helpers/fnv1a-reference.js';

let tc: TestCluster;

beforeAll(async () => {
  tc = await TestCluster.start({ numCpus: 2 });
}, 60_000);

afterAll(async () => {
  await tc?.stop();
});

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

const r = rng(11);
const N = 600;
const hoods = ['Arbor Hill', 'Center Sq', 'Pine Hills', 'Delaware', 'Ünicode ward'];
const listings = new arrow.Table({
  price: arrow.vectorFromArray(Array.from({ length: N }, () => (r() < 0.1 ? null : Math.round(r() * 300))), new arrow.Float64()),
  beds: arrow.vectorFromArray(Array.from({ length: N }, () => Math.floor(r() * 4)), new arrow.Int32()),
  hood: arrow.vectorFromArray(Array.from({ length: N }, () => (r() < 0.05 ? null : hoods[Math.floor(r() * r() * hoods.length)]!)), new arrow.Utf8()),
  text: arrow.vectorFromArray(Array.from({ length: N }, (_, i) => (i % 7 === 0 ? null : `Cozy loft near park ${i % 13 === 0 ? 'river view' : 'downtown'}`)), new arrow.Utf8()),
  amenities: arrow.vectorFromArray(Array.from({ length: N }, (_, i) => (i % 11 === 0 ? 'oops' : JSON.stringify(['Wifi', 'Kitchen', 'TV', 'Pool'].filter(() => r() < 0.5)))), new arrow.Utf8()),
  day: arrow.vectorFromArray(Array.from({ length: N }, () => Date.UTC(2024, 0, 1) + Math.floor(r() * 366) * 86_400_000), new arrow.TimestampMillisecond()),
});
const ds = fromArrow(listings, { numPartitions: 4 });
const rowsOf = (t: arrow.Table): Record<string, unknown>[] => tableToRows(t);

describe('featurizers fit on the cluster', () => {
  it('scalers and imputer statistics match a local computation', async () => {
    const prices = rowsOf(listings).map((x) => x['price']).filter((x): x is number => x !== null);
    const mean = prices.reduce((a, b) => a + b, 0) / prices.length;
    const std = Math.sqrt(prices.reduce((a, b) => a + (b - mean) ** 2, 0) / (prices.length - 1));
    const s = await new StandardScaler({ inputCols: ['price'] }).fit(ds);
    expect(s.mean[0]).toBeCloseTo(mean, 9);
    expect(s.std[0]).toBeCloseTo(std, 9);
    const mm = await new MinMaxScaler({ inputCols: ['price', 'beds'] }).fit(ds);
    expect([mm.originalMin[0], mm.originalMax[0]]).toEqual([Math.min(...prices), Math.max(...prices)]);
    const med = await new Imputer({ inputCols: ['price'], strategy: 'median' }).fit(ds);
    const sorted = [...prices].sort((a, b) => a - b);
    const rank = sorted.filter((x) => x <= med.surrogates[0]!).length;
    expect(Math.abs(rank - sorted.length / 2)).toBeLessThanOrEqual(sorted.length * 0.001 + 1);
    const mode = await new Imputer({ inputCols: ['beds'], strategy: 'mode' }).fit(ds);
    const counts = new Map<number, number>();
    for (const b of rowsOf(listings).map((x) => x['beds'] as number)) counts.set(b, (counts.get(b) ?? 0) + 1);
    const best = [...counts].sort((a, b) => b[1] - a[1] || a[0] - b[0])[0]![0];
    expect(mode.surrogates[0]).toBe(best);
  });

  it('StringIndexer orders by frequency; encoders smooth', async () => {
    const m = await new StringIndexer({ inputCol: 'hood', handleInvalid: 'keep' }).fit(ds);
    const counts = new Map<string, number>();
    for (const h of rowsOf(listings).map((x) => x['hood'])) if (h !== null) counts.set(h as string, (counts.get(h as string) ?? 0) + 1);
    expect(m.labels).toEqual([...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).map((x) => x[0]));
    const f = await new FrequencyEncoder({ inputCol: 'hood', smoothing: 1 }).fit(ds);
    const total = [...counts.values()].reduce((a, b) => a + b, 0);
    expect(f.transformRow({ hood: m.labels[0] })!['hood_freq']).toBeCloseTo((counts.get(m.labels[0]!)! + 1) / (total + counts.size + 1), 12);
    const te = await new TargetEncoder({ inputCol: 'hood', targetCol: 'price', smoothing: 5 }).fit(ds);
    expect(te.transformRow({ hood: 'never seen' })!['hood_te']).toBeCloseTo(te.defaultValue, 12);
  });

  it('bad input: empty dataset, wrong column type', async () => {
    await expect(new StandardScaler({ inputCols: ['price'] }).fit(ds.filter(col('beds').lt(-1)))).rejects.toThrow(EmptyDatasetError);
    const err = await new StandardScaler({ inputCols: ['hood'] }).fit(ds).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ColumnTypeError);
    expect((err as ColumnTypeError).stage).toBe('StandardScaler');
    expect((err as ColumnTypeError).column).toBe('hood');
  });
});

describe('pipeline', () => {
  it('training-time (distributed) and serving-time (no cluster) outputs are identical', async () => {
    const pipeline = new Pipeline([
      new Imputer({ inputCols: ['price'], strategy: 'median' }),
      new StandardScaler({ inputCols: ['price'], outputCols: ['price_z'] }),
      new QuantileDiscretizer({ inputCol: 'price', numBuckets: 4 }),
      new StringIndexer({ inputCol: 'hood', handleInvalid: 'keep' }),
      new OneHotEncoder({ inputCol: 'hood_index' }),
      new Tokenizer({ inputCol: 'text' }),
      new HashingTF({ inputCol: 'text_tokens', numFeatures: 32 }),
      new IDF({ inputCol: 'text_tokens_tf' }),
      new TimeFeatures({ inputCol: 'day', referenceDate: '2024-01-01' }),
      new MultiHotEncoder({ inputCol: 'amenities' }),
      new FrequencyEncoder({ inputCol: 'hood', smoothing: 1 }),
      new TargetEncoder({ inputCol: 'hood', targetCol: 'price' }),
      new FeatureHasher({ inputCols: ['beds', 'hood'], numFeatures: 16, outputCol: 'hashed' }),
      new MinMaxScaler({ inputCols: ['beds'], outputCols: ['beds_mm'] }),
      new VectorAssembler({ inputCols: ['price_z', 'hood_index_vec', 'day_month', 'amenities_multihot', 'hood_te', 'beds_mm'], outputCol: 'features' }),
    ]);
    const model = await pipeline.fit(ds);
    const trained = rowsOf(await model.transform(ds).collect());
    const served = rowsOf(model.transformBatch(listings));
    expect(trained).toEqual(served);
    // Against the definitions, computed here from the raw rows (not by the code under test):
    const raw = rowsOf(listings);
    const surrogate = (model.stages[0] as unknown as { surrogates: Float64Array }).surrogates[0]!; // the median's bound is checked above
    const priceImp = raw.map((x) => (x['price'] === null ? surrogate : (x['price'] as number)));
    const pMean = priceImp.reduce((a, b) => a + b, 0) / priceImp.length;
    const pStd = Math.sqrt(priceImp.reduce((a, b) => a + (b - pMean) ** 2, 0) / (priceImp.length - 1));
    const hoodCounts = new Map<string, number>();
    for (const x of raw) if (x['hood'] !== null) hoodCounts.set(x['hood'] as string, (hoodCounts.get(x['hood'] as string) ?? 0) + 1);
    const labels = [...hoodCounts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).map((e) => e[0]);
    const beds = raw.map((x) => x['beds'] as number);
    const [bLo, bHi] = [Math.min(...beds), Math.max(...beds)];
    raw.forEach((x, i) => {
      const out = trained[i]!;
      const z = (priceImp[i]! - pMean) / pStd;
      expect(out['price_z'] as number, `row ${i} price_z`).toBeCloseTo(z, 9);
      const hood = x['hood'] as string | null;
      expect(out['hood_index'], `row ${i} hood_index`).toBe(hood === null ? labels.length : labels.indexOf(hood));
      expect(out['beds_mm'] as number, `row ${i} beds_mm`).toBeCloseTo((beds[i]! - bLo) / (bHi - bLo), 12);
      expect(out['day_month'], `row ${i} day_month`).toBe(new Date(typeof x['day'] === 'string' ? x['day'] : Number(x['day'])).getUTCMonth() + 1);
      const hashed = vectorWith(16, [[slotOf('beds', 16), beds[i]!], ...(hood === null ? [] : [[slotOf(`hood=${hood}`, 16), 1] as const])]);
      expect(out['hashed'], `row ${i} hashed`).toEqual(hashed);
      const f = out['features'] as number[];
      expect(f[0]!, `row ${i} features[0] is price_z`).toBeCloseTo(z, 6); // float32 vector
      expect(f.at(-1)!, `row ${i} features[-1] is beds_mm`).toBeCloseTo((beds[i]! - bLo) / (bHi - bLo), 6);
    });
    // Row-by-row serving path, after a save/load round trip.
    const { mkdtemp } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const dir = await mkdtemp(join(tmpdir(), 'shoal-pipeline-'));
    await model.save(dir);
    const loaded = await PipelineModel.load(dir);
    const some = rowsOf(listings).slice(0, 25);
    for (const [i, row] of some.entries()) {
      const out = loaded.transformRow(row)!;
      for (const c of ['price_z', 'price_bucket', 'hood_index', 'features', 'text_tokens_tf_idf', 'day_isHoliday', 'amenities_multihot', 'hood_freq', 'hashed']) expect(out[c]).toEqual(served[i]![c]);
    }
    // An unseen category follows StringIndexer's 'keep' policy instead of crashing.
    expect(loaded.transformRow({ ...some[0]!, hood: 'Brand new hood' })!['hood_index']).toBe(5);
  });
});

describe('pipeline fit dependencies', () => {
  it('a later stage is fitted after an earlier stage that drops rows (skip policy)', async () => {
    const model = await new Pipeline([new StringIndexer({ inputCol: 'hood', handleInvalid: 'skip' }), new StandardScaler({ inputCols: ['price'] })]).fit(ds);
    const kept = rowsOf(listings).filter((x) => x['hood'] !== null).map((x) => x['price']).filter((x): x is number => x !== null);
    expect((model.stages[1] as unknown as { mean: Float64Array }).mean[0]).toBeCloseTo(kept.reduce((a, b) => a + b, 0) / kept.length, 9);
  });
});

describe('transform errors on the cluster', () => {
  it('an unseen category under handleInvalid "error" fails the job naming the stage and column', async () => {
    const strict = new StringIndexerModel('hood', 'hood_index', 'error', ['Arbor Hill']);
    const err = await strict.transform(ds).collect().catch((e: unknown) => e);
    // The featurizer's own error reaches the caller as its class, across the wire.
    expect(err).toBeInstanceOf(InvalidValueError);
    expect((err as InvalidValueError).code).toBe('FEATURE_INVALID_VALUE');
    expect(String((err as Error).message)).toMatch(/^stage StringIndexerModel, column "hood": (null value|category ".*" was not seen at fit time)/);
  });
});

describe('trailing windows on the cluster', () => {
  it('equal a brute-force reference', async () => {
    const g = rng(5);
    const events = Array.from({ length: 500 }, () => ({ id: Math.floor(g() * 20), t: Date.UTC(2023, 0, 1) + Math.floor(g() * 400) * 86_400_000, score: g() < 0.2 ? null : Math.floor(g() * 50) / 10 }));
    const t = new arrow.Table({
      id: arrow.vectorFromArray(events.map((e) => e.id), new arrow.Int32()),
      t: arrow.vectorFromArray(events.map((e) => e.t), new arrow.TimestampMillisecond()),
      score: arrow.vectorFromArray(events.map((e) => e.score), new arrow.Float64()),
    });
    const out = rowsOf(await (await trailingWindowFeatures(fromArrow(t, { numPartitions: 3 }), { key: 'id', timestamp: 't', aggs: [{ column: 'score', op: 'mean', as: 'mean_score' }], numPartitions: 4 })).collect());
    expect(out).toHaveLength(events.length);
    const key = (x: Record<string, unknown>): string => `${String(x['id'])}|${String(x['t'])}|${String(x['score'])}`;
    const expected = events.map((e) => {
      const prior = events.filter((p) => p.id === e.id && p.t < e.t);
      const scores = prior.map((p) => p.score).filter((s): s is number => s !== null);
      const row: Record<string, unknown> = { ...e };
      for (const d of [30, 90, 365]) row[`count_${d}d`] = prior.filter((p) => p.t >= e.t - d * 86_400_000).length;
      row['mean_score'] = scores.length ? scores.reduce((a, b) => a + b, 0) / scores.length : null;
      return row;
    });
    const sortRows = (rows: Record<string, unknown>[]): Record<string, unknown>[] => [...rows].sort((a, b) => (key(a) + JSON.stringify(a) < key(b) + JSON.stringify(b) ? -1 : 1));
    const got = sortRows(out.map((x) => ({ id: x['id'], t: x['t'], score: x['score'], count_30d: x['count_30d'], count_90d: x['count_90d'], count_365d: x['count_365d'], mean_score: x['mean_score'] })));
    const want = sortRows(expected);
    got.forEach((row, i) => {
      const w = want[i]!;
      expect({ ...row, mean_score: null }).toEqual({ ...w, mean_score: null });
      if (w['mean_score'] === null) expect(row['mean_score']).toBeNull();
      else expect(row['mean_score']).toBeCloseTo(w['mean_score'] as number, 9);
    });
  });
});

describe('as-of join', () => {
  it('matches brute force and DuckDB ASOF JOIN on random data', async () => {
    const g = rng(9);
    const DAY = 86_400_000;
    const ttl = 20 * DAY;
    const feats: { k: number; ft: number; v: number }[] = [];
    for (let k = 0; k < 15; k++) {
      const days = new Set<number>();
      for (let j = 0; j < 12; j++) days.add(Math.floor(g() * 200));
      for (const d of days) feats.push({ k, ft: Date.UTC(2024, 0, 1) + d * DAY, v: Math.round(g() * 1000) });
    }
    const ents = Array.from({ length: 300 }, (_, i) => ({ eid: i, k: Math.floor(g() * 17), et: Date.UTC(2024, 0, 1) + Math.floor(g() * 220) * DAY + Math.floor(g() * 3) * 3_600_000 }));
    const et = new arrow.Table({
      eid: arrow.vectorFromArray(ents.map((e) => e.eid), new arrow.Int32()),
      k: arrow.vectorFromArray(ents.map((e) => e.k), new arrow.Int32()),
      et: arrow.vectorFromArray(ents.map((e) => e.et), new arrow.TimestampMillisecond()),
    });
    const ft = new arrow.Table({
      k: arrow.vectorFromArray(feats.map((f) => f.k), new arrow.Int32()),
      ft: arrow.vectorFromArray(feats.map((f) => f.ft), new arrow.TimestampMillisecond()),
      v: arrow.vectorFromArray(feats.map((f) => f.v), new arrow.Float64()),
    });
    const joined = await asOfJoin(fromArrow(et, { numPartitions: 3 }), fromArrow(ft, { numPartitions: 2 }), { on: 'k', timestamp: { entity: 'et', feature: 'ft' }, ttlMs: ttl });
    const got = rowsOf(await joined.collect()).map((x) => [x['eid'], x['v']] as const).sort((a, b) => Number(a[0]) - Number(b[0]));
    const brute = ents.map((e) => {
      const cands = feats.filter((f) => f.k === e.k && f.ft <= e.et && e.et - f.ft <= ttl).sort((a, b) => b.ft - a.ft);
      return [e.eid, cands[0]?.v ?? null] as const;
    });
    expect(got).toEqual(brute);

    const duck = await DuckDBInstance.create(':memory:');
    const conn = await duck.connect();
    try {
      await conn.run('CREATE TABLE e (eid INTEGER, k INTEGER, et TIMESTAMP); CREATE TABLE f (k INTEGER, ft TIMESTAMP, v DOUBLE);');
      const ts = (ms: number): string => `TIMESTAMP '${new Date(ms).toISOString().replace('T', ' ').replace('Z', '')}'`;
      await conn.run(`INSERT INTO e VALUES ${ents.map((e) => `(${e.eid}, ${e.k}, ${ts(e.et)})`).join(',')}`);
      await conn.run(`INSERT INTO f VALUES ${feats.map((f) => `(${f.k}, ${ts(f.ft)}, ${f.v})`).join(',')}`);
      const res = await conn.runAndReadAll(
        `SELECT e.eid, CASE WHEN f.ft IS NOT NULL AND e.et - f.ft <= INTERVAL ${ttl / DAY} DAY THEN f.v END AS v FROM e ASOF LEFT JOIN f ON e.k = f.k AND e.et >= f.ft ORDER BY e.eid`,
      );
      const duckRows = res.getRowsJS().map((row) => [Number(row[0]), row[1] === null ? null : Number(row[1])] as const);
      expect(got).toEqual(duckRows);
    } finally {
      conn.closeSync();
      duck.closeSync();
    }
  });
});
