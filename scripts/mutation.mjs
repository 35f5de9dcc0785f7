#!/usr/bin/env node
// Mutation testing of the kernels and featurizers, one folder at a time (a full run takes hours here):
//   npm run mutation                       all four folders
//   npm run mutation -- features           one (kernels, expr, features, als)
//   npm run mutation -- features --concurrency 2
//   npm run mutation -- features --only text.ts,hashing.ts   some files of one folder (a partial row)
// Each folder is mutated by Stryker (stryker.config.mjs) against the unit tests that guard it; its
// score goes to bench/results/mutation.json in the bench convention (one row per folder, target 80%,
// the baseline being that target), rows of folders not run this time kept as they were. The surviving
// and uncovered mutants of each folder are listed in bench/results/mutation-survivors-<folder>.txt.
// Not part of CI.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join, relative } from 'node:path';

const FOLDERS = {
  kernels: { src: 'src/data/kernels', tests: ['test/unit/data/**/*.test.ts'] },
  expr: { src: 'src/data/expr', tests: ['test/unit/data/**/*.test.ts'] },
  features: { src: 'src/features', tests: ['test/unit/features/**/*.test.ts'] },
  als: { src: 'src/train/als', tests: ['test/unit/train/**/*.test.ts'] },
};
const TARGET = 80;
const RESULTS = 'bench/results/mutation.json';

const args = process.argv.slice(2);
let concurrency = 1;
let only = [];
const names = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--concurrency') concurrency = Number(args[++i]);
  else if (args[i] === '--only') only = String(args[++i]).split(',').filter((f) => f !== '');
  else names.push(args[i]);
}
if (only.length > 0 && names.length !== 1) throw new Error('--only needs exactly one folder');
if (!Number.isInteger(concurrency) || concurrency < 1) throw new Error('--concurrency must be a positive integer');
for (const n of names) if (!(n in FOLDERS)) throw new Error(`unknown folder "${n}": one of ${Object.keys(FOLDERS).join(', ')}`);
const chosen = names.length > 0 ? names : Object.keys(FOLDERS);

const rows = existsSync(RESULTS) ? JSON.parse(readFileSync(RESULTS, 'utf8')) : [];
for (const name of chosen) {
  const { src, tests } = FOLDERS[name];
  const label = only.length > 0 ? `${name}-${only.map((f) => f.replace(/\.ts$/, '')).join('-')}` : name;
  const report = join('reports', 'mutation', `${label}.json`);
  const load = loadavg()[0].toFixed(1);
  const started = Date.now();
  console.log(`mutation: ${src} against ${tests.join(', ')} (concurrency ${concurrency}, load ${load} on ${cpus().length} cores)`);
  const r = spawnSync('npx', ['stryker', 'run', 'stryker.config.mjs'], {
    stdio: 'inherit',
    env: { ...process.env, SHOAL_MUTATE: only.length > 0 ? only.map((f) => `${src}/${f}`).join(',') : `${src}/**/*.ts`, SHOAL_MUTATION_TESTS: tests.join(','), SHOAL_MUTATION_REPORT: report, SHOAL_MUTATION_CONCURRENCY: String(concurrency) },
  });
  if (r.status !== 0 || !existsSync(report)) {
    console.error(`mutation: Stryker failed for ${src} (exit ${r.status})`);
    process.exitCode = 1;
    continue;
  }
  const minutes = (Date.now() - started) / 60_000;
  const counts = { Killed: 0, Timeout: 0, Survived: 0, NoCoverage: 0, CompileError: 0, RuntimeError: 0, Ignored: 0 };
  const survivors = [];
  const { files } = JSON.parse(readFileSync(report, 'utf8'));
  for (const [file, f] of Object.entries(files)) {
    for (const m of f.mutants) {
      counts[m.status] = (counts[m.status] ?? 0) + 1;
      if (m.status === 'Survived' || m.status === 'NoCoverage') {
        survivors.push(`${relative(process.cwd(), file)}:${m.location.start.line}:${m.location.start.column} ${m.status} ${m.mutatorName}${m.replacement !== undefined ? ` → ${JSON.stringify(m.replacement).slice(0, 120)}` : ''}`);
      }
    }
  }
  const detected = counts.Killed + counts.Timeout;
  const valid = detected + counts.Survived + counts.NoCoverage;
  const score = valid === 0 ? NaN : (100 * detected) / valid;
  writeFileSync(join('bench/results', `mutation-survivors-${label}.txt`), survivors.join('\n') + '\n');
  const row = {
    metric: only.length > 0 ? `mutation score ${src}/{${only.join(',')}} (part of the folder)` : `mutation score ${src}`,
    value: score,
    unit: '%',
    better: 'higher',
    baseline: `the target (${TARGET}%)`,
    baselineValue: TARGET,
    ratio: score / TARGET,
    target: TARGET,
    targetMet: Number.isFinite(score) ? score >= TARGET : null,
    min: score,
    max: score,
    baselineMin: TARGET,
    baselineMax: TARGET,
    runs: 1,
    samples: [score],
    baselineSamples: [TARGET],
    notes: `Stryker ${counts.Killed} killed, ${counts.Timeout} timed out, ${counts.Survived} survived, ${counts.NoCoverage} not covered ` +
      `(${counts.CompileError} compile / ${counts.RuntimeError} runtime errors, ${counts.Ignored} ignored; score = detected / (detected + survived + not covered)); ` +
      `tests ${tests.join(', ')}; concurrency ${concurrency}, ${minutes.toFixed(0)} min, load ${load} at the start (${new Date().toISOString().slice(0, 10)}); ` +
      `survivors listed in bench/results/mutation-survivors-${label}.txt`,
  };
  const at = rows.findIndex((x) => x.metric === row.metric);
  if (at >= 0) rows[at] = row;
  else rows.push(row);
  mkdirSync('bench/results', { recursive: true });
  writeFileSync(`${RESULTS}.tmp`, JSON.stringify(rows, null, 2) + '\n');
  renameSync(`${RESULTS}.tmp`, RESULTS);
  console.log(`mutation: ${src}: score ${score.toFixed(1)}% (target ${TARGET}%), ${survivors.length} survivors listed`);
}
