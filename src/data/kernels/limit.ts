import type * as arrow from 'apache-arrow';
import { invalidOption } from '../errors.js';

/** The first `n` rows (zero copy). */
export function limit(table: arrow.Table, n: number): arrow.Table {
  if (!Number.isInteger(n) || n < 0) throw invalidOption('limit', `must be a non-negative integer; got ${n}`);
  return table.slice(0, Math.min(n, table.numRows));
}
