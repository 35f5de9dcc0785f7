/**
 * The serialized form of an expression: plain JSON-able objects, so an expression can travel inside a
 * task's arguments to a worker and be evaluated there. `Expr` (expr.ts) is the chaining builder around it.
 */
import { InvalidExpressionError } from '../errors.js';
import { type LogicalType, type ScalarTypeName, isScalarTypeName, typeToString } from '../types/logical-type.js';

export type BinaryFn = 'add' | 'sub' | 'mul' | 'div' | 'mod' | 'pow' | 'eq' | 'ne' | 'lt' | 'le' | 'gt' | 'ge' | 'and' | 'or';
export type UnaryFn = 'neg' | 'not' | 'isNull' | 'isNotNull';
export type CallFn =
  | 'lower'
  | 'upper'
  | 'trim'
  | 'contains'
  | 'startsWith'
  | 'endsWith'
  | 'regexpExtract'
  | 'regexpReplace'
  | 'split'
  | 'length'
  | 'substring'
  | 'year'
  | 'month'
  | 'dayOfMonth'
  | 'dayOfWeek'
  | 'dateTrunc'
  | 'dateDiff'
  | 'addDays'
  | 'abs'
  | 'sqrt'
  | 'log'
  | 'exp'
  | 'round'
  | 'floor'
  | 'ceil'
  | 'coalesce';

/** A literal's value: int64 literals are carried as numbers (exact up to 2^53), timestamps as epoch ms, dates as epoch days. */
export type LiteralValue = number | string | boolean | null;

export type ExprNode =
  | { readonly op: 'col'; readonly name: string }
  | { readonly op: 'lit'; readonly value: LiteralValue; readonly type: LogicalType }
  | { readonly op: 'binary'; readonly fn: BinaryFn; readonly left: ExprNode; readonly right: ExprNode }
  | { readonly op: 'unary'; readonly fn: UnaryFn; readonly arg: ExprNode }
  | { readonly op: 'cast'; readonly to: ScalarTypeName; readonly arg: ExprNode }
  | { readonly op: 'case'; readonly branches: readonly { readonly when: ExprNode; readonly then: ExprNode }[]; readonly otherwise: ExprNode | null }
  | { readonly op: 'call'; readonly fn: CallFn; readonly args: readonly ExprNode[] }
  | { readonly op: 'alias'; readonly name: string; readonly arg: ExprNode };

const BINARY_FNS = new Set<string>(['add', 'sub', 'mul', 'div', 'mod', 'pow', 'eq', 'ne', 'lt', 'le', 'gt', 'ge', 'and', 'or']);
const UNARY_FNS = new Set<string>(['neg', 'not', 'isNull', 'isNotNull']);
export const CALL_ARITY: Readonly<Record<CallFn, readonly [number, number]>> = {
  lower: [1, 1],
  upper: [1, 1],
  trim: [1, 1],
  contains: [2, 2],
  startsWith: [2, 2],
  endsWith: [2, 2],
  regexpExtract: [3, 3],
  regexpReplace: [3, 3],
  split: [2, 2],
  length: [1, 1],
  substring: [3, 3],
  year: [1, 1],
  month: [1, 1],
  dayOfMonth: [1, 1],
  dayOfWeek: [1, 1],
  dateTrunc: [2, 2],
  dateDiff: [2, 2],
  addDays: [2, 2],
  abs: [1, 1],
  sqrt: [1, 1],
  log: [1, 1],
  exp: [1, 1],
  round: [2, 2],
  floor: [1, 1],
  ceil: [1, 1],
  coalesce: [1, Number.POSITIVE_INFINITY],
};

/**
 * Checks that an untrusted value (e.g. decoded from a task argument) is a well-formed expression tree.
 * Throws InvalidExpressionError naming the path of the first bad node.
 */
