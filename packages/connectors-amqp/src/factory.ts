/**
 * One call to get a connector on a queue.
 *
 * @module
 */
import { AmqpConnector, type AmqpConnectorOptions } from './connector.js';
import type { AmqpServiceOptions } from './options.js';
import { AmqpService } from './service.js';

/** Options of {@link createAmqpConnector}: the service's and the connector's together. */
export type CreateAmqpConnectorOptions = AmqpServiceOptions & Omit<AmqpConnectorOptions, 'service'>;

/**
 * An {@link AmqpConnector} on its own {@link AmqpService} (one connection).
 *
 * ```ts
 * const orders = createAmqpConnector<Order>({ url: 'amqp://127.0.0.1', queue: 'orders', prefetch: 20 });
 * ```
 *
 * @throws InvalidArgumentError for bad options.
 */
export function createAmqpConnector<P = unknown>(options: CreateAmqpConnectorOptions): AmqpConnector<P> {
  const { name, fetchWait, maxMessageBytes, format, codec, ...serviceOptions } = options;
  return new AmqpConnector<P>({
    service: new AmqpService({ ...serviceOptions, ...(name === undefined ? {} : { name }) }),
    ...(fetchWait === undefined ? {} : { fetchWait }),
    ...(maxMessageBytes === undefined ? {} : { maxMessageBytes }),
    ...(format === undefined ? {} : { format }),
    ...(codec === undefined ? {} : { codec }),
  });
}
