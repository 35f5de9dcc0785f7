/**
 * RFC 4180 tokenizer: fields separated by a delimiter, records by LF or CRLF; a field may be quoted,
 * and a quoted field may contain delimiters, newlines and doubled quotes. Lenient where the RFC is
 * silent and readers agree (a quote inside an unquoted field is literal). An unquoted empty field is
 * null; a quoted empty field is the empty string. Blank lines are skipped.
 */

export interface CsvRecord {
  /** Field values; null for an unquoted empty field. */
  readonly fields: (string | null)[];
  /** 1-based physical line on which the record starts. */
  readonly line: number;
  /** Offsets of the record's text in the input (for corrupt-record reporting). */
  readonly start: number;
  readonly end: number;
  /** Set when the record could not be tokenized cleanly. */
  readonly error?: string;
}

const LF = 10;
const CR = 13;

export function* tokenizeCsv(text: string, delimiter: string, quote = '"'): Generator<CsvRecord> {
  const D = delimiter.charCodeAt(0);
  const Q = quote.charCodeAt(0);
  const n = text.length;
  let i = 0;
  let line = 1;
  while (i < n) {
    // Skip blank lines.
    const c0 = text.charCodeAt(i);
    if (c0 === LF || c0 === CR) {
      if (c0 === CR && text.charCodeAt(i + 1) === LF) i++;
      i++;
      line++;
      continue;
    }
    const start = i;
    const startLine = line;
    const fields: (string | null)[] = [];
    let error: string | undefined;
    let endOfRecord = false;
    while (!endOfRecord) {
      if (i < n && text.charCodeAt(i) === Q) {
        // Quoted field.
        i++;
        let value = '';
        let segStart = i;
        let closed = false;
        while (i < n) {
          const c = text.charCodeAt(i);
          if (c === Q) {
            if (text.charCodeAt(i + 1) === Q) {
              value += text.slice(segStart, i + 1);
              i += 2;
              segStart = i;
              continue;
            }
            value += text.slice(segStart, i);
            i++;
            closed = true;
            break;
          }
          if (c === LF) line++;
          i++;
        }
        if (!closed) {
          value += text.slice(segStart, i);
          error ??= `unterminated quoted field starting on line ${startLine}`;
          fields.push(value);
          endOfRecord = true;
          break;
        }
        // After the closing quote: delimiter, end of line, or end of input.
        const after = i < n ? text.charCodeAt(i) : -1;
        if (after !== D && after !== LF && after !== CR && after !== -1) {
          error ??= `unexpected character after closing quote in field ${fields.length + 1}`;
          let j = i;
          while (j < n) {
            const c = text.charCodeAt(j);
            if (c === D || c === LF || c === CR) break;
            j++;
          }
          value += text.slice(i, j);
          i = j;
        }
        fields.push(value);
      } else {
        let j = i;
        while (j < n) {
          const c = text.charCodeAt(j);
          if (c === D || c === LF || c === CR) break;
          j++;
        }
        fields.push(j === i ? null : text.slice(i, j));
        i = j;
      }
      if (i >= n) {
        endOfRecord = true;
      } else {
        const c = text.charCodeAt(i);
        if (c === D) {
          i++;
          if (i >= n) {
            fields.push(null);
            endOfRecord = true;
          }
        } else {
          // CR, LF or CRLF ends the record.
          if (c === CR && text.charCodeAt(i + 1) === LF) i++;
          i++;
          line++;
          endOfRecord = true;
        }
      }
    }
    yield error === undefined ? { fields, line: startLine, start, end: i } : { fields, line: startLine, start, end: i, error };
  }
}
