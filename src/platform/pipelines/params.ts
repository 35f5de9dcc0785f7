/**
 * Pipeline parameters: typed, with defaults and ranges, validated once when a run starts with the
 * option kit (core/option-rules.ts), so a bad value is refused naming the parameter before any step
 * runs. Values given as text (`shoal pipeline run --param n=3`) are parsed by the parameter's type.
 */
import { optionRules } from '../../core/index.js';

export type ParamType = 'int' | 'number' | 'string' | 'boolean' | 'list';
type Scalar = 'int' | 'number' | 'string';

/** One parameter: its type, default (absent → required) and rule. */
export interface ParamSpec<T = unknown> {
  readonly type: ParamType;
  readonly default?: T | undefined;
  readonly min?: number | undefined;
  readonly max?: number | undefined;
  /** Strings: the allowed values. */
  readonly choices?: readonly string[] | undefined;
  /** Lists: the type of each element. */
  readonly of?: Scalar | undefined;
  readonly description?: string | undefined;
  /** Phantom: the value's type, for `ParamValues`. */
  readonly __type?: T;
}

/** The values of a run's parameters, by name. */
export type ParamValues<P extends Record<string, ParamSpec>> = { [K in keyof P]: P[K] extends ParamSpec<infer T> ? T : never };

/** Parameter constructors: `param.int({ default: 10, min: 1 })`. */
export const param = {
  int: (o: { default?: number; min?: number; max?: number; description?: string } = {}): ParamSpec<number> => ({ type: 'int', ...o }),
  number: (o: { default?: number; min?: number; max?: number; description?: string } = {}): ParamSpec<number> => ({ type: 'number', ...o }),
  string: (o: { default?: string; choices?: readonly string[]; description?: string } = {}): ParamSpec<string> => ({ type: 'string', ...o }),
  boolean: (o: { default?: boolean; description?: string } = {}): ParamSpec<boolean> => ({ type: 'boolean', ...o }),
  list: <T extends number | string = number | string>(o: { of: Scalar; default?: T[]; description?: string }): ParamSpec<T[]> => ({ type: 'list', ...o }),
};

const TYPES: readonly ParamType[] = ['int', 'number', 'string', 'boolean', 'list'];

/** Checks the specs themselves (at definition time); returns the message of the first problem. */
export function checkParamSpecs(specs: Record<string, ParamSpec>): string | undefined {
  for (const [name, s] of Object.entries(specs)) {
    if (typeof s !== 'object' || s === null || !TYPES.includes(s.type)) return `parameter '${name}' must be made with param.int/number/string/boolean/list`;
    if (s.type === 'list' && !['int', 'number', 'string'].includes(s.of ?? '')) return `list parameter '${name}' needs { of: 'int' | 'number' | 'string' }`;
    if (s.default !== undefined) {
      try {
        compileValue('pipeline', name, s, s.default);
      } catch (err) {
        return `the default of parameter '${name}' breaks its own rule: ${(err as Error).message}`;
      }
    }
  }
  return undefined;
}

/** Parses a `--param k=v` text by the parameter's type (before validation). */
export function parseParamText(spec: ParamSpec, text: string): unknown {
  const scalar = (t: Scalar, s: string): unknown => (t === 'string' ? s : s.trim() !== '' && Number.isFinite(Number(s)) ? Number(s) : s);
  switch (spec.type) {
    case 'int':
    case 'number':
    case 'string':
      return scalar(spec.type, text);
    case 'boolean':
      return text === 'true' ? true : text === 'false' ? false : text;
    case 'list': {
      if (text.trim().startsWith('[')) {
        try {
          return JSON.parse(text) as unknown;
        } catch {
          return text;
        }
      }
      return text === '' ? [] : text.split(',').map((s) => scalar(spec.of ?? 'string', s.trim()));
    }
  }
}

function compileValue(caller: string, name: string, spec: ParamSpec, v: unknown): unknown {
  const r = optionRules(caller);
  const option = `params.${name}`;
  const one = (t: Scalar, x: unknown, where: string): unknown => {
    if (t === 'int' || t === 'number') {
      if (typeof x !== 'number' || !(t === 'int' ? Number.isInteger(x) : Number.isFinite(x))) return r.fail(where, t === 'int' ? 'must be an integer' : 'must be a finite number', x);
      if ((spec.min !== undefined && x < spec.min) || (spec.max !== undefined && x > spec.max)) r.fail(where, `must be within [${spec.min ?? '-∞'}, ${spec.max ?? '∞'}]`, x);
      return x;
    }
    if (typeof x !== 'string') return r.fail(where, 'must be a string', x);
    if (spec.choices && !spec.choices.includes(x)) r.fail(where, `must be one of ${spec.choices.map((c) => `'${c}'`).join(', ')}`, x);
    return x;
  };
  switch (spec.type) {
    case 'boolean':
      if (typeof v !== 'boolean') r.fail(option, 'must be true or false', v);
      return v;
    case 'list':
      if (!Array.isArray(v)) return r.fail(option, `must be a list of ${spec.of ?? 'string'} values`, v);
      return (v as unknown[]).map((x, i) => one(spec.of ?? 'string', x, `${option}[${i}]`));
    default:
      return one(spec.type, v, option);
  }
}

/**
 * The complete, validated parameter values of a run: `given` (values, or texts when `fromText`)
 * over the defaults. Unknown names and missing required parameters are refused, naming them.
 */
export function compileParams(pipeline: string, specs: Record<string, ParamSpec>, given: Readonly<Record<string, unknown>> = {}, fromText = false): Record<string, unknown> {
  const caller = `pipeline '${pipeline}'`;
  const r = optionRules(caller);
  const o = r.object(given as Record<string, unknown>);
  for (const k of Object.keys(o)) {
    if (!(k in specs)) r.fail(`params.${k}`, `is not a parameter of the pipeline (it has: ${Object.keys(specs).join(', ') || 'none'})`);
  }
  const out: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(specs)) {
    let v = o[name];
    if (v === undefined) {
      if (spec.default === undefined) r.fail(`params.${name}`, 'is required (it has no default)');
      v = spec.default;
    } else if (fromText && typeof v === 'string') {
      v = parseParamText(spec, v);
    }
    out[name] = compileValue(caller, name, spec, v);
  }
  return out;
}
