/**
 * Spark-style expression builder: `col('price').mul(1.1).gt(100).alias('x')`. Every method returns a
 * new immutable `Expr`; `toJSON()` gives the plain `ExprNode` tree that ships to workers.
 */
import { InvalidExpressionError } from '../errors.js';
import type { SortKey } from '../kernels/sort.js';
import { MS_PER_DAY } from '../types/column.js';
import { type LogicalType, type ScalarTypeName, isScalarTypeName } from '../types/logical-type.js';
import { type BinaryFn, type CallFn, type ExprNode, type LiteralValue, type UnaryFn, exprToString, validateExprNode } from './expr-node.js';

/** Anything accepted where an expression is expected; plain values become literals. */
export type ExprInput = Expr | ExprNode | number | bigint | string | boolean | Date | null;

/** Units accepted by `dateTrunc`. */
export type DateTruncUnit = 'year' | 'quarter' | 'month' | 'week' | 'day' | 'hour' | 'minute' | 'second';

export class Expr {
  constructor(readonly node: ExprNode) {}

  toJSON(): ExprNode {
    return this.node;
  }

  toString(): string {
    return exprToString(this.node);
  }

  /** Rebuilds an expression from its serialized tree, validating it. */
  static fromJSON(value: unknown): Expr {
    return new Expr(validateExprNode(value));
  }

  private bin(fn: BinaryFn, other: ExprInput): Expr {
    return new Expr({ op: 'binary', fn, left: this.node, right: toNode(other) });
  }
  private un(fn: UnaryFn): Expr {
    return new Expr({ op: 'unary', fn, arg: this.node });
  }
  private call(fn: CallFn, ...args: ExprInput[]): Expr {
    return new Expr({ op: 'call', fn, args: [this.node, ...args.map(toNode)] });
  }

  add(o: ExprInput): Expr {
    return this.bin('add', o);
  }
  sub(o: ExprInput): Expr {
    return this.bin('sub', o);
  }
  mul(o: ExprInput): Expr {
    return this.bin('mul', o);
  }
  /** Always float64; division by zero gives null (Spark non-ANSI semantics). */
  div(o: ExprInput): Expr {
    return this.bin('div', o);
  }
  /** Remainder with the sign of the dividend; modulo by zero gives null. */
  mod(o: ExprInput): Expr {
    return this.bin('mod', o);
  }
  pow(o: ExprInput): Expr {
    return this.bin('pow', o);
  }
  neg(): Expr {
    return this.un('neg');
  }
  eq(o: ExprInput): Expr {
    return this.bin('eq', o);
  }
  ne(o: ExprInput): Expr {
    return this.bin('ne', o);
  }
  lt(o: ExprInput): Expr {
    return this.bin('lt', o);
  }
  le(o: ExprInput): Expr {
    return this.bin('le', o);
  }
  gt(o: ExprInput): Expr {
    return this.bin('gt', o);
  }
  ge(o: ExprInput): Expr {
    return this.bin('ge', o);
  }
  /** Three-valued SQL AND. */
  and(o: ExprInput): Expr {
    return this.bin('and', o);
  }
  /** Three-valued SQL OR. */
  or(o: ExprInput): Expr {
    return this.bin('or', o);
  }
  not(): Expr {
    return this.un('not');
  }
  isNull(): Expr {
    return this.un('isNull');
  }
  isNotNull(): Expr {
    return this.un('isNotNull');
  }
  /** Casts; unparseable strings become null (Spark non-ANSI semantics). */
  cast(to: ScalarTypeName): Expr {
    if (!isScalarTypeName(to)) throw new InvalidExpressionError(`cast target must be one of int32, int64, float64, utf8, bool, date, timestamp; got ${String(to)}`);
    return new Expr({ op: 'cast', to, arg: this.node });
  }
  alias(name: string): Expr {
    return new Expr({ op: 'alias', name, arg: this.node });
  }
  lower(): Expr {
    return this.call('lower');
  }
  upper(): Expr {
    return this.call('upper');
  }
  trim(): Expr {
    return this.call('trim');
  }
  contains(s: ExprInput): Expr {
    return this.call('contains', s);
  }
  startsWith(s: ExprInput): Expr {
    return this.call('startsWith', s);
  }
  endsWith(s: ExprInput): Expr {
    return this.call('endsWith', s);
  }
  /** Group `group` of the first match of `pattern` (JS regex syntax); '' when there is no match (Spark). */
  regexpExtract(pattern: string, group = 1): Expr {
    return this.call('regexpExtract', pattern, group);
  }
  /** Replaces every match of `pattern`; `$1` refers to groups. */
  regexpReplace(pattern: string, replacement: string): Expr {
    return this.call('regexpReplace', pattern, replacement);
  }
  /** Splits around matches of the regex `pattern`, giving list<utf8>. */
  split(pattern: string): Expr {
    return this.call('split', pattern);
  }
  /** Length in Unicode code points. */
  length(): Expr {
    return this.call('length');
  }
  /** Spark `substring(str, pos, len)`: 1-based `pos`, negative `pos` counts from the end; code points. */
  substring(pos: ExprInput, len: ExprInput): Expr {
    return this.call('substring', pos, len);
  }
  year(): Expr {
    return this.call('year');
  }
  month(): Expr {
    return this.call('month');
  }
  dayOfMonth(): Expr {
    return this.call('dayOfMonth');
  }
  /** 1 = Sunday … 7 = Saturday (Spark `dayofweek`). */
  dayOfWeek(): Expr {
    return this.call('dayOfWeek');
  }
  /** Truncates a date or timestamp (UTC); weeks start on Monday. Keeps the input type. */
  dateTrunc(unit: DateTruncUnit): Expr {
    return new Expr({ op: 'call', fn: 'dateTrunc', args: [toNode(unit), this.node] });
  }
  /** Whole days from `start` to this (end), like Spark `datediff(end, start)`. */
  dateDiff(start: ExprInput): Expr {
    return this.call('dateDiff', start);
  }
  /** Adds days, giving a date (Spark `date_add`). */
  addDays(days: ExprInput): Expr {
    return this.call('addDays', days);
  }
  abs(): Expr {
    return this.call('abs');
  }
  sqrt(): Expr {
    return this.call('sqrt');
  }
  /** Natural logarithm; null for non-positive input (Spark). */
  log(): Expr {
    return this.call('log');
  }
  exp(): Expr {
    return this.call('exp');
  }
  /** Rounds half away from zero to `scale` decimal places (Spark HALF_UP). */
  round(scale = 0): Expr {
    return this.call('round', scale);
  }
  /** float64 input gives int64; integer input is unchanged. */
  floor(): Expr {
    return this.call('floor');
  }
  ceil(): Expr {
    return this.call('ceil');
  }

