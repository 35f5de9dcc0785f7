/** Fit-time helpers: schema checks and distributed aggregations whose partials merge on the cluster. */
import type * as arrow from 'apache-arrow';
import type { AggSpec, Dataset } from '../data/index.js';
import { requireColumn, type ColumnKind } from './columns.js';
import { mapWithPayload } from './distributed.js';
import { EmptyDatasetError } from './errors.js';
import { mergeSketches, type QuantileSummary } from './quantile-sketch.js';

/** Checks every column against the accepted kinds; returns the schema. */
export async function checkColumns(dataset: Dataset, columns: readonly string[], stage: string, accepts: readonly ColumnKind[]): Promise<arrow.Schema> {
  const schema = await dataset.schema();
  for (const c of columns) requireColumn(schema, c, stage, accepts);
  return schema;
}

/** One global aggregate row (partial aggregates per partition, merged by the Dataset's aggregate stage). */
export async function aggregateRow(dataset: Dataset, specs: AggSpec[]): Promise<Record<string, unknown>> {
  const [row] = await dataset.agg(...specs).take(1);
  return row ?? {};
}

/** Throws EmptyDatasetError when `count` is 0. */
export function requireRows(count: unknown, stage: string, column?: string): void {
  if (Number(count ?? 0) === 0) throw new EmptyDatasetError(column === undefined ? 'cannot fit on an empty dataset' : 'cannot fit: the column has no non-null values', { stage, column });
}

/** Quantile summaries of numeric columns: one sketch per partition (on the cluster), merged here. */
export async function quantileSummaries(dataset: Dataset, columns: readonly string[], k: number): Promise<Map<string, QuantileSummary>> {
  const rows = await mapWithPayload(dataset.select(...columns), { kind: 'quantileSketch', columns, k }).collect();
  return mergeSketches(rows, columns);
}

export function num(v: unknown): number {
  return v === null || v === undefined ? NaN : Number(v);
}