export function validateExprNode(value: unknown, path = '$'): ExprNode {
  const fail = (why: string): never => {
    throw new InvalidExpressionError(`invalid expression at ${path}: ${why}`);
  };
  if (typeof value !== 'object' || value === null) return fail('expected an object');
  const n = value as Record<string, unknown>;
  switch (n.op) {
    case 'col':
      if (typeof n.name !== 'string') fail('col.name must be a string');
      break;
    case 'lit':
      if (!(n.value === null || ['number', 'string', 'boolean'].includes(typeof n.value))) fail('lit.value must be a number, string, boolean or null');
      if (!(n.type === 'null' || isScalarTypeName(n.type))) fail('lit.type must be a scalar type name or "null"');
      break;
    case 'binary':
      if (!BINARY_FNS.has(n.fn as string)) fail(`unknown binary function ${String(n.fn)}`);
      validateExprNode(n.left, `${path}.left`);
      validateExprNode(n.right, `${path}.right`);
      break;
    case 'unary':
      if (!UNARY_FNS.has(n.fn as string)) fail(`unknown unary function ${String(n.fn)}`);
      validateExprNode(n.arg, `${path}.arg`);
      break;
    case 'cast':
      if (!isScalarTypeName(n.to)) fail(`cast target must be one of int32, int64, float64, utf8, bool, date, timestamp`);
      validateExprNode(n.arg, `${path}.arg`);
      break;
    case 'case':
      if (!Array.isArray(n.branches) || n.branches.length === 0) fail('case.branches must be a non-empty array');
      (n.branches as unknown[]).forEach((b, i) => {
        const br = b as Record<string, unknown>;
        validateExprNode(br.when, `${path}.branches[${i}].when`);
        validateExprNode(br.then, `${path}.branches[${i}].then`);
      });
      if (n.otherwise !== null) validateExprNode(n.otherwise, `${path}.otherwise`);
      break;
    case 'call': {
      const arity = CALL_ARITY[n.fn as CallFn] as readonly [number, number] | undefined;
      if (arity === undefined) return fail(`unknown function ${String(n.fn)}`);
      if (!Array.isArray(n.args) || n.args.length < arity[0] || n.args.length > arity[1]) fail(`${String(n.fn)} takes ${arity[0]}${arity[1] !== arity[0] ? '+' : ''} arguments`);
      (n.args as unknown[]).forEach((a, i) => validateExprNode(a, `${path}.args[${i}]`));
      break;
    }
    case 'alias':
      if (typeof n.name !== 'string') fail('alias.name must be a string');
      validateExprNode(n.arg, `${path}.arg`);
      break;
    default:
      fail(`unknown op ${JSON.stringify(n.op)}`);
  }
  return value as ExprNode;
}

const BINARY_SYMBOL: Record<BinaryFn, string> = {
  add: '+',
  sub: '-',
  mul: '*',
  div: '/',
  mod: '%',
  pow: 'POWER',
  eq: '=',
  ne: '!=',
  lt: '<',
  le: '<=',
  gt: '>',
  ge: '>=',
  and: 'AND',
  or: 'OR',
};

/** SQL-like rendering, used for default output column names and error messages. */
export function exprToString(node: ExprNode): string {
  switch (node.op) {
    case 'col':
      return node.name;
    case 'lit':
      if (node.value === null) return 'NULL';
      if (node.type === 'utf8') return `'${String(node.value).replace(/'/g, "''")}'`;
      if (node.type === 'date' || node.type === 'timestamp') return `${typeToString(node.type).toUpperCase()} ${String(node.value)}`;
      return String(node.value);
    case 'binary':
      return node.fn === 'pow' ? `POWER(${exprToString(node.left)}, ${exprToString(node.right)})` : `(${exprToString(node.left)} ${BINARY_SYMBOL[node.fn]} ${exprToString(node.right)})`;
    case 'unary':
      switch (node.fn) {
        case 'neg':
          return `(- ${exprToString(node.arg)})`;
        case 'not':
          return `(NOT ${exprToString(node.arg)})`;
        case 'isNull':
          return `(${exprToString(node.arg)} IS NULL)`;
        case 'isNotNull':
          return `(${exprToString(node.arg)} IS NOT NULL)`;
      }
      break;
    case 'cast':
      return `CAST(${exprToString(node.arg)} AS ${node.to.toUpperCase()})`;
    case 'case':
      return `CASE ${node.branches.map((b) => `WHEN ${exprToString(b.when)} THEN ${exprToString(b.then)}`).join(' ')}${node.otherwise !== null ? ` ELSE ${exprToString(node.otherwise)}` : ''} END`;
    case 'call':
      return `${node.fn}(${node.args.map(exprToString).join(', ')})`;
    case 'alias':
      return `${exprToString(node.arg)} AS ${node.name}`;
  }
}

/** The column name a projected expression gets: its alias, its column name, or its rendering. */
export function outputName(node: ExprNode): string {
  if (node.op === 'alias') return node.name;
  if (node.op === 'col') return node.name;
  return exprToString(node);
}
