/**
 * Helpers of the suites on a real Redis Cluster (`PrivateRedisCluster` from
 * `@ergon/testing`): a cluster client as the README recommends, per-master
 * commands, and clean-up of a prefix on every master.
 *
 * @module
 */
import { type PrivateRedisCluster, requireRedisCluster } from '@ergon/testing';
import { Cluster, type ClusterOptions, type Redis } from 'ioredis';
import { prefixPattern } from './support.js';

/** Whether a private cluster can be started; under CI=true missing binaries throw. */
export const clusterAvailable = requireRedisCluster();

/** A cluster client for `cluster`, with the settings the README recommends. */
export function clusterClient(cluster: PrivateRedisCluster, options: ClusterOptions = {}): Cluster {
  return new Cluster(cluster.startupNodes, {
    enableAutoPipelining: true,
    slotsRefreshTimeout: 2000,
    retryDelayOnFailover: 200,
    retryDelayOnClusterDown: 200,
    ...options,
    redisOptions: { commandTimeout: 10_000, maxRetriesPerRequest: 20, ...options.redisOptions },
  });
}

/** Runs `command` on every master the client knows. */
export function onMasters<T>(client: Cluster, command: (node: Redis) => Promise<T>): Promise<T[]> {
  return Promise.all(client.nodes('master').map(command));
}

/** Deletes every key of `prefix` on every master. */
export async function deleteClusterPrefix(client: Cluster, prefix: string): Promise<void> {
  await onMasters(client, async (node) => {
    let cursor = '0';
    do {
      const [next, keys] = await node.scan(cursor, 'MATCH', prefixPattern(prefix), 'COUNT', 1000);
      cursor = next;
      // One slot per DEL: a master refuses keys of several slots in one command.
      for (const key of keys) await node.del(key);
    } while (cursor !== '0');
  });
}

/** How many keys of `prefix` each master holds. */
export async function keysPerMaster(client: Cluster, prefix: string): Promise<number[]> {
  return onMasters(client, async (node) => {
    let cursor = '0';
    let count = 0;
    do {
      const [next, keys] = await node.scan(cursor, 'MATCH', prefixPattern(prefix), 'COUNT', 1000);
      cursor = next;
      count += keys.length;
    } while (cursor !== '0');
    return count;
  });
}
