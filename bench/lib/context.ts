/** What run.ts hands to a suite. */
import type { BenchResult } from './result.js';

export interface BenchContext {
  suite: string;
  /** Runs per metric (the metric is the median over them). @default 5 */
  runs: number;
  /** `--only <regex>`: suites skip metric groups whose key does not match. */
  only?: RegExp | undefined;
  /** True when the metric group `key` should run (see `only`). */
  enabled(key: string): boolean;
  /** Progress line on stderr (stdout is for the table). */
  log(msg: string): void;
}

export type Suite = (ctx: BenchContext) => Promise<BenchResult[]>;

/**
 * Runs `fn` `runs` times (after `warmup` untimed calls, default 0); each call returns named per-run
 * values (e.g. `{ value, baseline }` or `{ p50, p99 }`). Returns, for each name, the per-run values.
 */
export async function repeat<K extends string>(
  ctx: BenchContext,
  label: string,
  fn: (run: number) => Promise<Record<K, number>>,
  options: { warmup?: number } = {},
): Promise<Record<K, number[]>> {
  for (let i = 0; i < (options.warmup ?? 0); i++) {
    const started = performance.now();
    await fn(-1 - i);
    ctx.log(`  ${label}: warm-up ${i + 1} (${((performance.now() - started) / 1000).toFixed(1)} s, not counted)`);
  }
  const out = {} as Record<K, number[]>;
  for (let i = 0; i < ctx.runs; i++) {
    const started = performance.now();
    const r = await fn(i);
    for (const [k, v] of Object.entries(r) as [K, number][]) (out[k] ??= []).push(v);
    const values = Object.entries(r)
      .map(([k, v]) => `${k}=${(v as number).toPrecision(4)}`)
      .join(' ');
    ctx.log(`  ${label}: run ${i + 1}/${ctx.runs} ${values} (${((performance.now() - started) / 1000).toFixed(1)} s)`);
  }
  return out;
}
