/** Widening conversions between the evaluator's column storages (int32 → int64 → float64, date → timestamp). */
import { type Column, MS_PER_DAY, constantColumn } from '../types/column.js';
import { type LogicalType, typesEqual } from '../types/logical-type.js';

export function widen(col: Column, to: LogicalType): Column {
  if (typesEqual(col.type, to)) return col;
  if (col.type === 'null') return constantColumn(to, null, col.length);
  const n = col.length;
  if (col.type === 'int32' && (to === 'int64' || to === 'float64')) {
    return { type: to, length: n, values: new Float64Array(col.values as Int32Array), valid: col.valid };
  }
  if (col.type === 'int64' && to === 'float64') return { type: 'float64', length: n, values: col.values, valid: col.valid };
  if (col.type === 'date' && to === 'timestamp') {
    const src = col.values as Int32Array;
    const out = new Float64Array(n);
    for (let i = 0; i < n; i++) out[i] = src[i]! * MS_PER_DAY;
    return { type: 'timestamp', length: n, values: out, valid: col.valid };
  }
  throw new Error(`internal: cannot widen ${JSON.stringify(col.type)} to ${JSON.stringify(to)}`);
}

/** Validity of a row-wise combination: valid where both inputs are. */
export function andValid(a: Uint8Array | null, b: Uint8Array | null, n: number): Uint8Array | null {
  if (a === null) return b === null ? null : b.slice();
  if (b === null) return a.slice();
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = a[i]! & b[i]!;
  return out;
}

export function validCopy(a: Uint8Array | null, n: number): Uint8Array {
  return a === null ? new Uint8Array(n).fill(1) : a.slice();
}
