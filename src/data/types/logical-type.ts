/**
 * The small set of logical types the expression engine computes in, and their mapping to and from
 * Arrow types. Narrow integer Arrow types widen to int32; int64 values are carried as float64-safe
 * numbers (exact up to 2^53); dates are days since the epoch, timestamps milliseconds since the epoch (UTC).
 */
import * as arrow from 'apache-arrow';
import { UnsupportedTypeError } from '../errors.js';

/** Scalar type names usable in `cast()` and in serialized expressions. */
export type ScalarTypeName = 'int32' | 'int64' | 'float64' | 'utf8' | 'bool' | 'date' | 'timestamp';

/** A logical type: a scalar, a list of a logical type, or the type of an untyped `lit(null)`. */
export type LogicalType = ScalarTypeName | 'null' | { readonly list: LogicalType };

export const SCALAR_TYPE_NAMES: readonly ScalarTypeName[] = ['int32', 'int64', 'float64', 'utf8', 'bool', 'date', 'timestamp'];

export function isScalarTypeName(v: unknown): v is ScalarTypeName {
  return typeof v === 'string' && (SCALAR_TYPE_NAMES as readonly string[]).includes(v);
}

export function isListType(t: LogicalType): t is { readonly list: LogicalType } {
  return typeof t === 'object';
}

export function isNumericType(t: LogicalType): t is 'int32' | 'int64' | 'float64' {
  return t === 'int32' || t === 'int64' || t === 'float64';
}

export function typeToString(t: LogicalType): string {
  return typeof t === 'object' ? `list<${typeToString(t.list)}>` : t;
}

export function typesEqual(a: LogicalType, b: LogicalType): boolean {
  if (typeof a === 'object' || typeof b === 'object') {
    return typeof a === 'object' && typeof b === 'object' && typesEqual(a.list, b.list);
  }
  return a === b;
}

/**
 * The family of an Arrow type — the one classifier of Arrow types every layer uses (the expression
 * engine's logical types, the features layer's column kinds, the PostgreSQL and CSV writers); callers
 * read finer details (bit width, precision, time zone) from the type itself. A dictionary-encoded
 * type is classed by its values' type (see {@link valueTypeOf}).
 */
export type ArrowTypeFamily = 'int' | 'float' | 'decimal' | 'utf8' | 'bool' | 'date' | 'timestamp' | 'list' | 'fixed-size-list' | 'null' | 'other';

/** The type itself, or for a dictionary-encoded type the type of its values. */
export function valueTypeOf(type: arrow.DataType): arrow.DataType {
  return type.typeId === arrow.Type.Dictionary ? valueTypeOf((type as arrow.Dictionary).dictionary) : type;
}

/** The family of `type` (dictionary-encoded: of its values). */
export function arrowTypeFamily(type: arrow.DataType): ArrowTypeFamily {
  switch (valueTypeOf(type).typeId) {
    case arrow.Type.Int:
      return 'int';
    case arrow.Type.Float:
      return 'float';
    case arrow.Type.Decimal:
      return 'decimal';
    case arrow.Type.Utf8:
    case arrow.Type.LargeUtf8:
      return 'utf8';
    case arrow.Type.Bool:
      return 'bool';
    case arrow.Type.Date:
      return 'date';
    case arrow.Type.Timestamp:
      return 'timestamp';
    case arrow.Type.List:
      return 'list';
    case arrow.Type.FixedSizeList:
      return 'fixed-size-list';
    case arrow.Type.Null:
      return 'null';
    default:
      return 'other';
  }
}

/** Maps an Arrow type to its logical type; throws UnsupportedTypeError naming `column`. */
export function logicalTypeOf(type: arrow.DataType, column: string): LogicalType {
  const t = valueTypeOf(type);
  const family = arrowTypeFamily(t);
  switch (family) {
    case 'int': {
      const i = t as arrow.Int;
      return i.bitWidth === 64 || (i.bitWidth === 32 && !i.isSigned) ? 'int64' : 'int32';
    }
    case 'float':
      return 'float64';
    case 'utf8':
    case 'bool':
    case 'date':
    case 'timestamp':
    case 'null':
      return family;
    case 'list': {
      const child = (t as arrow.List).children[0];
      if (child === undefined) throw new UnsupportedTypeError(column, String(type));
      return { list: logicalTypeOf(child.type, column) };
    }
    default:
      throw new UnsupportedTypeError(column, String(type));
  }
}

/** The Arrow type a logical type is materialized as. */
export function arrowTypeOf(t: LogicalType): arrow.DataType {
  if (typeof t === 'object') return new arrow.List(new arrow.Field('item', arrowTypeOf(t.list), true));
  switch (t) {
    case 'int32':
      return new arrow.Int32();
    case 'int64':
      return new arrow.Int64();
    case 'float64':
      return new arrow.Float64();
    case 'utf8':
      return new arrow.Utf8();
    case 'bool':
      return new arrow.Bool();
    case 'date':
      return new arrow.DateDay();
    case 'timestamp':
      return new arrow.TimestampMillisecond();
    case 'null':
      return new arrow.Null();
  }
}
