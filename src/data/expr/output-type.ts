/**
 * Static typing of expressions against a schema. The evaluator calls this first, so type errors surface
 * before any row is touched, with the offending sub-expression in the message.
 */
import type * as arrow from 'apache-arrow';
import { ExpressionTypeError, UnknownColumnError } from '../errors.js';
import { type LogicalType, isListType, isNumericType, logicalTypeOf, typeToString, typesEqual } from '../types/logical-type.js';
import { type ExprNode, exprToString } from './expr-node.js';
import { type ExprInput, toNode } from './expr.js';

export type SchemaTypes = ReadonlyMap<string, LogicalType>;

/** Logical types of every column of an Arrow schema, by name. */
export function schemaTypes(schema: arrow.Schema): SchemaTypes {
  const m = new Map<string, LogicalType>();
  for (const f of schema.fields) m.set(f.name, logicalTypeOf(f.type, f.name));
  return m;
}

const NUMERIC_RANK = { int32: 0, int64: 1, float64: 2 } as const;

/** The common type two operands widen to, or undefined if they have none. */
export function commonType(a: LogicalType, b: LogicalType): LogicalType | undefined {
  if (a === 'null') return b;
  if (b === 'null') return a;
  if (isNumericType(a) && isNumericType(b)) return NUMERIC_RANK[a] >= NUMERIC_RANK[b] ? a : b;
  if ((a === 'date' && b === 'timestamp') || (a === 'timestamp' && b === 'date')) return 'timestamp';
  return typesEqual(a, b) ? a : undefined;
}

/** The type `expr` evaluates to over a table with `schema`. */
export function outputType(expr: ExprInput, schema: arrow.Schema | SchemaTypes): LogicalType {
  const types = schema instanceof Map ? (schema as SchemaTypes) : schemaTypes(schema as arrow.Schema);
  return inferType(toNode(expr), types);
}

