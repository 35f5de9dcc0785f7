import * as arrow from 'apache-arrow';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  BucketizerModel, CategoryMapModel, CorruptedPipelineError, InvalidOptionError, ImputerModel, InvalidValueError, OneHotEncoderModel, PipelineModel,
  PipelineVersionError, QuantileSummary, StandardScalerModel, StringIndexerModel, TimeFeatures, TokenizerModel, HashingTFModel, VectorAssemblerModel,
  UnknownModelClassError, asOfKernel, isUsFederalHoliday, registeredFeatureModels, trailingWindowKernel,
} from '../../../src/features/index.js';
import { slotOf, vectorWith } from './helpers/fnv1a-reference.js';
import { sketchPartition, mergeSketches } from '../../../src/features/quantile-sketch.js';

const day = (s: string): number => Date.parse(`${s}T00:00:00Z`) / 86_400_000;

describe('serving-path kernels', () => {
  it('StandardScaler keeps nulls null and maps constant columns to 0', () => {
    const m = new StandardScalerModel(['x', 'c'], ['x', 'c'], Float64Array.of(2, 5), Float64Array.of(2, 0), true, true);
    expect(m.transformBatch([{ x: 4, c: 5 }, { x: null, c: 5 }])).toEqual([{ x: 1, c: 0 }, { x: null, c: 0 }]);
  });

  it('StringIndexer handleInvalid error | skip | keep', () => {
    const base = (h: 'error' | 'skip' | 'keep'): StringIndexerModel => new StringIndexerModel('s', 'i', h, ['a', 'b']);
    expect(base('keep').transformBatch([{ s: 'b' }, { s: 'zz' }, { s: null }]).map((r) => r['i'])).toEqual([1, 2, 2]);
    expect(base('skip').transformBatch([{ s: 'b' }, { s: 'zz' }]).map((r) => r['i'])).toEqual([1]);
    expect(() => base('error').transformRow({ s: 'zz' })).toThrow(InvalidValueError);
    expect(base('skip').transformRow({ s: 'zz' })).toBeNull();
  });

  it('OneHotEncoder with keep puts invalid indices in the last slot', () => {
    const m = new OneHotEncoderModel('i', 'v', 3, false, 'keep');
    expect(m.transformBatch([{ i: 1 }, { i: 7 }]).map((r) => r['v'])).toEqual([[0, 1, 0, 0], [0, 0, 0, 1]]);
  });

  it('Bucketizer boundaries and keep bucket', () => {
    const m = new BucketizerModel('x', 'b', [-Infinity, 0, 10, Infinity], 'keep');
    expect(m.transformBatch([{ x: -1 }, { x: 0 }, { x: 9.99 }, { x: 10 }, { x: null }]).map((r) => r['b'])).toEqual([0, 1, 1, 2, 3]);
    expect(() => new BucketizerModel('x', 'b', [1, 0, 2], 'error')).toThrow(InvalidOptionError);
  });

  it('Imputer replaces null and NaN', () => {
    const m = new ImputerModel(['x'], ['x'], 'median', Float64Array.of(7));
    expect(m.transformBatch([{ x: null }, { x: NaN }, { x: 1 }]).map((r) => r['x'])).toEqual([7, 7, 1]);
  });

  it('encoders map unseen categories to the default', () => {
    const m = new CategoryMapModel('TargetEncoderModel', 'c', 'te', ['a'], Float64Array.of(3), 1.5);
    expect(m.transformBatch([{ c: 'a' }, { c: 'b' }, { c: null }]).map((r) => r['te'])).toEqual([3, 1.5, 1.5]);
  });

  it('Tokenizer → HashingTF counts terms', () => {
    const tok = new TokenizerModel('t', 'w', '[^\\p{L}\\p{N}]+', true, 1);
    const tf = new HashingTFModel('w', 'tf', 16, false);
    const [row] = tf.transformBatch(tok.transformBatch([{ t: 'Cozy cozy loft!' }]));
    expect(row!['w']).toEqual(['cozy', 'cozy', 'loft']);
    // Each term at its own FNV-1a slot (checked independently), counted.
    expect(slotOf('cozy', 16)).not.toBe(slotOf('loft', 16));
    expect(row!['tf']).toEqual(vectorWith(16, [[slotOf('cozy', 16), 2], [slotOf('loft', 16), 1]]));
    const binary = new HashingTFModel('w', 'tf', 16, true).transformBatch([{ w: ['cozy', 'cozy', 'loft'] }]);
    expect(binary[0]!['tf']).toEqual(vectorWith(16, [[slotOf('cozy', 16), 1], [slotOf('loft', 16), 1]]));
  });

  it('VectorAssembler concatenates scalars and vectors into a FixedSizeList', () => {
    const m = new VectorAssemblerModel(['a', 'v'], 'f', [1, 2], 'keep');
    const t = m.transformBatch(new arrow.Table({ a: arrow.vectorFromArray([1, null]), v: arrow.vectorFromArray([[2, 3], [4, 5]], new arrow.List(new arrow.Field('item', new arrow.Float64()))) }));
    expect(t.schema.fields.find((f) => f.name === 'f')!.type.typeId).toBe(arrow.Type.FixedSizeList);
    expect(Array.from(t.getChild('f')!.get(0) as Iterable<number>)).toEqual([1, 2, 3]);
  });

  it('time features: ISO weekday, season, US federal holidays (observed)', () => {
    const m = new TimeFeatures({ inputCol: 'd', referenceDate: '2024-01-01' }).model;
    const [r] = m.transformBatch([{ d: '2024-07-04' }]);
    expect(r).toMatchObject({ d_dayOfWeek: 4, d_month: 7, d_season: 2, d_isWeekend: 0, d_isHoliday: 1, d_daysSince: 185 });
    expect(isUsFederalHoliday(day('2021-12-31'))).toBe(true); // New Year 2022 fell on a Saturday
    expect(isUsFederalHoliday(day('2024-11-28'))).toBe(true); // Thanksgiving
    expect(isUsFederalHoliday(day('2024-05-27'))).toBe(true); // Memorial Day (last Monday)
    expect(isUsFederalHoliday(day('2024-05-20'))).toBe(false);
  });
});

