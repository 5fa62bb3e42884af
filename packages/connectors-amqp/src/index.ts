/**
 * `@ergon/connectors-amqp`: RabbitMQ queues as a transaction source and
 * sink. An {@link AmqpService} owns the connection (publisher confirms, a
 * consumer with prefetch, the topology, reconnection with backoff); an
 * {@link AmqpConnector} turns it into transactions (ack, requeue, dead
 * letters with reasons, confirmed dispatches).
 *
 * @module
 */
export { AmqpConnector, type AmqpConnectorOptions } from './connector.js';
export {
  type AmqpDeadLetter,
  type DeadLetterReason,
  describeReason,
  readDeadLetter,
} from './dead-letters.js';
export { amqpErrorCode, redactUrl, toConnectorError } from './errors.js';
export { type CreateAmqpConnectorOptions, createAmqpConnector } from './factory.js';
export {
  type BodyFormat,
  DEAD_LETTER_HEADERS,
  ERGON_CONTENT_TYPE,
  JSON_CONTENT_TYPE,
} from './messages.js';
export type {
  AmqpServiceOptions,
  ExchangeType,
  ReconnectOptions,
  ResolvedAmqpOptions,
} from './options.js';
export { AmqpService, type Delivery, type OutgoingMessage, type PublishTarget } from './service.js';
