/**
 * Column-at-a-time expression evaluation over an Arrow table or record batch. The tree is type-checked
 * first (output-type.ts); each node then produces a whole column over flat typed arrays, with SQL null
 * semantics: nulls propagate through operators and functions, AND/OR are three-valued.
 */
import * as arrow from 'apache-arrow';
import { UnknownColumnError } from '../errors.js';
import { type Column, columnFromVector, columnToVector, constantColumn, storageFor, validityOf } from '../types/column.js';
import { compareNumbers, compareStrings } from '../types/compare.js';
import { type LogicalType, isNumericType } from '../types/logical-type.js';
import { andValid, validCopy, widen } from './coerce.js';
import { castColumn } from './evaluate-cast.js';
import { evaluateCall } from './evaluate-functions.js';
import type { BinaryFn, ExprNode } from './expr-node.js';
import { type ExprInput, toNode } from './expr.js';
import { commonType, inferType, type SchemaTypes, schemaTypes } from './output-type.js';

export type TableLike = arrow.Table | arrow.RecordBatch;

interface EvalContext {
  readonly source: TableLike;
  readonly types: SchemaTypes;
  readonly length: number;
  readonly cache: Map<string, Column>;
  /**
   * Results of arithmetic nodes: fresh storage that only the parent node reads (each node's result
   * goes to its parent alone), so a parent `column op literal` may write into it instead of allocating.
   */
  readonly temporaries: Set<Column>;
}

/** Evaluates `expr` over every row of `source`, returning an Arrow vector of `outputType(expr)`. */
export function evaluate(expr: ExprInput, source: TableLike): arrow.Vector {
  const node = toNode(expr);
  const bare = node.op === 'alias' ? node.arg : node;
  if (bare.op === 'col') {
    const v = source.getChild(bare.name);
    if (v === null) throw new UnknownColumnError(bare.name, source.schema.fields.map((f) => f.name));
    return v as arrow.Vector;
  }
  return columnToVector(evaluateColumn(node, source));
}

/** Evaluates to the internal column form (used by kernels that consume the result directly). */
export function evaluateColumn(expr: ExprInput, source: TableLike, types?: SchemaTypes): Column {
  const node = toNode(expr);
  const ctx: EvalContext = { source, types: types ?? schemaTypes(source.schema), length: source.numRows, cache: new Map(), temporaries: new Set() };
  inferType(node, ctx.types);
  return evalNode(node, ctx);
}

