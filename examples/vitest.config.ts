import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Each example is a few seconds of real work (processes, timers, a SIGKILL);
    // three at a time keeps the suite short without starving them on two cores.
    maxConcurrency: 3,
    testTimeout: 120_000,
    hookTimeout: 30_000,
  },
});
