/**
 * Options of the Redis Streams service (the connections), validated once
 * and frozen.
 *
 * @module
 */
import { createConsoleLogger, type Duration, type Logger, toMillis } from '@ergon/core';
import type { Redis } from 'ioredis';
import { defaultIdentity, invalid, NAME, text } from './internal/validate.js';

/** Default Redis URL when neither `redis` nor `url` is given. */
export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';

/** Options of {@link RedisStreamsService}. */
export interface RedisStreamsServiceOptions {
  /**
   * A Redis URL (`redis://`, `rediss://`); the service opens, configures and
   * closes its own connections. Default `redis://127.0.0.1:6379`. Give
   * either `url` or `redis`.
   */
  readonly url?: string | undefined;
  /**
   * An ioredis client (standalone) for commands. The service duplicates it
   * for each blocking reader and never closes it. Its reconnect settings
   * apply. It must not have a `keyPrefix`.
   */
  readonly redis?: Redis | undefined;
  /** Name for logs and dependency injection. Default `redis-streams`. */
  readonly name?: string | undefined;
  /**
   * Longest a command may take, time queued during a reconnect included,
   * before it fails with `CONNECTOR_ERROR`. Applies to connections made from
   * `url`. Default `'10s'`.
   */
  readonly commandTimeout?: Duration | undefined;
  /**
   * `CLIENT SETNAME` of the service's connections (what `CLIENT LIST` shows).
   * Letters, digits and `_ . : - /`. Default `ergon-<host>-<pid>`.
   */
  readonly connectionName?: string | undefined;
  /** Where connection trouble is reported. Default: JSON lines on stderr, warn and above. */
  readonly logger?: Logger | undefined;
}

/** {@link RedisStreamsServiceOptions} resolved. */
export interface ResolvedServiceOptions {
  /** {@link RedisStreamsServiceOptions.redis}, with its default applied. */
  readonly redis: Redis | undefined;
  /** {@link RedisStreamsServiceOptions.url}, with its default applied. */
  readonly url: string;
  /** {@link RedisStreamsServiceOptions.name}, with its default applied. */
  readonly name: string;
  /** {@link RedisStreamsServiceOptions.commandTimeout}, in ms, with its default applied. */
  readonly commandTimeoutMs: number;
  /** {@link RedisStreamsServiceOptions.connectionName}, with its default applied. */
  readonly connectionName: string;
  /** {@link RedisStreamsServiceOptions.logger}, with its default applied. */
  readonly logger: Logger;
}

/**
 * Validates and resolves service options.
 *
 * @throws InvalidArgumentError (`INVALID_ARGUMENT`, `INVALID_DURATION`) naming the bad option.
 */
export function resolveServiceOptions(options: RedisStreamsServiceOptions = {}): ResolvedServiceOptions {
  const what = 'redis streams service';
  if (typeof options !== 'object' || options === null) invalid(what, 'options must be an object');
  if (options.redis !== undefined && options.url !== undefined)
    invalid(what, 'give either `redis` (a client) or `url`, not both');
  if (options.redis !== undefined) {
    if (typeof options.redis?.duplicate !== 'function' || typeof options.redis?.xadd !== 'function')
      invalid(what, '`redis` must be an ioredis client (Redis)');
    if ((options.redis.options as { keyPrefix?: string }).keyPrefix)
      invalid(what, '`redis` must not have a keyPrefix: name the stream in full');
  }
  const url = text(what, 'url', options.url) ?? DEFAULT_REDIS_URL;
  if (!/^rediss?:\/\//.test(url)) invalid(what, `url must start with redis:// or rediss:// (got ${url})`);
  const commandTimeoutMs = toMillis(options.commandTimeout ?? '10s', 'commandTimeout');
  if (commandTimeoutMs < 10)
    invalid(what, `commandTimeout must be at least 10 ms (got ${commandTimeoutMs} ms)`);
  const connectionName = text(what, 'connectionName', options.connectionName) ?? `ergon-${defaultIdentity()}`;
  if (!NAME.test(connectionName))
    invalid(what, 'connectionName must be 1–128 characters from A–Z a–z 0–9 _ . : / -');
  return Object.freeze({
    redis: options.redis,
    url,
    name: text(what, 'name', options.name) ?? 'redis-streams',
    commandTimeoutMs,
    connectionName,
    logger: options.logger ?? createConsoleLogger({ component: 'redis-streams' }, 'warn'),
  });
}
