import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 180_000,
    hookTimeout: 60_000,
    // The crash suites each run 4 worker processes; one at a time on 2 cores.
    fileParallelism: false,
  },
});
