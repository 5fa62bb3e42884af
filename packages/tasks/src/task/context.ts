/**
 * Dependency injection (DESIGN §3): a task declares named connectors,
 * services and policies, and every function of the task receives them,
 * typed, in its context (the seed's `self.input_connector`,
 * `self.openai_service`, `self.consumer_policy` become `ctx.connectors.input`,
 * `ctx.services.openai`, `ctx.policies.consumer`).
 *
 * @module
 */
import type { Connector, Logger, Service } from '@ergon/core';

/** Named connectors. Any `Connector<In, Out>` fits. */
export type ConnectorMap = Readonly<Record<string, Connector<unknown, unknown>>>;
/** Named services. */
export type ServiceMap = Readonly<Record<string, Service>>;
/** Named policies: `consumer` / `producer` are read by the runner; others are the task's own. */
export type PolicyMap = Readonly<Record<string, object>>;

/** The stages of a transaction's lifecycle. */
export type Stage = 'fetch' | 'prepare' | 'process' | 'dispatch' | 'success' | 'exception';

/** Which process of a pool runs this code: index 0..count−1. */
export interface WorkerInfo {
  /** 0-based index of this process in the pool. */
  readonly index: number;
  /** Processes in the pool. */
  readonly count: number;
}

/** What every task function receives. */
export interface TaskContext<
  C extends ConnectorMap = ConnectorMap,
  S extends ServiceMap = ServiceMap,
  P extends PolicyMap = PolicyMap,
> {
  /** The task's name. */
  readonly task: string;
  /** The declared connectors, by name. */
  readonly connectors: C;
  /** The declared services, by name. */
  readonly services: S;
  /** The declared policies, by name. */
  readonly policies: P;
  /** The run's logger, with the task name attached. */
  readonly logger: Logger;
  /** This process's place in a process pool (`{ index: 0, count: 1 }` outside one). */
  readonly worker: WorkerInfo;
}

/** What a stage function receives for one attempt. */
export interface StageContext<
  C extends ConnectorMap = ConnectorMap,
  S extends ServiceMap = ServiceMap,
  P extends PolicyMap = PolicyMap,
> extends TaskContext<C, S, P> {
  /** Fires on the attempt's timeout, the transaction's timeout and at the shutdown deadline. Honour it. */
  readonly signal: AbortSignal;
  /** 1 for the first attempt of this stage. */
  readonly attempt: number;
  /** The stage this attempt belongs to. */
  readonly stage: Stage;
}

/** What an exception handler may decide; nothing means the policy's `onFailure`. */
export type ExceptionDecision = 'ack' | 'requeue' | 'dead-letter';

/** A value or a promise of it. */
export type Awaitable<T> = T | Promise<T>;
