/** Timing helpers. Times are in milliseconds from `performance.now()` (monotonic, sub-µs resolution). */
import { performance } from 'node:perf_hooks';
import { percentile } from './stats.js';

export const now = (): number => performance.now();

/** Runs `fn` once and returns how long it took, in ms. */
export async function timeAsync(fn: () => Promise<unknown> | unknown): Promise<number> {
  const t0 = now();
  await fn();
  return now() - t0;
}

/**
 * Calls `fn` strictly one after another: `warmup` untimed calls, then `n` timed ones.
 * Returns the latency of each timed call (ms).
 */
export async function latencies(n: number, fn: () => Promise<unknown>, warmup = 0): Promise<number[]> {
  for (let i = 0; i < warmup; i++) await fn();
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const t0 = now();
    await fn();
    out[i] = now() - t0;
  }
  return out;
}

/** p50 and p99 of a latency sample, ms. */
export function latencySummary(samples: readonly number[]): { p50: number; p99: number } {
  return { p50: percentile(samples, 50), p99: percentile(samples, 99) };
}

/** Items per second for `count` items done in `ms`. */
export const perSecond = (count: number, ms: number): number => (count * 1000) / ms;

/** Full GC when node runs with --expose-gc (the bench script does); a no-op otherwise. */
export function forceGc(): void {
  const g = (globalThis as { gc?: () => void }).gc;
  if (g) {
    g();
    g();
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Rejects with a clear message when `p` takes longer than `ms` (keeps a stuck runtime from hanging the bench). */
export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`bench: ${what} did not finish within ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}
