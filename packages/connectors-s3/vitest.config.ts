import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    // Child processes load the built package: build it once first.
    globalSetup: ['./test/global-setup.ts'],
    // Files one after another: the SIGKILL pipeline test does not share the 2 cores with this package's other suites.
    fileParallelism: false,
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
