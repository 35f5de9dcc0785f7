/**
 * Reads one CSV partition (a file or buffer) into an Arrow table. Types come from `schema` or are
 * inferred from the data. Malformed records — wrong field count, broken quoting, a value that does not
 * parse as its column's type — are handled per `mode`, like Spark: `failfast` throws naming the file
 * and line, `dropMalformed` skips the record, `permissive` keeps it with nulls where values are
 * missing or unparseable (and the raw text in `corruptRecordColumn` when one is configured).
 */
import * as arrow from 'apache-arrow';
import { InvalidOptionError, MalformedRecordError } from '../errors.js';
import { tableFromVectors } from '../kernels/take.js';
import { type ScalarTypeName, isScalarTypeName, logicalTypeOf } from '../types/logical-type.js';
import { type CsvRecord, tokenizeCsv } from './csv-tokenizer.js';
import { type Source, readSourceText } from './read-source.js';
import { INVALID, TextTypeInferrer, buildVector, parseText } from './text-values.js';

export type ReadMode = 'failfast' | 'dropMalformed' | 'permissive';

/** Column types by name, or an Arrow schema (mapped to int32/int64/float64/utf8/bool/date/timestamp). */
export type TextSchema = arrow.Schema | Readonly<Record<string, ScalarTypeName>>;

export interface CsvReadOptions {
  /** Column names and types; inferred from the data when absent. */
  readonly schema?: TextSchema;
  /** First record holds the column names. @default true */
  readonly header?: boolean;
  /** @default ',' */
  readonly delimiter?: string;
  /** @default '"' */
  readonly quote?: string;
  /** @default 'permissive' */
  readonly mode?: ReadMode;
  /** Gunzip the input; detected from a `.gz` suffix or the gzip magic bytes when absent. */
  readonly gzip?: boolean;
  /** In permissive mode, a utf8 column appended with the raw text of malformed records. */
  readonly corruptRecordColumn?: string;
  /** Name used in error messages for buffer input. @default '<buffer>' */
  readonly fileName?: string;
}

export function resolveTextSchema(schema: TextSchema): { names: string[]; types: ScalarTypeName[] } {
  if (schema instanceof arrow.Schema) {
    const names = schema.fields.map((f) => f.name);
    const types = schema.fields.map((f) => {
      const t = logicalTypeOf(f.type, f.name);
      if (!isScalarTypeName(t)) throw new InvalidOptionError(`schema.${f.name}`, `must be a scalar type (int32, int64, float64, utf8, bool, date, timestamp); got ${String(f.type)}`);
      return t;
    });
    return { names, types };
  }
  const names = Object.keys(schema);
  const types = names.map((n) => {
    const t = schema[n];
    if (!isScalarTypeName(t)) throw new InvalidOptionError(`schema.${n}`, `must be one of int32, int64, float64, utf8, bool, date, timestamp; got ${String(t)}`);
    return t;
  });
  return { names, types };
}

export async function readCsvPartition(source: Source, options: CsvReadOptions = {}): Promise<arrow.Table> {
  const delimiter = options.delimiter ?? ',';
  const quote = options.quote ?? '"';
  const mode = options.mode ?? 'permissive';
  const header = options.header ?? true;
  if (delimiter.length !== 1) throw new InvalidOptionError('options.delimiter', `must be a single character; got ${JSON.stringify(delimiter)}`);
  if (quote.length !== 1) throw new InvalidOptionError('options.quote', `must be a single character; got ${JSON.stringify(quote)}`);
  if (!['failfast', 'dropMalformed', 'permissive'].includes(mode)) throw new InvalidOptionError('options.mode', `must be failfast, dropMalformed or permissive; got ${String(mode)}`);
  const { text, name: file } = await readSourceText(source, options.gzip, options.fileName);

  const records = tokenizeCsv(text, delimiter, quote);
  let headerNames: string[] | undefined;
  if (header) {
    const first = records.next();
    if (!first.done) headerNames = first.value.fields.map((f, i) => f ?? `_c${i}`);
  }
  const schema = options.schema !== undefined ? resolveTextSchema(options.schema) : undefined;
  const rows: CsvRecord[] = [];
  for (const r of records) rows.push(r);
  const width = schema?.names.length ?? headerNames?.length ?? rows[0]?.fields.length ?? 0;
  const names = schema?.names ?? headerNames ?? Array.from({ length: width }, (_, i) => `_c${i}`);

  const malformed = (r: CsvRecord, reason: string, column?: string): void => {
    if (mode === 'failfast') throw new MalformedRecordError(reason, file, r.line, column);
  };
  // Structural check first (field count, quoting); decides which records feed inference.
  const structurallyBad = new Uint8Array(rows.length);
  rows.forEach((r, i) => {
    if (r.error !== undefined) {
      malformed(r, r.error);
      structurallyBad[i] = 1;
    } else if (r.fields.length !== width) {
      malformed(r, `expected ${width} fields but found ${r.fields.length}`);
      structurallyBad[i] = 1;
    }
  });
  let types: ScalarTypeName[];
  if (schema !== undefined) types = schema.types;
  else {
    const inferrers = names.map(() => new TextTypeInferrer());
    rows.forEach((r, i) => {
      if (structurallyBad[i] === 1 && mode === 'dropMalformed') return;
      for (let c = 0; c < width; c++) {
        const v = r.fields[c];
        if (v !== null && v !== undefined) inferrers[c]!.add(v);
      }
    });
    types = inferrers.map((x) => x.result());
  }

  const columns: unknown[][] = names.map(() => []);
  const corrupt: (string | null)[] = [];
  rows.forEach((r, i) => {
    const parsed: unknown[] = new Array<unknown>(width).fill(null);
    let bad = structurallyBad[i] === 1;
    for (let c = 0; c < width; c++) {
      const v = r.fields[c];
      if (v === null || v === undefined) continue;
      const p = parseText(types[c]!, v);
      if (p === INVALID) {
        malformed(r, `value ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v)} is not a valid ${types[c]}`, names[c]);
        bad = true;
      } else parsed[c] = p;
    }
    if (bad && mode === 'dropMalformed') return;
    for (let c = 0; c < width; c++) columns[c]!.push(parsed[c]);
    corrupt.push(bad ? text.slice(r.start, r.end).replace(/\r?\n$/, '') : null);
  });

  const fields: arrow.Field[] = [];
  const vectors: arrow.Vector[] = [];
  names.forEach((n, c) => {
    const v = buildVector(types[c]!, columns[c]!);
    fields.push(new arrow.Field(n, v.type as arrow.DataType, true));
    vectors.push(v);
  });
  if (options.corruptRecordColumn !== undefined && mode === 'permissive') {
    const v = buildVector('utf8', corrupt);
    fields.push(new arrow.Field(options.corruptRecordColumn, v.type as arrow.DataType, true));
    vectors.push(v);
  }
  return tableFromVectors(fields, vectors, corrupt.length);
}