export function inferType(node: ExprNode, types: SchemaTypes): LogicalType {
  const bad = (msg: string): never => {
    throw new ExpressionTypeError(msg, exprToString(node));
  };
  const expect = (n: ExprNode, ok: (t: LogicalType) => boolean, what: string): LogicalType => {
    const t = inferType(n, types);
    if (t !== 'null' && !ok(t)) bad(`${exprToString(n)} has type ${typeToString(t)} but ${what} is required`);
    return t;
  };
  const isStr = (t: LogicalType): boolean => t === 'utf8';
  const isInt = (t: LogicalType): boolean => t === 'int32' || t === 'int64';
  const isTemporal = (t: LogicalType): boolean => t === 'date' || t === 'timestamp';
  switch (node.op) {
    case 'col': {
      const t = types.get(node.name);
      if (t === undefined) throw new UnknownColumnError(node.name, [...types.keys()]);
      return t;
    }
    case 'lit':
      return node.type;
    case 'alias':
      return inferType(node.arg, types);
    case 'unary':
      switch (node.fn) {
        case 'neg':
          return expect(node.arg, isNumericType, 'a number');
        case 'not':
          expect(node.arg, (t) => t === 'bool', 'bool');
          return 'bool';
        case 'isNull':
        case 'isNotNull':
          inferType(node.arg, types);
          return 'bool';
      }
      break;
    case 'binary': {
      const fn = node.fn;
      if (fn === 'and' || fn === 'or') {
        expect(node.left, (t) => t === 'bool', 'bool');
        expect(node.right, (t) => t === 'bool', 'bool');
        return 'bool';
      }
      if (fn === 'div' || fn === 'pow') {
        expect(node.left, isNumericType, 'a number');
        expect(node.right, isNumericType, 'a number');
        return 'float64';
      }
      if (fn === 'add' || fn === 'sub' || fn === 'mul' || fn === 'mod') {
        const l = expect(node.left, isNumericType, 'a number');
        const r = expect(node.right, isNumericType, 'a number');
        const c = commonType(l, r)!;
        return c === 'null' ? 'int32' : c;
      }
      const l = inferType(node.left, types);
      const r = inferType(node.right, types);
      const c = commonType(l, r);
      if (c === undefined || isListType(c)) bad(`cannot compare ${typeToString(l)} with ${typeToString(r)}`);
      return 'bool';
    }
    case 'cast': {
      const t = inferType(node.arg, types);
      if (isListType(t)) bad(`cannot cast ${typeToString(t)} to ${node.to}`);
      if ((node.to === 'date' || node.to === 'timestamp') && (t === 'bool' || isNumericType(t))) bad(`cannot cast ${t} to ${node.to}`);
      if ((t === 'date' || t === 'timestamp') && (node.to === 'bool' || isNumericType(node.to))) bad(`cannot cast ${t} to ${node.to}`);
      return node.to;
    }
    case 'case': {
      let out: LogicalType = 'null';
      for (const b of node.branches) {
        expect(b.when, (t) => t === 'bool', 'bool');
        const t = inferType(b.then, types);
        const c = commonType(out, t);
        if (c === undefined) bad(`CASE branches have incompatible types ${typeToString(out)} and ${typeToString(t)}`);
        out = c!;
      }
      if (node.otherwise !== null) {
        const t = inferType(node.otherwise, types);
        const c = commonType(out, t);
        if (c === undefined) bad(`CASE branches have incompatible types ${typeToString(out)} and ${typeToString(t)}`);
        out = c!;
      }
      return out;
    }
    case 'call': {
      const a = node.args;
      const arg = (i: number): ExprNode => a[i]!;
      switch (node.fn) {
        case 'lower':
        case 'upper':
        case 'trim':
          expect(arg(0), isStr, 'utf8');
          return 'utf8';
        case 'contains':
        case 'startsWith':
        case 'endsWith':
          expect(arg(0), isStr, 'utf8');
          expect(arg(1), isStr, 'utf8');
          return 'bool';
        case 'regexpExtract':
          expect(arg(0), isStr, 'utf8');
          expect(arg(1), isStr, 'utf8');
          expect(arg(2), isInt, 'an integer');
          return 'utf8';
        case 'regexpReplace':
          expect(arg(0), isStr, 'utf8');
          expect(arg(1), isStr, 'utf8');
          expect(arg(2), isStr, 'utf8');
          return 'utf8';
        case 'split':
          expect(arg(0), isStr, 'utf8');
          expect(arg(1), isStr, 'utf8');
          return { list: 'utf8' };
        case 'length':
          expect(arg(0), isStr, 'utf8');
          return 'int32';
        case 'substring':
          expect(arg(0), isStr, 'utf8');
          expect(arg(1), isInt, 'an integer');
          expect(arg(2), isInt, 'an integer');
          return 'utf8';
        case 'year':
        case 'month':
        case 'dayOfMonth':
        case 'dayOfWeek':
          expect(arg(0), isTemporal, 'a date or timestamp');
          return 'int32';
        case 'dateTrunc': {
          const u = arg(0);
          if (u.op !== 'lit' || typeof u.value !== 'string' || !['year', 'quarter', 'month', 'week', 'day', 'hour', 'minute', 'second'].includes(u.value)) {
            bad('dateTrunc unit must be one of year, quarter, month, week, day, hour, minute, second');
          }
          const t = expect(arg(1), isTemporal, 'a date or timestamp');
          return t === 'null' ? 'timestamp' : t;
        }
        case 'dateDiff':
          expect(arg(0), isTemporal, 'a date or timestamp');
          expect(arg(1), isTemporal, 'a date or timestamp');
          return 'int32';
        case 'addDays':
          expect(arg(0), isTemporal, 'a date or timestamp');
          expect(arg(1), isInt, 'an integer');
          return 'date';
        case 'abs': {
          const t = expect(arg(0), isNumericType, 'a number');
          return t === 'null' ? 'int32' : t;
        }
        case 'sqrt':
        case 'log':
        case 'exp':
          expect(arg(0), isNumericType, 'a number');
          return 'float64';
        case 'round': {
          const t = expect(arg(0), isNumericType, 'a number');
          expect(arg(1), isInt, 'an integer');
          return t === 'null' ? 'float64' : t;
        }
        case 'floor':
        case 'ceil': {
          const t = expect(arg(0), isNumericType, 'a number');
          return t === 'float64' || t === 'null' ? 'int64' : t;
        }
        case 'coalesce': {
          let out: LogicalType = 'null';
          for (const x of a) {
            const t = inferType(x, types);
            const c = commonType(out, t);
            if (c === undefined) bad(`coalesce arguments have incompatible types ${typeToString(out)} and ${typeToString(t)}`);
            out = c!;
          }
          return out;
        }
      }
    }
  }
  return bad('unknown expression');
}
