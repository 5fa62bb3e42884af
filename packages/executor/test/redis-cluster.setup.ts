/**
 * Global setup of the `redis-cluster` project: one real Redis Cluster (3 masters, 3
 * replicas, from `redis-server`) for the whole scenario suite, its nodes provided to the
 * test files (`stores.ts`), stopped after. Under CI=true missing binaries fail the run.
 */
import { PrivateRedisCluster, requireRedisCluster } from '@ergon/testing/redis-cluster';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The cluster's nodes, as a cluster client's startup nodes. */
    redisClusterNodes: { host: string; port: number }[];
  }
}

export default async function setup(project: TestProject): Promise<(() => Promise<void>) | undefined> {
  if (!requireRedisCluster()) return undefined;
  const cluster = await PrivateRedisCluster.start();
  project.provide('redisClusterNodes', cluster.startupNodes);
  return () => cluster.stop();
}
