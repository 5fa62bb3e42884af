import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // The property suites run hundreds of DAGs of up to 1,000 nodes: generous
    // time-outs keep them from flaking on a loaded 2-core machine.
    testTimeout: 60_000,
  },
});
