/**
 * Schema errors at plan-build time (no cluster): a transformation over an input whose schema is known
 * without reading (Arrow tables, rows, range, CSV/JSON with a schema) throws at once, naming the
 * operator and the closest column; a source known only once read (Parquet here) is checked when its
 * schema is first resolved, with the same message.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as arrow from 'apache-arrow';
import { afterAll, describe, expect, it } from 'vitest';
import { closestName, editDistance } from '../../../../src/data/closest-name.js';
import {
  ExpressionTypeError, InvalidPlanError, UnknownColumnError, agg, col, fromArrow, fromRows, lag, range, readCsv, readParquet, window,
} from '../../../../src/data/index.js';
import { writeParquetFile } from '../../../../src/data/io/parquet.js';

const listings = fromArrow(
  new arrow.Table({
    id: arrow.vectorFromArray([1, 2, 3], new arrow.Int32()),
    price: arrow.vectorFromArray([50, 120, 80], new arrow.Float64()),
    room_type: arrow.vectorFromArray(['a', 'b', 'a'], new arrow.Utf8()),
  }),
);
const COLUMNS = '(columns: "id", "price", "room_type")';

/** The error `build` throws (fails the test if it throws none). */
function thrown(build: () => unknown): Error {
  try {
    build();
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected the plan to be refused as it was built');
}

describe('an unknown column is refused by the operator that names it, as the plan is built', () => {
  it.each([
    ['filter', () => listings.filter(col('pricee').gt(3)), `filter(pricee > 3): unknown column "pricee" — did you mean "price"? ${COLUMNS}`],
    ['select', () => listings.select('id', 'room'), `select(id, room): unknown column "room" ${COLUMNS}`],
    ['select expression', () => listings.select(col('prize').mul(2).alias('p2')), `select((prize * 2) AS p2): unknown column "prize" — did you mean "price"? ${COLUMNS}`],
    ['withColumn', () => listings.withColumn('half', col('Price').div(2)), `withColumn('half', Price / 2): unknown column "Price" — did you mean "price"? ${COLUMNS}`],
    ['groupBy', () => listings.groupBy('roomtype').agg(agg.count()), `groupBy('roomtype').agg(count(*)): unknown column "roomtype" — did you mean "room_type"? ${COLUMNS}`],
    ['agg', () => listings.groupBy('room_type').agg(agg.mean('prices', 'avg')), `groupBy('room_type').agg(mean(prices) AS avg): unknown column "prices" — did you mean "price"? ${COLUMNS}`],
    ['sort', () => listings.sort('pirce'), `sort(pirce ASC): unknown column "pirce" — did you mean "price"? ${COLUMNS}`],
    ['join', () => listings.join(fromRows([{ listing: 1, stars: 5 }]), 'listing'), 'join(on \'listing\', \'inner\'): unknown column "listing" (columns: "id", "price", "room_type")'],
    ['window spec', () => listings.withColumn('rn', lag('price').over(window().partitionBy('room_typ').orderBy('id'))), `withColumn('rn', lag(price, 1) OVER (PARTITION BY room_typ ORDER BY id ASC)): unknown column "room_typ" — did you mean "room_type"? ${COLUMNS}`],
    ['window aggregate', () => listings.withColumn('m', agg.max('prise').over(window().partitionBy('room_type'))), `withColumn('m', max(prise) OVER (PARTITION BY room_type)): unknown column "prise" — did you mean "price"? ${COLUMNS}`],
    ['distinct', () => listings.distinct('roomType'), `distinct('roomType'): unknown column "roomType" — did you mean "room_type"? ${COLUMNS}`],
    ['rename', () => listings.rename({ pric: 'p' }), `rename(pric → p): unknown column "pric" — did you mean "price"? ${COLUMNS}`],
  ])('%s', (_what, build, message) => {
    const err = thrown(build);
    expect(err).toBeInstanceOf(UnknownColumnError);
    expect(err.message).toBe(message);
  });

  it('carries the operator, the column, the suggestion and the columns there are', () => {
    const err = thrown(() => listings.filter(col('pricee').gt(3))) as UnknownColumnError;
    expect(err).toMatchObject({ code: 'DATA_UNKNOWN_COLUMN', column: 'pricee', suggestion: 'price', operator: 'filter(pricee > 3)', available: ['id', 'price', 'room_type'] });
  });

  it('suggests nothing when no column is close', () => {
    const err = thrown(() => listings.filter(col('neighbourhood').isNull())) as UnknownColumnError;
    expect(err.suggestion).toBeUndefined();
    expect(err.message).toBe(`filter(neighbourhood IS NULL): unknown column "neighbourhood" ${COLUMNS}`);
  });

  it('names the step of a chain that breaks, after columns added earlier', () => {
    const chain = listings.withColumn('nightly', col('price').mul(1.1)).select('id', 'nightly');
    expect(() => chain.filter(col('nigthly').gt(60))).toThrow('filter(nigthly > 60): unknown column "nigthly" — did you mean "nightly"? (columns: "id", "nightly")');
  });

  it('checks range, rows and CSV/JSON read with a schema too; type errors are thrown as the plan is built as well', () => {
    expect(() => range(10).filter(col('idx').lt(3))).toThrow('filter(idx < 3): unknown column "idx" — did you mean "id"? (columns: "id")');
    expect(() => fromRows([{ a: 1 }]).select('b')).toThrow(/^select\(b\): unknown column "b" — did you mean "a"\?/);
    expect(() => readCsv('nowhere.csv', { schema: { city: 'utf8', beds: 'int32' } }).filter(col('bed').gt(1))).toThrow(/^filter\(bed > 1\): unknown column "bed" — did you mean "beds"\?/);
    expect(() => listings.filter(col('room_type').add(1).gt(2))).toThrow(ExpressionTypeError);
    expect(() => listings.select('id').union(listings)).toThrow(InvalidPlanError);
  });

  it('a valid plan builds, and its schema is the one the kernels give', async () => {
    const ds = listings.withColumn('p2', col('price').mul(2)).groupBy('room_type').agg(agg.max('p2', 'top'), agg.count());
    expect((await ds.schema()).fields.map((f) => f.name)).toEqual(['room_type', 'top', 'count(*)']);
  });
});

describe('a source whose schema is known only once read is checked at the first schema resolution', () => {
  const dir = mkdtempSync(join(tmpdir(), 'shoal-plan-checks-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('Parquet: the plan builds, and schema() (or any action) names the operator and the closest column', async () => {
    const file = join(dir, 'listings.parquet');
    await writeParquetFile(file, new arrow.Table({ id: arrow.vectorFromArray([1, 2], new arrow.Int32()), price: arrow.vectorFromArray([1.5, 2.5]) }));
    const ds = readParquet(file).withColumn('p2', col('price').mul(2)).filter(col('pricee').gt(3));
    const err = await ds.schema().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnknownColumnError);
    expect((err as Error).message).toBe('filter(pricee > 3): unknown column "pricee" — did you mean "price"? (columns: "id", "price", "p2")');
  });
});

describe('closest column', () => {
  it('edit distance, a case difference costing half', () => {
    expect(editDistance('price', 'price')).toBe(0);
    expect(editDistance('pricee', 'price')).toBe(1);
    expect(editDistance('Price', 'price')).toBe(0.5);
    expect(editDistance('pirce', 'price')).toBe(2);
    expect(editDistance('', 'abc')).toBe(3);
  });

  it('suggests within max(2, a third of the length), the nearest first', () => {
    expect(closestName('pricee', ['id', 'price', 'prices'])).toBe('price');
    expect(closestName('room', ['id', 'room_type'])).toBeUndefined();
    expect(closestName('neighbourhood_cleansed', ['neighborhood_cleansed', 'id'])).toBe('neighborhood_cleansed');
    expect(closestName('x', [])).toBeUndefined();
  });
});
