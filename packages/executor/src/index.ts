/**
 * `@ergon/executor`: the durable engine. Flows of checkpointed steps that
 * survive crashes, with retries, timers, signals, child flows and DAGs, run by
 * workers under leases on any `ExecutionLog` store.
 *
 * @module
 */
export { Client, type ClientOptions } from './client.js';
export type { ChildOptions, FlowContext, WaitForSignalOptions } from './context.js';
export type { AnyGraph, DagOptions, DagResultOf, GraphInputOf } from './dag.js';
export {
  type DagHistoryEntry,
  type DagRun,
  type DagRunNode,
  type DagRunsOptions,
  dagRunsOf,
} from './dag-history.js';
export {
  type DecoratedMethod,
  Flow,
  type FlowClass,
  type FlowDecoratorOptions,
  type FlowSource,
  flowClass,
  flowClassWithEntry,
  flowContext,
  Step,
  type StepDecoratorOptions,
  toFlowDefinition,
} from './decorators.js';
export {
  type AnyFlowDefinition,
  type FlowDefinition,
  type FlowInput,
  type FlowOptions,
  type FlowOutput,
  flow,
  type NormalizedStepOptions,
  type StepArgs,
  type StepDefinition,
  type StepFunction,
  type StepOptions,
  type StepScope,
  step,
} from './definitions.js';
export {
  ChildFlowFailedError,
  FlowCancelledError,
  FlowFailedError,
  type NonDeterminismDetails,
  NonDeterminismError,
  SignalTimeoutError,
  StepTimeoutError,
  UnknownFlowTypeError,
  VersionNotServedError,
} from './errors.js';
export { Executor, type ExecutorOptions, type FlowOutcome } from './executor.js';
export { type FlowControlOptions, type QueueLimitsInput, Queues } from './flow-control.js';
export {
  FLOW_EXPORT_FORMAT,
  type FlowExport,
  type ImportReport,
  importFlows,
  parseExport,
  parseExportLine,
  readFlows,
  toExportLine,
} from './flow-export.js';
export { FlowHandle } from './flow-handle.js';
export type { FlowInfo, HistoryEntry } from './flow-info.js';
export type { ResultOptions } from './flow-result.js';
export type { ForkResult } from './fork.js';
export type { ForkChange, ForkOptions, ForkPlan, ForkStep } from './fork-plan.js';
export {
  HOST as WORKER_HOST,
  Presence as WorkerPresence,
  type PresenceOptions as WorkerPresenceOptions,
} from './internal/presence.js';
export type { RunOutcome } from './internal/run-control.js';
export type { ProgressOptions, ProgressUpdate } from './progress.js';
export {
  type FlowCheck,
  type ReplayCheckOptions,
  type ReplayCheckReport,
  replayCheck,
} from './replay-check.js';
export { FlowNotRetryableError, type RetriedFlow } from './retry-flow.js';
export type { ScheduleOptions } from './schedule.js';
export { Scheduler } from './scheduler.js';
export {
  InvalidScheduleError,
  ScheduleExistsError,
  ScheduleNotFoundError,
} from './schedules/errors.js';
export type { ScheduleInfo } from './schedules/info.js';
export {
  type CreateScheduleOptions,
  type ListSchedulesOptions,
  Schedules,
  type UpdateScheduleOptions,
} from './schedules/schedules.js';
export { SCHEDULE_GRACE_MS, tickFlowId } from './schedules/ticks.js';
export {
  type ConnectSignalSourceOptions,
  connectSignalSource,
  type IncomingSignal,
  type SignalSource,
} from './signal-source.js';
export { type StopOptions, Worker, type WorkerOptions } from './worker.js';
export type { HeldFlow, WorkerView } from './worker-view.js';
