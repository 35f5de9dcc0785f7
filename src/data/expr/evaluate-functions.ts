/** String, date/time and math functions over evaluator columns. Nulls in any argument give null. */
import { InvalidExpressionError } from '../errors.js';
import { type Column, MS_PER_DAY, columnGet, storageFor } from '../types/column.js';
import type { LogicalType } from '../types/logical-type.js';
import { civilFromDays, dayOfWeekFromDays, daysFromCivil } from '../types/temporal.js';
import { andValid, validCopy, widen } from './coerce.js';
import type { CallFn } from './expr-node.js';

const regexCache = new Map<string, RegExp>();
function regex(pattern: string, flags: string): RegExp {
  const key = `${flags}/${pattern}`;
  let re = regexCache.get(key);
  if (re === undefined) {
    try {
      re = new RegExp(pattern, flags);
    } catch {
      // Unicode mode rejects some escapes Java/Spark accept (e.g. `\-`); retry without it.
      try {
        re = new RegExp(pattern, flags.replace('u', ''));
      } catch (cause) {
        throw new InvalidExpressionError(`invalid regular expression ${JSON.stringify(pattern)}: ${(cause as Error).message}`, { cause });
      }
    }
    if (regexCache.size > 256) regexCache.clear();
    regexCache.set(key, re);
  }
  re.lastIndex = 0;
  return re;
}

function codePointLength(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0xdc00 || c > 0xdfff) n++;
  }
  return n;
}

/** Spark `substring(str, pos, len)` over code points. */
function sparkSubstring(s: string, pos: number, len: number): string {
  const chars = /[\ud800-\udfff]/.test(s) ? Array.from(s) : null;
  const total = chars === null ? s.length : chars.length;
  let start = pos > 0 ? pos - 1 : pos < 0 ? total + pos : 0;
  const end = Math.min(start + len, total);
  start = Math.max(start, 0);
  if (start >= end) return '';
  return chars === null ? s.slice(start, end) : chars.slice(start, end).join('');
}

function daysOf(col: Column, i: number): number {
  const v = (col.values as Int32Array | Float64Array)[i]!;
  return col.type === 'timestamp' ? Math.floor(v / MS_PER_DAY) : v;
}

/** Rounds half away from zero at `scale` decimals, on the value's shortest decimal form (Spark HALF_UP). */
function roundHalfUp(v: number, scale: number): number {
  if (!Number.isFinite(v)) return v;
  const sign = v < 0 ? -1 : 1;
  const shifted = Number(`${Math.abs(v)}e${scale}`);
  if (!Number.isFinite(shifted)) return v;
  return sign * Number(`${Math.round(shifted)}e${-scale}`);
}

function mapUtf8(args: readonly Column[], n: number, outType: LogicalType, f: (i: number, s: string) => unknown): Column {
  let valid = validCopy(args[0]!.valid, n);
  for (let k = 1; k < args.length; k++) valid = andValid(valid, args[k]!.valid, n)!;
  const out = storageFor(outType, n);
  const s = args[0]!.values as (string | null)[];
  for (let i = 0; i < n; i++) {
    if (valid[i] !== 1) continue;
    const v = f(i, s[i]!);
    if (v === null) valid[i] = 0;
    else if (outType === 'bool') (out as Uint8Array)[i] = v === true ? 1 : 0;
    else (out as unknown[] | Int32Array)[i] = v as never;
  }
  return { type: outType, length: n, values: out, valid };
}

function mapNumeric(args: readonly Column[], n: number, outType: LogicalType, f: (i: number) => number | null): Column {
  let valid = validCopy(args[0]!.valid, n);
  for (let k = 1; k < args.length; k++) valid = andValid(valid, args[k]!.valid, n)!;
  const out = storageFor(outType, n) as Int32Array | Float64Array;
  for (let i = 0; i < n; i++) {
    if (valid[i] !== 1) continue;
    const v = f(i);
    if (v === null || (outType !== 'float64' && !Number.isFinite(v))) valid[i] = 0;
    else out[i] = v;
  }
  return { type: outType, length: n, values: out, valid };
}

const str = (c: Column, i: number): string => (c.values as string[])[i]!;
const num = (c: Column, i: number): number => (c.values as Int32Array | Float64Array)[i]!;