function evalNode(node: ExprNode, ctx: EvalContext): Column {
  const n = ctx.length;
  switch (node.op) {
    case 'col': {
      let c = ctx.cache.get(node.name);
      if (c === undefined) {
        const v = ctx.source.getChild(node.name);
        if (v === null) throw new UnknownColumnError(node.name, [...ctx.types.keys()]);
        c = columnFromVector(v as arrow.Vector, node.name);
        ctx.cache.set(node.name, c);
      }
      return c;
    }
    case 'lit':
      return constantColumn(node.type, node.value, n);
    case 'alias':
      return evalNode(node.arg, ctx);
    case 'cast':
      return castColumn(evalNode(node.arg, ctx), node.to);
    case 'unary': {
      if ((node.fn === 'isNull' || node.fn === 'isNotNull') && node.arg.op === 'col' && !ctx.cache.has(node.arg.name)) {
        // Validity only: a column reference is not converted (no string decoding for `s IS NOT NULL`).
        const v = ctx.source.getChild(node.arg.name);
        if (v === null) throw new UnknownColumnError(node.arg.name, [...ctx.types.keys()]);
        const valid = validityOf(v as arrow.Vector);
        const out = new Uint8Array(n);
        if (node.fn === 'isNull') {
          if (valid !== null) for (let i = 0; i < n; i++) out[i] = 1 - valid[i]!;
        } else if (valid === null) out.fill(1);
        else out.set(valid);
        return { type: 'bool', length: n, values: out, valid: null };
      }
      const a = evalNode(node.arg, ctx);
      switch (node.fn) {
        case 'isNull':
        case 'isNotNull': {
          const out = new Uint8Array(n);
          const want = node.fn === 'isNull' ? 0 : 1;
          for (let i = 0; i < n; i++) out[i] = (a.valid === null ? 1 : a.valid[i]!) === want ? 1 : 0;
          return { type: 'bool', length: n, values: out, valid: null };
        }
        case 'not': {
          const src = a.values as Uint8Array;
          const out = new Uint8Array(n);
          for (let i = 0; i < n; i++) out[i] = src[i] === 1 ? 0 : 1;
          return { type: 'bool', length: n, values: out, valid: a.type === 'null' ? new Uint8Array(n) : a.valid };
        }
        case 'neg': {
          const t = a.type === 'null' ? 'int32' : a.type;
          const src = widen(a, t).values as Int32Array | Float64Array;
          const out = storageFor(t, n) as Int32Array | Float64Array;
          for (let i = 0; i < n; i++) out[i] = -src[i]!;
          return { type: t, length: n, values: out, valid: a.type === 'null' ? new Uint8Array(n) : a.valid };
        }
      }
      break;
    }
    case 'binary': {
      const outType = inferType(node, ctx.types);
      const r = node.right;
      if (r.op === 'lit' && typeof r.value === 'number' && ARITHMETIC.has(node.fn) && isNumericType(outType)) {
        const l = evalNode(node.left, ctx);
        if (l.type !== 'null') {
          const res = evalArithmeticScalar(node.fn, l, r.value, outType, n, ctx.temporaries.delete(l));
          ctx.temporaries.add(res);
          return res;
        }
      }
      if (r.op === 'lit' && typeof r.value === 'number' && !Number.isNaN(r.value) && COMPARISON.has(node.fn)) {
        const l = evalNode(node.left, ctx);
        if (isNumericType(l.type)) return evalCompareScalar(node.fn as CompareFn, l, r.value, n);
        return evalBinary(node.fn, l, evalNode(r, ctx), outType, n);
      }
      return evalBinary(node.fn, evalNode(node.left, ctx), evalNode(r, ctx), outType, n);
    }
    case 'case': {
      const outType = inferType(node, ctx.types);
      const out = storageFor(outType, n);
      const valid = new Uint8Array(n);
      const done = new Uint8Array(n);
      const setFrom = (c: Column, i: number): void => {
        done[i] = 1;
        if (c.valid !== null && c.valid[i] !== 1) return;
        valid[i] = 1;
        (out as unknown[])[i] = (c.values as unknown[])[i];
      };
      for (const b of node.branches) {
        const cond = evalNode(b.when, ctx);
        const value = widen(evalNode(b.then, ctx), outType);
        const cv = cond.values as Uint8Array;
        for (let i = 0; i < n; i++) if (done[i] === 0 && cv[i] === 1 && (cond.valid === null || cond.valid[i] === 1)) setFrom(value, i);
      }
      if (node.otherwise !== null) {
        const value = widen(evalNode(node.otherwise, ctx), outType);
        for (let i = 0; i < n; i++) if (done[i] === 0) setFrom(value, i);
      }
      return { type: outType, length: n, values: out, valid };
    }
    case 'call': {
      const outType = inferType(node, ctx.types);
      const args = node.args.map((a) => evalNode(a, ctx));
      if (node.fn !== 'coalesce' && args.some((a) => a.type === 'null')) return constantColumn(outType, null, n);
      return evaluateCall(node.fn, args, outType, n);
    }
  }
  throw new Error('internal: unreachable');
}

