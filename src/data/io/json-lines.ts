/**
 * Reads newline-delimited JSON (one object per line) into an Arrow table. Columns appear in order of
 * first appearance; a key missing from a line is null. Inference: integers → int32 (int64 beyond),
 * other numbers → float64, booleans → bool, strings → utf8, arrays of scalars → list, objects and
 * mixed types → utf8 holding the JSON text. With `schema`, values are converted (strings parse as
 * dates/timestamps) and a value of the wrong kind is malformed. A file that is one JSON array of
 * objects reads as one row per element; one that starts with `[` but does not parse is an error in
 * every mode (it is neither JSON lines nor an array).
 */
import * as arrow from 'apache-arrow';
import { invalidOption, MalformedRecordError } from '../errors.js';
import { tableFromVectors } from '../kernels/take.js';
import type { LogicalType, ScalarTypeName } from '../types/logical-type.js';
import { type ReadMode, type TextSchema, resolveTextSchema } from './csv-reader.js';
import { type Source, readSourceText } from './read-source.js';
import { INVALID, buildVector, parseText } from './text-values.js';

export interface JsonLinesReadOptions {
  readonly schema?: TextSchema;
  /** @default 'permissive' */
  readonly mode?: ReadMode;
  readonly gzip?: boolean;
  readonly fileName?: string;
}

type Kind = 'int32' | 'int64' | 'float64' | 'bool' | 'utf8' | 'list' | 'json' | 'none';

function kindOf(v: unknown): Kind {
  if (v === null || v === undefined) return 'none';
  if (typeof v === 'number') return Number.isInteger(v) ? (v >= -2147483648 && v <= 2147483647 ? 'int32' : 'int64') : 'float64';
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'string') return 'utf8';
  if (Array.isArray(v)) return 'list';
  return 'json';
}

function mergeKind(a: Kind, b: Kind): Kind {
  if (a === 'none') return b;
  if (b === 'none' || a === b) return a;
  const num = ['int32', 'int64', 'float64'];
  if (num.includes(a) && num.includes(b)) return num[Math.max(num.indexOf(a), num.indexOf(b))] as Kind;
  return 'json';
}

function scalarType(k: Kind): ScalarTypeName {
  return k === 'int32' || k === 'int64' || k === 'float64' || k === 'bool' ? k : 'utf8';
}

function convert(type: ScalarTypeName, v: unknown): unknown {
  if (v === null || v === undefined) return null;
  if (type === 'utf8') return typeof v === 'string' ? v : JSON.stringify(v);
  if (typeof v === 'string') return type === 'date' || type === 'timestamp' ? parseText(type, v) : INVALID;
  if (typeof v === 'number') {
    if (type === 'float64') return v;
    if (type === 'int32' || type === 'int64') return Number.isInteger(v) && (type === 'int64' || (v >= -2147483648 && v <= 2147483647)) ? v : INVALID;
    return INVALID;
  }
  if (typeof v === 'boolean') return type === 'bool' ? v : INVALID;
  return INVALID;
}

