import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // Generous: CI runs every package's suite at once on two cores.
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
