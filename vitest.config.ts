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
    reporters: ['default'],
  },
});
