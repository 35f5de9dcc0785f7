/**
 * Splits a PostgreSQL read into range-partitioned queries, with Spark's JDBC semantics: the stride is
 * (upperBound - lowerBound) / numPartitions, the first partition also takes NULLs and everything below
 * lowerBound, the last takes everything at or above its start (so values beyond upperBound are not
 * lost). Bounds decide the stride only; they never filter. No LIMIT/OFFSET, so each partition is one
 * index-friendly range scan.
 */
import { invalidOption } from '../errors.js';
import { formatTimestamp } from '../types/temporal.js';

export type PartitionBound = number | bigint | Date;

export interface PgPartitionOptions {
  /** Table to read (optionally `schema.table`). Exactly one of `table` and `query`. */
  readonly table?: string;
  /** A SELECT to read from, wrapped as a subquery. */
  readonly query?: string;
  /** Columns to select. @default all (`*`) */
  readonly columns?: readonly string[];
  /** Numeric, bigint or timestamp column to range-partition on. Without it there is one partition. */
  readonly partitionColumn?: string;
  readonly lowerBound?: PartitionBound;
  readonly upperBound?: PartitionBound;
  /** @default 1 */
  readonly numPartitions?: number;
}

/**
 * Quotes a table name, splitting `schema.table` on dots; every part is double-quoted with embedded
 * quotes doubled, so no name can end the identifier early (no injection).
 */
export function quoteIdent(name: string): string {
  return name
    .split('.')
    .map((p) => `"${p.replace(/"/g, '""')}"`)
    .join('.');
}

/** Quotes a column name as one identifier (a dot is part of the name; quotes are doubled). */
export function quoteColumn(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

function literal(v: bigint | number, isDate: boolean): string {
  if (isDate) return `'${formatTimestamp(Number(v))}+00'::timestamptz`;
  return String(v);
}

/** One SQL statement per partition; together they return every row of the source exactly once. */
export function pgPartitionQueries(options: PgPartitionOptions): string[] {
  const { table, query } = options;
  if ((table === undefined) === (query === undefined)) throw invalidOption('options.table/options.query', 'exactly one must be given');
  const cols = options.columns === undefined || options.columns.length === 0 ? '*' : options.columns.map(quoteColumn).join(', ');
  const from = table !== undefined ? quoteIdent(table) : `(${query!.trim().replace(/;\s*$/, '')}) AS shoal_partition_source`;
  const base = `SELECT ${cols} FROM ${from}`;
  const requested = options.numPartitions ?? 1;
  if (!Number.isInteger(requested) || requested < 1) throw invalidOption('options.numPartitions', `must be a positive integer; got ${requested}`);
  if (options.partitionColumn === undefined) {
    if (requested > 1) throw invalidOption('options.partitionColumn', 'is required when numPartitions > 1');
    return [base];
  }
  const { lowerBound, upperBound } = options;
  if (lowerBound === undefined || upperBound === undefined) throw invalidOption('options.lowerBound/options.upperBound', 'are required with partitionColumn');
  const isDate = lowerBound instanceof Date;
  if (isDate !== upperBound instanceof Date) throw invalidOption('options.lowerBound/options.upperBound', 'must both be Dates or both be numbers');
  const toNum = (b: PartitionBound): number | bigint => (b instanceof Date ? BigInt(b.getTime()) : b);
  let lo = toNum(lowerBound);
  let hi = toNum(upperBound);
  const integral = typeof lo === 'bigint' || typeof hi === 'bigint' || (Number.isInteger(lo) && Number.isInteger(hi));
  if (integral) {
    lo = BigInt(lo);
    hi = BigInt(hi);
  } else {
    lo = Number(lo);
    hi = Number(hi);
  }
  if (lo > hi) throw invalidOption('options.lowerBound', `must not exceed upperBound; got ${String(lowerBound)} > ${String(upperBound)}`);
  const c = quoteColumn(options.partitionColumn);
  let n = requested;
  if (integral && BigInt(hi) - BigInt(lo) < BigInt(n)) n = Math.max(1, Number(BigInt(hi) - BigInt(lo)));
  if (n === 1 || lo === hi) return [base];
  const bounds: (bigint | number)[] = [];
  if (integral) {
    const L = lo as bigint;
    const stride = (hi as bigint) / BigInt(n) - L / BigInt(n);
    for (let i = 1; i < n; i++) bounds.push(L + stride * BigInt(i));
  } else {
    const stride = (hi as number) / n - (lo as number) / n;
    for (let i = 1; i < n; i++) bounds.push((lo as number) + stride * i);
  }
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const where =
      i === 0
        ? `${c} < ${literal(bounds[0]!, isDate)} OR ${c} IS NULL`
        : i === n - 1
          ? `${c} >= ${literal(bounds[n - 2]!, isDate)}`
          : `${c} >= ${literal(bounds[i - 1]!, isDate)} AND ${c} < ${literal(bounds[i]!, isDate)}`;
    out.push(`${base} WHERE ${where}`);
  }
  return out;
}