function evalBinary(fn: BinaryFn, l: Column, r: Column, outType: LogicalType, n: number): Column {
  if (fn === 'and' || fn === 'or') return evalLogical(fn, l, r, n);
  if (l.type === 'null' || r.type === 'null') return constantColumn(outType, null, n);
  const valid = andValid(l.valid, r.valid, n);
  if (fn === 'eq' || fn === 'ne' || fn === 'lt' || fn === 'le' || fn === 'gt' || fn === 'ge') {
    const t = commonType(l.type, r.type)!;
    const a = widen(l, t).values;
    const b = widen(r, t).values;
    const out = new Uint8Array(n);
    if (t === 'utf8') {
      const as = a as string[];
      const bs = b as string[];
      for (let i = 0; i < n; i++) {
        if (valid !== null && valid[i] !== 1) continue;
        out[i] = testOrder(fn, compareStrings(as[i]!, bs[i]!));
      }
    } else {
      compareNumericInto(fn, a as Float64Array, b as Float64Array, out, n);
    }
    return { type: 'bool', length: n, values: out, valid };
  }
  // Arithmetic: compute in the output type (float64 for div/pow).
  const t = outType;
  const a = widen(l, t).values as Int32Array | Float64Array;
  const b = widen(r, t).values as Int32Array | Float64Array;
  const out = storageFor(t, n) as Int32Array | Float64Array;
  const isInt = t !== 'float64' && isNumericType(t);
  switch (fn) {
    case 'add':
      for (let i = 0; i < n; i++) out[i] = a[i]! + b[i]!;
      break;
    case 'sub':
      for (let i = 0; i < n; i++) out[i] = a[i]! - b[i]!;
      break;
    case 'mul':
      if (t === 'int32') for (let i = 0; i < n; i++) out[i] = Math.imul(a[i]!, b[i]!);
      else for (let i = 0; i < n; i++) out[i] = a[i]! * b[i]!;
      break;
    case 'pow':
      for (let i = 0; i < n; i++) out[i] = Math.pow(a[i]!, b[i]!);
      break;
    case 'div':
    case 'mod': {
      let zeros = false;
      for (let i = 0; i < n; i++) if (b[i] === 0) zeros = true;
      const v = zeros ? validCopy(valid, n) : valid;
      if (fn === 'div') for (let i = 0; i < n; i++) out[i] = a[i]! / b[i]!;
      else if (isInt) {
        // Integer remainder without fmod: exact for |a| <= 2^53 (a non-integral quotient a/b is more than
        // its rounding error away from the next integer, so trunc(a/b) is exact).
        for (let i = 0; i < n; i++) {
          const x = a[i]!;
          const y = b[i]!;
          out[i] = x <= 9007199254740992 && x >= -9007199254740992 ? x - Math.trunc(x / y) * y : Math.trunc(x % y);
        }
      } else for (let i = 0; i < n; i++) out[i] = a[i]! % b[i]!;
      if (zeros) {
        for (let i = 0; i < n; i++) {
          if (b[i] === 0) {
            v![i] = 0;
            out[i] = 0;
          }
        }
      }
      return { type: t, length: n, values: out, valid: v };
    }
  }
  return { type: t, length: n, values: out, valid };
}

const ARITHMETIC = new Set<BinaryFn>(['add', 'sub', 'mul', 'div', 'mod', 'pow']);

/**
 * `column op literal` without materializing the literal as a column (same results as evalBinary).
 * With `inPlace` (l is a temporary) and no widening, the result is written over l's values.
 */
function evalArithmeticScalar(fn: BinaryFn, l: Column, y: number, t: LogicalType, n: number, inPlace: boolean): Column {
  const w = widen(l, t);
  const a = w.values as Int32Array | Float64Array;
  const out = inPlace && w === l ? a : (storageFor(t, n) as Int32Array | Float64Array);
  const isInt = t !== 'float64';
  switch (fn) {
    case 'add':
      for (let i = 0; i < n; i++) out[i] = a[i]! + y;
      break;
    case 'sub':
      for (let i = 0; i < n; i++) out[i] = a[i]! - y;
      break;
    case 'mul':
      if (t === 'int32') for (let i = 0; i < n; i++) out[i] = Math.imul(a[i]!, y);
      else for (let i = 0; i < n; i++) out[i] = a[i]! * y;
      break;
    case 'pow':
      for (let i = 0; i < n; i++) out[i] = Math.pow(a[i]!, y);
      break;
    case 'div':
    case 'mod':
      if (y === 0) return { type: t, length: n, values: out, valid: new Uint8Array(n) };
      if (fn === 'div') for (let i = 0; i < n; i++) out[i] = a[i]! / y;
      else if (isInt) {
        for (let i = 0; i < n; i++) {
          const x = a[i]!;
          out[i] = x <= 9007199254740992 && x >= -9007199254740992 ? x - Math.trunc(x / y) * y : Math.trunc(x % y);
        }
      } else for (let i = 0; i < n; i++) out[i] = a[i]! % y;
      break;
  }
  return { type: t, length: n, values: out, valid: l.valid === null ? null : l.valid.slice() };
}

type CompareFn = 'eq' | 'ne' | 'lt' | 'le' | 'gt' | 'ge';
const COMPARISON = new Set<BinaryFn>(['eq', 'ne', 'lt', 'le', 'gt', 'ge']);

/**
 * `numeric column op literal` without materializing the literal or widening the column (same results
 * as evalBinary: a NaN value equals only NaN and sorts above every number; y is not NaN here).
 */
