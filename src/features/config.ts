/** Reading a saved stage config back, field by field; any mismatch throws naming the field. */
import type { StageConfig } from './featurizer.js';

export class ConfigFieldError extends Error {
  constructor(readonly field: string, rule: string) {
    super(`config.${field} ${rule}`);
    this.name = 'ConfigFieldError';
  }
}

export function cString(c: StageConfig, k: string): string {
  const v = c[k];
  if (typeof v !== 'string') throw new ConfigFieldError(k, 'must be a string');
  return v;
}
export function cNumber(c: StageConfig, k: string): number {
  const v = c[k];
  if (typeof v !== 'number') throw new ConfigFieldError(k, 'must be a number');
  return v;
}
export function cBool(c: StageConfig, k: string): boolean {
  const v = c[k];
  if (typeof v !== 'boolean') throw new ConfigFieldError(k, 'must be a boolean');
  return v;
}
export function cStrings(c: StageConfig, k: string): string[] {
  const v = c[k];
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) throw new ConfigFieldError(k, 'must be an array of strings');
  return v as string[];
}
export function cNumbers(c: StageConfig, k: string): number[] {
  const v = c[k];
  if (v instanceof Float64Array || v instanceof Float32Array) return Array.from(v);
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'number' || x === null)) throw new ConfigFieldError(k, 'must be an array of numbers');
  return (v as (number | null)[]).map((x) => (x === null ? NaN : x));
}
export function cFloat64(c: StageConfig, k: string): Float64Array {
  const v = c[k];
  if (v instanceof Float64Array) return v;
  return Float64Array.from(cNumbers(c, k));
}
export function cOneOf<T extends string>(c: StageConfig, k: string, allowed: readonly T[]): T {
  const v = c[k];
  if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v)) throw new ConfigFieldError(k, `must be one of ${allowed.join(', ')}`);
  return v as T;
}
