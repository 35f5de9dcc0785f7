/**
 * Dataset file sources and sinks on a real cluster: the Albany Airbnb CSVs against DuckDB, CSV and
 * Parquet write → read round trips (Hive partitionBy, projection and filter pushdown, row-group
 * pruning), JSON lines, and bad inputs (missing files, mismatched schemas across files).
 */
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type * as arrow from 'apache-arrow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TaskError } from 'shoal';
import { agg, col, fromArrow, range, readCsv, readJson, readParquet, SourceNotFoundError, SourceSchemaMismatchError, type Dataset } from 'shoal/data';
import { TestCluster } from '../../harness/test-cluster.js';
import { Duck, arrowRows, expectSameRows, genColumns, sortedRows, toArrow, unevenPartitions } from './helpers.js';
import { albanyDataDir } from '../../../examples/albany-data.js';

const DATA = albanyDataDir();
const LISTINGS = join(DATA, 'listings.csv');
const REVIEWS = join(DATA, 'reviews.csv');

let tc: TestCluster;
let duck: Duck;
let dir: string;
let big: arrow.Table;
let ds: Dataset;

beforeAll(async () => {
  tc = await TestCluster.start({ numCpus: 2 });
  duck = await Duck.open();
  dir = await mkdtemp(join(tmpdir(), 'shoal-data-io-'));
  const cols = genColumns(2000, 3, 6);
  big = toArrow(cols);
  await duck.load('t', cols);
  ds = fromArrow(unevenPartitions(big, [0, 500, 500, 1500]));
});

