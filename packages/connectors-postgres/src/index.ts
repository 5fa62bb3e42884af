/**
 * `@ergon/connectors-postgres`: PostgreSQL as a transaction source and sink.
 * A {@link PostgresService} holds the pool and one LISTEN connection; a
 * {@link PostgresQueueConnector} consumes a queue table (claims with
 * `FOR UPDATE SKIP LOCKED`, a visibility timeout, attempts, a dead-letter
 * table, `LISTEN/NOTIFY` wake-ups) and inserts into it; a
 * {@link PostgresOutbox} is a queue written inside your own transaction.
 *
 * @module
 */
export {
  type DeadLetterReason,
  describeReason,
  type PostgresDeadLetter,
} from './dead-letters.js';
export { type CreatePostgresQueueOptions, createPostgresOutbox, createPostgresQueue } from './factory.js';
export {
  DEFAULT_MAX_PAYLOAD_BYTES,
  DEFAULT_POSTGRES_URL,
  type PostgresQueueOptions,
  type PostgresServiceOptions,
  type ResolvedQueueOptions,
  type ResolvedServiceOptions,
} from './options.js';
export { PostgresOutbox, type PostgresOutboxOptions, type TransactionClient } from './outbox.js';
export {
  POSTGRES_METADATA,
  type PostgresDispatchOptions,
  PostgresQueueConnector,
  type PostgresQueueConnectorOptions,
} from './queue.js';
export { PostgresService, type Queryable, type QueryContext } from './service.js';