describe('quantile sketch', () => {
  it('answers within the stated rank error ε = 1/k after merging partitions', () => {
    const k = 50;
    const parts = [0, 1, 2].map((p) => Array.from({ length: 1000 + p * 300 }, (_, i) => Math.sin(i * 7 + p) * 1000));
    const summaries = parts.map((xs) => sketchPartition(new arrow.Table({ x: arrow.vectorFromArray(xs, new arrow.Float64()) }), ['x'], k));
    const rows = new arrow.Table({
      column: arrow.vectorFromArray(summaries.flatMap((t) => [...t.getChild('column')!] as string[]), new arrow.Utf8()),
      value: arrow.vectorFromArray(summaries.flatMap((t) => [...t.getChild('value')!] as number[]), new arrow.Float64()),
      weight: arrow.vectorFromArray(summaries.flatMap((t) => [...t.getChild('weight')!] as number[]), new arrow.Float64()),
    });
    const s = mergeSketches(rows, ['x']).get('x')!;
    const all = parts.flat().sort((a, b) => a - b);
    for (const q of [0.1, 0.25, 0.5, 0.9]) {
      const v = s.quantile(q);
      const rank = all.filter((x) => x <= v).length;
      expect(Math.abs(rank - q * all.length)).toBeLessThanOrEqual(all.length / k + 1);
    }
    expect(new QuantileSummary([[1, 1], [2, 1], [3, 1]]).quantile(0.5)).toBe(2);
  });
});

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

describe('trailing windows (kernel) against brute force', () => {
  it('counts and means use only events strictly before each row', () => {
    const r = rng(3);
    const rows = Array.from({ length: 400 }, () => ({ k: Math.floor(r() * 5), t: Math.floor(r() * 200) * 86_400_000, score: r() < 0.2 ? null : Math.floor(r() * 5) }));
    const t = new arrow.Table({
      k: arrow.vectorFromArray(rows.map((x) => x.k), new arrow.Float64()),
      t: arrow.vectorFromArray(rows.map((x) => x.t), new arrow.TimestampMillisecond()),
      score: arrow.vectorFromArray(rows.map((x) => x.score), new arrow.Float64()),
    });
    const out = trailingWindowKernel(t, { key: ['k'], timestamp: 't', windowsMs: [{ name: '30d', ms: 30 * 86_400_000 }], aggs: [{ column: 'score', op: 'mean', as: 'mean_score' }] });
    rows.forEach((row, i) => {
      const prior = rows.filter((e) => e.k === row.k && e.t < row.t);
      expect(out.getChild('count_30d')!.get(i)).toBe(prior.filter((e) => e.t >= row.t - 30 * 86_400_000).length);
      const scores = prior.map((e) => e.score).filter((s): s is number => s !== null);
      const mean = out.getChild('mean_score')!.get(i) as number | null;
      if (scores.length === 0) expect(mean).toBeNull();
      else expect(mean).toBeCloseTo(scores.reduce((a, b) => a + b, 0) / scores.length, 10);
    });
  });
});

