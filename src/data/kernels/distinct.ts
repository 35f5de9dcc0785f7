import type * as arrow from 'apache-arrow';
import { groupIds, keyColumns } from './row-key.js';
import { takeTable } from './take.js';

/**
 * Removes duplicate rows, keeping the first occurrence; nulls compare equal to each other (SQL
 * DISTINCT). With `columns`, rows are compared on those columns only (Spark `dropDuplicates`).
 */
export function distinct(table: arrow.Table, columns?: readonly string[]): arrow.Table {
  const names = columns ?? table.schema.fields.map((f) => f.name);
  if (names.length === 0) return table.slice(0, Math.min(1, table.numRows));
  const keep = groupIds(keyColumns(table, names), table.numRows).firstRows;
  if (keep.length === table.numRows) return table;
  return takeTable(table, keep);
}
