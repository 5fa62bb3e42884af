/**
 * The client: schedule flows, look inside them, signal, cancel, and wait for
 * results — from any process that can reach the store.
 *
 * @module
 */

import {
  type Clock,
  type Codec,
  type Duration,
  defaultCodec,
  FlowNotFoundError,
  type FlowQuery,
  type FlowStatus,
  InvalidArgumentError,
  type RuntimeExecutionLog,
  runtimeStore,
  type StoreInput,
  systemClock,
  toMillis,
  validateId,
} from '@ergon/core';
import { type FlowDefinition, validateName } from './definitions.js';
import { FlowCancelledError } from './errors.js';
import { QueueStates, Queues, waitingFor } from './flow-control.js';
import { FlowHandle } from './flow-handle.js';
import { type FlowInfo, flowInfo, flowSummary } from './flow-info.js';
import { awaitResult, type ResultOptions } from './flow-result.js';
import { type ForkResult, forkFlow } from './fork.js';
import type { ForkOptions } from './fork-plan.js';
import { cancelChildren } from './internal/cancel.js';
import { followProgress, type ProgressOptions, type ProgressUpdate } from './progress.js';
import { type RetriedFlow, retryFlow } from './retry-flow.js';
import { type ScheduleOptions, scheduleFlow } from './schedule.js';
import { Schedules } from './schedules/schedules.js';
import { readWorkers, type WorkerView } from './worker-view.js';

/** Options of {@link Client}. */
export interface ClientOptions {
  /** The store (raw, or its runtime wrapper). */
  readonly store: StoreInput;
  /** Time source. Default the system clock. */
  readonly clock?: Clock;
  /** Codec of inputs, results and payloads; use the same one in every process. Default the core codec. */
  readonly codec?: Codec;
}

/** Talks to the store on behalf of applications, CLIs and other flows' processes. */
export class Client {
  readonly #store: RuntimeExecutionLog;
  readonly #clock: Clock;
  readonly #codec: Codec;
  /** Cron schedules that start a flow per tick (`schedules.create`, `list`, `pause`, ...). */
  readonly schedules: Schedules;
  /** Queue limits kept in the store: concurrency, rate, per-key concurrency, key weights. */
  readonly queues: Queues;

