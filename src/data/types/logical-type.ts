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

/** Maps an Arrow type to its logical type; throws UnsupportedTypeError naming `column`. */
export function logicalTypeOf(type: arrow.DataType, column: string): LogicalType {
  switch (type.typeId) {
    case arrow.Type.Int: {
      const t = type as arrow.Int;
      return t.bitWidth === 64 || (t.bitWidth === 32 && !t.isSigned) ? 'int64' : 'int32';
    }
    case arrow.Type.Float:
      return 'float64';
    case arrow.Type.Utf8:
    case arrow.Type.LargeUtf8:
      return 'utf8';
    case arrow.Type.Bool:
      return 'bool';
    case arrow.Type.Date:
      return 'date';
    case arrow.Type.Timestamp:
      return 'timestamp';
    case arrow.Type.Null:
      return 'null';
    case arrow.Type.List: {
      const child = (type as arrow.List).children[0];
      if (child === undefined) throw new UnsupportedTypeError(column, String(type));
      return { list: logicalTypeOf(child.type, column) };
    }
    case arrow.Type.Dictionary: {
      const d = type as arrow.Dictionary;
      return logicalTypeOf(d.dictionary, column);
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
