/**
 * Options of {@link RedisExecutionLog}, validated once and frozen.
 *
 * @module
 */
import { createConsoleLogger, ErrorCode, InvalidArgumentError, type Logger } from '@ergon/core';
import type { Cluster, Redis } from 'ioredis';
import { DEFAULT_PREFIX, validatePrefix } from './internal/keys.js';
import { MAX_PARTITIONS } from './internal/partitions.js';

/** Default Redis URL when neither `redis` nor `url` is given. */
export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';
/** Default bound on one Redis call, queueing during a reconnect included. */
export const DEFAULT_COMMAND_TIMEOUT_MS = 10_000;
/** Partitions of a new store on a Redis Cluster client (a standalone Redis gets 1). */
export const DEFAULT_CLUSTER_PARTITIONS = 16;

/** Acknowledge a write only once replicas have it ({@link RedisExecutionLogOptions.waitForReplicas}). */
export interface WaitForReplicas {
  /** How many replicas must have each write (`WAIT numreplicas`): a whole number ≥ 1. */
  readonly replicas: number;
  /** How long to wait for them (`WAIT timeout`, ms ≥ 1); a write not confirmed in time fails. */
  readonly timeoutMs: number;
}

/** How to reach Redis and how to lay out keys. */
export interface RedisExecutionLogOptions {
  /**
   * An ioredis client (standalone or `Cluster`) to run commands on. The store
   * runs its scripts on it and duplicates it for pub/sub; it never closes
   * it. Its own reconnect and timeout settings apply (see the README for the
   * recommended ones). It must not have a `keyPrefix`: use `prefix`.
   * Give either `redis` or `url`.
   */
  readonly redis?: Redis | Cluster | undefined;
  /**
   * A Redis URL (`redis://`, `rediss://`); the store creates, configures and
   * closes its own connections. Default `redis://127.0.0.1:6379`.
   */
  readonly url?: string | undefined;
  /**
   * Key prefix, 1–64 characters from `A–Z a–z 0–9 _ . : / @ -`. Keys are
   * `{prefix}:…` (one partition) or `{prefix#i}:…` (partition i): the part in braces is
   * the cluster hash tag. Default `ergon`.
   */
  readonly prefix?: string | undefined;
  /**
   * Start even when `maxmemory-policy` lets Redis evict Ergon's keys
   * (`allkeys-*`). Default false: such a server is refused with `STORE_UNSAFE_CONFIG`.
   */
  readonly allowEvictionPolicy?: boolean | undefined;
  /**
   * Longest a call may take, including time queued while reconnecting, before
   * it fails with `STORE_UNAVAILABLE`. Applies to connections the store
   * creates from `url`. Default 10 000 ms.
   */
  readonly commandTimeoutMs?: number | undefined;
  /** Where start-up warnings and connection trouble are reported. Default: JSON lines on stderr, warn and above. */
  readonly logger?: Logger | undefined;
  /**
   * How many partitions (hash tags) the store's flows are spread over, 1–256: on a Redis
   * Cluster each is a slot, so the store uses every master. Fixed when the prefix is first
   * opened and stored (`{prefix}:meta`); opening it again with another number fails with
   * `INVALID_ARGUMENT` (move with `ergon flows export`/`import`, see the README). Without
   * it, an existing store keeps its number, and a new one gets 16 on a `Cluster` client and
   * 1 on a standalone Redis (1 is the single-slot layout of earlier versions).
   */
  readonly partitions?: number | undefined;
  /**
   * Resolve a write only after this many replicas have it (Redis `WAIT`, sent on the same
   * connection right after the write). Redis replicates asynchronously, so without it a
   * failover can lose writes that were already acknowledged; with it a write that is not
   * confirmed in time fails with `STORE_UNAVAILABLE` (it may still have taken effect, as any
   * failed call). Costs a replica round trip per write. Default: none.
   */
  readonly waitForReplicas?: WaitForReplicas | undefined;
}

