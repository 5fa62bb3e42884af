import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    globalSetup: ['./test/global-setup.ts'],
    // CI runs every package's suites at once on two cores: a real worker and a real browser need room.
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
