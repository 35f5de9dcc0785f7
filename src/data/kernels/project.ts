import * as arrow from 'apache-arrow';
import { evaluate } from '../expr/evaluate.js';
import { outputName } from '../expr/expr-node.js';
import { type ExprInput, toNode } from '../expr/expr.js';
import { SchemaMismatchError } from '../errors.js';
import { tableFromVectors } from './take.js';

/**
 * Evaluates each expression over the table and returns a table of the results, named by alias, column
 * name, or the expression's SQL rendering. Bare column references pass through untouched (zero copy).
 */
export function project(table: arrow.Table, exprs: readonly ExprInput[]): arrow.Table {
  const fields: arrow.Field[] = [];
  const vectors: arrow.Vector[] = [];
  const seen = new Set<string>();
  for (const e of exprs) {
    const node = toNode(e);
    const name = outputName(node);
    if (seen.has(name)) throw new SchemaMismatchError(`project produces column "${name}" twice; alias one of them`, name);
    seen.add(name);
    const v = evaluate(node, table);
    const bare = node.op === 'alias' ? node.arg : node;
    const source = bare.op === 'col' ? table.schema.fields.find((f) => f.name === bare.name) : undefined;
    fields.push(source !== undefined ? source.clone({ name }) : new arrow.Field(name, v.type as arrow.DataType, true));
    vectors.push(v);
  }
  return tableFromVectors(fields, vectors, table.numRows);
}

/** Adds (or replaces) one column computed by `expr`, keeping the others in place. */
export function withColumn(table: arrow.Table, name: string, expr: ExprInput): arrow.Table {
  return setColumn(table, name, evaluate(expr, table));
}

/** The table with column `name` set to `v` (replaced in place, or appended). */
export function setColumn(table: arrow.Table, name: string, v: arrow.Vector): arrow.Table {
  const fields = table.schema.fields.slice();
  const vectors = fields.map((_, i) => table.getChildAt(i) as arrow.Vector);
  const at = fields.findIndex((f) => f.name === name);
  const field = new arrow.Field(name, v.type as arrow.DataType, true);
  if (at >= 0) {
    fields[at] = field;
    vectors[at] = v;
  } else {
    fields.push(field);
    vectors.push(v);
  }
  return tableFromVectors(fields, vectors, table.numRows);
}