/** Options after validation and defaults. */
export interface ResolvedRedisOptions {
  readonly redis: Redis | Cluster | undefined;
  readonly url: string;
  readonly prefix: string;
  readonly allowEvictionPolicy: boolean;
  readonly commandTimeoutMs: number;
  readonly logger: Logger;
  /** The `partitions` option as given (undefined: keep the stored number, or the default for a new store). */
  readonly partitions: number | undefined;
  /** The partitions of a new store when `partitions` is not given. */
  readonly defaultPartitions: number;
  readonly waitForReplicas: WaitForReplicas | undefined;
}

/** Validates and freezes the options. @throws InvalidArgumentError saying which option and how to fix it. */
export function resolveOptions(options: RedisExecutionLogOptions = {}): ResolvedRedisOptions {
  const invalid = (message: string, option: string) =>
    new InvalidArgumentError(message, { code: ErrorCode.INVALID_ARGUMENT, details: { option } });
  if (options.redis !== undefined && options.url !== undefined) {
    throw invalid('give either `redis` (a client) or `url`, not both', 'redis');
  }
  if (options.redis !== undefined && typeof options.redis.defineCommand !== 'function') {
    throw invalid('`redis` must be an ioredis client (Redis or Cluster)', 'redis');
  }
  const keyPrefix = (options.redis?.options as { keyPrefix?: string; redisOptions?: { keyPrefix?: string } })
    ?.keyPrefix;
  const clusterKeyPrefix = (options.redis?.options as { redisOptions?: { keyPrefix?: string } })?.redisOptions
    ?.keyPrefix;
  if (keyPrefix || clusterKeyPrefix) {
    throw invalid(
      'the ioredis client has a `keyPrefix`, which the store cannot honour inside its Lua scripts: ' +
        'create the client without it and pass the `prefix` option instead',
      'redis',
    );
  }
  const url = options.url ?? DEFAULT_REDIS_URL;
  if (typeof url !== 'string' || !/^rediss?:\/\//.test(url)) {
    throw invalid(`url ${JSON.stringify(url)} is not a redis:// or rediss:// URL`, 'url');
  }
  const commandTimeoutMs = options.commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS;
  if (!Number.isInteger(commandTimeoutMs) || commandTimeoutMs < 1) {
    throw invalid(
      `commandTimeoutMs must be a whole number of ms ≥ 1 (got ${commandTimeoutMs})`,
      'commandTimeoutMs',
    );
  }
  const { partitions, waitForReplicas } = options;
  if (
    partitions !== undefined &&
    (!Number.isInteger(partitions) || partitions < 1 || partitions > MAX_PARTITIONS)
  ) {
    throw invalid(
      `partitions must be a whole number from 1 to ${MAX_PARTITIONS} (got ${partitions})`,
      'partitions',
    );
  }
  if (waitForReplicas !== undefined) {
    const { replicas, timeoutMs } = waitForReplicas ?? {};
    if (
      !Number.isInteger(replicas) ||
      (replicas as number) < 1 ||
      !Number.isInteger(timeoutMs) ||
      (timeoutMs as number) < 1
    ) {
      throw invalid(
        'waitForReplicas needs { replicas, timeoutMs }, both whole numbers ≥ 1 ' +
          `(got ${JSON.stringify(waitForReplicas)})`,
        'waitForReplicas',
      );
    }
  }
  return Object.freeze({
    redis: options.redis,
    url,
    prefix: validatePrefix(options.prefix ?? DEFAULT_PREFIX),
    allowEvictionPolicy: options.allowEvictionPolicy === true,
    commandTimeoutMs,
    logger: options.logger ?? createConsoleLogger({ component: '@ergon/storage-redis' }, 'warn'),
    partitions,
    defaultPartitions: options.redis?.isCluster === true ? DEFAULT_CLUSTER_PARTITIONS : 1,
    waitForReplicas:
      waitForReplicas === undefined
        ? undefined
        : Object.freeze({ replicas: waitForReplicas.replicas, timeoutMs: waitForReplicas.timeoutMs }),
  });
}
