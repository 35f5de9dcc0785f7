/**
 * PostgreSQL type OIDs → logical types, and parsing of PostgreSQL's text output format (including
 * one-dimensional array literals). Values are read as raw text (pg's own parsers are bypassed) so
 * int8 stays exact, dates are not shifted into the local time zone, and numeric is not a string.
 */
import type { LogicalType, ScalarTypeName } from '../types/logical-type.js';
import { INVALID, parseText } from './text-values.js';

export type Int8Mode = 'int64' | 'float64';

const SCALARS: Record<number, ScalarTypeName | 'int8'> = {
  16: 'bool',
  20: 'int8',
  21: 'int32',
  23: 'int32',
  26: 'int64',
  700: 'float64',
  701: 'float64',
  1700: 'float64',
  25: 'utf8',
  19: 'utf8',
  1042: 'utf8',
  1043: 'utf8',
  114: 'utf8',
  3802: 'utf8',
  2950: 'utf8',
  1082: 'date',
  1114: 'timestamp',
  1184: 'timestamp',
};

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

function scalarFor(oid: number, int8: Int8Mode): ScalarTypeName {
  const s = SCALARS[oid] ?? 'utf8';
  return s === 'int8' ? int8 : s;
}

/** The logical type a column of this type OID is read as (unknown types read as utf8 text). */
export function pgLogicalType(oid: number, int8: Int8Mode): LogicalType {
  const elem = ARRAYS[oid];
  if (elem !== undefined) return { list: scalarFor(elem, int8) };
  return scalarFor(oid, int8);
}

/** Parses one non-null text value; PostgreSQL specials (infinity dates, NaN numerics) become null or NaN. */
export function parsePgScalar(type: ScalarTypeName, text: string): unknown {
  const v = parseText(type, text);
  return v === INVALID ? null : v;
}

/** Parses a one-dimensional array literal like `{1,NULL,"a \"b\""}`; nested arrays are flattened. */
export function parsePgArray(text: string, elem: ScalarTypeName): unknown[] {
  const out: unknown[] = [];
  let i = 0;
  const n = text.length;
  // Skip optional dimension decoration, e.g. "[1:2]={...}".
  if (text[0] === '[') i = text.indexOf('=') + 1;
  while (i < n) {
    const c = text[i]!;
    if (c === '{' || c === '}' || c === ',' || c === ' ') {
      i++;
      continue;
    }
    if (c === '"') {
      let s = '';
      i++;
      while (i < n && text[i] !== '"') {
        if (text[i] === '\\') i++;
        s += text[i];
        i++;
      }
      i++;
      out.push(parsePgScalar(elem, s));
      continue;
    }
    let j = i;
    while (j < n && text[j] !== ',' && text[j] !== '}') j++;
    const raw = text.slice(i, j).trim();
    out.push(raw.toUpperCase() === 'NULL' ? null : parsePgScalar(elem, raw));
    i = j;
  }
  return out;
}
