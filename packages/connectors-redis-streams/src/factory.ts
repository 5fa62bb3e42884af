/**
 * One call to get a connector on a stream.
 *
 * @module
 */
import { RedisStreamsConnector } from './connector.js';
import type { RedisStreamsOptions } from './options.js';
import { RedisStreamsService } from './service.js';
import type { RedisStreamsServiceOptions } from './service-options.js';

/** Options of {@link createRedisStreamsConnector}: the service's and the stream's together. */
export type CreateRedisStreamsConnectorOptions = RedisStreamsOptions &
  Omit<RedisStreamsServiceOptions, 'name'> & {
    /** Name of the service for logs. Default `redis-streams`. */
    readonly serviceName?: string | undefined;
  };

/**
 * A {@link RedisStreamsConnector} on its own {@link RedisStreamsService}
 * (stopped with the connector).
 *
 * ```ts
 * const orders = createRedisStreamsConnector<Order>({ url: 'redis://127.0.0.1:6379', stream: 'orders' });
 * ```
 */
export function createRedisStreamsConnector<P = unknown>(
  options: CreateRedisStreamsConnectorOptions,
): RedisStreamsConnector<P> {
  const { url, redis, commandTimeout, connectionName, logger, serviceName, ...stream } = options;
  const service = new RedisStreamsService({
    url,
    redis,
    commandTimeout,
    connectionName,
    logger,
    name: serviceName,
  });
  return new RedisStreamsConnector<P>({ ...stream, service, stopService: true });
}
