import type * as arrow from 'apache-arrow';
import { evaluateColumn } from '../expr/evaluate.js';
import { exprToString } from '../expr/expr-node.js';
import { type ExprInput, toNode } from '../expr/expr.js';
import { ExpressionTypeError } from '../errors.js';
import { takeTable } from './take.js';

/** Keeps the rows where `predicate` is true; rows where it is false or null are dropped (SQL WHERE). */
export function filter(table: arrow.Table, predicate: ExprInput): arrow.Table {
  const node = toNode(predicate);
  const c = evaluateColumn(node, table);
  if (c.type !== 'bool' && c.type !== 'null') throw new ExpressionTypeError(`filter predicate must be bool, got ${JSON.stringify(c.type)}`, exprToString(node));
  if (c.type === 'null') return table.slice(0, 0);
  const v = c.values as Uint8Array;
  const n = table.numRows;
  let count = 0;
  for (let i = 0; i < n; i++) if (v[i] === 1 && (c.valid === null || c.valid[i] === 1)) count++;
  if (count === n) return table;
  const idx = new Int32Array(count);
  let j = 0;
  for (let i = 0; i < n; i++) if (v[i] === 1 && (c.valid === null || c.valid[i] === 1)) idx[j++] = i;
  return takeTable(table, idx);
}
