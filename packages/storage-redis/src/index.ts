/**
 * `@ergon/storage-redis`: Ergon's distributed store on Redis through ioredis.
 * One Lua script per multi-key change, one hash tag per key prefix (cluster
 * safe), pub/sub wake-ups, and a start-up refusal of eviction policies that
 * could delete state.
 *
 * @module
 */

export { DEFAULT_PREFIX } from './internal/keys.js';
export {
  DEFAULT_COMMAND_TIMEOUT_MS,
  DEFAULT_REDIS_URL,
  type RedisExecutionLogOptions,
} from './options.js';
export { createRedisExecutionLog, RedisExecutionLog } from './redis-execution-log.js';
