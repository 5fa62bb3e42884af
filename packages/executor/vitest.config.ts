import { defineConfig } from 'vitest/config';

// The scenario suites run once per store, like Kysely's `for (const dialect of DIALECTS)`.
// `redis-cluster`: the Redis store on a real Redis Cluster (16 partitions) that the project's
// global setup starts once.
const stores = ['memory', 'sqlite', 'redis', 'postgres', 'redis-cluster'] as const;

export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Files share a worker's module cache (each test has its own store, queue and workers): half the
    // CPU of isolating every file, four projects of it. One file at a time per process: two at once, beside
    // the other suites of the test command, ran PostgreSQL out of connections (max_connections 100).
    // `npm test` runs the projects as four processes at once (memory+sqlite, redis, postgres,
    // redis-cluster: scripts/vitest-groups.mjs): the suites mostly wait on leases, timers and servers.
    isolate: false,
    maxWorkers: 1,
    minWorkers: 1,
    projects: [
      ...stores.map((store) => ({
        extends: true as const,
        test: {
          name: store,
          include: ['test/**/*.test.ts', 'src/**/*.test.ts'],
          env: { ERGON_TEST_STORE: store },
          globalSetup:
            store === 'redis-cluster'
              ? ['test/redis-cluster.setup.ts']
              : store === 'postgres'
                ? ['test/postgres.setup.ts']
                : [],
        },
      })),
      {
        extends: true as const,
        test: {
          name: 'types',
          include: [],
          // The type tests alone, against the declarations the build wrote (the package's own type
          // check covers the rest): not a second check of every source file.
          typecheck: {
            enabled: true,
            only: true,
            include: ['test/**/*.test-d.ts'],
            tsconfig: 'test/tsconfig.types.json',
          },
        },
      },
    ],
  },
});
