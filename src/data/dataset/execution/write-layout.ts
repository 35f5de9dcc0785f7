/** Hive-style partitioned output layout: `col=value/` directories, one per distinct combination. */
import type * as arrow from 'apache-arrow';
import { MS_PER_DAY } from '../../types/column.js';
import { formatDate, formatTimestamp } from '../../types/temporal.js';
import { requireColumn } from '../../kernels/table-util.js';
import { takeTable } from '../../kernels/take.js';

export const HIVE_NULL = '__HIVE_DEFAULT_PARTITION__';

function partitionText(v: unknown, type: arrow.DataType): string {
  if (v === null || v === undefined) return HIVE_NULL;
  const t = String(type);
  if (t.startsWith('Date')) return formatDate(Math.floor(Number(v instanceof Date ? v.getTime() : v) / MS_PER_DAY));
  if (t.startsWith('Timestamp')) return formatTimestamp(Number(v instanceof Date ? v.getTime() : v), 'T');
  return encodeURIComponent(String(v));
}

/** Splits a table by the values of `columns`; each group drops those columns. */
export function splitByPartitionValues(table: arrow.Table, columns: readonly string[]): { subdir: string; table: arrow.Table }[] {
  const vecs = columns.map((c) => requireColumn(table, c));
  const groups = new Map<string, number[]>();
  for (let r = 0; r < table.numRows; r++) {
    const dir = columns.map((c, i) => `${encodeURIComponent(c)}=${partitionText(vecs[i]!.get(r), vecs[i]!.type as arrow.DataType)}`).join('/');
    let g = groups.get(dir);
    if (g === undefined) groups.set(dir, (g = []));
    g.push(r);
  }
  const keep = table.schema.fields.map((f) => f.name).filter((n) => !columns.includes(n));
  return [...groups].map(([subdir, rows]) => ({ subdir, table: takeTable(table, Int32Array.from(rows)).select(keep) }));
}
