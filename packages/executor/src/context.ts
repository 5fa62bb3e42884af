/**
 * The API flow code sees (DESIGN §2.2–2.4). Every method is a durable
 * operation: it takes the next position in the flow's history, in call order.
 *
 * @module
 */
import type { Duration } from '@ergon/core';
import type { AnyGraph, DagOptions, DagResultOf, GraphInputOf } from './dag.js';
import type { FlowDefinition, StepDefinition, StepOptions, StepScope } from './definitions.js';

/** Options of {@link FlowContext.waitForSignal}. */
export interface WaitForSignalOptions {
  /** Give up after this long: the call throws `SignalTimeoutError` (recorded, so replay agrees). */
  readonly timeout?: Duration;
}

/** Options of {@link FlowContext.child}. */
export interface ChildOptions {
  /** The child's id. Default `<parent id>/<position>`, so a replayed parent never starts a second child. */
  readonly flowId?: string;
  /** Queue of the child. Default the child definition's queue. */
  readonly queue?: string;
  /** Priority of the child. */
  readonly priority?: number;
}

/** What a flow function receives. */
export interface FlowContext {
  /** This flow instance's id. */
  readonly flowId: string;
  /** This flow's type name. */
  readonly flowType: string;
  /** Fires when the flow is cancelled or its worker loses the lease. */
  readonly signal: AbortSignal;

  /** Runs a defined step durably: recorded once, replayed from history afterwards. */
  step<A extends unknown[], R>(definition: StepDefinition<A, R>, ...args: A): Promise<R>;
  /** Runs an inline function durably, as a step named `name`. */
  run<R>(name: string, fn: (scope: StepScope) => Promise<R> | R, options?: StepOptions): Promise<R>;
  /** Suspends the flow for `duration` (a durable timer; the worker is freed). */
  sleep(duration: Duration): Promise<void>;
  /** Suspends the flow until `time` (a durable timer). */
  sleepUntil(time: Date | number): Promise<void>;
  /** Waits for a signal sent with `client.signal(flowId, name, payload)`; FIFO per name, each consumed once. */
  waitForSignal<T = unknown>(name: string, options?: WaitForSignalOptions): Promise<T>;
  /** Starts a child flow and waits for its result; its failure arrives as `ChildFlowFailedError`. */
  child<I, O>(definition: FlowDefinition<I, O>, input: I, options?: ChildOptions): Promise<O>;
  /** Runs a DAG: every node is a durable step started as soon as its dependencies finish. */
  dag<G extends AnyGraph>(graph: G, input: GraphInputOf<G>, options?: DagOptions): Promise<DagResultOf<G>>;
  /** The current time, recorded: replay sees the same value. */
  now(): Promise<Date>;
  /** A random number in [0, 1), recorded. */
  random(): Promise<number>;
  /** A random UUID, recorded. */
  uuid(): Promise<string>;
  /**
   * Reports the flow's progress: any value the codec can encode, small (at most 16 KiB encoded),
   * such as a fraction in 0..1, `{ current, total }` or a phase name. Stored on the flow record
   * under the run's lease (the latest value wins), read by `client.progress(flowId)`,
   * `client.get` and the dashboard. Callable from flow code and from inside a step's body.
   *
   * Not a durable operation: it takes no position in the history, so calling it more or less
   * often never affects replay. Reports are coalesced: one write is in flight per flow, and a
   * value reported meanwhile replaces any still queued. While the flow replays recorded
   * history (before it reaches the last recorded operation) a report resolves at once without
   * writing: that value was reported when the code first ran.
   *
   * Resolves once a write covering the value (its own or a later one's) is durable. Rejects with
   * `SerializationError` for a value the codec cannot encode and `ProgressTooLargeError`
   * (`PROGRESS_TOO_LARGE`) for one over the limit, both logged as well. A failed write (a lost
   * lease, an unreachable store) abandons the run as any failed write does, and the reports it
   * covered reject with its error. The promise is never an unhandled rejection: a report need
   * not be awaited.
   */
  progress(value: unknown): Promise<void>;
  /**
   * Whether this run takes the new branch of a code change named `id` (Temporal's `patched`).
   * Resolves true when the code reaches it running past the recorded history (a new flow, or an
   * old one beyond where it stopped), and then records a marker at this position, so replays
   * say true as well; resolves false when replaying a history recorded by code without the patch
   * (no position is taken, so that history still lines up). The first answer for an `id` holds
   * for the rest of the run. Use it as `if (await ctx.patched('id')) { new } else { old }`.
   */
  patched(id: string): Promise<boolean>;
  /**
   * The clean-up phase of patch `id`, once no flow that needs the old branch is left: the code
   * keeps only the new branch and calls this where it called `patched`. Histories with or without
   * the marker replay (a marker it writes is one replay may pass over once this call is removed).
   */
  deprecatePatch(id: string): Promise<void>;
}
