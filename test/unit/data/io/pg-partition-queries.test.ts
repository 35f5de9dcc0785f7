import { describe, expect, it } from 'vitest';
import { InvalidOptionError, pgPartitionQueries } from '../../../../src/data/index.js';

describe('pgPartitionQueries', () => {
  it('builds Spark-style range predicates: NULLs and below-range in the first, above-range in the last', () => {
    expect(pgPartitionQueries({ table: 'public.listings', partitionColumn: 'id', lowerBound: 0, upperBound: 100, numPartitions: 4 })).toEqual([
      'SELECT * FROM "public"."listings" WHERE "id" < 25 OR "id" IS NULL',
      'SELECT * FROM "public"."listings" WHERE "id" >= 25 AND "id" < 50',
      'SELECT * FROM "public"."listings" WHERE "id" >= 50 AND "id" < 75',
      'SELECT * FROM "public"."listings" WHERE "id" >= 75',
    ]);
  });

  it('wraps a query, selects columns, and never uses LIMIT or OFFSET', () => {
    const qs = pgPartitionQueries({ query: 'SELECT * FROM r WHERE x > 1;', columns: ['a', 'b'], partitionColumn: 'a', lowerBound: 10n, upperBound: 20n, numPartitions: 3 });
    expect(qs).toHaveLength(3);
    expect(qs[0]).toBe('SELECT "a", "b" FROM (SELECT * FROM r WHERE x > 1) AS shoal_partition_source WHERE "a" < 13 OR "a" IS NULL');
    for (const q of qs) expect(q).not.toMatch(/LIMIT|OFFSET/i);
  });

  it('caps partitions at the integer range, supports timestamps, and validates options', () => {
    expect(pgPartitionQueries({ table: 't', partitionColumn: 'k', lowerBound: 0, upperBound: 2, numPartitions: 10 })).toHaveLength(2);
    expect(pgPartitionQueries({ table: 't' })).toEqual(['SELECT * FROM "t"']);
    const ts = pgPartitionQueries({ table: 't', partitionColumn: 'at', lowerBound: new Date('2024-01-01Z'), upperBound: new Date('2024-01-03Z'), numPartitions: 2 });
    expect(ts[1]).toBe(`SELECT * FROM "t" WHERE "at" >= '2024-01-02 00:00:00+00'::timestamptz`);
    expect(() => pgPartitionQueries({ table: 't', query: 'x' })).toThrow(InvalidOptionError);
    expect(() => pgPartitionQueries({ table: 't', partitionColumn: 'k', lowerBound: 5, upperBound: 1, numPartitions: 2 })).toThrow(/must not exceed upperBound/);
    expect(() => pgPartitionQueries({ table: 't', numPartitions: 2 })).toThrow(/partitionColumn is required/);
  });

  it('quotes hostile table and column names as identifiers (no SQL injection through names)', () => {
    const evil = 'x"; DROP TABLE users; --';
    const [q] = pgPartitionQueries({ table: evil, columns: [evil, 'a.b'], partitionColumn: evil, lowerBound: 0, upperBound: 10, numPartitions: 2 });
    expect(q).toBe('SELECT "x""; DROP TABLE users; --", "a.b" FROM "x""; DROP TABLE users; --" WHERE "x""; DROP TABLE users; --" < 5 OR "x""; DROP TABLE users; --" IS NULL');
  });
});
