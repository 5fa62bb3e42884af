/**
 * `@ergon/connectors-nats`: NATS JetStream as a transaction source and sink.
 * A {@link NatsService} owns the connection (reconnects, acknowledged
 * publishes, the streams and the durable pull consumer); a
 * {@link NatsConnector} turns it into transactions (pulls within an
 * in-flight bound, ack, delayed requeue, dead letters, in-progress acks).
 *
 * @module
 */
export { NatsConnector, type NatsConnectorOptions } from './connector.js';
export {
  DEAD_LETTER_HEADERS,
  type DeadLetterReason,
  describeReason,
  type NatsDeadLetter,
  readDeadLetter,
} from './dead-letters.js';
export { natsErrorCode, redactUrl, toConnectorError } from './errors.js';
export { type CreateNatsConnectorOptions, createNatsConnector } from './factory.js';
export { type BodyFormat, NATS_HEADERS, NATS_METADATA, type OutgoingMessage } from './messages.js';
export type { NatsServiceOptions, ResolvedNatsOptions, StorageKind } from './options.js';
export { NatsService } from './service.js';
