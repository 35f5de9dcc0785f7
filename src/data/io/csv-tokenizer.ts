/**
 * RFC 4180 tokenizer over UTF-8 bytes, fed chunk by chunk: fields separated by a delimiter, records
 * by LF, CR or CRLF; a field may be quoted, and a quoted field may contain delimiters, newlines and
 * doubled quotes. Lenient where the RFC is silent and readers agree (a quote inside an unquoted field
 * is literal). An unquoted empty field is null; a quoted empty field is the empty string. Blank lines
 * are skipped. Delimiter, quote and line breaks are ASCII, so scanning bytes never splits a UTF-8
 * character; values stay bytes (spans into the chunk) until a column parses them, so no string or
 * object is made per record.
 *
 * Two conditions leave no way to tell where records resume, so they throw CsvSyntaxError whatever the
 * read mode: a quote still open at the end of the input (named by the line it opened on), and a field
 * longer than `maxFieldBytes` (an unterminated quote swallowing the file, usually). An unfinished
 * record is rescanned only once the input after it has grown by its own length, so even a record that
 * never ends costs linear time overall.
 */

const LF = 10;
const CR = 13;

/** Longest field accepted by default (bytes, inside the quotes): 16 MiB. */
export const DEFAULT_MAX_CSV_FIELD_BYTES = 16 * 2 ** 20;

/** The input cannot be tokenized past `line` (1-based): the reader reports it in every mode. */
export class CsvSyntaxError extends Error {
  constructor(
    readonly reason: string,
    readonly line: number,
  ) {
    super(`line ${line}: ${reason}`);
    this.name = 'CsvSyntaxError';
  }
}

const mib = (b: number): string => (b >= 2 ** 20 ? `${(b / 2 ** 20).toFixed(b % 2 ** 20 === 0 ? 0 : 1)} MiB` : `${b} bytes`);

/** Field spans of the record being delivered; valid only during the `onRecord` call (the object is reused). */
export interface CsvFields {
  /** The bytes the spans index into. */
  readonly buf: Uint8Array;
  readonly count: number;
  /** Byte offsets of each field's content (inside the quotes for a quoted field). */
  readonly starts: Int32Array;
  readonly ends: Int32Array;
  /** 0: unquoted, 1: quoted, 2: quoted with doubled quotes inside (unescape with `fieldBytes`). */
  readonly kinds: Uint8Array;
}

export interface CsvRecordInfo {
  /** 1-based physical line on which the record starts. */
  readonly line: number;
  /** Byte offsets of the record in `buf` (for corrupt-record text), line break excluded. */
  readonly start: number;
  readonly end: number;
  /** Set when the record could not be tokenized cleanly. */
  readonly error: string | undefined;
}

export type OnRecord = (fields: CsvFields, record: CsvRecordInfo) => void;

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** A field's value bytes, quotes unescaped (a fresh copy only when the field had doubled quotes). */
export function fieldBytes(f: CsvFields, i: number, quote: number): Uint8Array {
  const s = f.starts[i]!;
  const e = f.ends[i]!;
  if (f.kinds[i] !== 2) return f.buf.subarray(s, e);
  const out = new Uint8Array(e - s);
  let n = 0;
  for (let j = s; j < e; j++) {
    const b = f.buf[j]!;
    out[n++] = b;
    if (b === quote && f.buf[j + 1] === quote) j++;
  }
  return out.subarray(0, n);
}

export class CsvTokenizer {
  private readonly D: number;
  private readonly Q: number;
  private pending: Uint8Array = new Uint8Array(0);
  /** Input that arrived after an unfinished record, not yet scanned (waits until it is as long as `pending`). */
  private waiting: Uint8Array[] = [];
  private waitingBytes = 0;
  private line = 1;
  private first = true;
  private starts = new Int32Array(64);
  private ends = new Int32Array(64);
  private kinds = new Uint8Array(64);
  private readonly fields: Mutable<CsvFields> = {
    buf: new Uint8Array(0),
    count: 0,
    starts: this.starts,
    ends: this.ends,
    kinds: this.kinds,
  };
  private readonly record: Mutable<CsvRecordInfo> = { line: 0, start: 0, end: 0, error: undefined };

  constructor(
    delimiter: string,
    quote: string,
    private readonly onRecord: OnRecord,
    private readonly maxFieldBytes: number = DEFAULT_MAX_CSV_FIELD_BYTES,
  ) {
    this.D = delimiter.charCodeAt(0);
    this.Q = quote.charCodeAt(0);
  }

  /** The physical line the next record starts on. */
  get currentLine(): number {
    return this.line;
  }

  /** Tokenizes the complete records of `chunk` (plus what was left over); keeps an incomplete last record. */
  push(chunk: Uint8Array): void {
    if (this.pending.length > 0 && this.waitingBytes + chunk.length < this.pending.length) {
      // Rescanning a long unfinished record for every chunk would be quadratic: wait for as much again.
      this.waiting.push(chunk.slice());
      this.waitingBytes += chunk.length;
      return;
    }
    this.pushNow(chunk);
  }

  private takeWaiting(chunk: Uint8Array): Uint8Array {
    const parts = [this.pending, ...this.waiting, chunk];
    this.waiting = [];
    this.waitingBytes = 0;
    if (parts.length === 2 && parts[0]!.length === 0) return chunk;
    const buf = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
    let at = 0;
    for (const p of parts) {
      buf.set(p, at);
      at += p.length;
    }
    return buf;
  }

