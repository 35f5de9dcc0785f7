// Stryker (mutation testing) over shoal's kernels and featurizers: `npm run mutation -- <folder>`
// (scripts/mutation.mjs) sets the folder to mutate and the unit tests that guard it; see there.
// Not part of CI: a full run takes hours on this machine.

export default {
  testRunner: 'vitest',
  plugins: ['@stryker-mutator/vitest-runner'],
  vitest: { configFile: 'vitest.mutation.config.mjs', related: false },
  coverageAnalysis: 'perTest',
  mutate: (process.env.SHOAL_MUTATE ?? 'src/features/**/*.ts').split(','),
  ignoreStatic: true,
  concurrency: Number(process.env.SHOAL_MUTATION_CONCURRENCY ?? 1),
  timeoutMS: 60_000,
  reporters: ['json', 'clear-text', 'progress'],
  jsonReporter: { fileName: process.env.SHOAL_MUTATION_REPORT ?? 'reports/mutation/mutation.json' },
  clearTextReporter: { allowColor: false, logTests: false, maxTestsToLog: 0 },
  tempDirName: '.stryker-tmp',
  cleanTempDir: 'always',
  // The sandbox holds a copy of the project; the unit tests read src/ directly (no build needed).
  ignorePatterns: ['dist', 'bench/results', 'reports', '.scratch', '.shoal', 'coverage', 'test/integration'],
  thresholds: { high: 90, low: 80, break: null },
};
