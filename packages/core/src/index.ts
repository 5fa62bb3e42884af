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
  type ErrorClass,
  registerErrorClass,
} from './codec.js';
export {
  type Connector,
  type DeadLetterReason,
  describeReason,
  type FetchOptions,
  type HealthStatus,
  type NackOptions,
  type Service,
} from './connector.js';
export { type Duration, formatDuration, toMillis } from './duration.js';
export {
  ErgonError,
  type ErgonErrorOptions,
  ErrorCode,
  hasErrorCode,
  InvalidArgumentError,
  isErgonError,
  isRetryableCode,
  markErrorClass,
  NON_RETRYABLE_CODES,
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
export { claimOfNew } from './storage/create-claim.js';
export {
  FlowFinishedError,
  FlowNotFoundError,
  LeaseLostError,
  ProgressTooLargeError,
  StoreUnavailableError,
} from './storage/errors.js';
export {
  type BatchOutcome,
  type BatchWrite,
  type CancelRequest,
  type ClaimedFlow,
  type ClaimRequest,
  type ConsumeSignalRequest,
  type CreateClaim,
  type CreateFlowResult,
  type CreateOutcome,
  type ExecutionLog,
  type FinishRequest,
  type FinishResult,
  type FinishStatus,
  type FlowPage,
  type FlowQuery,
  type LeaseRef,
  MAX_BATCH_WRITES,
  MAX_CLAIM_LIMIT,
  MAX_PROGRESS_BYTES,
  type NewFlow,
  type NextClaim,
  type NormalizedFlowQuery,
  type ProgressRequest,
  type ProgressResult,
  type PurgeRequest,
  type ReadOptions,
  type RecordRequest,
  type RecordResult,
  type ReleaseRequest,
  type RenewRequest,
  type RenewResult,
  type SendSignalRequest,
  type StoreCallOptions,
  type StoreCapabilities,
  type StoreEvent,
  type StoreListener,
  type SuspendRequest,
  type SuspendResult,
  type WakeFilter,
} from './storage/execution-log.js';
export type {
  FlowImporter,
  ImportedSignal,
  ImportFlowRequest,
  ImportFlowResult,
} from './storage/import-flow.js';
export { importReadyEvent } from './storage/import-flow.js';
export { InMemoryExecutionLog } from './storage/in-memory.js';
export { MemorySchedules } from './storage/in-memory-schedules.js';
export {
  alikeNextClaims,
  asksNext,
  groupNextClaims,
  type NextClaimGroup,
  shareNextClaims,
} from './storage/next-claims.js';
export {
  DEFAULT_PAGE_SIZE,
  decodeCursor,
  encodeCursor,
  MAX_PAGE_SIZE,
  normalizeQuery,
  pageLimit,
} from './storage/query.js';
export {
  type ConfigureQueueRequest,
  type DebounceOption,
  type DedupOption,
  FAIR_SCAN,
  FAIR_STEP,
  type FlowControlStore,
  fairStep,
  hasLimits,
  MAX_KEY_WEIGHT,
  type QueueLimits,
  type QueueState,
  type QueueStateRequest,
  type RateLimit,
  takeKeySlot,
  type WaitingFor,
} from './storage/queues.js';
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
export { checkImportFlow } from './storage/runtime/import-flow.js';
export { RuntimeExecutionLog } from './storage/runtime/runtime-execution-log.js';
export {
  isRuntimeStore,
  type RuntimeOptions,
  runtimeStore,
  type StoreInput,
} from './storage/runtime/runtime-store.js';
export {
  checkScheduleId,
  checkScheduleState,
  isScheduleCatchup,
  MAX_SCHEDULE_ID_LENGTH,
  type RuntimeCall,
  RuntimeSchedules,
} from './storage/runtime/schedules.js';
export {
  type CreateScheduleResult,
  type DeleteScheduleRequest,
  MAX_SCHEDULE_PAGE,
  type NewSchedule,
  type ScheduleCatchup,
  type ScheduleCursor,
  type ScheduleDefinition,
  type ScheduleLog,
  type ScheduleOverlap,
  type ScheduleQuery,
  type ScheduleRecord,
  type ScheduleState,
  type UpdateScheduleRequest,
} from './storage/schedules.js';
export {
  type ImportedFlowColumns,
  importedFlowColumns,
  ownWaits,
  type ScheduleColumns,
  type ScheduleRow,
  scheduleColumns,
  scheduleFromRow,
} from './storage/sql-rows.js';
export type {
  HeartbeatResult,
  RemoveWorkerRequest,
  WorkerHeartbeat,
  WorkerInfo,
  WorkerKind,
  WorkerRecord,
} from './storage/workers.js';
export {
  type CreateTransactionOptions,
  createTransaction,
  isTransaction,
  type Transaction,
  type TransactionInit,
  type TransactionMetadata,
  transactionMetadata,
} from './transaction.js';
export { uuidv7 } from './uuid.js';
export { Waiters } from './waiters.js';
