/**
 * `@ergon/connectors-s3`: objects in S3 (or any S3-compatible store) as a
 * transaction source and sink. An {@link S3Service} holds the client and
 * the bucket; an {@link S3Connector} reads the objects under a prefix as
 * transactions (JSON, JSON lines, raw bytes), claims them with lease markers
 * that survive a dead consumer, moves finished ones under a done prefix and
 * refused ones under a dead-letter prefix with the reason, and writes
 * dispatched transactions as objects.
 *
 * @module
 */
export { S3_METADATA, S3Connector, type S3ConnectorServiceOptions } from './connector.js';
export {
  DEAD_LETTER_METADATA,
  type DeadLetterReason,
  describeReason,
  type S3DeadLetter,
} from './dead-letters.js';
export { type CreateS3ConnectorOptions, createS3Connector } from './factory.js';
export { CONTENT_TYPES, type DecodedEntry, decodeObject, encodePayload } from './formats.js';
export {
  type AckAction,
  type ClaimMode,
  DEFAULT_MAX_OBJECT_BYTES,
  type ObjectFormat,
  type ResolvedConnectorOptions,
  type ResolvedServiceOptions,
  type S3ConnectorOptions,
  type S3Credentials,
  type S3ServiceOptions,
} from './options.js';
export { type ListedObject, type PutOptions, type ReadObject, S3Service } from './service.js';