  private pushNow(chunk: Uint8Array): void {
    const buf = this.takeWaiting(chunk);
    if (this.first && buf.length < 3) {
      this.pending = buf.slice();
      return;
    }
    let pos = 0;
    if (this.first) {
      this.first = false;
      // A UTF-8 byte order mark is not data.
      if (buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf) pos = 3;
    }
    const rest = this.scan(buf, pos, false);
    this.pending = rest < buf.length ? buf.slice(rest) : new Uint8Array(0);
  }

  /** Tokenizes whatever is left as the last record(s) of the input. */
  end(): void {
    const buf = this.takeWaiting(new Uint8Array(0));
    this.pending = new Uint8Array(0);
    let pos = 0;
    if (this.first && buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf) pos = 3;
    this.first = false;
    this.scan(buf, pos, true);
  }

  private grow(): void {
    const n = this.starts.length * 2;
    const s = new Int32Array(n);
    s.set(this.starts);
    const e = new Int32Array(n);
    e.set(this.ends);
    const k = new Uint8Array(n);
    k.set(this.kinds);
    this.starts = s;
    this.ends = e;
    this.kinds = k;
  }

  /** Delivers every record of `buf` from `pos` that is complete (or all, when `final`); returns where the unfinished one starts. */
  private scan(buf: Uint8Array, pos: number, final: boolean): number {
    const D = this.D;
    const Q = this.Q;
    const n = buf.length;
    let i = pos;
    while (i < n) {
      const c0 = buf[i]!;
      if (c0 === LF || c0 === CR) {
        // A blank line; a CR at the end of a chunk may be the first half of a CRLF.
        if (c0 === CR && i + 1 >= n && !final) return i;
        if (c0 === CR && buf[i + 1] === LF) i++;
        i++;
        this.line++;
        continue;
      }
      const start = i;
      let line = this.line;
      let count = 0;
      let error: string | undefined;
      let recordEnd = -1;
      let next = -1;
      for (;;) {
        if (count === this.starts.length) this.grow();
        if (i < n && buf[i] === Q) {
          const openLine = line;
          i++;
          const s = i;
          let kind = 1;
          let closed = false;
          const limit = Math.min(n, s + this.maxFieldBytes + 1);
          while (i < limit) {
            const c = buf[i]!;
            if (c === Q) {
              if (i + 1 < n && buf[i + 1] === Q) {
                kind = 2;
                i += 2;
                continue;
              }
              if (i + 1 >= n && !final) break; // a doubled quote may straddle the chunk end
              closed = true;
              break;
            }
            if (c === LF) line++;
            i++;
          }
          if (!closed) {
            if (i - s > this.maxFieldBytes) {
              throw new CsvSyntaxError(`quoted field opened on line ${openLine} is longer than ${mib(this.maxFieldBytes)} (maxFieldBytes): is a closing quote missing?`, openLine);
            }
            if (!final) return start;
            throw new CsvSyntaxError(`quoted field opened on line ${openLine} is not closed at the end of the input`, openLine);
          }
          this.starts[count] = s;
          this.ends[count] = i;
          this.kinds[count] = kind;
          i++; // the closing quote
          if (i < n) {
            const after = buf[i]!;
            if (after !== D && after !== LF && after !== CR) {
              // Text after the closing quote: keep it (from the opening quote on) as the value.
              error ??= `unexpected character after closing quote in field ${count + 1}`;
              let j = i;
              while (j < n && buf[j] !== D && buf[j] !== LF && buf[j] !== CR) j++;
              if (j >= n && !final) return start;
              this.ends[count] = j;
              this.kinds[count] = kind === 2 ? 2 : 1;
              i = j;
            }
          }
          count++;
        } else {
          let j = i;
          while (j < n) {
            const c = buf[j]!;
            if (c === D || c === LF || c === CR) break;
            j++;
          }
          if (j - i > this.maxFieldBytes) throw new CsvSyntaxError(`field ${count + 1} is longer than ${mib(this.maxFieldBytes)} (maxFieldBytes)`, line);
          if (j >= n && !final) return start;
          this.starts[count] = i;
          this.ends[count] = j;
          this.kinds[count++] = 0;
          i = j;
        }
        if (i >= n) {
          if (!final) return start;
          recordEnd = i;
          next = i;
          break;
        }
        const c = buf[i]!;
        if (c === D) {
          i++;
          if (i >= n) {
            if (!final) return start;
            if (count === this.starts.length) this.grow();
            this.starts[count] = i;
            this.ends[count] = i;
            this.kinds[count++] = 0;
            recordEnd = i;
            next = i;
            break;
          }
          continue;
        }
        // CR, LF or CRLF ends the record.
        if (c === CR && i + 1 >= n && !final) return start;
        recordEnd = i;
        next = c === CR && buf[i + 1] === LF ? i + 2 : i + 1;
        line++;
        break;
      }
      const startLine = this.line;
      this.line = line;
      i = next;
      // One fields object and one record object, refilled per record (no allocation per record).
      const f = this.fields;
      f.buf = buf;
      f.count = count;
      f.starts = this.starts;
      f.ends = this.ends;
      f.kinds = this.kinds;
      const r = this.record;
      r.line = startLine;
      r.start = start;
      r.end = recordEnd;
      r.error = error;
      this.onRecord(f, r);
    }
    return n;
  }
}
