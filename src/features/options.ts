/**
 * Option checks shared by the featurizers: the shared kit (core's `optionRules`), with the stage as
 * the caller — `StandardScaler option 'inputCols' must be a non-empty column name or list of column names; got []`.
 */
import { optionRules } from '../core/index.js';

export type HandleInvalid = 'error' | 'skip' | 'keep';

const rules = (stage: string) => optionRules(stage, { stage });

export function columnList(stage: string, option: string, v: unknown): string[] {
  return rules(stage).columns(option, v, { single: true });
}

export function outputList(stage: string, inputs: readonly string[], v: unknown, suffix: string): string[] {
  if (v === undefined) return inputs.map((c) => (suffix === '' ? c : `${c}${suffix}`));
  const outs = columnList(stage, 'outputCols', v);
  if (outs.length !== inputs.length) rules(stage).fail('outputCols', `must have one name per input column (${inputs.length})`, outs);
  return outs;
}

export function oneOf<T extends string>(stage: string, option: string, v: unknown, allowed: readonly T[], dflt: T): T {
  return rules(stage).oneOf(option, v, allowed, dflt);
}

export function positiveInt(stage: string, option: string, v: unknown, dflt: number): number {
  return rules(stage).int(option, v, dflt);
}

export function nonNegative(stage: string, option: string, v: unknown, dflt: number): number {
  return rules(stage).number(option, v, dflt, { min: 0 });
}
