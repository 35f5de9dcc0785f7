/**
 * What pushed-down conjuncts can do at a source: skip Parquet row groups whose min/max statistics
 * prove no row matches, skip files whose Hive partition values fail the predicate, and become a SQL
 * WHERE clause for PostgreSQL when the translation is exactly equivalent. The conjuncts are always
 * still evaluated in the read task, so pushdown only ever removes work.
 */
import type * as arrow from 'apache-arrow';
import { evaluateColumn } from '../../expr/evaluate.js';
import type { ExprNode } from '../../expr/expr-node.js';
import { quoteColumn } from '../../io/pg-partition-queries.js';
import { logicalTypeOf } from '../../types/logical-type.js';
import type { ResolvedPartition } from '../sources/resolved-source.js';
import { exprColumns } from './optimize.js';

type Cmp = 'eq' | 'lt' | 'le' | 'gt' | 'ge' | 'ne';
const FLIP: Record<Cmp, Cmp> = { eq: 'eq', ne: 'ne', lt: 'gt', le: 'ge', gt: 'lt', ge: 'le' };

/** `col op literal` (either side), normalized to column-first. */
function comparison(e: ExprNode): { column: string; fn: Cmp; value: number | string | boolean } | undefined {
  if (e.op !== 'binary' || !['eq', 'ne', 'lt', 'le', 'gt', 'ge'].includes(e.fn)) return undefined;
  const fn = e.fn as Cmp;
  if (e.left.op === 'col' && e.right.op === 'lit' && e.right.value !== null) return { column: e.left.name, fn, value: e.right.value };
  if (e.right.op === 'col' && e.left.op === 'lit' && e.left.value !== null) return { column: e.right.name, fn: FLIP[fn], value: e.left.value };
  return undefined;
}

function cmpStat(a: number | bigint | string, b: number | string): number {
  if (typeof a === 'string' && typeof b === 'string') return Buffer.compare(Buffer.from(a), Buffer.from(b));
  const x = typeof a === 'bigint' ? Number(a) : Number(a);
  const y = Number(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

/** True when the row group's statistics prove `conjunct` is never true in it. */
function statsExclude(conjunct: ExprNode, part: ResolvedPartition, schema: arrow.Schema): boolean {
  const stats = part.stats;
  if (stats === undefined) return false;
  if (conjunct.op === 'unary' && conjunct.fn === 'isNull' && conjunct.arg.op === 'col') return stats.get(conjunct.arg.name)?.nullCount === 0;
  const c = comparison(conjunct);
  if (c === undefined || c.fn === 'ne') return false;
  const field = schema.fields.find((f) => f.name === c.column);
  if (field === undefined) return false;
  const t = logicalTypeOf(field.type, field.name);
  // Floats may hold NaN outside the statistics; dates and timestamps have unit conversions: skip them.
  const ok = ((t === 'int32' || t === 'int64') && typeof c.value === 'number') || (t === 'utf8' && typeof c.value === 'string');
  if (!ok) return false;
  const s = stats.get(c.column);
  if (s?.min === undefined || s.max === undefined || s.min === null || s.max === null) return false;
  const min = s.min as number | bigint | string;
  const max = s.max as number | bigint | string;
  const v = c.value as number | string;
  switch (c.fn) {
    case 'eq':
      return cmpStat(min, v) > 0 || cmpStat(max, v) < 0;
    case 'lt':
      return cmpStat(min, v) >= 0;
    case 'le':
      return cmpStat(min, v) > 0;
    case 'gt':
      return cmpStat(max, v) <= 0;
    case 'ge':
      return cmpStat(max, v) < 0;
  }
}

/** True when the file's Hive partition values make `conjunct` false or null. */
function partitionExcludes(conjunct: ExprNode, part: ResolvedPartition): boolean {
  const row = part.partitionRow;
  if (row === undefined) return false;
  const names = new Set(row.schema.fields.map((f) => f.name));
  if (![...exprColumns(conjunct)].every((c) => names.has(c))) return false;
  try {
    const c = evaluateColumn(conjunct, row);
    if (c.type !== 'bool') return false;
    return !(c.values[0] === 1 && (c.valid === null || c.valid[0] === 1));
  } catch {
    return false;
  }
}

/** Whether a partition can be skipped under the pushed conjuncts. */
export function canSkipPartition(part: ResolvedPartition, pushed: readonly ExprNode[], schema: arrow.Schema): boolean {
  return pushed.some((c) => statsExclude(c, part, schema) || partitionExcludes(c, part));
}

function sqlLiteral(v: number | string | boolean): string {
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : '';
  if (typeof v === 'boolean') return v ? 'TRUE' : 'FALSE';
  return `'${v.replace(/'/g, "''")}'`;
}

const SQL_OP: Record<Cmp, string> = { eq: '=', ne: '<>', lt: '<', le: '<=', gt: '>', ge: '>=' };

/**
 * SQL for the conjuncts that translate exactly (numeric comparisons with numbers, string and boolean
 * equality, IS [NOT] NULL); the rest stay in the task. Undefined when none translate.
 */
export function postgresWhere(pushed: readonly ExprNode[], schema: arrow.Schema): { sql: string | undefined; translated: ExprNode[] } {
  const parts: string[] = [];
  const translated: ExprNode[] = [];
  for (const e of pushed) {
    if (e.op === 'unary' && (e.fn === 'isNull' || e.fn === 'isNotNull') && e.arg.op === 'col' && schema.fields.some((f) => f.name === (e.arg as { name: string }).name)) {
      parts.push(`${quoteColumn(e.arg.name)} IS ${e.fn === 'isNull' ? '' : 'NOT '}NULL`);
      translated.push(e);
      continue;
    }
    const c = comparison(e);
    if (c === undefined) continue;
    const field = schema.fields.find((f) => f.name === c.column);
    if (field === undefined) continue;
    const t = logicalTypeOf(field.type, field.name);
    const numeric = (t === 'int32' || t === 'int64' || t === 'float64') && typeof c.value === 'number' && Number.isFinite(c.value);
    const equality = (c.fn === 'eq' || c.fn === 'ne') && ((t === 'utf8' && typeof c.value === 'string') || (t === 'bool' && typeof c.value === 'boolean'));
    // Floats: PostgreSQL orders NaN above every number, the evaluator compares NaN as false; keep those in the task.
    if (!(numeric && t !== 'float64') && !equality) continue;
    parts.push(`${quoteColumn(c.column)} ${SQL_OP[c.fn]} ${sqlLiteral(c.value)}`);
    translated.push(e);
  }
  return { sql: parts.length > 0 ? parts.map((p) => `(${p})`).join(' AND ') : undefined, translated };
}
