/**
 * The streaming executor on a real cluster: a slow iterBatches consumer keeps at most `prefetch`
 * partitions pinned (and the store small), the memory budget limits partitions in flight, stats and
 * the progress line count every stage right (shuffles included), mapBatches passes arguments and
 * re-chunks, cache() computes once, explode follows Spark, bad input fails with typed errors, and a
 * groupBy over three times the store's memory cap completes.
 */
import * as arrow from 'apache-arrow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clusterStatus, get, put } from 'shoal';
import { agg, col, InvalidOptionError, fromArrow, fromRows, range, type Dataset } from 'shoal/data';
import { TestCluster } from '../../harness/test-cluster.js';
import { doubleX, randomDraw, scaleX, tagBatchRows } from '../../fixtures/data/index.js';

const STORE_BYTES = 16 * 2 ** 20;
let tc: TestCluster;

beforeAll(async () => {
  tc = await TestCluster.start({ numCpus: 2, objectStoreBytes: STORE_BYTES });
});

afterAll(async () => {
  await tc?.stop();
});

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const ids = (t: arrow.Table, c = 'id'): number[] => Array.from(t.getChild(c)!.toArray() as ArrayLike<number | bigint>, Number);

/** `n` rows in `p` partitions with two int64 columns (16 bytes a row). */
const wide = (n: number, p: number): Dataset => range(n, { numPartitions: p }).withColumn('v', col('id').mul(3));

describe('iterBatches with a slow consumer', () => {
  it('keeps at most `prefetch` partitions pinned, frees consumed ones, and streams every row in order', async () => {
    const rowsPer = 100_000; // 1.6 MB a partition
    const parts = 12;
    const ds = wide(rowsPer * parts, parts);
    const seen: number[] = [];
    let maxStoreBytes = 0;
    for await (const b of ds.iterBatches({ prefetch: 2 })) {
      const stage = ds.stats().stages.at(-1)!;
      expect(stage.peakInFlightPartitions).toBeLessThanOrEqual(2);
      const ids0 = ids(b);
      seen.push(ids0[0]!, ids0.at(-1)!);
      await sleep(400);
      const status = await clusterStatus();
      for (const n of status.nodes) maxStoreBytes = Math.max(maxStoreBytes, n.usage?.objectStoreBytes ?? 0);
    }
    expect(seen).toEqual(Array.from({ length: parts }, (_, i) => [i * rowsPer, (i + 1) * rowsPer - 1]).flat());
    const stage = ds.stats().stages.at(-1)!;
    expect(stage.partitions).toBe(parts);
    expect(stage.rows).toBe(rowsPer * parts);
    expect(stage.peakInFlightPartitions).toBeLessThanOrEqual(2);
    expect(stage.peakInFlightBytes).toBeLessThanOrEqual(2 * 1.1 * 16 * rowsPer);
    // The whole result is 19 MB; with two partitions pinned and consumed ones freed the store holds a few.
    expect(maxStoreBytes).toBeLessThan(6 * 16 * rowsPer);
  });

  it('stopping early releases the partitions computed ahead', async () => {
    const ds = wide(40_000, 8);
    let n = 0;
    for await (const b of ds.iterBatches({ prefetch: 3 })) {
      n += b.numRows;
      if (n >= 10_000) break;
    }
    expect(n).toBe(10_000);
    expect(await ds.count()).toBe(40_000);
  });
});

