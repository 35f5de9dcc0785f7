/**
 * PostgreSQL type OIDs → how a column is read through binary COPY: its logical type, the binary
 * encoding its values arrive in, and a cast the server applies first when the type has no binary
 * decoder here (numeric → float8, so rounding is the server's; any other type → its text output).
 */
import type { LogicalType, ScalarTypeName } from '../types/logical-type.js';

export type Int8Mode = 'int64' | 'float64';

/** Binary wire encodings decoded by pg-binary-copy.ts. */
export type PgBinaryKind = 'bool' | 'int2' | 'int4' | 'int8' | 'oid' | 'float4' | 'float8' | 'text' | 'jsonb' | 'date' | 'timestamp';

export interface PgColumnRead {
  /** The column's logical type in the Arrow result. */
  readonly type: LogicalType;
  /** Encoding of each value (of each element, for arrays). */
  readonly kind: PgBinaryKind;
  /** A one-dimensional array (multi-dimensional arrays are flattened). */
  readonly list: boolean;
  /** SQL type to cast the column to before COPY, or null to read it as is. */
  readonly cast: string | null;
}

interface Scalar {
  readonly kind: PgBinaryKind;
  readonly cast: string | null;
  /** Cast for an array of this element type. */
  readonly arrayCast: string | null;
}

const plain = (kind: PgBinaryKind): Scalar => ({ kind, cast: null, arrayCast: null });

const SCALARS: Record<number, Scalar> = {
  16: plain('bool'),
  20: plain('int8'),
  21: plain('int2'),
  23: plain('int4'),
  26: plain('oid'),
  700: plain('float4'),
  701: plain('float8'),
  1700: { kind: 'float8', cast: 'float8', arrayCast: 'float8[]' },
  25: plain('text'),
  19: plain('text'),
  1042: plain('text'),
  1043: plain('text'),
  114: plain('text'),
  3802: plain('jsonb'),
  1082: plain('date'),
  1114: plain('timestamp'),
  1184: plain('timestamp'),
};

/** Array type OID → element type OID. */
const ARRAYS: Record<number, number> = {
  1000: 16,
  1016: 20,
  1005: 21,
  1007: 23,
  1021: 700,
  1022: 701,
  1231: 1700,
  1009: 25,
  1014: 1042,
  1015: 1043,
  1182: 1082,
  1115: 1114,
  1185: 1184,
};

function scalarType(kind: PgBinaryKind, int8: Int8Mode): ScalarTypeName {
  switch (kind) {
    case 'bool':
      return 'bool';
    case 'int2':
    case 'int4':
      return 'int32';
    case 'int8':
      return int8;
    case 'oid':
      return 'int64';
    case 'float4':
    case 'float8':
      return 'float64';
    case 'text':
    case 'jsonb':
      return 'utf8';
    case 'date':
      return 'date';
    case 'timestamp':
      return 'timestamp';
  }
}

/** How a result column of type `oid` is read (types without a decoder here are read as their text, utf8). */
export function pgColumnRead(oid: number, int8: Int8Mode): PgColumnRead {
  const elem = ARRAYS[oid];
  if (elem !== undefined) {
    const s = SCALARS[elem]!;
    return { type: { list: scalarType(s.kind, int8) }, kind: s.kind, list: true, cast: s.arrayCast };
  }
  const s = SCALARS[oid];
  if (s === undefined) return { type: 'utf8', kind: 'text', list: false, cast: 'text' };
  return { type: scalarType(s.kind, int8), kind: s.kind, list: false, cast: s.cast };
}

