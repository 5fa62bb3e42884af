/**
 * The engine as the simulation sees it: a small interface the caller builds
 * from the engine under test (`@ergon/testing` cannot depend on
 * `@ergon/executor`, which depends on it). {@link executorEngine} builds one
 * from the executor's own exports.
 *
 * @module
 */
import type { Clock, ExecutionLog } from '@ergon/core';
import type { FlowScript } from './script.js';

/** What a simulated worker is started with. */
export interface SimWorkerOptions {
  /** Unique per incarnation (`w0`, then `w0.1` after a restart). */
  readonly id: string;
  /** This worker's fault-injecting store. */
  readonly store: ExecutionLog;
  /** The simulated clock. */
  readonly clock: Clock;
  /** The one queue of this seed's flows (the store may hold other seeds' flows). */
  readonly queue: string;
  /** Lease length, in ms. */
  readonly leaseMs: number;
  /** Flows it runs at once. */
  readonly concurrency: number;
  /** Retry backoffs at least this long become durable timers. */
  readonly durableBackoffMs: number;
  /** Longest idle sleep (simulated time) between claims. */
  readonly maxIdleMs: number;
  /**
   * Called each time a step or DAG node body starts (for re-run counts), with
   * the attempt (0 for a DAG node, which is not told its attempt).
   */
  readonly onStepStart?: ((flowId: string, key: string, attempt: number) => void) | undefined;
}

/** What a simulated client is made with. */
export interface SimClientOptions {
  /** The client's fault-injecting store. */
  readonly store: ExecutionLog;
  /** The simulated clock. */
  readonly clock: Clock;
  /** The one queue of this seed's flows. */
  readonly queue: string;
  /** The lease of a flow the client runs itself (`execute`), in ms. */
  readonly leaseMs: number;
  /** Retry backoffs at least this long become durable timers, in flows the client runs. */
  readonly durableBackoffMs: number;
  /** As {@link SimWorkerOptions.onStepStart}, for the step bodies the client runs. */
  readonly onStepStart?: ((flowId: string, key: string, attempt: number) => void) | undefined;
}

/** A running simulated worker. */
export interface SimWorker {
  /**
   * Stops claiming and waits for in-flight runs. Resolves once the runs are
   * done: the runner keeps the simulated clock moving meanwhile.
   */
  stop(): Promise<void>;
}

/** The client side of the engine, on the client's fault-injecting store. */
export interface SimClient {
  /** Schedules a top-level flow running `script` in the seed's queue (idempotent by id). */
  schedule(flowId: string, script: FlowScript): Promise<void>;
  /**
   * Optional: creates the flow (idempotent by id) and runs it in the client's process until it
   * finishes or suspends, as `executor.execute` does: the create claims the new flow in the same
   * store call. Engines without it have their flows scheduled instead.
   */
  execute?(flowId: string, script: FlowScript): Promise<void>;
  /** Sends a signal to a flow. */
  signal(flowId: string, name: string, payload: string): Promise<void>;
  /** Cancels a flow. */
  cancel(flowId: string): Promise<void>;
}

/** The engine under test. */
export interface SimEngine {
  /** Shown in reports. */
  readonly name: string;
  /** Starts a worker of the engine under test. */
  startWorker(options: SimWorkerOptions): SimWorker;
  /** A client of the engine under test on a store. */
  client(options: SimClientOptions): SimClient;
}