describe('memory budget', () => {
  it('limits the partitions a stage has in flight to what the budget holds', async () => {
    // Partitions of 10k rows (after the filter) × 2 int64 columns = 160 KB; a 700 KB budget holds four.
    const ds = wide(200_000, 10).withOptions({ memoryBudgetBytes: 700_000, maxTasksInFlight: 8 }).filter(col('id').mod(2).eq(0));
    expect(ds.stats().stages).toEqual([]); // nothing ran yet
    expect((await ds.collect()).numRows).toBe(100_000);
    const s = ds.stats();
    expect(s.memoryBudgetBytes).toBe(700_000);
    expect(s.stages[0]!.partitions).toBe(10);
    expect(s.stages[0]!.rows).toBe(100_000);
    const perPartition = s.stages[0]!.bytes / 10;
    expect(perPartition).toBeGreaterThanOrEqual(160_000);
    expect(s.stages[0]!.peakInFlightPartitions).toBeLessThanOrEqual(Math.max(1, Math.floor(700_000 / perPartition)));
    expect(s.stages[0]!.peakInFlightPartitions).toBeLessThan(8);
    expect(s.peakInFlightBytes).toBeLessThanOrEqual(700_000);
    expect(String(s)).toMatch(/peak in flight .* of a 683\.6 KiB budget/);
    // The default budget is half the store capacity the workers report.
    const loose = wide(1000, 2);
    await loose.collect();
    expect(loose.stats().memoryBudgetBytes).toBe(STORE_BYTES / 2);
  });
});

describe('stats and the progress line', () => {
  it('count rows, partitions and bytes of every stage, shuffles included', async () => {
    const ds = range(10_000, { numPartitions: 7 }).withColumn('k', col('id').mod(13));
    const rep = ds.repartition(3);
    expect((await rep.collect()).numRows).toBe(10_000);
    const st = rep.stats().stages;
    expect(st.map((s) => [s.partitions, s.rows])).toEqual([
      [7, 10_000], // scan fused with the shuffle map side
      [3, 10_000], // reduce
    ]);
    // Two int64 columns of 10k rows, in the reduce outputs.
    expect(st[1]!.bytes).toBeGreaterThanOrEqual(160_000);
    expect(st[1]!.bytes).toBeLessThan(2 * 160_000);

    const grouped = ds.groupBy('k').agg(agg.count(undefined, 'n'), agg.sum('id', 's'));
    const g = await grouped.collect();
    expect(g.numRows).toBe(13);
    const gs = grouped.stats().stages;
    expect(gs.at(-1)!.rows).toBe(13);
    expect(gs[0]!.partitions).toBe(7);
    expect(String(grouped.stats())).toMatch(/aggregate \(reduce\): \d+ partitions, 13 rows/);

    expect(await ds.filter(col('k').eq(0)).count()).toBe(770);
  });

  it('the progress line shows each stage with its own partitions and rows', async () => {
    const lines: string[] = [];
    const write = process.stderr.write.bind(process.stderr);
    process.stderr.write = ((chunk: string | Uint8Array): boolean => {
      lines.push(String(chunk));
      return true;
    }) as typeof process.stderr.write;
    try {
      await range(10_000, { numPartitions: 7 }).withOptions({ progress: true }).repartition(3).collect();
    } finally {
      process.stderr.write = write;
    }
    const text = lines.join('');
    expect(text).toMatch(/scan range \+ repartition \(map\): 7\/7 partitions, 10000 rows, \d+ rows\/s/);
    expect(text).toMatch(/repartition \(reduce\): 3\/3 partitions, 10000 rows, \d+ rows\/s/);
  });
});