describe('trailing mode (kernel) against brute force', () => {
  it('is the most frequent earlier value, ties to the value seen most recently, null before any', () => {
    const r = rng(5);
    // Distinct times per key, so the tie rule has one answer.
    const rows = Array.from({ length: 300 }, (_, i) => ({ k: i % 4, t: i * 1000 + Math.floor(r() * 999), v: r() < 0.15 ? null : ['a', 'b', 'c'][Math.floor(r() * 3)]! }));
    rows.reverse();
    const t = new arrow.Table({
      k: arrow.vectorFromArray(rows.map((x) => x.k), new arrow.Float64()),
      t: arrow.vectorFromArray(rows.map((x) => x.t), new arrow.TimestampMillisecond()),
      v: arrow.vectorFromArray(rows.map((x) => x.v), new arrow.Utf8()),
    });
    const out = trailingWindowKernel(t, { key: ['k'], timestamp: 't', windowsMs: [], aggs: [{ column: 'v', op: 'mode', as: 'top' }] });
    let ties = 0;
    rows.forEach((row, i) => {
      const prior = rows.filter((e) => e.k === row.k && e.t < row.t && e.v !== null);
      const n = new Map<string, { c: number; last: number }>();
      for (const e of prior) n.set(e.v!, { c: (n.get(e.v!)?.c ?? 0) + 1, last: Math.max(n.get(e.v!)?.last ?? -1, e.t) });
      const best = [...n].sort((a, b) => b[1].c - a[1].c || b[1].last - a[1].last)[0];
      if (best && [...n.values()].filter((x) => x.c === best[1].c).length > 1) ties++;
      expect(out.getChild('top')!.get(i)).toBe(best?.[0] ?? null);
    });
    expect(ties).toBeGreaterThan(0);
  });
});

describe('as-of join (kernel)', () => {
  it('takes the latest feature row at or before the entity time within ttl', () => {
    const t = new arrow.Table({
      k: arrow.vectorFromArray([1, 1, 1, 1, 2, 2], new arrow.Float64()),
      ts: arrow.vectorFromArray([10, 100, null, null, 5, null], new arrow.Float64()),
      fts: arrow.vectorFromArray([null, null, 5, 90, null, 1], new arrow.Float64()),
      v: arrow.vectorFromArray([null, null, 50, 900, null, 10], new arrow.Float64()),
      side: arrow.vectorFromArray([true, true, false, false, true, false], new arrow.Bool()),
    });
    const out = asOfKernel(t, { on: ['k'], entityTimestamp: 'ts', featureTimestamp: 'fts', ttlMs: 6, sideColumn: 'side', entityColumns: ['k', 'ts'], featureColumns: ['v'] });
    expect([...out.getChild('v')!]).toEqual([50, null, 10]);
  });
});

describe('pipeline save/load', () => {
  const model = new PipelineModel([new StandardScalerModel(['x'], ['x'], Float64Array.of(1), Float64Array.of(2), true, true), new StringIndexerModel('s', 'i', 'keep', ['a'])]);

  it('round-trips through JSON + binary arrays', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'shoal-features-'));
    await model.save(dir);
    const back = await PipelineModel.load(dir);
    expect(back.transformBatch([{ x: 3, s: 'a' }])).toEqual(model.transformBatch([{ x: 3, s: 'a' }]));
  });

  it('rejects a newer version and corrupted files, naming the stage', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'shoal-features-'));
    await model.save(dir);
    const manifest = JSON.parse(await readFile(join(dir, 'pipeline.json'), 'utf8')) as Record<string, unknown>;
    await writeFile(join(dir, 'pipeline.json'), JSON.stringify({ ...manifest, version: 99 }));
    await expect(PipelineModel.load(dir)).rejects.toThrow(PipelineVersionError);
    const stages = manifest['stages'] as { config: Record<string, unknown> }[];
    delete stages[1]!.config['labels'];
    await writeFile(join(dir, 'pipeline.json'), JSON.stringify(manifest));
    const err = await PipelineModel.load(dir).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CorruptedPipelineError);
    expect((err as CorruptedPipelineError).stage).toBe('1:StringIndexerModel');
    expect((err as Error).message).toContain('labels');
    await writeFile(join(dir, 'arrays.bin'), Buffer.from('garbage'));
    await expect(PipelineModel.load(dir)).rejects.toThrow(/checksum mismatch/);
    await writeFile(join(dir, 'pipeline.json'), '{not json');
    await expect(PipelineModel.load(dir)).rejects.toThrow(CorruptedPipelineError);
  });
});

