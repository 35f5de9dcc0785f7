/**
 * Benchmark runner: `npm run bench -- <suite> [--runs N] [--only REGEX]`.
 *
 * Dispatches to bench/suites/<suite>.ts (compiled to dist/bench/suites/<suite>.js), which exports
 * `run(ctx): Promise<BenchResult[]>`; prints the results as a table and writes
 * bench/results/<suite>.json. See bench/README.md.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { BenchContext, Suite } from './lib/context.js';
import { BENCH_DIST } from './lib/paths.js';
import { writeResults } from './lib/result.js';
import { printTable } from './lib/table.js';

const SUITES_DIR = join(BENCH_DIST, 'suites');

function listSuites(): string[] {
  try {
    return readdirSync(SUITES_DIR)
      .filter((f) => f.endsWith('.js'))
      .map((f) => f.slice(0, -3))
      .sort();
  } catch {
    return [];
  }
}

function usage(stream: NodeJS.WriteStream): void {
  const suites = listSuites();
  stream.write(
    'usage: npm run bench -- <suite> [--runs N] [--only REGEX]\n' +
      `suites: ${suites.length ? suites.join(', ') : '(none built: run `npm run build`)'}\n` +
      '  --runs N      runs per metric; each metric is the median over them (default 5)\n' +
      '  --only REGEX  run only the metric groups whose key matches (see the suite)\n',
  );
}

function parseArgs(argv: string[]): { suite?: string | undefined; runs: number; only?: RegExp | undefined; help: boolean } {
  let suite: string | undefined;
  let runs = 5;
  let only: RegExp | undefined;
  let help = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const value = (): string => {
      const eq = a.indexOf('=');
      if (eq >= 0) return a.slice(eq + 1);
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === '--help' || a === '-h') help = true;
    else if (a === '--runs' || a.startsWith('--runs=')) {
      runs = Number(value());
      if (!Number.isInteger(runs) || runs < 1) throw new Error('--runs must be a positive integer');
    } else if (a === '--only' || a.startsWith('--only=')) only = new RegExp(value());
    else if (a.startsWith('-')) throw new Error(`unknown option ${a}`);
    else if (suite === undefined) suite = a;
    else throw new Error(`unexpected argument ${a}`);
  }
  return { suite, runs, only, help };
}

async function main(): Promise<number> {
  let args: ReturnType<typeof parseArgs>;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`bench: ${(err as Error).message}\n`);
    usage(process.stderr);
    return 1;
  }
  if (args.help) {
    usage(process.stdout);
    return 0;
  }
  const suites = listSuites();
  if (!args.suite || !suites.includes(args.suite)) {
    process.stderr.write(args.suite ? `bench: unknown suite '${args.suite}'\n` : 'bench: no suite given\n');
    usage(process.stderr);
    return 1;
  }
  if (typeof (globalThis as { gc?: unknown }).gc !== 'function') {
    process.stderr.write('bench: warning: run node with --expose-gc (npm run bench does) so suites can collect between metrics\n');
  }
  const ctx: BenchContext = {
    suite: args.suite,
    runs: args.runs,
    only: args.only,
    enabled: (key) => !args.only || args.only.test(key),
    log: (msg) => process.stderr.write(`${msg}\n`),
  };
  const mod = (await import(pathToFileURL(join(SUITES_DIR, `${args.suite}.js`)).href)) as { run?: Suite };
  if (typeof mod.run !== 'function') {
    process.stderr.write(`bench: suite '${args.suite}' does not export run(ctx)\n`);
    return 1;
  }
  const started = performance.now();
  const results = await mod.run(ctx);
  printTable(args.suite, results, args.runs);
  // A partial run (--only) must not replace the suite's full results.
  const path = writeResults(args.only ? `${args.suite}.partial` : args.suite, results);
  process.stdout.write(`\nwrote ${path} (${((performance.now() - started) / 1000).toFixed(1)} s)\n`);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`bench: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