describe('mapBatches arguments and batchSize', () => {
  const table = new arrow.Table({ x: arrow.vectorFromArray(Array.from({ length: 1000 }, (_, i) => (i % 10 === 0 ? null : i)), new arrow.Float64()) });

  it('passes serializable values and ObjectRefs (resolved on the worker) after the table', async () => {
    const offsets = put([1, 2, 3]);
    const out = await fromArrow(table, { numPartitions: 4 }).mapBatches(scaleX, { args: [10, offsets] }).collect();
    const x = out.getChild('x')!.toArray() as Float64Array;
    const y = [...out.getChild('y')!];
    expect(y).toHaveLength(1000);
    y.forEach((v, i) => expect(v).toBe(i % 10 === 0 ? null : x[i]! * 10 + 6));
    const inline = await fromArrow(table, { numPartitions: 3 }).mapBatches(scaleX, { args: [2, [0.5]] }).take(2);
    expect(inline).toEqual([
      { x: null, y: null },
      { x: 1, y: 2.5 },
    ]);
    expect(await get(offsets)).toEqual([1, 2, 3]);
  });

  it('batchSize re-chunks partitions into batches of exactly that many rows, in order', async () => {
    const ds = fromArrow([table.slice(0, 330), table.slice(330, 330), table.slice(330, 1000)]).mapBatches(tagBatchRows, { batchSize: 300 });
    const out = await ds.collect();
    expect(out.numRows).toBe(1000);
    expect([...out.getChild('x')!]).toEqual([...table.getChild('x')!]);
    const sizes = [...out.getChild('batchRows')!] as number[];
    expect(sizes.slice(0, 900).every((s) => s === 300)).toBe(true);
    expect(sizes.slice(900).every((s) => s === 100)).toBe(true);
    expect(ds.stats().stages.at(-1)!.partitions).toBe(4);
    // Chained with another function and an empty input.
    expect((await fromArrow(table.slice(0, 0)).mapBatches(tagBatchRows, { batchSize: 5 }).mapBatches(doubleX).collect()).numRows).toBe(0);
  });

  it('bad input: a plain function, unserializable args, a bad batchSize', () => {
    const ds = fromArrow(table);
    const plain = (t: arrow.Table): arrow.Table => t;
    expect(() => ds.mapBatches(plain as never)).toThrow(InvalidOptionError);
    expect(() => ds.mapBatches(plain as never)).toThrow(/mapBatches\(fn\) must be a remote function.*plain function plain/);
    expect(() => ds.mapBatches(scaleX, { args: [1, () => 2] })).toThrow(/mapBatches options\.args\[1\] is not serializable/);
    expect(() => ds.mapBatches(scaleX, { args: [Symbol('s')] })).toThrow(InvalidOptionError);
    expect(() => ds.mapBatches(doubleX, { batchSize: 0 })).toThrow(/mapBatches options\.batchSize must be a positive integer; got 0/);
    expect(() => ds.withOptions({ memoryBudgetBytes: -5 })).toThrow(/options\.memoryBudgetBytes must be a positive integer; got -5/);
  });
});

describe('cache, materialize and unpersist', () => {
  it('computes once and reuses the partitions until unpersist', async () => {
    const base = fromArrow(new arrow.Table({ x: arrow.vectorFromArray([1, 2, 3, 4, 5, 6], new arrow.Float64()) }), { numPartitions: 3 }).mapBatches(randomDraw);
    const draws = async (d: Dataset): Promise<number[]> => [...(await d.select('draw').collect()).getChild('draw')!] as number[];
    // Uncached: every action evaluates the function again.
    expect(await draws(base)).not.toEqual(await draws(base));
    const cached = base.cache();
    expect(cached.cachedPartitions()).toBeNull();
    const first = await draws(cached);
    expect(cached.cachedPartitions()).toBe(3);
    expect(await draws(cached)).toEqual(first);
    // Derived datasets read the cached partitions too (and do not free them).
    const sum = await cached.agg(agg.sum('draw', 's')).take(1);
    expect(sum[0]!.s).toBeCloseTo(first.reduce((a, b) => a + b, 0), 10);
    expect(await draws(cached.filter(col('x').gt(3)))).toEqual(first.slice(3));
    expect(await draws(cached)).toEqual(first);
    expect(await cached.explainString()).toMatch(/Cache\(3 partitions in the object store\)/);
    cached.unpersist();
    expect(cached.cachedPartitions()).toBeNull();
    expect(await draws(cached)).not.toEqual(first);

    const m = await base.materialize();
    expect(m.cachedPartitions()).toBe(3);
    expect(await draws(m)).toEqual(await draws(m));
    m.unpersist();
  });
});

