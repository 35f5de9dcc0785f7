/**
 * Data checks for a pipeline's validate step: a table's schema (required columns and their kind),
 * null rates, value ranges, and its row count — absolute, and its change against the last run (a
 * step's `ctx.previousOutputs()` gives the count that run saw). Every check runs; when any fails,
 * {@link checkData} throws a {@link DataCheckError} naming the first failed check (and listing
 * all), so the step — and the run — fails with the check named. Works on Arrow tables (what
 * `shoal/data` collects and the readers return); NaN counts as null for null rates.
 */
import { DataType, type Table } from 'apache-arrow';
import { DataCheckError } from '../errors.js';

/** The kind of a column's values. */
export type ColumnKind = 'int' | 'float' | 'number' | 'string' | 'timestamp' | 'bool';

/** What to check of a table (every field optional). */
export interface DataChecks {
  /** Columns that must be present, with the kind of their values. */
  columns?: Readonly<Record<string, ColumnKind>>;
  /** Per column: the largest share of nulls (and NaN) allowed, in [0, 1]. */
  maxNullRate?: Readonly<Record<string, number>>;
  /** Per column: the allowed range of its (non-null) values. */
  ranges?: Readonly<Record<string, { min?: number; max?: number }>>;
  /** The row count: at least `min`; and against `previous` (the last run's count), a change of at most `maxChange` (a fraction: 0.2 = ±20 %). */
  rowCount?: { min?: number; previous?: number | undefined; maxChange?: number };
}

/** One check's outcome. */
export interface CheckResult {
  /** The check, as people read it: `null rate of price ≤ 0.05`. */
  check: string;
  passed: boolean;
  /** What was found. */
  found: string;
}

function kindOf(t: DataType): ColumnKind | 'other' {
  if (DataType.isDictionary(t)) return kindOf(t.dictionary);
  if (DataType.isInt(t)) return 'int';
  if (DataType.isFloat(t) || DataType.isDecimal(t)) return 'float';
  if (DataType.isUtf8(t) || DataType.isLargeUtf8(t)) return 'string';
  if (DataType.isTimestamp(t) || DataType.isDate(t)) return 'timestamp';
  if (DataType.isBool(t)) return 'bool';
  return 'other';
}

const fits = (want: ColumnKind, got: ColumnKind | 'other'): boolean => want === got || (want === 'number' && (got === 'int' || got === 'float'));

/** Runs every check of `checks` on `table` (named `dataset` in messages); resolves with the results, or throws {@link DataCheckError} when one failed. */
export function checkData(dataset: string, table: Table, checks: DataChecks): CheckResult[] {
  const out: CheckResult[] = [];
  const present = new Map(table.schema.fields.map((f) => [f.name, f]));
  const rows = table.numRows;
  for (const [name, want] of Object.entries(checks.columns ?? {})) {
    const f = present.get(name);
    const got = f ? kindOf(f.type) : undefined;
    out.push({ check: `column ${name} (${want})`, passed: got !== undefined && fits(want, got), found: f ? `${String(f.type)}` : 'missing' });
  }
  for (const [name, max] of Object.entries(checks.maxNullRate ?? {})) {
    const col = table.getChild(name);
    if (!col) {
      out.push({ check: `null rate of ${name} ≤ ${max}`, passed: false, found: 'column missing' });
      continue;
    }
    let nulls = 0;
    for (let i = 0; i < rows; i++) {
      const v: unknown = col.get(i);
      if (v === null || v === undefined || (typeof v === 'number' && Number.isNaN(v))) nulls++;
    }
    const rate = rows ? nulls / rows : 0;
    out.push({ check: `null rate of ${name} ≤ ${max}`, passed: rate <= max, found: `${nulls} of ${rows} rows null (${rate.toFixed(4)})` });
  }
  for (const [name, range] of Object.entries(checks.ranges ?? {})) {
    const label = `${name} in [${range.min ?? '-∞'}, ${range.max ?? '∞'}]`;
    const col = table.getChild(name);
    if (!col) {
      out.push({ check: label, passed: false, found: 'column missing' });
      continue;
    }
    let bad = 0;
    let lo = Infinity;
    let hi = -Infinity;
    for (let i = 0; i < rows; i++) {
      const raw: unknown = col.get(i);
      if (raw === null || raw === undefined) continue;
      const v = typeof raw === 'bigint' ? Number(raw) : raw instanceof Date ? raw.getTime() : Number(raw);
      if (Number.isNaN(v)) continue;
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
      if ((range.min !== undefined && v < range.min) || (range.max !== undefined && v > range.max)) bad++;
    }
    out.push({ check: label, passed: bad === 0, found: bad ? `${bad} values outside (seen ${lo} … ${hi})` : lo <= hi ? `seen ${lo} … ${hi}` : 'no values' });
  }
  const rc = checks.rowCount;
  if (rc?.min !== undefined) out.push({ check: `row count ≥ ${rc.min}`, passed: rows >= rc.min, found: `${rows} rows` });
  if (rc?.maxChange !== undefined && rc.previous !== undefined) {
    const change = rc.previous === 0 ? (rows === 0 ? 0 : Infinity) : (rows - rc.previous) / rc.previous;
    out.push({
      check: `row count change vs last run ≤ ±${Math.round(rc.maxChange * 100)} %`, passed: Math.abs(change) <= rc.maxChange,
      found: `${rc.previous} → ${rows} rows (${change >= 0 ? '+' : ''}${(change * 100).toFixed(1)} %)`,
    });
  }
  const failed = out.filter((r) => !r.passed);
  if (failed.length) throw new DataCheckError(dataset, failed.map((f) => f.check), failed.map((f) => f.found));
  return out;
}
