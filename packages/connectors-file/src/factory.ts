/**
 * One call to get a connector on a file.
 *
 * @module
 */
import { JsonLinesConnector, type JsonLinesConnectorOptions } from './connector.js';
import type { JsonLinesFileServiceOptions } from './options.js';
import { JsonLinesFileService } from './service.js';

/** Options of {@link createJsonLinesConnector}: the service's and the connector's together. */
export type CreateJsonLinesConnectorOptions = JsonLinesFileServiceOptions &
  Omit<JsonLinesConnectorOptions, 'service'>;

/**
 * A {@link JsonLinesConnector} on its own {@link JsonLinesFileService}.
 *
 * ```ts
 * const input = createJsonLinesConnector<Order>({ path: 'orders.jsonl' });
 * ```
 */
export function createJsonLinesConnector<P = unknown>(
  options: CreateJsonLinesConnectorOptions,
): JsonLinesConnector<P> {
  const { idField, writeIds, ...serviceOptions } = options;
  const connectorOptions: JsonLinesConnectorOptions = {
    service: new JsonLinesFileService(serviceOptions),
    ...(idField === undefined ? {} : { idField }),
    ...(writeIds === undefined ? {} : { writeIds }),
  };
  return new JsonLinesConnector<P>(connectorOptions);
}