export async function readJsonLines(source: Source, options: JsonLinesReadOptions = {}): Promise<arrow.Table> {
  const mode = options.mode ?? 'permissive';
  if (!['failfast', 'dropMalformed', 'permissive'].includes(mode)) throw invalidOption('options.mode', `must be failfast, dropMalformed or permissive; got ${String(mode)}`);
  const { text, name: file } = await readSourceText(source, options.gzip, options.fileName);
  const lines = text.split('\n');
  const objects: (Record<string, unknown> | null)[] = [];
  const lineNos: number[] = [];
  const fail = (line: number, reason: string, column?: string): void => {
    if (mode === 'failfast') throw new MalformedRecordError(reason, file, line, column);
  };
  // Parse errors are reported in line order during conversion, so failfast names the first bad line.
  const parseErrors = new Map<number, string>();
  if (/^\s*\[/.test(text.slice(0, 1024))) {
    // One JSON array of objects (not JSON lines): its elements are the rows (reported at line 1).
    let all: unknown;
    try {
      all = JSON.parse(text);
    } catch (cause) {
      throw new MalformedRecordError(
        `the file starts with "[" but is not a JSON array (${(cause as Error).message}): readJson reads JSON lines (one object per line) or one JSON array of objects`,
        file,
        1,
        undefined,
        { cause },
      );
    }
    (Array.isArray(all) ? all : [all]).forEach((v, i) => {
      const ok = typeof v === 'object' && v !== null && !Array.isArray(v);
      if (!ok) parseErrors.set(objects.length, `array element ${i + 1} is not a JSON object`);
      objects.push(ok ? (v as Record<string, unknown>) : null);
      lineNos.push(1);
    });
  } else lines.forEach((raw, i) => {
    const l = raw.trim();
    if (l === '') return;
    let v: unknown;
    let error: string | undefined;
    try {
      v = JSON.parse(l);
    } catch (cause) {
      error = `invalid JSON: ${(cause as Error).message}`;
    }
    if (error === undefined && (typeof v !== 'object' || v === null || Array.isArray(v))) error = 'line is not a JSON object';
    if (error !== undefined) parseErrors.set(objects.length, error);
    objects.push(error === undefined ? (v as Record<string, unknown>) : null);
    lineNos.push(i + 1);
  });

  let names: string[];
  let types: LogicalType[];
  if (options.schema !== undefined) {
    const s = resolveTextSchema(options.schema);
    names = s.names;
    types = s.types;
  } else {
    const kinds = new Map<string, Kind>();
    const elemKinds = new Map<string, Kind>();
    for (const o of objects) {
      if (o === null) continue;
      for (const [k, v] of Object.entries(o)) {
        kinds.set(k, mergeKind(kinds.get(k) ?? 'none', kindOf(v)));
        if (Array.isArray(v)) for (const x of v) elemKinds.set(k, mergeKind(elemKinds.get(k) ?? 'none', kindOf(x)));
      }
    }
    names = [...kinds.keys()];
    types = names.map((n) => {
      const k = kinds.get(n)!;
      if (k === 'list') {
        const e = elemKinds.get(n) ?? 'none';
        return e === 'list' || e === 'json' ? 'utf8' : { list: scalarType(e) };
      }
      return scalarType(k);
    });
  }
  const columns: unknown[][] = names.map(() => []);
  let rows = 0;
  objects.forEach((o, r) => {
    const vals: unknown[] = names.map(() => null);
    let bad = o === null;
    if (o === null) fail(lineNos[r]!, parseErrors.get(r)!);
    else {
      names.forEach((n, c) => {
        const t = types[c]!;
        const v = o[n];
        if (typeof t === 'object') {
          if (v === null || v === undefined) return;
          if (!Array.isArray(v)) {
            bad = true;
            fail(lineNos[r]!, `expected an array`, n);
            return;
          }
          vals[c] = v.map((x) => {
            const p = convert(t.list as ScalarTypeName, x);
            return p === INVALID ? null : p;
          });
          return;
        }
        const p = convert(t as ScalarTypeName, v);
        if (p === INVALID) {
          bad = true;
          fail(lineNos[r]!, `value ${JSON.stringify(v)} is not a valid ${t}`, n);
        } else vals[c] = p;
      });
    }
    if (bad && mode === 'dropMalformed') return;
    vals.forEach((v, c) => columns[c]!.push(v));
    rows++;
  });
  const fields: arrow.Field[] = [];
  const vectors: arrow.Vector[] = [];
  names.forEach((n, c) => {
    const v = buildVector(types[c]!, columns[c]!);
    fields.push(new arrow.Field(n, v.type as arrow.DataType, true));
    vectors.push(v);
  });
  return tableFromVectors(fields, vectors, rows);
}
