// The vitest configuration Stryker runs (stryker.config.mjs): only the unit tests that guard the
// folder being mutated (SHOAL_MUTATION_TESTS, set by scripts/mutation.mjs).
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: (process.env.SHOAL_MUTATION_TESTS ?? 'test/unit/**/*.test.ts').split(','),
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Stryker's vitest runner runs the files in threads of its own; no execArgv here (threads refuse
    // --expose-gc, which only core's reference-counting tests need).
    maxWorkers: 1,
  },
});
