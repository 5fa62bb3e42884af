/**
 * `@ergon/connectors-redis-streams`: Redis Streams as a transaction source
 * and sink. A {@link RedisStreamsService} holds the connections (commands,
 * and one blocking reader per consumer); a {@link RedisStreamsConnector}
 * reads a stream through a consumer group (`XREADGROUP`, `XACK`, takeover of
 * a dead consumer's entries with `XAUTOCLAIM`, a dead-letter stream) and
 * adds transactions with `XADD`.
 *
 * @module
 */
export {
  REDIS_METADATA,
  RedisStreamsConnector,
  type RedisStreamsConnectorOptions,
} from './connector.js';
export {
  DEAD_LETTER_FIELDS,
  type DeadLetter,
  type DeadLetterReason,
  describeReason,
} from './dead-letters.js';
export { type CreateRedisStreamsConnectorOptions, createRedisStreamsConnector } from './factory.js';
export { entryTransactionId, streamPrefix } from './ids.js';
export { createJsonCodec, DEFAULT_MAX_PAYLOAD_BYTES, type JsonCodecOptions } from './json-codec.js';
export type { RedisStreamsOptions, ResolvedStreamOptions, TrimOptions } from './options.js';
export { RedisStreamsService } from './service.js';
export {
  DEFAULT_REDIS_URL,
  type RedisStreamsServiceOptions,
  type ResolvedServiceOptions,
} from './service-options.js';
