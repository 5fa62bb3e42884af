import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    // Child processes load the built package: build it once first.
    globalSetup: ['./test/global-setup.ts'],
    // Generous: CI runs every package's suite at once on two cores.
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