afterAll(async () => {
  duck?.close();
  await tc?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const rows = async (d: Dataset): Promise<unknown[][]> => arrowRows(await d.collect());
const same = (a: unknown[][], b: unknown[][]): void => expectSameRows(sortedRows(a), sortedRows(b), true);

describe('readCsv on the Albany Airbnb data', () => {
  it('counts and aggregates like DuckDB', async () => {
    const listings = readCsv(LISTINGS);
    expect(await listings.count()).toBe(421);
    const byRoom = listings.groupBy('room_type').agg(agg.count(), agg.mean('accommodates', 'acc'), agg.sum('number_of_reviews', 'nrev'), agg.mean('review_scores_rating', 'rating'));
    same(
      await rows(byRoom),
      await duck.rows(`SELECT room_type, count(*), avg(accommodates), sum(number_of_reviews), avg(review_scores_rating) FROM read_csv('${LISTINGS}') GROUP BY room_type`),
    );
  });

  it('joins reviews with listings like DuckDB (shuffle path)', async () => {
    const reviews = readCsv(REVIEWS).rename({ listing_id: 'id' });
    const perHood = reviews
      .join(readCsv(LISTINGS).select('id', 'neighbourhood_cleansed'), 'id')
      .groupBy('neighbourhood_cleansed')
      .agg(agg.count(undefined, 'n'), agg.countDistinct('reviewer_id', 'reviewers'))
      .withOptions({ broadcastThresholdBytes: 0, shufflePartitions: 3 });
    same(
      await rows(perHood),
      await duck.rows(
        `SELECT l.neighbourhood_cleansed, count(*), count(DISTINCT r.reviewer_id) FROM read_csv('${REVIEWS}') r JOIN read_csv('${LISTINGS}') l ON r.listing_id = l.id GROUP BY 1`,
      ),
    );
  });

  it('reads a gzipped CSV', async () => {
    expect(await readCsv(join(DATA, 'calendar.csv.gz')).count()).toBe(153_665);
  });
});

describe('CSV and JSON write → read', () => {
  it('round trips through writeCsv with a directory and a glob', async () => {
    const out = join(dir, 'csv-out');
    const res = await ds.writeCsv(out);
    expect(res.rowsWritten).toBe(2000);
    expect((await readdir(out)).filter((f) => f.endsWith('.csv'))).toHaveLength(5);
    const back = readCsv(out, { schema: { k: 'int32', s: 'utf8', x: 'float64', i: 'int32' } });
    same(await rows(back), arrowRows(big));
    // An independent reader: DuckDB parses the written files (quoting, escaping, nulls, unicode) and
    // must see the rows DuckDB itself was loaded with. RFC 4180 as written: an empty field is null,
    // a quoted empty field ("") the empty string.
    const csvGlob = join(out, '*.csv').replaceAll("'", "''");
    same(
      await duck.rows(`SELECT k, s, x, i FROM read_csv('${csvGlob}', header = true, delim = ',', quote = '"', escape = '"', allow_quoted_nulls = false, columns = {'k': 'INTEGER', 's': 'VARCHAR', 'x': 'DOUBLE', 'i': 'INTEGER'})`),
      await duck.rows('SELECT k, s, x, i FROM t'),
    );
    expect(await readCsv(join(out, 'part-0000*.csv'), { schema: { k: 'int32', s: 'utf8', x: 'float64', i: 'int32' } }).count()).toBe(2000);
    await expect(ds.writeCsv(out)).rejects.toThrow(/not empty/);
  });

  it('reads JSON lines', async () => {
    const p = join(dir, 'rows.jsonl');
    await writeFile(p, '{"a": 1, "b": "x"}\n{"a": 2, "b": null}\n{"a": null, "b": "日本語"}\n');
    expect(await rows(readJson(p).sort('a'))).toEqual([[null, '日本語'], [1, 'x'], [2, null]]);
  });
});

describe('Parquet write → read', () => {
  it('round trips with partitionBy and prunes partitions by a filter on the partition column', async () => {
    const out = join(dir, 'pq-part');
    expect((await ds.writeParquet(out, { partitionBy: ['k'] })).rowsWritten).toBe(2000);
    const entries = await readdir(out);
    expect(entries).toContain('k=1');
    expect(entries).toContain('k=__HIVE_DEFAULT_PARTITION__');
    const back = readParquet(out);
    expect((await back.schema()).fields.map((f) => f.name)).toEqual(['s', 'x', 'i', 'k']);
    same(await rows(back.select('k', 's', 'x', 'i')), arrowRows(big));
    const only = readParquet(out, { filter: col('k').eq(3) });
    const q = only.select('k', 's', 'x', 'i');
    same(await rows(q), await duck.rows('SELECT k, s, x, i FROM t WHERE k = 3'));
    expect(q.lastExecution().events.join('\n')).toMatch(/skipped \d+ of \d+ partitions/);
  });

  it('pushes projection and filters into the read and skips row groups by statistics', async () => {
    const out = join(dir, 'pq-range');
    await range(10_000, { numPartitions: 5 }).withColumn('sq', col('id').mul(col('id'))).withColumn('label', col('id').cast('utf8')).writeParquet(out);
    const d = readParquet(out, { columns: ['sq'], filter: col('id').ge(8500) });
    const plan = await d.explainString();
    expect(plan).toMatch(/Scan PARQUET\[.*\] columns=\[id, sq\] pushedFilters=\[\(id >= 8500\)\]/);
    expect(await d.count()).toBe(1500);
    const whole = readParquet(out);
    expect(await whole.count()).toBe(10_000);
    expect(whole.lastExecution().events).toEqual(['count: from source metadata']);
    const firstRows = whole.withOptions({ maxTasksInFlight: 2 }).limit(3);
    expect(Array.from((await firstRows.collect()).getChild('id')!.toArray() as BigInt64Array, Number)).toEqual([0, 1, 2]);
    expect(firstRows.lastExecution().events.join('\n')).toMatch(/limit 3: read 2 of 5 partitions/);
    expect(d.lastExecution().events.join('\n')).toMatch(/skipped 4 of 5 partitions/);
    const sum = await d.agg(agg.sum('sq', 's')).take(1);
    let expected = 0;
    for (let i = 8500; i < 10_000; i++) expected += i * i;
    expect(Number(sum[0]!.s)).toBe(expected);
  });

  it('projection pushdown on the generated data equals DuckDB', async () => {
    const out = join(dir, 'pq-plain');
    await ds.writeParquet(out);
    const d = readParquet(out, { columns: ['s', 'x'], filter: col('i').gt(100).and(col('s').isNotNull()) });
    same(await rows(d), await duck.rows('SELECT s, x FROM t WHERE i > 100 AND s IS NOT NULL'));
  });
});

describe('bad inputs', () => {
  it('a file that does not exist', async () => {
    const err = await readCsv(join(dir, 'missing.csv')).count().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SourceNotFoundError);
    expect((err as SourceNotFoundError).path).toContain('missing.csv');
    await expect(readParquet(join(dir, 'nothing-*.parquet')).count()).rejects.toBeInstanceOf(SourceNotFoundError);
  });

  it('a malformed CSV in failfast mode fails the read task, naming the file and line', async () => {
    const p = join(dir, 'ragged.csv');
    await writeFile(p, 'a,b\n1,2\n3\n');
    const err = (await readCsv(p, { mode: 'failfast' }).count().catch((e: unknown) => e)) as TaskError;
    expect(err).toBeInstanceOf(TaskError);
    expect(err.causeCode).toBe('DATA_MALFORMED_RECORD');
    expect(err.causeMessage).toContain('ragged.csv:3');
    expect(await readCsv(p, { mode: 'dropMalformed' }).count()).toBe(1);
  });

  it('CSV files with different columns or types: an error naming the file and column, or merged', async () => {
    const a = join(dir, 'mm-a.csv');
    const b = join(dir, 'mm-b.csv');
    const c = join(dir, 'mm-c.csv');
    await writeFile(a, 'id,name\n1,x\n2,y\n');
    await writeFile(b, 'id,city\n3,Albany\n');
    await writeFile(c, 'id,name\nabc,z\n');
    const err = (await readCsv([a, b]).count().catch((e: unknown) => e)) as SourceSchemaMismatchError;
    expect(err).toBeInstanceOf(SourceSchemaMismatchError);
    expect(err.file).toBe(b);
    expect(['city', 'name']).toContain(err.column);
    expect(err.message).toContain('mm-b.csv');
    const typeErr = (await readCsv([a, c]).count().catch((e: unknown) => e)) as SourceSchemaMismatchError;
    expect(typeErr).toBeInstanceOf(SourceSchemaMismatchError);
    expect(typeErr.column).toBe('id');
    expect(typeErr.file).toBe(c);
    const merged = readCsv([a, b], { mergeSchema: true });
    expect(await rows(merged.sort('id'))).toEqual([[1, 'x', null], [2, 'y', null], [3, null, 'Albany']]);
  });

  it('a garbled page in a Parquet file fails the read task with the file and row group; the worker keeps serving', async () => {
    const p = join(dir, 'garbled-pq');
    await range(40_000, { numPartitions: 2 })
      .withColumn('k', col('id').mul(7919).mod(1000))
      .withColumn('s', col('id').mod(97).cast('utf8'))
      .writeParquet(p);
    const [name] = (await readdir(p)).filter((f) => f.endsWith('.parquet'));
    const file = join(p, name!);
    const bytes = new Uint8Array(await readFile(file));
    // Garble the middle of column k's chunk in the file's first row group.
    const [chunk] = await duck.rows(`SELECT coalesce(dictionary_page_offset, data_page_offset), total_compressed_size FROM parquet_metadata('${file}') WHERE row_group_id = 0 AND path_in_schema = 'k'`);
    const start = Number(chunk![0]);
    const end = start + Number(chunk![1]);
    const mid = Math.floor((start + end) / 2);
    for (let i = mid - 30; i < mid + 30; i++) bytes[i] = (bytes[i]! * 31 + 7) & 0xff;
    await writeFile(file, bytes);
    const err = (await readParquet(file).filter(col('k').ge(0)).count().catch((e: unknown) => e)) as TaskError;
    expect(err).toBeInstanceOf(TaskError);
    expect(err.causeCode).toBe('DATA_PARQUET');
    expect(err.causeMessage).toMatch(/row group 0\b/);
    expect(err.causeMessage).toContain(name!);
    // The other columns are not decoded, so they still read; and the cluster is still up.
    expect(await readParquet(file, { columns: ['id', 's'] }).filter(col('id').ge(0)).count()).toBe(20_000);
    expect(await range(10).count()).toBe(10);
  });

  it('Parquet files with different schemas', async () => {
    const p1 = join(dir, 'mm-pq-1');
    const p2 = join(dir, 'mm-pq-2');
    await range(10).writeParquet(p1);
    await range(5).withColumn('extra', col('id').add(1)).writeParquet(p2);
    const files = [...(await readdir(p1)).map((f) => join(p1, f)), ...(await readdir(p2)).map((f) => join(p2, f))];
    const err = (await readParquet(files).count().catch((e: unknown) => e)) as SourceSchemaMismatchError;
    expect(err).toBeInstanceOf(SourceSchemaMismatchError);
    expect(err.column).toBe('extra');
    expect(err.file).toContain('mm-pq-2');
    const merged = await readParquet(files, { mergeSchema: true }).agg(agg.count(), agg.count('extra', 'e')).take(1);
    expect(merged[0]).toEqual({ 'count(*)': 15n, e: 5n });
  });
});
