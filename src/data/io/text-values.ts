/**
 * Parsing text fields (CSV, PostgreSQL text format) into column values, type inference over text
 * columns, and building Arrow vectors from parsed values. int64 values are kept as BigInt so they
 * round-trip exactly.
 */
import * as arrow from 'apache-arrow';
import { columnFromValues, columnToVector } from '../types/column.js';
import { type LogicalType, type ScalarTypeName, isListType } from '../types/logical-type.js';
import { parseDate, parseTimestamp } from '../types/temporal.js';

const INT_RE = /^[+-]?\d+$/;
const FLOAT_RE = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const SPECIAL_FLOATS: Record<string, number> = { nan: NaN, inf: Infinity, '+inf': Infinity, '-inf': -Infinity, infinity: Infinity, '+infinity': Infinity, '-infinity': -Infinity };

/** Marker for a text value that does not parse as the requested type. */
export const INVALID = Symbol('invalid');

/** Parses one non-null text value as `type` (JS value convention; int64 as bigint), or INVALID. */
export function parseText(type: ScalarTypeName, s: string): unknown {
  switch (type) {
    case 'utf8':
      return s;
    case 'int32': {
      const t = s.trim();
      if (!INT_RE.test(t)) return INVALID;
      const v = Number(t);
      return v >= -2147483648 && v <= 2147483647 ? v : INVALID;
    }
    case 'int64': {
      const t = s.trim();
      if (!INT_RE.test(t)) return INVALID;
      const v = BigInt(t);
      return v >= -(2n ** 63n) && v < 2n ** 63n ? v : INVALID;
    }
    case 'float64': {
      const t = s.trim();
      if (FLOAT_RE.test(t)) return Number(t);
      const special = SPECIAL_FLOATS[t.toLowerCase()];
      return special === undefined ? INVALID : special;
    }
    case 'bool': {
      const t = s.trim().toLowerCase();
      return t === 'true' || t === 't' ? true : t === 'false' || t === 'f' ? false : INVALID;
    }
    case 'date': {
      const d = parseDate(s);
      return d === undefined ? INVALID : d;
    }
    case 'timestamp': {
      const ms = parseTimestamp(s);
      return ms === undefined ? INVALID : ms;
    }
  }
}

/** Incremental type inference over a text column: int32 → int64 → float64, bool, date, timestamp, else utf8. */
export class TextTypeInferrer {
  private int32 = true;
  private int64 = true;
  private float = true;
  private bool = true;
  private date = true;
  private timestamp = true;
  private seen = false;

  add(s: string): void {
    this.seen = true;
    const t = s.trim();
    if (this.int64 && !INT_RE.test(t)) this.int32 = this.int64 = false;
    if (this.int32 && this.int64) {
      const v = Number(t);
      if (v < -2147483648 || v > 2147483647) this.int32 = false;
    }
    if (this.int64 && t.length > 17 && parseText('int64', t) === INVALID) this.int64 = false;
    if (this.float && !FLOAT_RE.test(t)) this.float = false;
    if (this.bool) {
      const l = t.toLowerCase();
      if (l !== 'true' && l !== 'false') this.bool = false;
    }
    if (this.date && parseDate(t) === undefined) this.date = false;
    if (this.timestamp && parseTimestamp(t) === undefined) this.timestamp = false;
  }

  result(): ScalarTypeName {
    if (!this.seen) return 'utf8';
    if (this.int32) return 'int32';
    if (this.int64) return 'int64';
    if (this.float) return 'float64';
    if (this.bool) return 'bool';
    if (this.date) return 'date';
    if (this.timestamp) return 'timestamp';
    return 'utf8';
  }
}

/** Builds an Arrow vector of `type` from parsed values (null = null; int64 as bigint or number). */
export function buildVector(type: LogicalType, values: readonly unknown[]): arrow.Vector {
  if (type === 'int64') {
    const n = values.length;
    const data = new BigInt64Array(n);
    const bitmap = new Uint8Array(((n + 63) >> 6) << 3);
    let nullCount = 0;
    for (let i = 0; i < n; i++) {
      const v = values[i];
      if (v === null || v === undefined) nullCount++;
      else {
        data[i] = typeof v === 'bigint' ? v : BigInt(Math.trunc(v as number));
        bitmap[i >> 3]! |= 1 << (i & 7);
      }
    }
    return new arrow.Vector([arrow.makeData({ type: new arrow.Int64(), length: n, nullCount, nullBitmap: nullCount > 0 ? bitmap : new Uint8Array(0), data })]);
  }
  if (isListType(type) && type.list === 'int64') {
    return arrow.vectorFromArray(
      values.map((v) => (v === null || v === undefined ? null : (v as unknown[]).map((x) => (x === null ? null : typeof x === 'bigint' ? x : BigInt(x as number))))),
      new arrow.List(new arrow.Field('item', new arrow.Int64(), true)),
    );
  }
  return columnToVector(columnFromValues(type, values));
}
