/**
 * Window functions, Spark style: a function (`rowNumber()`, `lag('x')`, or an aggregate such as
 * `agg.sum('x')`, see agg-function.ts) becomes a column with `.over(spec)`, where the spec says how
 * rows are partitioned, ordered and framed:
 *
 *   ds.withColumn('rn', rowNumber().over(window().partitionBy('listing_id').orderBy('date')))
 *   ds.withColumn('reviews_30d', agg.count().over(window().partitionBy('listing_id').orderBy('date')
 *     .rangeBetween({ days: -30 }, currentRow).exclude('group')))   // strictly before this row's date
 *
 * Everything here is plain data (`WindowColumnSpec`), so a window column travels to workers inside a
 * task argument. Checks that need no schema happen here; type checks happen in the window kernel.
 */
import { InvalidWindowError } from '../errors.js';
import type { SortKey } from '../kernels/sort.js';
import { exprToString, type ExprNode, type LiteralValue } from './expr-node.js';
import { col, Expr, toNode, toSortKey } from './expr.js';

/** Frame boundary: `null` = unbounded; a number = offset from the current row (negative = preceding); `{ ms }` = a duration. */
export type FrameBound = number | { readonly ms: number } | null;

/** SQL frame exclusion: `group` drops the current row and its peers (same order value), so a range frame ending at currentRow becomes "strictly before". */
export type FrameExclusion = 'noOthers' | 'currentRow' | 'group' | 'ties';

export interface WindowFrame {
  readonly type: 'rows' | 'range';
  readonly start: FrameBound;
  readonly end: FrameBound;
  readonly exclude: FrameExclusion;
}

/** A window specification as data. */
export interface WindowSpecData {
  readonly partitionBy: readonly string[];
  readonly orderBy: readonly SortKey[];
  /** null = the default frame: whole partition without orderBy, range unbounded preceding → current row with it. */
  readonly frame: WindowFrame | null;
}

export type WindowAggOp = 'sum' | 'mean' | 'min' | 'max' | 'count';

export type WindowFnData =
  | { readonly fn: 'rowNumber' | 'rank' | 'denseRank' }
  | { readonly fn: 'lag' | 'lead'; readonly arg: ExprNode; readonly offset: number; readonly default: LiteralValue }
  /** `arg` null: count(*) (rows in the frame). */
  | { readonly fn: WindowAggOp; readonly arg: ExprNode | null };

/** One window column of a window operator. */
export interface WindowColumnSpec {
  readonly name: string;
  readonly fn: WindowFnData;
  readonly spec: WindowSpecData;
}

/** A duration for range frames over date/timestamp order columns. */
export interface Duration {
  readonly days?: number;
  readonly hours?: number;
  readonly minutes?: number;
  readonly seconds?: number;
  readonly ms?: number;
}

/** Frame boundary: no limit before the current row. */
export const unboundedPreceding = null;
/** Frame boundary: no limit after the current row. */
export const unboundedFollowing = null;
/** Frame boundary: the current row (rows frame) or its peers (range frame). */
export const currentRow = 0;

const DURATION_MS: Record<keyof Duration, number> = { days: 86_400_000, hours: 3_600_000, minutes: 60_000, seconds: 1000, ms: 1 };

function boundOf(fn: string, which: string, b: number | Duration | null): FrameBound {
  if (b === null) return null;
  if (typeof b === 'number') {
    if (!Number.isFinite(b)) throw new InvalidWindowError(fn, `${which} must be a finite number, a duration or null (unbounded); got ${b}`);
    return b;
  }
  if (typeof b !== 'object') throw new InvalidWindowError(fn, `${which} must be a number, a duration such as { days: -30 } or null; got ${String(b)}`);
  let ms = 0;
  for (const [k, v] of Object.entries(b)) {
    const unit = DURATION_MS[k as keyof Duration];
    if (unit === undefined) throw new InvalidWindowError(fn, `${which} has unknown duration field "${k}" (use days, hours, minutes, seconds, ms)`);
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new InvalidWindowError(fn, `${which}.${k} must be a finite number; got ${String(v)}`);
    ms += v * unit;
  }
  return { ms };
}

function boundText(b: FrameBound, side: 'start' | 'end'): string {
  if (b === null) return side === 'start' ? 'UNBOUNDED PRECEDING' : 'UNBOUNDED FOLLOWING';
  const v = typeof b === 'number' ? b : b.ms;
  const unit = typeof b === 'number' ? '' : ' ms';
  if (v === 0) return 'CURRENT ROW';
  return v < 0 ? `${-v}${unit} PRECEDING` : `${v}${unit} FOLLOWING`;
}

const boundValue = (b: FrameBound): number | null => (b === null ? null : typeof b === 'number' ? b : b.ms);

/** A window specification; immutable, every method returns a new spec. Start one with `window()`. */
export class WindowSpec {
  constructor(readonly data: WindowSpecData = { partitionBy: [], orderBy: [], frame: null }) {}

