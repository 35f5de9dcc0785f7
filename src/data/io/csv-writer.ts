/**
 * Arrow table → CSV text (RFC 4180): a header line, fields quoted when they contain the delimiter,
 * a quote or a newline (and empty strings, so they stay distinct from null, which is an empty field).
 * Dates as YYYY-MM-DD, timestamps as ISO `YYYY-MM-DD HH:MM:SS.sss`, lists as JSON.
 */
import * as arrow from 'apache-arrow';
import { MS_PER_DAY } from '../types/column.js';
import { arrowTypeFamily } from '../types/logical-type.js';
import { formatDate, formatTimestamp } from '../types/temporal.js';
import { plainValue } from '../kernels/take.js';

export interface CsvWriteOptions {
  /** @default ',' */
  readonly delimiter?: string;
  /** @default true */
  readonly header?: boolean;
}

function quote(s: string, delimiter: string): string {
  return s === '' || s.includes(delimiter) || s.includes('"') || s.includes('\n') || s.includes('\r') ? `"${s.replace(/"/g, '""')}"` : s;
}

function formatter(type: arrow.DataType, delimiter: string): (v: unknown) => string {
  switch (arrowTypeFamily(type)) {
    case 'date':
      return (v) => formatDate(Math.floor(Number(v instanceof Date ? v.getTime() : v) / MS_PER_DAY));
    case 'timestamp':
      return (v) => formatTimestamp(Number(v instanceof Date ? v.getTime() : v));
    case 'utf8':
      return (v) => quote(String(v), delimiter);
    case 'bool':
      return (v) => (v ? 'true' : 'false');
    case 'list':
      return (v) => quote(JSON.stringify(plainValue(v), (_k, x: unknown) => (typeof x === 'bigint' ? Number(x) : x)), delimiter);
    default:
      return (v) => String(v);
  }
}

/** Formats a whole table as CSV text. */
export function formatCsv(table: arrow.Table, options: CsvWriteOptions = {}): string {
  const delimiter = options.delimiter ?? ',';
  const cols = table.schema.fields.map((f, i) => ({ vec: table.getChildAt(i)!, fmt: formatter(f.type, delimiter) }));
  const lines: string[] = [];
  if (options.header ?? true) lines.push(table.schema.fields.map((f) => quote(f.name, delimiter)).join(delimiter));
  for (let r = 0; r < table.numRows; r++) {
    let line = '';
    for (let c = 0; c < cols.length; c++) {
      const { vec, fmt } = cols[c]!;
      const v = vec.get(r);
      if (c > 0) line += delimiter;
      if (v !== null && v !== undefined) line += fmt(v);
    }
    lines.push(line);
  }
  return lines.length === 0 ? '' : `${lines.join('\n')}\n`;
}
