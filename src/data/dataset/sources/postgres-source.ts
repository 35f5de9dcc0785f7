/**
 * PostgreSQL source. Planning reads the result's column types with a zero-row query; execution
 * (executor.ts) builds the range-partition SQL (pgPartitionQueries, never LIMIT/OFFSET) with the
 * columns and simple filters pushed down, exports one snapshot, and reads every partition in a task.
 */
import { invalidOption } from '../../errors.js';
import { connectPostgres } from '../../io/pg-connect.js';
import { pgPartitionQueries, quoteIdent } from '../../io/pg-partition-queries.js';
import { pgResultSchema } from '../../io/pg-reader.js';
import type { ResolvedSource } from './resolved-source.js';
import type { ReadPostgresOptions } from './source-options.js';

export { connectPostgres };

export function validatePostgresOptions(o: ReadPostgresOptions): void {
  if (typeof o.url !== 'string' || o.url === '') throw invalidOption('options.url', 'must be a PostgreSQL connection string');
  if (o.fetchSize !== undefined && (!Number.isInteger(o.fetchSize) || o.fetchSize < 1)) throw invalidOption('options.fetchSize', `must be a positive integer; got ${o.fetchSize}`);
  pgPartitionQueries(o);
}

export async function resolvePostgres(options: ReadPostgresOptions): Promise<ResolvedSource> {
  validatePostgresOptions(options);
  const [first] = pgPartitionQueries({ ...options, numPartitions: 1, partitionColumn: undefined });
  const client = await connectPostgres(options.url);
  try {
    const schema = await pgResultSchema(client, first!);
    return { schema, partitions: [], template: null, mergeSchema: false, estimatedRows: undefined, postgres: options };
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** The source SQL with a pushed-down WHERE clause, as a `query` for pgPartitionQueries. */
export function withPushedWhere(options: ReadPostgresOptions, where: string | undefined): ReadPostgresOptions {
  if (where === undefined) return options;
  const from = options.table !== undefined ? quoteIdent(options.table) : `(${options.query!.trim().replace(/;\s*$/, '')}) AS shoal_pushdown_source`;
  const { table: _t, ...rest } = options;
  return { ...rest, query: `SELECT * FROM ${from} WHERE ${where}` };
}
