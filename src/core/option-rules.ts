/**
 * The one option-validation kit of every layer. `optionRules(caller)` gives checks that return the
 * value (or its default when absent) or throw an {@link InvalidOptionError} whose message names the
 * caller, the option and the rule, and shows the value given:
 * `ALS option 'rank' must be a positive integer; got -3`. Layers compile their `FooOptions` into a
 * complete internal form with these checks, once, at the boundary (STYLE.md).
 */
import { InvalidOptionError } from './errors.js';

/** A value as a message shows it: strings quoted, functions named as such, short JSON otherwise. */
export function showValue(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v.length > 60 ? `${v.slice(0, 60)}…` : v);
  if (typeof v === 'function') return 'a function';
  if (typeof v === 'bigint') return `${v}n`;
  if (Array.isArray(v) || (typeof v === 'object' && v !== null)) {
    try {
      const s = JSON.stringify(v);
      if (s !== undefined) return s.length > 60 ? `${s.slice(0, 60)}…` : s;
    } catch {
      // fall through: cycles and the like
    }
  }
  return String(v);
}

const NO_VALUE = Symbol('no value');

/** Checks of one caller's options; each throws an InvalidOptionError naming the caller and the option. */
export interface OptionRules {
  readonly caller: string;
  /** Throws for `option` breaking `rule` (showing `value` when given). */
  fail(option: string, rule: string, value?: unknown): never;
  /** The options object itself (undefined → `{}`); anything else but a plain object is refused. */
  object<T extends object>(options: T | undefined): T;
  /** Refuses keys of `options` not in `known`, naming the known ones. */
  knownKeys(options: object, known: Iterable<string>): void;
  /** An integer within [min, max] (default min 1: a positive integer). */
  int(option: string, v: unknown, dflt: number, range?: { min?: number; max?: number }): number;
  /** A finite number within [min, max]. */
  number(option: string, v: unknown, dflt: number, range?: { min?: number; max?: number }): number;
  /** A finite number > 0. */
  positive(option: string, v: unknown, dflt: number): number;
  bool(option: string, v: unknown, dflt: boolean): boolean;
  /** A non-empty string, or undefined. */
  text(option: string, v: unknown): string | undefined;
  /** One of `allowed` (strings). */
  oneOf<T extends string>(option: string, v: unknown, allowed: readonly T[], dflt: T): T;
  /** A non-empty column name. */
  column(option: string, v: unknown, dflt: string): string;
  /** A non-empty list of non-empty column names (a single name is a list of one when `single` is true). */
  columns(option: string, v: unknown, options?: { single?: boolean }): string[];
  /** A function, or undefined. */
  fn<F>(option: string, v: F | undefined): F | undefined;
}

/**
 * The checks of `caller` (`'ALS'`, `'readCsv'`, `'tune()'`); `where.stage` (a featurizer) is kept
 * on the error as context.
 */
export function optionRules(caller: string, where: { stage?: string | undefined } = {}): OptionRules {
  const fail = (option: string, rule: string, value: unknown = NO_VALUE): never => {
    const got = value === NO_VALUE ? '' : `; got ${showValue(value)}`;
    throw new InvalidOptionError(`${caller} option '${option}' ${rule}${got}`, { option, stage: where.stage });
  };
  const intRule = (min: number, max: number | undefined): string => {
    const base = min === 1 ? 'a positive integer' : min === 0 ? 'a non-negative integer' : `an integer ≥ ${min}`;
    return max === undefined ? `must be ${base}` : `must be ${base} ≤ ${max}`;
  };
  return {
    caller,
    fail,
    object<T extends object>(options: T | undefined): T {
      if (options === undefined) return {} as T;
      if (typeof options !== 'object' || options === null || Array.isArray(options)) {
        throw new InvalidOptionError(`${caller} options must be an object; got ${options === null ? 'null' : Array.isArray(options) ? 'an array' : typeof options}`, { option: 'options', stage: where.stage });
      }
      return options;
    },
    knownKeys(options, known) {
      const set = new Set(known);
      for (const k of Object.keys(options)) {
        if (!set.has(k)) fail(k, `is not an option of ${caller} (known: ${[...set].join(', ')})`);
      }
    },
    int(option, v, dflt, range = {}) {
      if (v === undefined) return dflt;
      const min = range.min ?? 1;
      if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || (range.max !== undefined && v > range.max)) fail(option, intRule(min, range.max), v);
      return v as number;
    },
    number(option, v, dflt, range = {}) {
      if (v === undefined) return dflt;
      const { min, max } = range;
      if (typeof v !== 'number' || !Number.isFinite(v) || (min !== undefined && v < min) || (max !== undefined && v > max)) {
        const bounds = min !== undefined && max !== undefined ? ` in [${min}, ${max}]` : min !== undefined ? ` ≥ ${min}` : max !== undefined ? ` ≤ ${max}` : '';
        fail(option, `must be a finite number${bounds}`, v);
      }
      return v as number;
    },
    positive(option, v, dflt) {
      if (v === undefined) return dflt;
      if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) fail(option, 'must be a positive number', v);
      return v as number;
    },
    text(option, v) {
      if (v !== undefined && (typeof v !== 'string' || v.length === 0)) fail(option, 'must be a non-empty string', v);
      return v as string | undefined;
    },
    bool(option, v, dflt) {
      if (v === undefined) return dflt;
      if (typeof v !== 'boolean') fail(option, 'must be a boolean', v);
      return v as boolean;
    },
    oneOf<T extends string>(option: string, v: unknown, allowed: readonly T[], dflt: T): T {
      if (v === undefined) return dflt;
      if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v)) fail(option, `must be one of ${allowed.map((a) => `'${a}'`).join(', ')}`, v);
      return v as T;
    },
    column(option, v, dflt) {
      if (v === undefined) return dflt;
      if (typeof v !== 'string' || v.length === 0) fail(option, 'must be a non-empty column name', v);
      return v as string;
    },
    columns(option, v, opts = {}) {
      const list = opts.single && typeof v === 'string' ? [v] : v;
      if (!Array.isArray(list) || list.length === 0 || !list.every((c) => typeof c === 'string' && c.length > 0)) {
        fail(option, opts.single ? 'must be a non-empty column name or list of column names' : 'must be a non-empty list of column names', v);
      }
      return [...(list as string[])];
    },
    fn<F>(option: string, v: F | undefined): F | undefined {
      if (v !== undefined && typeof v !== 'function') fail(option, 'must be a function', v);
      return v;
    },
  };
}
