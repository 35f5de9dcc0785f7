/**
 * The rental recommendations job (issue 7) — what `npm start` runs:
 *
 *   node dist/examples/rental-recs/main.js [--input DIR] [--synthetic N] [--seed S] [--database-url URL] [--schema S]
 *     [--load DIR | --load-albany] [--data-dir DIR] [--out DIR] [--serve best|popular|neighbourhood|knn|als|neural|hybrid] [--no-neural]
 *
 * Starts a local cluster (or joins SHOAL_ADDRESS), reads ratings from PostgreSQL when DATABASE_URL
 * (or --database-url) is set, otherwise from Parquet files under examples/rental-recs/data/ (the
 * city in --input / SHOAL_DATA_DIR, Albany by default, loaded into them once per content hash), tunes ALS, trains it and the neural two-tower
 * model, chooses the served model on validation, evaluates both against a most-popular baseline on
 * test, writes the top-5 per user and prints a report (+ HTML).
 */
import { join } from 'node:path';
import { init, isMain, shutdown } from 'shoal';
import { EXAMPLE_DIR, runJob, SERVE_CHOICES, type JobOptions, type ServeChoice } from './job.js';
import { textReport, writeHtmlReport, writeJsonReport } from './report.js';

export function parseArgs(argv: string[]): JobOptions & { outDir: string } {
  const o: JobOptions & { outDir: string } = {
    databaseUrl: process.env.DATABASE_URL || undefined, outDir: join(EXAMPLE_DIR, 'out'), input: process.env.SHOAL_DATA_DIR || undefined,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const [flag, inline] = a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
    const value = (): string => {
      const v = inline ?? argv[++i];
      if (v === undefined) throw new Error(`${flag} needs a value`);
      return v;
    };
    const count = (s: string): number => {
      const m = /^(\d+(?:\.\d+)?)([kKmM]?)$/.exec(s);
      if (!m) throw new Error(`${flag} needs a number like 10000, 500k or 10m (got ${s})`);
      return Math.round(Number(m[1]) * (m[2]?.toLowerCase() === 'm' ? 1e6 : m[2]?.toLowerCase() === 'k' ? 1e3 : 1));
    };
    if (flag === '--synthetic') o.synthetic = count(value());
    else if (flag === '--seed') o.seed = Number(value());
    else if (flag === '--database-url') o.databaseUrl = value();
    else if (flag === '--schema') o.pgSchema = value();
    else if (flag === '--load-albany') o.loadAlbany = true;
    else if (flag === '--input' || flag === '--load') o.input = value();
    else if (flag === '--data-dir') o.dataDir = value();
    else if (flag === '--out') o.outDir = value();
    else if (flag === '--serve') {
      const v = value();
      if (!(SERVE_CHOICES as readonly string[]).includes(v)) throw new Error(`--serve must be one of ${SERVE_CHOICES.join(', ')} (got ${v})`);
      o.serve = v as ServeChoice;
    } else if (flag === '--no-neural' && inline === undefined) o.neural = false;
    else throw new Error(`unknown option ${a} (options: --synthetic N, --seed S, --database-url URL, --schema S, --input DIR, --load DIR, --load-albany, --data-dir DIR, --out DIR, --serve best|popular|neighbourhood|knn|als|neural|hybrid, --no-neural)`);
  }
  return o;
}

export async function main(argv = process.argv.slice(2)): Promise<void> {
  const options = parseArgs(argv);
  const cluster = await init();
  console.log(`shoal cluster at ${cluster.address}`);
  try {
    const result = await runJob(options);
    const html = writeHtmlReport(result, options.outDir);
    const json = writeJsonReport(result, options.outDir);
    console.log(textReport(result, html));
    console.log(`JSON report: ${json}`);
  } finally {
    await shutdown();
  }
}

if (isMain(import.meta)) {
  main().catch((err: unknown) => {
    console.error(err instanceof Error ? `${err.name}: ${err.message}` : err);
    process.exit(1);
  });
}
