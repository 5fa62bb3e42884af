/**
 * `@ergon/core`: the types every Ergon package shares. Nothing heavy: no
 * drivers, no OpenTelemetry, no engine.
 *
 * @module
 */
export { type Clock, systemClock } from './clock.js';
export {
  type Codec,
  type CodecOptions,
  type CodecTransform,
  createCodec,
  DEFAULT_MAX_BYTES,
  defaultCodec,
  registerErrorClass,
} from './codec.js';
export type {
  Connector,
  FetchOptions,
  HealthStatus,
  NackOptions,
  Service,
} from './connector.js';
export { type Duration, formatDuration, toMillis } from './duration.js';
export {
  ErgonError,
  type ErgonErrorOptions,
  ErrorCode,
  hasErrorCode,
  InvalidArgumentError,
  isErgonError,
  SerializationError,
  toError,
} from './errors.js';
export { isValidId, MAX_ID_LENGTH, validateId } from './ids.js';
export { createConsoleLogger, type LogFields, type Logger, noopLogger } from './logger.js';
export {
  isRetryableError,
  NonRetryableError,
  type Retryable,
  RetryPolicy,
  type RetryPolicyOptions,
} from './retry.js';
export {
  type CreateTransactionOptions,
  createTransaction,
  isTransaction,
  type Transaction,
  type TransactionInit,
  type TransactionMetadata,
} from './transaction.js';
export { uuidv7 } from './uuid.js';
export { FlowFinishedError, FlowNotFoundError, LeaseLostError, StoreUnavailableError } from './storage/errors.js';
export type {
  ClaimedFlow,
  ClaimRequest,
  ExecutionLog,
  FinishRequest,
  FlowPage,
  FlowQuery,
  LeaseRef,
  NewFlow,
  PurgeRequest,
  RecordResult,
  RenewResult,
  StoreEvent,
  SuspendResult,
} from './storage/execution-log.js';
export { InMemoryExecutionLog } from './storage/in-memory.js';
export {
  DEFAULT_PAGE_SIZE,
  decodeCursor,
  encodeCursor,
  MAX_PAGE_SIZE,
  pageLimit,
  statusFilter,
} from './storage/query.js';
export {
  type FlowRecord,
  type FlowStatus,
  isTerminalStatus,
  type OperationKind,
  type OperationRecord,
  type OperationStatus,
  type SignalRecord,
  TERMINAL_STATUSES,
  type Wait,
} from './storage/records.js';
