import { defineConfig } from 'vitest/config';

// The suites run the built `ergon` binary as a subprocess; the global set-up builds it when stale.
export default defineConfig({
  test: {
    include: ['src/**/*.test.ts'],
    globalSetup: ['src/testing/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
