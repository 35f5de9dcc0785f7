/** CAST semantics (Spark non-ANSI): unparseable or out-of-range values become null rather than failing. */
import { type Column, MS_PER_DAY, columnGet, storageFor } from '../types/column.js';
import { type ScalarTypeName, isNumericType } from '../types/logical-type.js';
import { formatDate, formatTimestamp, parseDate, parseTimestamp } from '../types/temporal.js';
import { validCopy, widen } from './coerce.js';

const INT_RE = /^[+-]?\d+(\.\d*)?$/;
const FLOAT_RE = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$|^[+-]?(NaN|Infinity|inf)$/i;
const TRUE_STRINGS = new Set(['t', 'true', 'y', 'yes', '1']);
const FALSE_STRINGS = new Set(['f', 'false', 'n', 'no', '0']);

function formatFloat(v: number): string {
  if (Number.isInteger(v) && Math.abs(v) < 1e21) return `${v}.0`;
  return String(v);
}

export function castColumn(src: Column, to: ScalarTypeName): Column {
  const n = src.length;
  if (src.type === to) return src;
  if (src.type === 'null') return { type: to, length: n, values: storageFor(to, n), valid: new Uint8Array(n) };
  // Numbers to float64 never fail: int64 shares its float64 storage (columns are immutable), int32 widens.
  if (to === 'float64' && (src.type === 'int64' || src.type === 'int32')) return widen(src, 'float64');
  const valid = validCopy(src.valid, n);
  const out = storageFor(to, n);
  const from = src.type;
  const setNull = (i: number): void => {
    valid[i] = 0;
  };
  if (to === 'utf8') {
    const o = out as (string | null)[];
    for (let i = 0; i < n; i++) {
      if (valid[i] !== 1) continue;
      const v = columnGet(src, i);
      if (from === 'date') o[i] = formatDate(v as number);
      else if (from === 'timestamp') o[i] = formatTimestamp(v as number);
      else if (from === 'float64') o[i] = formatFloat(v as number);
      else o[i] = String(v);
    }
    return { type: to, length: n, values: out, valid };
  }
  if (from === 'utf8') {
    const s = src.values as (string | null)[];
    for (let i = 0; i < n; i++) {
      if (valid[i] !== 1) continue;
      const str = s[i]!.trim();
      switch (to) {
        case 'int32':
        case 'int64': {
          if (!INT_RE.test(str)) {
            setNull(i);
            break;
          }
          const v = Math.trunc(Number(str));
          if (to === 'int32' && (v < -2147483648 || v > 2147483647)) setNull(i);
          else if (!Number.isSafeInteger(v)) setNull(i);
          else (out as Int32Array | Float64Array)[i] = v;
          break;
        }
        case 'float64': {
          if (!FLOAT_RE.test(str)) {
            setNull(i);
            break;
          }
          const lower = str.toLowerCase().replace(/^[+]/, '');
          (out as Float64Array)[i] = lower === 'inf' || lower === 'infinity' ? Infinity : lower === '-inf' || lower === '-infinity' ? -Infinity : Number(str);
          break;
        }
        case 'bool': {
          const l = str.toLowerCase();
          if (TRUE_STRINGS.has(l)) (out as Uint8Array)[i] = 1;
          else if (!FALSE_STRINGS.has(l)) setNull(i);
          break;
        }
        case 'date': {
          const d = parseDate(str) ?? (() => {
            const ms = parseTimestamp(str);
            return ms === undefined ? undefined : Math.floor(ms / MS_PER_DAY);
          })();
          if (d === undefined) setNull(i);
          else (out as Int32Array)[i] = d;
          break;
        }
        case 'timestamp': {
          const ms = parseTimestamp(str);
          if (ms === undefined) setNull(i);
          else (out as Float64Array)[i] = ms;
          break;
        }
      }
    }
    return { type: to, length: n, values: out, valid };
  }
  if (from === 'date' && to === 'timestamp') return widen(src, 'timestamp');
  if (from === 'timestamp' && to === 'date') {
    const s = src.values as Float64Array;
    const o = out as Int32Array;
    for (let i = 0; i < n; i++) o[i] = Math.floor(s[i]! / MS_PER_DAY);
    return { type: to, length: n, values: out, valid };
  }
  if ((isNumericType(from) || from === 'bool') && (isNumericType(to) || to === 'bool')) {
    const s = src.values as Int32Array | Float64Array | Uint8Array;
    for (let i = 0; i < n; i++) {
      if (valid[i] !== 1) continue;
      const v = s[i]!;
      if (to === 'bool') (out as Uint8Array)[i] = v !== 0 ? 1 : 0;
      else if (to === 'float64') (out as Float64Array)[i] = v;
      else {
        const t = Math.trunc(v);
        if (!Number.isFinite(t) || (to === 'int32' ? t < -2147483648 || t > 2147483647 : !Number.isSafeInteger(t))) setNull(i);
        else (out as Int32Array | Float64Array)[i] = t;
      }
    }
    return { type: to, length: n, values: out, valid };
  }
  throw new Error(`internal: unchecked cast from ${JSON.stringify(from)} to ${to}`);
}
