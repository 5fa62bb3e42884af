/**
 * `@ergon/tasks`: transaction pipelines. Consumer, producer and hybrid
 * tasks with a per-transaction lifecycle (process → success | exception →
 * ack | nack), policies, dependency injection, two concurrency models (async
 * with a semaphore, threaded on a worker-thread pool with real timeouts),
 * process pools, graceful shutdown, and the durable bridge that runs each
 * transaction as a durable flow.
 *
 * @module
 */
export { type DurableOptions, type DurableWork, durable, isDurableWork } from './durable.js';
export { TaskAbortedError, TaskTimeoutError } from './errors.js';
export {
  ConsumerPolicy,
  type ConsumerPolicyOptions,
  type ConsumerStage,
  type EmptyQueueOptions,
  type FailureAction,
  type LoopMode,
} from './policies/consumer-policy.js';
export {
  ProducerPolicy,
  type ProducerPolicyOptions,
  type ProducerStage,
} from './policies/producer-policy.js';
export {
  type FindTransactionOptions,
  findTransaction,
  type ProcessOneOptions,
  processOne,
} from './process-one.js';
export { loadTask, type TaskReference } from './runner/reference.js';
export { type RunOptions, runTask, startTask, type TaskRun } from './runner/run-task.js';
export type { ConcurrencyModel, Handler, TaskBase, TaskDeclaration, TaskKind } from './task/base.js';
export { type ConsumerOptions, type ConsumerTask, consumer, type ExceptionHandler } from './task/consumer.js';
export type {
  Awaitable,
  ConnectorMap,
  ExceptionDecision,
  PolicyMap,
  ServiceMap,
  Stage,
  StageContext,
  TaskContext,
  WorkerInfo,
} from './task/context.js';
export { type HybridOptions, type HybridTask, hybrid, type Produced } from './task/hybrid.js';
export type {
  RunEndReason,
  RunSummary,
  Settlement,
  TransactionOutcome,
  WorkerSummary,
} from './task/outcome.js';
export { type ProducerOptions, type ProducerTask, producer } from './task/producer.js';
export { isTask, type Task } from './task/task.js';
export { isThreadWork, type ThreadScope, type ThreadWork, threadWork } from './task/thread-work.js';
