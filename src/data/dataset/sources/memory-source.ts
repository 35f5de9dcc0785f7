/** In-memory sources: Arrow tables from the driver, and `range(n)`. */
import * as arrow from 'apache-arrow';
import { invalidOption } from '../../errors.js';
import type { ResolvedSource } from './resolved-source.js';

export function resolveArrow(partitions: readonly arrow.Table[]): ResolvedSource {
  if (partitions.length === 0) throw invalidOption('fromArrow(tables)', 'needs at least one table');
  const schema = partitions[0]!.schema;
  partitions.forEach((t, i) => {
    const a = schema.fields.map((f) => `${f.name}:${String(f.type)}`).join(',');
    const b = t.schema.fields.map((f) => `${f.name}:${String(f.type)}`).join(',');
    if (a !== b) throw invalidOption('fromArrow(tables)', `table ${i} has schema (${b}) but table 0 has (${a})`);
  });
  return {
    schema,
    partitions: partitions.map((t) => ({ spec: null, rows: t.numRows })),
    template: null,
    mergeSchema: false,
    estimatedRows: partitions.reduce((s, t) => s + t.numRows, 0),
    tables: partitions,
  };
}

export function resolveRange(n: number, numPartitions: number): ResolvedSource {
  const parts = Math.max(1, Math.min(numPartitions, Math.max(n, 1)));
  const size = Math.ceil(n / parts);
  return {
    schema: new arrow.Schema([new arrow.Field('id', new arrow.Int64(), false)]),
    partitions: Array.from({ length: parts }, (_, i) => {
      const start = Math.min(n, i * size);
      const end = Math.min(n, (i + 1) * size);
      return { spec: { type: 'range' as const, start, end, column: 'id' }, rows: end - start };
    }),
    template: null,
    mergeSchema: false,
    estimatedRows: n,
  };
}