describe('a saved stage whose class is not registered', () => {
  it('loading it fails with UnknownModelClassError naming the class, the stage and the registered classes', async () => {
    const src = join(import.meta.dirname, '../../fixtures/features/pipeline-v1-all-stages');
    const dir = await mkdtemp(join(tmpdir(), 'shoal-unknown-class-'));
    const manifest = JSON.parse(await readFile(join(src, 'pipeline.json'), 'utf8')) as { stages: { className: string }[] };
    manifest.stages[3]!.className = 'GradientBoostedHasher';
    await writeFile(join(dir, 'pipeline.json'), JSON.stringify(manifest));
    await writeFile(join(dir, 'arrays.bin'), await readFile(join(src, 'arrays.bin')));
    const err = await PipelineModel.load(dir).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnknownModelClassError);
    expect(err).toMatchObject({ code: 'FEATURE_UNKNOWN_CLASS', className: 'GradientBoostedHasher', stage: '3:GradientBoostedHasher' });
    expect((err as Error).message).toContain(`unknown feature model class "GradientBoostedHasher" (registered: ${registeredFeatureModels().join(', ')})`);
  });
});

describe('saved pipeline compatibility', () => {
  it('loads a pipeline saved with format version 1 (test/fixtures/features/pipeline-v1) and reproduces its outputs', async () => {
    const dir = join(import.meta.dirname, '../../fixtures/features/pipeline-v1');
    const { input, output } = JSON.parse(await readFile(join(dir, 'expected.json'), 'utf8')) as { input: Record<string, unknown>; output: Record<string, unknown> };
    const loaded = await PipelineModel.load(dir);
    expect(loaded.transformRow(input)).toEqual(output);
  });

  it('a saved pipeline holding every registered stage type (pipeline-v1-all-stages) reproduces its outputs', async () => {
    const dir = join(import.meta.dirname, '../../fixtures/features/pipeline-v1-all-stages');
    const manifest = JSON.parse(await readFile(join(dir, 'pipeline.json'), 'utf8')) as { version: number; stages: { className: string }[] };
    expect(manifest.version).toBe(1);
    // A new stage type must be added to the fixture (test/fixtures/features/make-pipeline-v1-all-stages.ts).
    expect([...new Set(manifest.stages.map((s) => s.className))].sort()).toEqual(registeredFeatureModels());
    const { input, output } = JSON.parse(await readFile(join(dir, 'expected.json'), 'utf8')) as { input: Record<string, unknown>; output: Record<string, unknown> };
    const loaded = await PipelineModel.load(dir);
    expect(loaded.transformRow(input)).toEqual(output);
    // The golden file was written by the code; its hashed slots are checked here against an independent FNV-1a.
    expect(output['tf']).toEqual(vectorWith(16, [[slotOf('cozy', 16), 2], [slotOf('loft', 16), 1]]));
    const idf = (i: number): number => 1 + i / 4;
    expect(output['tf_idf']).toEqual(vectorWith(16, [[slotOf('cozy', 16), 2 * idf(slotOf('cozy', 16))], [slotOf('loft', 16), idf(slotOf('loft', 16))]]));
    expect(output['hashed']).toEqual(vectorWith(32, [[slotOf('beds', 32), 2], [slotOf('hood=SECOND WARD', 32), 1]]));
    expect(output).toMatchObject({ beds: 2, price_z: 1, beds_mm: 0.25, price_bucket: 1, hood_index: 1, hood_onehot: [0, 1, 0], hood_freq: 0.25, hood_te: 180 });
    expect(output['features']).toEqual([1, 0.25, 1, 0, 1]);
  });
});
