/**
 * One call to get a connector on a topic.
 *
 * @module
 */
import { MqttConnector, type MqttConnectorOptions } from './connector.js';
import type { MqttServiceOptions } from './options.js';
import { MqttService } from './service.js';

/** Options of {@link createMqttConnector}: the service's and the connector's together. */
export type CreateMqttConnectorOptions = MqttServiceOptions & Omit<MqttConnectorOptions, 'service'>;

/**
 * An {@link MqttConnector} on its own {@link MqttService} (one client, one session).
 *
 * ```ts
 * const orders = createMqttConnector<Order>({
 *   url: 'mqtt://127.0.0.1:1883', topic: 'orders', group: 'fulfilment', clientId: 'fulfilment-1',
 * });
 * ```
 *
 * @throws InvalidArgumentError for bad options.
 */
export function createMqttConnector<P = unknown>(options: CreateMqttConnectorOptions): MqttConnector<P> {
  const { name, maxInFlight, fetchWait, maxDeliveries, maxMessageBytes, format, codec, ...service } = options;
  const connectorOptions = { name, maxInFlight, fetchWait, maxDeliveries, maxMessageBytes, format, codec };
  return new MqttConnector<P>({
    service: new MqttService({ ...service, ...(name === undefined ? {} : { name }) }),
    ...(Object.fromEntries(Object.entries(connectorOptions).filter(([, v]) => v !== undefined)) as Omit<
      MqttConnectorOptions,
      'service'
    >),
  });
}
