import { defineConfig } from 'vitest/config';

// The suites run the built `ergon` binary as a subprocess; the global set-up builds it when stale.
export default defineConfig({
  test: {
    include: ['src/**/*.test.ts'],
    globalSetup: ['src/testing/global-setup.ts'],
    // A test drives several CLI processes and a worker: on two cores shared with the rest of the
    // test command (load 15 seen in CI), 30 s was not always enough for one that takes 4 s alone.
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
