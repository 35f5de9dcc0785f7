/**
 * Calendar arithmetic on epoch days / epoch milliseconds (proleptic Gregorian, UTC), and the ISO
 * parsers/formatters shared by casts and readers. Hand-written (Howard Hinnant's civil algorithms)
 * because `Date` objects per row are an order of magnitude slower.
 */
import { MS_PER_DAY } from './column.js';

export function civilFromDays(days: number): [year: number, month: number, day: number] {
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp < 10 ? mp + 3 : mp - 9;
  const y = yoe + era * 400;
  return [m <= 2 ? y + 1 : y, m, d];
}

export function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (month > 2 ? month - 3 : month + 9) + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

function daysInMonth(y: number, m: number): number {
  if (m === 2) return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0 ? 29 : 28;
  return m === 4 || m === 6 || m === 9 || m === 11 ? 30 : 31;
}

/** 1 = Sunday … 7 = Saturday. */
export function dayOfWeekFromDays(days: number): number {
  return (((days + 4) % 7) + 7) % 7 + 1;
}

const DATE_RE = /^\s*([+-]?\d{4,6})-(\d{1,2})-(\d{1,2})\s*$/;
const TS_RE = /^\s*([+-]?\d{4,6})-(\d{1,2})-(\d{1,2})(?:[T ](\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?\s*(Z|z|UTC|[+-]\d{2}(?::?\d{2})?)?\s*$/;

/** Parses 'YYYY-MM-DD' to epoch days, or undefined if it is not a valid date. */
export function parseDate(s: string): number | undefined {
  const m = DATE_RE.exec(s);
  if (m === null) return undefined;
  const y = Number(m[1]);
  const mo = Number(m[2]);
  const d = Number(m[3]);
  if (mo < 1 || mo > 12 || d < 1 || d > daysInMonth(y, mo)) return undefined;
  return daysFromCivil(y, mo, d);
}

/**
 * Parses an ISO-8601 date or date-time ('YYYY-MM-DD', 'YYYY-MM-DD HH:MM[:SS[.fff]]', 'T' separator,
 * optional 'Z' or ±HH[:MM] offset; no offset means UTC) to epoch ms, or undefined.
 */
export function parseTimestamp(s: string): number | undefined {
  const m = TS_RE.exec(s);
  if (m === null) return undefined;
  const y = Number(m[1]);
  const mo = Number(m[2]);
  const d = Number(m[3]);
  if (mo < 1 || mo > 12 || d < 1 || d > daysInMonth(y, mo)) return undefined;
  const hh = m[4] === undefined ? 0 : Number(m[4]);
  const mi = m[5] === undefined ? 0 : Number(m[5]);
  const ss = m[6] === undefined ? 0 : Number(m[6]);
  if (hh > 23 || mi > 59 || ss > 59) return undefined;
  const ms = m[7] === undefined ? 0 : Math.floor(Number(`0.${m[7]}`) * 1000 + 1e-6);
  let offsetMin = 0;
  const tz = m[8];
  if (tz !== undefined && tz !== 'Z' && tz !== 'z' && tz !== 'UTC') {
    const sign = tz[0] === '-' ? -1 : 1;
    const digits = tz.slice(1).replace(':', '');
    offsetMin = sign * (Number(digits.slice(0, 2)) * 60 + (digits.length > 2 ? Number(digits.slice(2, 4)) : 0));
  }
  return daysFromCivil(y, mo, d) * MS_PER_DAY + ((hh * 60 + mi - offsetMin) * 60 + ss) * 1000 + ms;
}

function pad(n: number, w: number): string {
  const s = String(Math.abs(n));
  return (n < 0 ? '-' : '') + (s.length >= w ? s : '0'.repeat(w - s.length) + s);
}

/** Epoch days → 'YYYY-MM-DD'. */
export function formatDate(days: number): string {
  const [y, m, d] = civilFromDays(days);
  return `${pad(y, 4)}-${pad(m, 2)}-${pad(d, 2)}`;
}

/** Epoch ms → 'YYYY-MM-DD HH:MM:SS[.mmm]' (UTC, like Spark's cast to string in a UTC session). */
export function formatTimestamp(ms: number, separator = ' '): string {
  const days = Math.floor(ms / MS_PER_DAY);
  let rem = ms - days * MS_PER_DAY;
  const h = Math.floor(rem / 3_600_000);
  rem -= h * 3_600_000;
  const mi = Math.floor(rem / 60_000);
  rem -= mi * 60_000;
  const s = Math.floor(rem / 1000);
  const milli = rem - s * 1000;
  return `${formatDate(days)}${separator}${pad(h, 2)}:${pad(mi, 2)}:${pad(s, 2)}${milli !== 0 ? `.${pad(milli, 3)}` : ''}`;
}
