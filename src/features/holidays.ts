/**
 * US federal holidays, computed (no data): the eleven 5 U.S.C. 6103 holidays with their weekend
 * observance (Saturday → Friday, Sunday → Monday). Juneteenth from 2021, Inauguration Day excluded.
 */
const DAY_MS = 86_400_000;

function utcDay(y: number, m: number, d: number): number {
  return Date.UTC(y, m - 1, d) / DAY_MS;
}
/** The n-th (1-based; -1 = last) weekday `dow` (0 = Sunday) of a month, as epoch days. */
function nthWeekday(y: number, m: number, dow: number, n: number): number {
  if (n > 0) {
    const first = new Date(Date.UTC(y, m - 1, 1)).getUTCDay();
    return utcDay(y, m, 1 + ((dow - first + 7) % 7) + (n - 1) * 7);
  }
  const lastDate = new Date(Date.UTC(y, m, 0)).getUTCDate();
  const last = new Date(Date.UTC(y, m - 1, lastDate)).getUTCDay();
  return utcDay(y, m, lastDate - ((last - dow + 7) % 7));
}
function observed(day: number): number {
  const dow = new Date(day * DAY_MS).getUTCDay();
  return dow === 6 ? day - 1 : dow === 0 ? day + 1 : day;
}

const cache = new Map<number, Set<number>>();

/** Epoch days of the observed federal holidays of year `y`. */
export function usFederalHolidays(y: number): Set<number> {
  let s = cache.get(y);
  if (s !== undefined) return s;
  const fixed = [utcDay(y, 1, 1), utcDay(y, 7, 4), utcDay(y, 11, 11), utcDay(y, 12, 25), ...(y >= 2021 ? [utcDay(y, 6, 19)] : [])].map(observed);
  const floating = [nthWeekday(y, 1, 1, 3), nthWeekday(y, 2, 1, 3), nthWeekday(y, 5, 1, -1), nthWeekday(y, 9, 1, 1), nthWeekday(y, 10, 1, 2), nthWeekday(y, 11, 4, 4)];
  s = new Set([...fixed, ...floating]);
  cache.set(y, s);
  return s;
}

/** Whether epoch day `day` is an (observed) US federal holiday (incl. next year's New Year observed on Dec 31). */
export function isUsFederalHoliday(day: number): boolean {
  const y = new Date(day * DAY_MS).getUTCFullYear();
  return usFederalHolidays(y).has(day) || usFederalHolidays(y + 1).has(day);
}
