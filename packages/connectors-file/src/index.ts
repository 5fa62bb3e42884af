/**
 * `@ergon/connectors-file`: JSON-lines files as a transaction source and sink.
 * A {@link JsonLinesFileService} speaks the file (reading, durable per-line
 * claims shared by processes, dead-letter file, appends); a
 * {@link JsonLinesConnector} turns it into transactions.
 *
 * @module
 */
export {
  FILE_METADATA,
  JsonLinesConnector,
  type JsonLinesConnectorOptions,
  TRACE_FIELD,
} from './connector.js';
export { type CreateJsonLinesConnectorOptions, createJsonLinesConnector } from './factory.js';
export { filePrefix, lineId } from './ids.js';
export type { JsonLinesFileServiceOptions, ResolvedServiceOptions } from './options.js';
export {
  type DeadLetterEntry,
  type DeadLetterReason,
  JsonLinesFileService,
  type LineOutcome,
  type SourceLine,
} from './service.js';