  /** Rows with equal values of these columns form one window partition. */
  partitionBy(...columns: string[]): WindowSpec {
    for (const c of columns) if (typeof c !== 'string' || c === '') throw new InvalidWindowError('window().partitionBy', `columns must be non-empty names; got ${String(c)}`);
    return new WindowSpec({ ...this.data, partitionBy: columns });
  }

  /**
   * Order of rows within a partition: column names (ascending), `col('x').desc()` and the like, or
   * `{ column, ascending, nullsFirst }` (nulls first ascending, last descending, unless said otherwise).
   */
  orderBy(...keys: (string | SortKey | Expr)[]): WindowSpec {
    const sortKeys = keys.map((k) => {
      const key = toSortKey(k);
      if (key === undefined) throw new InvalidWindowError('window().orderBy', `keys are column names, col(name).asc()/.desc() or { column, ascending?, nullsFirst? }; got ${k instanceof Expr ? `the expression ${k.toString()} (add it with withColumn first)` : JSON.stringify(k)}`);
      return key;
    });
    return new WindowSpec({ ...this.data, orderBy: sortKeys });
  }

  /**
   * A frame of rows relative to the current row: `rowsBetween(-2, currentRow)` is the current row and
   * the two before it; `null` (unboundedPreceding / unboundedFollowing) is unbounded.
   */
  rowsBetween(start: number | null, end: number | null): WindowSpec {
    const fn = 'window().rowsBetween';
    for (const [which, b] of [['start', start], ['end', end]] as const) {
      if (b !== null && (typeof b !== 'number' || !Number.isInteger(b))) throw new InvalidWindowError(fn, `${which} must be an integer row offset or null (unbounded); got ${String(b)}`);
    }
    return this.withFrame(fn, { type: 'rows', start, end, exclude: this.data.frame?.exclude ?? 'noOthers' });
  }

  /**
   * A frame by order value: rows whose order value lies in [value + start, value + end] (reversed for
   * a descending order). Needs exactly one orderBy column, numeric or temporal, unless both bounds are
   * unbounded or currentRow. Over date/timestamp columns pass durations (`{ days: -30 }`); plain
   * numbers are days for date columns and milliseconds for timestamp columns.
   */
  rangeBetween(start: number | Duration | null, end: number | Duration | null): WindowSpec {
    const fn = 'window().rangeBetween';
    return this.withFrame(fn, { type: 'range', start: boundOf(fn, 'start', start), end: boundOf(fn, 'end', end), exclude: this.data.frame?.exclude ?? 'noOthers' });
  }

  /**
   * Leaves rows out of the frame (SQL EXCLUDE): `currentRow`, `group` (the current row and its peers),
   * `ties` (its peers but not itself), `noOthers` (default). Applies to aggregate functions.
   */
  exclude(what: FrameExclusion): WindowSpec {
    if (!['noOthers', 'currentRow', 'group', 'ties'].includes(what)) throw new InvalidWindowError('window().exclude', `must be noOthers, currentRow, group or ties; got ${String(what)}`);
    const frame = this.data.frame ?? { type: 'range', start: null, end: this.data.orderBy.length > 0 ? 0 : null, exclude: 'noOthers' };
    return new WindowSpec({ ...this.data, frame: { ...frame, exclude: what } });
  }

  private withFrame(fn: string, frame: WindowFrame): WindowSpec {
    const s = boundValue(frame.start);
    const e = boundValue(frame.end);
    if (frame.start !== null && frame.end !== null && s! > e!) throw new InvalidWindowError(fn, `start (${boundText(frame.start, 'start')}) is after end (${boundText(frame.end, 'end')})`);
    return new WindowSpec({ ...this.data, frame });
  }

  toString(): string {
    return windowSpecText(this.data);
  }
}

/** A new, empty window specification (Spark `Window`). */
export function window(): WindowSpec {
  return new WindowSpec();
}

/** Spark-style entry points: `Window.partitionBy('k').orderBy('t').rowsBetween(Window.unboundedPreceding, Window.currentRow)`. */
export const Window = {
  partitionBy: (...columns: string[]): WindowSpec => window().partitionBy(...columns),
  orderBy: (...keys: (string | SortKey | Expr)[]): WindowSpec => window().orderBy(...keys),
  unboundedPreceding,
  unboundedFollowing,
  currentRow,
} as const;

function frameNeedsOrder(frame: WindowFrame): boolean {
  return frame.type === 'range' && ![frame.start, frame.end].every((b) => b === null || b === 0);
}

/** A window function awaiting `.over(spec)`; not usable as a column until then. */
export class WindowFunction {
  constructor(readonly fn: WindowFnData) {}

