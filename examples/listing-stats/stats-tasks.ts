/**
 * Remote functions and the actor of the listing-stats example. They live in their own module:
 * workers import this module (shipped as a code bundle) to find them by name.
 */
import { gunzipSync } from 'node:zlib';
import { actor, remote } from 'shoal';

/** Reviews of one chunk as columns: listing id (exact: ids exceed 2^53) and days since 1970. */
export interface ReviewColumns {
  listing: BigInt64Array;
  day: Int32Array;
}

/** Parses a slice of reviews.csv lines (reviewer_id,listing_id,date) into typed columns. */
export const parseReviews = remote(function parseReviews(text: string): ReviewColumns {
  // The file has CRLF line ends; a malformed date becomes NaN and is skipped by reviewStats.
  const lines = text.split(/\r?\n/).filter((l) => l.length > 0);
  const listing = new BigInt64Array(lines.length);
  const day = new Int32Array(lines.length);
  lines.forEach((line, i) => {
    const [, id, date] = line.split(',');
    listing[i] = /^\d+$/.test(id ?? '') ? BigInt(id!) : 0n;
    day[i] = Math.floor(Date.parse(`${date?.trim()}T00:00:00Z`) / 86_400_000) || 0;
  });
  return { listing, day };
});

export interface ReviewStats {
  rows: number;
  perYear: Record<string, number>;
  perMonth: number[];
  perListing: Record<string, number>;
  firstDay: number;
  lastDay: number;
}

/** Counts reviews per year, per calendar month and per listing in one chunk (typed columns in). */
export const reviewStats = remote(function reviewStats(cols: ReviewColumns): ReviewStats {
  const perYear: Record<string, number> = {};
  const perMonth = new Array<number>(12).fill(0);
  const perListing: Record<string, number> = {};
  let firstDay = Infinity;
  let lastDay = -Infinity;
  for (let i = 0; i < cols.day.length; i++) {
    if (cols.listing[i] === 0n || cols.day[i] === 0) continue;
    const d = new Date(cols.day[i]! * 86_400_000);
    const y = String(d.getUTCFullYear());
    perYear[y] = (perYear[y] ?? 0) + 1;
    perMonth[d.getUTCMonth()]!++;
    const id = String(cols.listing[i]);
    perListing[id] = (perListing[id] ?? 0) + 1;
    firstDay = Math.min(firstDay, cols.day[i]!);
    lastDay = Math.max(lastDay, cols.day[i]!);
  }
  return { rows: cols.day.length, perYear, perMonth, perListing, firstDay, lastDay };
});

export interface CalendarStats {
  rows: number;
  /** Per calendar month (0–11): nights, nights available, sum of nightly prices seen. */
  nights: number[];
  available: number[];
  priceSum: number[];
  priced: number[];
}

const CALENDAR_LINE = /^[^,]*,(\d{4}-\d\d-\d\d),([tf]),("[^"]*"|[^,]*)/;

/** Unzips and summarizes calendar.csv.gz (listing_id,date,available,price,...) by month. */
export const calendarStats = remote(function calendarStats(gz: Uint8Array): CalendarStats {
  const text = gunzipSync(gz).toString('utf8');
  const lines = text.split(/\r?\n/);
  const s: CalendarStats = {
    rows: 0,
    nights: Array(12).fill(0),
    available: Array(12).fill(0),
    priceSum: Array(12).fill(0),
    priced: Array(12).fill(0),
  };
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    if (!line) continue;
    // Prices over $999 are quoted ("$1,250.00"), so split on the first four fields with a pattern.
    const m = CALENDAR_LINE.exec(line);
    if (!m) continue;
    const [, date, avail, price] = m;
    const month = Number(date!.slice(5, 7)) - 1;
    s.rows++;
    s.nights[month]!++;
    if (avail === 't') s.available[month]!++;
    const p = parsePrice(price ?? '');
    if (p !== undefined) {
      s.priceSum[month]! += p;
      s.priced[month]!++;
    }
  }
  return s;
});

/** "$1,250.00" → 1250; empty or malformed → undefined. */
export function parsePrice(text: string): number | undefined {
  const cleaned = text.replace(/[$,"\s]/g, '');
  if (!cleaned) return undefined;
  const v = Number(cleaned);
  return Number.isFinite(v) ? v : undefined;
}

/** An actor that merges review statistics from many tasks and answers queries over them. */
export class ReviewAggregator {
  private total: ReviewStats = {
    rows: 0,
    perYear: {},
    perMonth: Array(12).fill(0),
    perListing: {},
    firstDay: Infinity,
    lastDay: -Infinity,
  };
  private chunks = 0;

  merge(s: ReviewStats): number {
    const t = this.total;
    t.rows += s.rows;
    for (const [y, n] of Object.entries(s.perYear)) t.perYear[y] = (t.perYear[y] ?? 0) + n;
    s.perMonth.forEach((n, m) => (t.perMonth[m]! += n));
    for (const [id, n] of Object.entries(s.perListing)) t.perListing[id] = (t.perListing[id] ?? 0) + n;
    t.firstDay = Math.min(t.firstDay, s.firstDay);
    t.lastDay = Math.max(t.lastDay, s.lastDay);
    return ++this.chunks;
  }

  summary(): ReviewStats & { chunks: number } {
    return { ...this.total, chunks: this.chunks };
  }

  topListings(k: number): Array<[string, number]> {
    return Object.entries(this.total.perListing)
      .sort((a, b) => b[1] - a[1])
      .slice(0, k);
  }
}

export const ReviewAggregatorActor = actor(ReviewAggregator);