  /** This column as a descending sort key (nulls last, Spark's default for descending). */
  desc(): SortOrder {
    return this.sortOrder('desc', false);
  }
  /** This column as an ascending sort key (nulls first, Spark's default for ascending). */
  asc(): SortOrder {
    return this.sortOrder('asc', true);
  }
  descNullsFirst(): SortOrder {
    return this.sortOrder('descNullsFirst', false, true);
  }
  descNullsLast(): SortOrder {
    return this.sortOrder('descNullsLast', false, false);
  }
  ascNullsFirst(): SortOrder {
    return this.sortOrder('ascNullsFirst', true, true);
  }
  ascNullsLast(): SortOrder {
    return this.sortOrder('ascNullsLast', true, false);
  }
  private sortOrder(method: string, ascending: boolean, nullsFirst?: boolean): SortOrder {
    if (this.node.op !== 'col') {
      throw new InvalidExpressionError(`${this.toString()}.${method}(): sort keys are columns; add the expression with withColumn(name, expr), then sort by col(name)`);
    }
    return new SortOrder(this.node.name, ascending, nullsFirst);
  }
}

/**
 * A sort key made from a column, `col('price').desc()`: accepted wherever sort keys are
 * (`Dataset.sort`/`orderBy`, `window().orderBy`), beside column names and `{ column, ascending, nullsFirst }`.
 */
export class SortOrder implements SortKey {
  declare readonly nullsFirst?: boolean;
  constructor(
    readonly column: string,
    readonly ascending: boolean,
    nullsFirst?: boolean,
  ) {
    if (nullsFirst !== undefined) Object.defineProperty(this, 'nullsFirst', { value: nullsFirst, enumerable: true });
  }

  toString(): string {
    return `${this.column} ${this.ascending ? 'ASC' : 'DESC'}${this.nullsFirst === undefined ? '' : this.nullsFirst ? ' NULLS FIRST' : ' NULLS LAST'}`;
  }
}

/**
 * A sort key as plain data from what users pass: a column name, `col('x')`, `col('x').desc()` or a
 * `{ column, ascending?, nullsFirst? }` object; undefined for anything else (an expression that is not
 * a column, a number, ...), which the caller refuses with its own error.
 */
export function toSortKey(k: unknown): SortKey | undefined {
  if (typeof k === 'string') return k === '' ? undefined : { column: k };
  if (k instanceof Expr) return k.node.op === 'col' ? { column: k.node.name } : undefined;
  if (typeof k !== 'object' || k === null) return undefined;
  const { column, ascending, nullsFirst } = k as { column?: unknown; ascending?: unknown; nullsFirst?: unknown };
  if (typeof column !== 'string' || column === '') return undefined;
  if (ascending !== undefined && typeof ascending !== 'boolean') return undefined;
  if (nullsFirst !== undefined && typeof nullsFirst !== 'boolean') return undefined;
  return { column, ...(ascending !== undefined ? { ascending } : {}), ...(nullsFirst !== undefined ? { nullsFirst } : {}) };
}