  constructor(options: ClientOptions) {
    if (!options?.store) throw new InvalidArgumentError('Client needs a store');
    this.#store = runtimeStore(options.store);
    this.#clock = options.clock ?? systemClock;
    this.#codec = options.codec ?? defaultCodec;
    this.schedules = new Schedules({ store: this.#store, clock: this.#clock, codec: this.#codec });
    this.queues = new Queues(this.#store, () => this.#clock.now());
  }

  /** The store this client uses, in its runtime wrapper. */
  get store(): RuntimeExecutionLog {
    return this.#store;
  }

  /**
   * Schedules a flow. Idempotent by `flowId`: an existing id returns a handle
   * on the existing flow. The input is checked by the codec now.
   */
  schedule<I, O>(
    definition: FlowDefinition<I, O>,
    input: NoInfer<I>,
    options?: ScheduleOptions,
  ): Promise<FlowHandle<O>>;
  /**
   * Schedules a flow by its type name, from a process that does not have its
   * code; give the input and output types as `schedule<Order, Receipt>('process-order', order)`.
   * The queue defaults to `'default'`. A worker that knows the type runs it.
   */
  schedule<I = unknown, O = unknown>(
    type: string,
    input: I,
    options?: ScheduleOptions,
  ): Promise<FlowHandle<O>>;
  async schedule<I, O>(
    definition: FlowDefinition<I, O> | string,
    input: NoInfer<I>,
    options: ScheduleOptions = {},
  ): Promise<FlowHandle<O>> {
    const { flow, created } = await scheduleFlow(
      { store: this.#store, clock: this.#clock, codec: this.#codec },
      definition,
      input,
      options,
    );
    return new FlowHandle<O>(this, flow.id, created);
  }

  /**
   * Forks a flow (`fork.ts`): a new flow of the same type whose history is the original's records
   * before `options.at`, with an optionally edited input or recorded results, scheduled to run
   * from there. With `dryRun`, only the plan: what is kept, what runs again, what changed.
   * @throws FlowNotFoundError for an unknown flow; InvalidArgumentError for a position out of
   *   range, an unknown key, or an edited result the fork does not keep.
   */
  fork<I = unknown>(flowId: string, options: ForkOptions<I>): Promise<ForkResult> {
    return forkFlow({ store: this.#store, clock: this.#clock, codec: this.#codec }, flowId, options);
  }

  /** A handle on an existing flow (not checked until used). */
  handle<O = unknown>(flowId: string): FlowHandle<O> {
    return new FlowHandle<O>(this, validateId(flowId, 'flow id'), false);
  }

  /** Everything about a flow. @throws FlowNotFoundError. */
  async get(flowId: string, options: { history?: boolean } = {}): Promise<FlowInfo> {
    const flow = await this.#store.getFlow(validateId(flowId, 'flow id'));
    if (!flow) throw new FlowNotFoundError(flowId);
    const [history, signals] =
      options.history === false
        ? [[], []]
        : await Promise.all([this.#store.getHistory(flowId), this.#store.getSignals(flowId)]);
    const now = this.#clock.now();
    const reason = await waitingFor(flow, new QueueStates(this.#store, now), now);
    return { ...flowInfo(this.#codec, flow, history, signals), waitingFor: reason };
  }

  /** Flows matching the filters, newest first, paged by `cursor`. */
  async list(query: FlowQuery = {}): Promise<{
    /** The flows of this page, newest first (without history and signals). */
    flows: Omit<FlowInfo, 'history' | 'signals'>[];
    /** Pass as `cursor` for the next page; undefined on the last one. */
    nextCursor?: string | undefined;
  }> {
    const page = await this.#store.listFlows(query);
    const now = this.#clock.now();
    const states = new QueueStates(this.#store, now);
    const flows = await Promise.all(
      page.flows.map(async (f) => ({
        ...flowSummary(this.#codec, f),
        waitingFor: await waitingFor(f, states, now),
      })),
    );
    return { flows, nextCursor: page.nextCursor };
  }

  /**
   * Sends a signal. It is stored (buffered until the flow waits for it) and wakes the flow.
   * @throws FlowNotFoundError, FlowFinishedError, SerializationError (payload).
   */
  async signal(flowId: string, name: string, payload?: unknown): Promise<void> {
    validateId(flowId, 'flow id');
    validateName(name, 'signal name');
    const encoded = this.#codec.encode(payload, `payload of signal '${name}'`);
    await this.#store.sendSignal({ flowId, name, payload: encoded, now: this.#clock.now() });
  }

  /**
   * Cancels a flow and, recursively, its unfinished children. A suspended or
   * pending flow is cancelled at once; a running one at its next durable
   * operation (its attempts' signals abort). Returns the status after the request.
   */
  async cancel(flowId: string, reason?: string): Promise<FlowStatus> {
    validateId(flowId, 'flow id');
    const flow = await this.#store.requestCancel({
      flowId,
      error: this.#codec.encode(new FlowCancelledError(flowId, reason)),
      now: this.#clock.now(),
    });
    if (flow.status === 'cancelled') await cancelChildren(this.#store, this.#codec, this.#clock, flowId);
    return flow.status;
  }

  /**
   * Waits for a flow to finish, from any process. Resolves with its result.
   * @throws FlowFailedError (cause: the flow's error), FlowCancelledError, FlowNotFoundError.
   */
  result<O = unknown>(flowId: string, options: ResultOptions = {}): Promise<O> {
    return awaitResult<O>({ store: this.#store, codec: this.#codec }, flowId, options);
  }

  /**
   * Follows a flow's progress (`ctx.progress`): yields its current progress, if it reported
   * any, then each change, and ends once the flow is terminal, after its last progress. Driven
   * by the store's events, with a poll behind them (all there is on a store without events).
   * Changes faster than the loop reads them are coalesced: the latest value wins.
   *
   * ```ts
   * for await (const { value, at } of client.progress(flowId)) console.log(new Date(at), value);
   * ```
   * @throws InvalidArgumentError (`INVALID_ID`) at once for a malformed id; while iterating:
   *   FlowNotFoundError, SerializationError (a value this codec cannot decode), `ABORTED`.
   */
  progress<T = unknown>(flowId: string, options: ProgressOptions = {}): AsyncIterable<ProgressUpdate<T>> {
    validateId(flowId, 'flow id');
    return followProgress<T>({ store: this.#store, codec: this.#codec }, flowId, options);
  }

  /**
   * Schedules a failed or cancelled flow again, as a new flow `<id>.retry-<n>` with
   * the same type, queue, priority and input.
   * @throws FlowNotFoundError, FlowNotRetryableError (`FLOW_NOT_RETRYABLE`).
   */
  retry(flowId: string): Promise<RetriedFlow> {
    return retryFlow(this.#store, flowId, () => this.#clock.now());
  }

  /** The live workers (the store's registry) with the running flows each holds. */
  workers(): Promise<WorkerView[]> {
    return readWorkers(this.#store, this.#clock.now());
  }

  /** Deletes finished flows older than `olderThan`. Returns how many. */
  async purge(options: { olderThan: Duration; limit?: number }): Promise<number> {
    const cutoff = this.#clock.now() - toMillis(options.olderThan, 'olderThan');
    let total = 0;
    const batch = options.limit ?? 1000;
    for (;;) {
      const n = await this.#store.purge({ finishedBefore: cutoff, limit: batch });
      total += n;
      if (n < batch || (options.limit !== undefined && total >= options.limit)) return total;
    }
  }
}
