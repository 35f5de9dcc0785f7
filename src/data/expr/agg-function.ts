/**
 * Aggregate functions, one spelling for both uses, as in Spark (`F.max('x')` in `groupBy().agg(...)`,
 * `F.max('x').over(w)` as a window column): `agg.max('price')` is an aggregate of a grouped dataset,
 * and `agg.max('price').over(window().partitionBy('room_type'))` is the same function over a window.
 * Ranking and offset functions (`rowNumber`, `rank`, `denseRank`, `lag`, `lead`) only exist over a
 * window and stay top-level functions (window.ts).
 *
 * An `AggFunction` is also a plain `AggSpec` (its fields are the spec), so it travels to workers as data.
 */
import { InvalidWindowError } from '../errors.js';
import { agg as specs, type AggOp, type AggSpec } from '../kernels/aggregate.js';
import { col } from './expr.js';
import { WindowFunction, type WindowAggOp, type WindowColumn, type WindowSpec } from './window.js';

const WINDOW_OPS: ReadonlySet<AggOp> = new Set<WindowAggOp>(['sum', 'mean', 'min', 'max', 'count']);

/** An aggregate: pass it to `agg(...)`, or make it a window column with `.over(spec)`. */
export class AggFunction implements AggSpec {
  declare readonly op: AggOp;
  declare readonly column?: string;
  declare readonly as?: string;
  declare readonly probability?: number | readonly number[];
  declare readonly relativeError?: number;

  constructor(spec: AggSpec) {
    Object.assign(this, spec);
  }

  /** The output column's name (Spark `.alias`). */
  alias(name: string): AggFunction {
    return new AggFunction({ ...this, as: name });
  }

  /**
   * This aggregate over a window: the frame of each row (default: the whole partition without
   * orderBy, unbounded preceding to the current row with it). sum, mean, min, max and count only.
   */
  over(spec: WindowSpec): WindowColumn {
    const text = this.toString();
    if (!WINDOW_OPS.has(this.op)) {
      throw new InvalidWindowError(text, `${this.op} is not available over a window; window aggregates are sum, mean (avg), min, max and count`, this.column);
    }
    const fn = new WindowFunction({ fn: this.op as WindowAggOp, arg: this.column === undefined ? null : col(this.column).node });
    const column = fn.over(spec);
    return this.as === undefined ? column : column.alias(this.as);
  }

  toString(): string {
    return `${this.op}(${this.column ?? '*'})`;
  }

  /** The spec as plain data (what the plan keeps and ships). */
  toJSON(): AggSpec {
    return { ...this };
  }
}

/**
 * Aggregate builders: `groupBy('room_type').agg(agg.count(), agg.mean('price', 'avg_price'))`, and
 * over a window: `agg.sum('amount').over(window().partitionBy('user').orderBy('ts'))`.
 */
export const agg = {
  /** Rows (no column: `count(*)`), or the non-null values of `column`. */
  count: (column?: string, as?: string): AggFunction => new AggFunction(specs.count(column, as)),
  /** Sum of the non-null values: int64 for integer input, else float64; null when there are none. */
  sum: (column: string, as?: string): AggFunction => new AggFunction(specs.sum(column, as)),
  /** Mean of the non-null values (float64). */
  mean: (column: string, as?: string): AggFunction => new AggFunction(specs.mean(column, as)),
  /** Alias of mean (Spark `avg`). */
  avg: (column: string, as?: string): AggFunction => new AggFunction(specs.mean(column, as)),
  min: (column: string, as?: string): AggFunction => new AggFunction(specs.min(column, as)),
  max: (column: string, as?: string): AggFunction => new AggFunction(specs.max(column, as)),
  countDistinct: (column: string, as?: string): AggFunction => new AggFunction(specs.countDistinct(column, as)),
  /** Sample standard deviation. */
  stddev: (column: string, as?: string): AggFunction => new AggFunction(specs.stddev(column, as)),
  collectList: (column: string, as?: string): AggFunction => new AggFunction(specs.collectList(column, as)),
  /** Approximate quantile(s) of a numeric column from a mergeable sketch (rank within relativeError·N + 1 of q·N). */
  approxQuantile: (column: string, probability: number | readonly number[], options: { relativeError?: number; as?: string } = {}): AggFunction =>
    new AggFunction(specs.approxQuantile(column, probability, options)),
} as const;
