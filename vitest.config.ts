import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Integration tests start real clusters of processes; on 2 cores, running many at once
    // makes them compete for CPU. Files run in parallel only up to this cap.
    maxWorkers: 2,
    pool: 'forks',
    // Reference counting is tested by collecting a driver's ObjectRefs (global.gc).
    execArgv: ['--expose-gc'],
    // CI (.ci/run → .ci/summarize.mjs) reads the JSON report: skipped tests with their reasons, then `N passed, N failed, N skipped`.
    reporters: process.env.CI ? ['default', ['json', { outputFile: '.ci/results.json' }]] : ['default'],
  },
});