function evalCompareScalar(fn: CompareFn, l: Column, y: number, n: number): Column {
  const a = l.values as Int32Array | Float64Array;
  const out = new Uint8Array(n);
  switch (fn) {
    case 'eq':
      for (let i = 0; i < n; i++) out[i] = a[i] === y ? 1 : 0;
      break;
    case 'ne':
      for (let i = 0; i < n; i++) out[i] = a[i] !== y ? 1 : 0;
      break;
    case 'lt':
      for (let i = 0; i < n; i++) out[i] = a[i]! < y ? 1 : 0;
      break;
    case 'le':
      for (let i = 0; i < n; i++) out[i] = a[i]! <= y ? 1 : 0;
      break;
    case 'gt':
      for (let i = 0; i < n; i++) out[i] = a[i]! > y ? 1 : 0;
      break;
    case 'ge':
      for (let i = 0; i < n; i++) out[i] = a[i]! >= y ? 1 : 0;
      break;
  }
  // NaN (float64 only) is above every number: true for ne, gt and ge, false for the rest (as set above
  // except for gt and ge).
  if (l.type === 'float64' && (fn === 'gt' || fn === 'ge')) {
    for (let i = 0; i < n; i++) if (a[i] !== a[i]) out[i] = 1;
  }
  return { type: 'bool', length: n, values: out, valid: l.valid === null ? null : l.valid.slice() };
}

/** SQL three-valued AND / OR. */
function evalLogical(fn: 'and' | 'or', l: Column, r: Column, n: number): Column {
  const lv = l.values as Uint8Array;
  const rv = r.values as Uint8Array;
  const lnull = l.type === 'null';
  const rnull = r.type === 'null';
  if (!lnull && !rnull && l.valid === null && r.valid === null) {
    // No NULLs on either side: plain two-valued logic.
    const out = new Uint8Array(n);
    if (fn === 'and') for (let i = 0; i < n; i++) out[i] = lv[i]! & rv[i]!;
    else for (let i = 0; i < n; i++) out[i] = lv[i]! | rv[i]!;
    return { type: 'bool', length: n, values: out, valid: null };
  }
  const out = new Uint8Array(n);
  const valid = new Uint8Array(n);
  const dominant = fn === 'and' ? 0 : 1;
  for (let i = 0; i < n; i++) {
    const lok = !lnull && (l.valid === null || l.valid[i] === 1);
    const rok = !rnull && (r.valid === null || r.valid[i] === 1);
    if ((lok && lv[i] === dominant) || (rok && rv[i] === dominant)) {
      out[i] = dominant;
      valid[i] = 1;
    } else if (lok && rok) {
      out[i] = 1 - dominant;
      valid[i] = 1;
    }
  }
  return { type: 'bool', length: n, values: out, valid };
}

function testOrder(fn: 'eq' | 'ne' | 'lt' | 'le' | 'gt' | 'ge', c: number): number {
  return (fn === 'eq' ? c === 0 : fn === 'ne' ? c !== 0 : fn === 'lt' ? c < 0 : fn === 'le' ? c <= 0 : fn === 'gt' ? c > 0 : c >= 0) ? 1 : 0;
}

/** Numeric comparison loops; plain operators are right except when NaN is involved (NaN = NaN, NaN > all). */
function compareNumericInto(fn: 'eq' | 'ne' | 'lt' | 'le' | 'gt' | 'ge', a: ArrayLike<number>, b: ArrayLike<number>, out: Uint8Array, n: number): void {
  switch (fn) {
    case 'eq':
      for (let i = 0; i < n; i++) out[i] = a[i] === b[i] ? 1 : 0;
      break;
    case 'ne':
      for (let i = 0; i < n; i++) out[i] = a[i] !== b[i] ? 1 : 0;
      break;
    case 'lt':
      for (let i = 0; i < n; i++) out[i] = a[i]! < b[i]! ? 1 : 0;
      break;
    case 'le':
      for (let i = 0; i < n; i++) out[i] = a[i]! <= b[i]! ? 1 : 0;
      break;
    case 'gt':
      for (let i = 0; i < n; i++) out[i] = a[i]! > b[i]! ? 1 : 0;
      break;
    case 'ge':
      for (let i = 0; i < n; i++) out[i] = a[i]! >= b[i]! ? 1 : 0;
      break;
  }
  // Fix up rows where either side is NaN (x !== x).
  for (let i = 0; i < n; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (x !== x || y !== y) out[i] = testOrder(fn, compareNumbers(x, y));
  }
}
