/**
 * One call to get a queue or an outbox on its own service.
 *
 * @module
 */
import type { PostgresQueueOptions, PostgresServiceOptions } from './options.js';
import { PostgresOutbox } from './outbox.js';
import { PostgresQueueConnector } from './queue.js';
import { PostgresService } from './service.js';

/** Options of {@link createPostgresQueue} and {@link createPostgresOutbox}: the service's and the queue's together. */
export type CreatePostgresQueueOptions = PostgresQueueOptions &
  Omit<PostgresServiceOptions, 'name'> & {
    /** Name of the service for logs. Default `postgres`. */
    readonly serviceName?: string | undefined;
  };

function split(options: CreatePostgresQueueOptions) {
  const { url, pool, applicationName, maxConnections, connectTimeout, logger, serviceName, ...queue } =
    options ?? {};
  const service = new PostgresService({
    url,
    pool,
    applicationName,
    maxConnections,
    connectTimeout,
    logger,
    name: serviceName,
  });
  return { ...queue, service, stopService: true };
}

/**
 * A {@link PostgresQueueConnector} on its own {@link PostgresService} (stopped with the connector).
 *
 * ```ts
 * const orders = createPostgresQueue<Order>({ url: 'postgres://postgres@127.0.0.1:5432/shop', table: 'orders' });
 * ```
 */
export function createPostgresQueue<P = unknown>(
  options: CreatePostgresQueueOptions = {},
): PostgresQueueConnector<P> {
  return new PostgresQueueConnector<P>(split(options));
}

/**
 * A {@link PostgresOutbox} on its own {@link PostgresService} (stopped with
 * it). Give it your application's `pool` so `withTransaction` and your own
 * transactions share connections.
 */
export function createPostgresOutbox<P = unknown>(
  options: CreatePostgresQueueOptions = {},
): PostgresOutbox<P> {
  return new PostgresOutbox<P>(split(options));
}