describe('explode', () => {
  const rows = [
    { id: 1, tags: ['a', 'b'] },
    { id: 2, tags: null },
    { id: 3, tags: [] },
    { id: 4, tags: ['c'] },
  ];
  const listTable = new arrow.Table({
    id: arrow.vectorFromArray(rows.map((r) => r.id), new arrow.Int32()),
    tags: arrow.vectorFromArray(rows.map((r) => r.tags), new arrow.List(new arrow.Field('element', new arrow.Utf8(), true))),
  });

  it('explode and explodeOuter follow Spark, across partitions and into a groupBy', async () => {
    const ds = fromArrow(listTable, { numPartitions: 2 });
    const e = await ds.explode('tags').collect();
    expect(e.toArray().map((r) => [r.id, r.tags])).toEqual([
      [1, 'a'],
      [1, 'b'],
      [4, 'c'],
    ]);
    const o = await ds.explodeOuter('tags').collect();
    expect(o.toArray().map((r) => [r.id, r.tags])).toEqual([
      [1, 'a'],
      [1, 'b'],
      [2, null],
      [3, null],
      [4, 'c'],
    ]);
    const counts = await ds.explode('tags').filter(col('tags').ne('b')).groupBy('tags').count().sort('tags').collect();
    expect(counts.toArray().map((r) => [r.tags, Number(r.count)])).toEqual([
      ['a', 1],
      ['c', 1],
    ]);
  });

  it('on a non-list column or a missing one: a typed error as the plan is built', () => {
    const ds = fromRows([{ a: 1, s: 'x' }]);
    expect(() => ds.explode('s')).toThrow(InvalidOptionError);
    expect(() => ds.explode('s')).toThrow(/explode\("s"\) needs a list column; "s" is (Dictionary<.*>|Utf8)/);
    expect(() => ds.explodeOuter('nope')).toThrow(/^explodeOuter\('nope'\): unknown column "nope"/);
    expect(() => ds.explode('')).toThrow(InvalidOptionError);
  });
});

describe('a dataset three times the store memory cap', () => {
  it('groupBy completes (partitions spill, consumed ones are freed)', async () => {
    // 4 int64/float64 columns × 8 bytes = 32 bytes a row; 3 × 16 MiB.
    const rows = Math.ceil((3 * STORE_BYTES) / 32);
    const ds = range(rows, { numPartitions: 24 })
      .withColumn('k', col('id').mod(1000))
      .withColumn('v', col('id').mul(3).mod(97).cast('float64'))
      .withColumn('w', col('id').mod(7))
      .repartition(24)
      .groupBy('k')
      // Every column is read (the optimizer drops columns nothing reads), so 32 bytes a row go through the store.
      .agg(agg.sum('v', 's'), agg.sum('w', 'sw'), agg.count(undefined, 'n'));
    const t = await ds.collect();
    expect(t.numRows).toBe(1000);
    expect((t.getChild('n')!.toArray() as ArrayLike<number | bigint>).length).toBe(1000);
    expect([...t.getChild('n')!].reduce((a: number, b) => a + Number(b), 0)).toBe(rows);
    // Every group's sums and count, computed here from the definition of the rows.
    const want = { s: new Float64Array(1000), sw: new Float64Array(1000), n: new Float64Array(1000) };
    for (let id = 0; id < rows; id++) {
      const k = id % 1000;
      want.s[k]! += (id * 3) % 97;
      want.sw[k]! += id % 7;
      want.n[k]! += 1;
    }
    const ks = [...t.getChild('k')!].map(Number);
    expect([...ks].sort((a, b) => a - b)).toEqual(Array.from({ length: 1000 }, (_, k) => k));
    for (const c of ['s', 'sw', 'n'] as const) {
      const got = [...t.getChild(c)!].map(Number);
      ks.forEach((k, r) => expect(got[r], `${c} of group ${k}`).toBe(want[c][k]));
    }
    const st = ds.stats().stages;
    expect(st[0]!.rows).toBe(rows);
    expect(st[0]!.bytes).toBeGreaterThanOrEqual(rows * 32);
  }, 300_000);
});
