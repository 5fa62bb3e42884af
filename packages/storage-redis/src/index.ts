/**
 * `@ergon/storage-redis`: Ergon's distributed store on Redis through ioredis.
 * One Lua script per multi-key change, flows spread over hash-tagged
 * partitions (one slot each on a Redis Cluster), pub/sub wake-ups, an optional
 * wait for replicas, and a start-up refusal of eviction policies that could
 * delete state.
 *
 * @module
 */

export { DEFAULT_PREFIX } from './internal/keys.js';
export { MAX_PARTITIONS } from './internal/partitions.js';
export {
  DEFAULT_CLUSTER_PARTITIONS,
  DEFAULT_COMMAND_TIMEOUT_MS,
  DEFAULT_REDIS_URL,
  type RedisExecutionLogOptions,
  type WaitForReplicas,
} from './options.js';
export { createRedisExecutionLog, RedisExecutionLog } from './redis-execution-log.js';
