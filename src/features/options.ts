/** Option validation shared by the featurizers (messages name the option and the rule). */
import { invalidOption } from './errors.js';

export type HandleInvalid = 'error' | 'skip' | 'keep';

export function columnList(stage: string, option: string, v: unknown): string[] {
  const list = typeof v === 'string' ? [v] : v;
  if (!Array.isArray(list) || list.length === 0 || !list.every((c) => typeof c === 'string' && c.length > 0)) {
    throw invalidOption(`options.${option}`, 'must be a non-empty column name or list of column names', { stage });
  }
  return list as string[];
}

export function outputList(stage: string, inputs: readonly string[], v: unknown, suffix: string): string[] {
  if (v === undefined) return inputs.map((c) => (suffix === '' ? c : `${c}${suffix}`));
  const outs = columnList(stage, 'outputCols', v);
  if (outs.length !== inputs.length) throw invalidOption('options.outputCols', `must have one name per input column (${inputs.length}); got ${outs.length}`, { stage });
  return outs;
}

export function oneOf<T extends string>(stage: string, option: string, v: unknown, allowed: readonly T[], dflt: T): T {
  if (v === undefined) return dflt;
  if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v)) throw invalidOption(`options.${option}`, `must be one of ${allowed.join(', ')}; got ${String(v)}`, { stage });
  return v as T;
}

export function positiveInt(stage: string, option: string, v: unknown, dflt: number): number {
  if (v === undefined) return dflt;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw invalidOption(`options.${option}`, `must be a positive integer; got ${String(v)}`, { stage });
  return v;
}

export function nonNegative(stage: string, option: string, v: unknown, dflt: number): number {
  if (v === undefined) return dflt;
  if (typeof v !== 'number' || !(v >= 0) || !Number.isFinite(v)) throw invalidOption(`options.${option}`, `must be a non-negative finite number; got ${String(v)}`, { stage });
  return v;
}
