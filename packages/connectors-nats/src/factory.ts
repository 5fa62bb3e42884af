/**
 * One call to get a connector on a stream.
 *
 * @module
 */
import { NatsConnector, type NatsConnectorOptions } from './connector.js';
import type { NatsServiceOptions } from './options.js';
import { NatsService } from './service.js';

/** Options of {@link createNatsConnector}: the service's and the connector's together. */
export type CreateNatsConnectorOptions = NatsServiceOptions & Omit<NatsConnectorOptions, 'service'>;

/**
 * A {@link NatsConnector} on its own {@link NatsService} (one connection).
 *
 * ```ts
 * const orders = createNatsConnector<Order>({ url: 'nats://127.0.0.1:4222', stream: 'ORDERS', subject: 'orders' });
 * ```
 *
 * @throws InvalidArgumentError for bad options.
 */
export function createNatsConnector<P = unknown>(options: CreateNatsConnectorOptions): NatsConnector<P> {
  const {
    name,
    maxInFlight,
    fetchWait,
    requeueDelay,
    maxMessageBytes,
    requireId,
    format,
    codec,
    ...service
  } = options;
  const connectorOptions = {
    name,
    maxInFlight,
    fetchWait,
    requeueDelay,
    maxMessageBytes,
    requireId,
    format,
    codec,
  };
  return new NatsConnector<P>({
    service: new NatsService({ ...service, ...(name === undefined ? {} : { name }) }),
    ...(Object.fromEntries(Object.entries(connectorOptions).filter(([, v]) => v !== undefined)) as Omit<
      NatsConnectorOptions,
      'service'
    >),
  });
}
