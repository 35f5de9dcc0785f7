/**
 * Parsers for command-line values. Each validates one flag and throws an InvalidOptionError that
 * names the flag, the rule and the value given, so `main()` can print it as is.
 */
import { InvalidOptionError, type Resources } from '../core/index.js';

/** A whole number >= `min` (`--num-cpus`, ...). */
export function parseCount(flag: string, value: string, min = 0): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isInteger(n) || n < min) {
    throw new InvalidOptionError(`${flag} must be a whole number >= ${min}, got '${value}'`);
  }
  return n;
}

/** A TCP port; 0 asks the system for a free one. */
export function parsePort(flag: string, value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isInteger(n) || n < 0 || n > 65535) {
    throw new InvalidOptionError(`${flag} must be a port number from 0 to 65535 (0 picks a free port), got '${value}'`);
  }
  return n;
}

const BYTE_UNITS: Record<string, number> = { '': 1, b: 1, k: 1024, kb: 1024, m: 1024 ** 2, mb: 1024 ** 2, g: 1024 ** 3, gb: 1024 ** 3, t: 1024 ** 4, tb: 1024 ** 4 };

/** A size in bytes: `1073741824`, `512MB`, `2g` (binary units). */
export function parseBytes(flag: string, value: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(value);
  const unit = BYTE_UNITS[(m?.[2] ?? '').toLowerCase()];
  if (!m || unit === undefined || Number(m[1]) * unit < 1) {
    throw new InvalidOptionError(`${flag} must be a positive size in bytes (e.g. 1073741824, 512MB, 2GB), got '${value}'`);
  }
  return Math.round(Number(m[1]) * unit);
}

/** Custom resources as a JSON object of non-negative numbers: `'{"GPU": 1, "accel": 4}'`. */
export function parseResources(flag: string, value: string): Resources {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch (err) {
    throw new InvalidOptionError(`${flag} must be a JSON object such as '{"GPU":1}', got '${value}' (${(err as Error).message})`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new InvalidOptionError(`${flag} must be a JSON object such as '{"GPU":1}', got '${value}'`);
  }
  const resources: Resources = {};
  for (const [name, amount] of Object.entries(parsed)) {
    if (name === 'CPU') throw new InvalidOptionError(`${flag} cannot set CPU: use --num-cpus`);
    if (name === 'memory') throw new InvalidOptionError(`${flag} cannot set memory: use --memory`);
    if (typeof amount !== 'number' || !Number.isFinite(amount) || amount < 0) {
      throw new InvalidOptionError(`${flag}: resource '${name}' must be a number >= 0, got ${JSON.stringify(amount)}`);
    }
    resources[name] = amount;
  }
  return resources;
}

/** `HOST:PORT` of a head. */
export function parseAddress(flag: string, value: string): string {
  const m = /^(\[[^\]]+\]|[^:\s]+):(\d+)$/.exec(value.trim());
  if (!m || Number(m[2]) < 1 || Number(m[2]) > 65535) {
    throw new InvalidOptionError(`${flag} must be HOST:PORT of a shoal head (e.g. 127.0.0.1:6380), got '${value}'`);
  }
  return value.trim();
}