/** `CASE WHEN … THEN …` under construction; without `otherwise` unmatched rows are null. */
export class CaseExpr extends Expr {
  constructor(
    private readonly branches: readonly { when: ExprNode; then: ExprNode }[],
    otherwiseNode: ExprNode | null = null,
  ) {
    super({ op: 'case', branches, otherwise: otherwiseNode });
  }
  when(cond: ExprInput, value: ExprInput): CaseExpr {
    return new CaseExpr([...this.branches, { when: toNode(cond), then: toNode(value) }]);
  }
  otherwise(value: ExprInput): Expr {
    return new Expr({ op: 'case', branches: this.branches, otherwise: toNode(value) });
  }
}

function isExprNode(v: unknown): v is ExprNode {
  return typeof v === 'object' && v !== null && !(v instanceof Date) && typeof (v as { op?: unknown }).op === 'string';
}

function literalNode(value: LiteralValue, type: LogicalType): ExprNode {
  return { op: 'lit', value, type };
}

/** Converts any ExprInput to its node; plain values become literals. */
export function toNode(v: ExprInput): ExprNode {
  if (v instanceof Expr) return v.node;
  if (isExprNode(v)) return v;
  return lit(v).node;
}

/** A reference to a column by name. */
export function col(name: string): Expr {
  return new Expr({ op: 'col', name });
}

/**
 * A literal. The type is inferred (integers in int32 range → int32, other integers and bigints → int64,
 * other numbers → float64, Date → timestamp) unless given; for `date` pass epoch days, an ISO
 * 'YYYY-MM-DD' string or a Date.
 */
export function lit(value: Exclude<ExprInput, Expr | ExprNode>, type?: ScalarTypeName): Expr {
  if (type !== undefined) {
    if (value === null) return new Expr(literalNode(null, type));
    if (type === 'date') {
      if (value instanceof Date) return new Expr(literalNode(Math.floor(value.getTime() / MS_PER_DAY), 'date'));
      if (typeof value === 'string') return new Expr(literalNode(Math.floor(Date.parse(`${value.slice(0, 10)}T00:00:00Z`) / MS_PER_DAY), 'date'));
    }
    if (type === 'timestamp') {
      if (value instanceof Date) return new Expr(literalNode(value.getTime(), 'timestamp'));
      if (typeof value === 'string') {
        const ms = Date.parse(/[zZ]|[+-]\d\d:?\d\d$/.test(value) ? value : `${value.replace(' ', 'T')}Z`);
        return new Expr(literalNode(ms, 'timestamp'));
      }
    }
    if (typeof value === 'bigint') return new Expr(literalNode(Number(value), type));
    if (value instanceof Date) return new Expr(literalNode(value.getTime(), type));
    return new Expr(literalNode(value, type));
  }
  if (value === null) return new Expr(literalNode(null, 'null'));
  if (typeof value === 'bigint') return new Expr(literalNode(Number(value), 'int64'));
  if (value instanceof Date) return new Expr(literalNode(value.getTime(), 'timestamp'));
  if (typeof value === 'number') {
    if (Number.isInteger(value) && value >= -2147483648 && value <= 2147483647 && !Object.is(value, -0)) return new Expr(literalNode(value, 'int32'));
    if (Number.isInteger(value) && Number.isSafeInteger(value)) return new Expr(literalNode(value, 'int64'));
    return new Expr(literalNode(value, 'float64'));
  }
  if (typeof value === 'boolean') return new Expr(literalNode(value, 'bool'));
  return new Expr(literalNode(value, 'utf8'));
}

/** Starts a `CASE WHEN` expression: `when(cond, v).when(cond2, v2).otherwise(v3)`. */
export function when(cond: ExprInput, value: ExprInput): CaseExpr {
  return new CaseExpr([{ when: toNode(cond), then: toNode(value) }]);
}

/** The first non-null argument. */
export function coalesce(...args: ExprInput[]): Expr {
  if (args.length === 0) throw new InvalidExpressionError('coalesce needs at least one argument');
  return new Expr({ op: 'call', fn: 'coalesce', args: args.map(toNode) });
}

/** `POWER(base, exponent)`, float64. */
export function pow(base: ExprInput, exponent: ExprInput): Expr {
  return new Expr({ op: 'binary', fn: 'pow', left: toNode(base), right: toNode(exponent) });
}

/** Whole days from `start` to `end` (Spark `datediff(end, start)`). */
export function dateDiff(end: ExprInput, start: ExprInput): Expr {
  return new Expr({ op: 'call', fn: 'dateDiff', args: [toNode(end), toNode(start)] });
}