export function evaluateCall(fn: CallFn, args: readonly Column[], outType: LogicalType, n: number): Column {
  const a0 = args[0]!;
  switch (fn) {
    case 'lower':
      return mapUtf8(args, n, 'utf8', (_, s) => s.toLowerCase());
    case 'upper':
      return mapUtf8(args, n, 'utf8', (_, s) => s.toUpperCase());
    case 'trim':
      return mapUtf8(args, n, 'utf8', (_, s) => s.replace(/^ +| +$/g, ''));
    case 'contains':
      return mapUtf8(args, n, 'bool', (i, s) => s.includes(str(args[1]!, i)));
    case 'startsWith':
      return mapUtf8(args, n, 'bool', (i, s) => s.startsWith(str(args[1]!, i)));
    case 'endsWith':
      return mapUtf8(args, n, 'bool', (i, s) => s.endsWith(str(args[1]!, i)));
    case 'regexpExtract':
      return mapUtf8(args, n, 'utf8', (i, s) => {
        const m = regex(str(args[1]!, i), 'u').exec(s);
        return m === null ? '' : (m[num(args[2]!, i)] ?? '');
      });
    case 'regexpReplace':
      return mapUtf8(args, n, 'utf8', (i, s) => s.replace(regex(str(args[1]!, i), 'gu'), str(args[2]!, i)));
    case 'split':
      return mapUtf8(args, n, outType, (i, s) => s.split(regex(str(args[1]!, i), 'u')));
    case 'length':
      return mapUtf8(args, n, 'int32', (_, s) => codePointLength(s));
    case 'substring':
      return mapUtf8(args, n, 'utf8', (i, s) => sparkSubstring(s, num(args[1]!, i), num(args[2]!, i)));
    case 'year':
      return mapNumeric(args, n, 'int32', (i) => civilFromDays(daysOf(a0, i))[0]);
    case 'month':
      return mapNumeric(args, n, 'int32', (i) => civilFromDays(daysOf(a0, i))[1]);
    case 'dayOfMonth':
      return mapNumeric(args, n, 'int32', (i) => civilFromDays(daysOf(a0, i))[2]);
    case 'dayOfWeek':
      return mapNumeric(args, n, 'int32', (i) => dayOfWeekFromDays(daysOf(a0, i)));
    case 'dateTrunc': {
      const unit = columnGet(a0, 0) as string;
      const x = args[1]!;
      const truncDays = (d: number): number => {
        const [y, m] = civilFromDays(d);
        switch (unit) {
          case 'year':
            return daysFromCivil(y, 1, 1);
          case 'quarter':
            return daysFromCivil(y, 3 * Math.floor((m - 1) / 3) + 1, 1);
          case 'month':
            return daysFromCivil(y, m, 1);
          case 'week':
            return d - ((((d + 3) % 7) + 7) % 7);
          default:
            return d;
        }
      };
      if (x.type === 'date') return mapNumeric([x], n, 'date', (i) => truncDays(num(x, i)));
      const unitMs = unit === 'hour' ? 3_600_000 : unit === 'minute' ? 60_000 : unit === 'second' ? 1000 : 0;
      return mapNumeric([x], n, 'timestamp', (i) => {
        const ms = num(x, i);
        if (unitMs > 0) return Math.floor(ms / unitMs) * unitMs;
        return truncDays(Math.floor(ms / MS_PER_DAY)) * MS_PER_DAY;
      });
    }
    case 'dateDiff':
      return mapNumeric(args, n, 'int32', (i) => daysOf(a0, i) - daysOf(args[1]!, i));
    case 'addDays':
      return mapNumeric(args, n, 'date', (i) => daysOf(a0, i) + num(args[1]!, i));
    case 'abs':
      return mapNumeric(args, n, outType, (i) => Math.abs(num(a0, i)));
    case 'sqrt':
      return mapNumeric(args, n, 'float64', (i) => Math.sqrt(num(a0, i)));
    case 'log':
      return mapNumeric(args, n, 'float64', (i) => (num(a0, i) <= 0 ? null : Math.log(num(a0, i))));
    case 'exp':
      return mapNumeric(args, n, 'float64', (i) => Math.exp(num(a0, i)));
    case 'round':
      return mapNumeric(args, n, outType, (i) => {
        const v = num(a0, i);
        const scale = num(args[1]!, i);
        if (outType !== 'float64' && scale >= 0) return v;
        return roundHalfUp(v, scale);
      });
    case 'floor':
      return mapNumeric(args, n, outType, (i) => Math.floor(num(a0, i)));
    case 'ceil':
      return mapNumeric(args, n, outType, (i) => Math.ceil(num(a0, i)));
    case 'coalesce': {
      const cols = args.map((c) => widen(c, outType));
      const out = storageFor(outType, n);
      const valid = new Uint8Array(n);
      for (let i = 0; i < n; i++) {
        for (const c of cols) {
          if (c.valid === null || c.valid[i] === 1) {
            valid[i] = 1;
            (out as unknown[])[i] = (c.values as unknown[])[i];
            break;
          }
        }
      }
      return { type: outType, length: n, values: out, valid };
    }
  }
}