  /** The function's column over a window spec. */
  over(spec: WindowSpec): WindowColumn {
    if (!(spec instanceof WindowSpec)) throw new InvalidWindowError(windowFnText(this.fn), 'over() needs a window spec made with window()');
    const name = windowFnText(this.fn);
    const d = spec.data;
    const ranking = this.fn.fn === 'rowNumber' || this.fn.fn === 'rank' || this.fn.fn === 'denseRank' || this.fn.fn === 'lag' || this.fn.fn === 'lead';
    if (ranking && d.orderBy.length === 0) throw new InvalidWindowError(name, 'needs a window with orderBy (rows have no position without an order)');
    if (ranking && d.frame !== null) throw new InvalidWindowError(name, 'does not take a frame (rowsBetween/rangeBetween/exclude); it always looks at the whole ordered partition');
    if (d.frame !== null && frameNeedsOrder(d.frame)) {
      if (d.orderBy.length !== 1) throw new InvalidWindowError(name, `a range frame with offsets needs exactly one orderBy column; the window has ${d.orderBy.length}`);
    }
    if (d.frame !== null && d.frame.type === 'range' && d.orderBy.length === 0 && [d.frame.start, d.frame.end].some((b) => b !== null)) {
      throw new InvalidWindowError(name, 'a range frame bounded at the current row needs orderBy');
    }
    return new WindowColumn(this.fn, d);
  }

  toString(): string {
    return windowFnText(this.fn);
  }
}

/** A window function over a window spec: pass it to `Dataset.withColumn` (or `.alias(name)` in `select`). */
export class WindowColumn {
  constructor(
    readonly fn: WindowFnData,
    readonly spec: WindowSpecData,
    readonly name?: string,
  ) {}

  /** Output name when used in `Dataset.select`. */
  alias(name: string): WindowColumn {
    return new WindowColumn(this.fn, this.spec, name);
  }

  toString(): string {
    return `${windowFnText(this.fn)} OVER (${windowSpecText(this.spec)})`;
  }
}

type ArgInput = string | Expr | ExprNode;

const argNode = (a: ArgInput): ExprNode => (typeof a === 'string' ? col(a).node : toNode(a));

/** 1, 2, 3, ... within each partition, in order (ties get distinct numbers). */
export function rowNumber(): WindowFunction {
  return new WindowFunction({ fn: 'rowNumber' });
}

/** 1 + the number of rows ordered strictly before this one (ties share a rank, with gaps after them). */
export function rank(): WindowFunction {
  return new WindowFunction({ fn: 'rank' });
}

/** Like rank without gaps: 1 + the number of distinct order values before this row's. */
export function denseRank(): WindowFunction {
  return new WindowFunction({ fn: 'denseRank' });
}

function offsetFn(fn: 'lag' | 'lead', arg: ArgInput, offset: number, defaultValue: LiteralValue): WindowFunction {
  if (!Number.isInteger(offset) || offset < 0) throw new InvalidWindowError(`${fn}()`, `offset must be a non-negative integer; got ${String(offset)}`);
  if (defaultValue !== null && !['number', 'string', 'boolean'].includes(typeof defaultValue)) throw new InvalidWindowError(`${fn}()`, `default must be a number, string, boolean or null; got ${typeof defaultValue}`);
  return new WindowFunction({ fn, arg: argNode(arg), offset, default: defaultValue });
}

/**
 * The value `offset` rows before this one in the partition, or `defaultValue` when there is none
 * (dates: epoch days or 'YYYY-MM-DD'; timestamps: epoch ms or an ISO string).
 */
export function lag(arg: ArgInput, offset = 1, defaultValue: LiteralValue = null): WindowFunction {
  return offsetFn('lag', arg, offset, defaultValue);
}

/** The value `offset` rows after this one in the partition, or `defaultValue` when there is none (as for lag). */
export function lead(arg: ArgInput, offset = 1, defaultValue: LiteralValue = null): WindowFunction {
  return offsetFn('lead', arg, offset, defaultValue);
}

export function windowFnText(f: WindowFnData): string {
  switch (f.fn) {
    case 'rowNumber':
    case 'rank':
    case 'denseRank':
      return `${f.fn}()`;
    case 'lag':
    case 'lead':
      return `${f.fn}(${exprToString(f.arg)}, ${f.offset}${f.default !== null ? `, ${JSON.stringify(f.default)}` : ''})`;
    default:
      return `${f.fn}(${f.arg === null ? '*' : exprToString(f.arg)})`;
  }
}

export function windowSpecText(s: WindowSpecData): string {
  const parts: string[] = [];
  if (s.partitionBy.length > 0) parts.push(`PARTITION BY ${s.partitionBy.join(', ')}`);
  if (s.orderBy.length > 0) parts.push(`ORDER BY ${s.orderBy.map((k) => `${k.column} ${k.ascending === false ? 'DESC' : 'ASC'}`).join(', ')}`);
  if (s.frame !== null) {
    parts.push(`${s.frame.type.toUpperCase()} BETWEEN ${boundText(s.frame.start, 'start')} AND ${boundText(s.frame.end, 'end')}`);
    if (s.frame.exclude !== 'noOthers') parts.push(`EXCLUDE ${s.frame.exclude === 'currentRow' ? 'CURRENT ROW' : s.frame.exclude.toUpperCase()}`);
  }
  return parts.join(' ');
}
