/**
 * The client: schedule flows, look inside them, signal, cancel, and wait for
 * results — from any process that can reach the store.
 *
 * @module
 */
import { type ForkResult, forkFlow } from './fork.js';
import type { ForkOptions } from './fork-plan.js';
import {
  type Clock,
  type Codec,
  type Duration,
  defaultCodec,
  ErgonError,
  ErrorCode,
  FlowNotFoundError,
  type FlowQuery,
  type FlowRecord,
  type FlowStatus,
  InvalidArgumentError,
  isTerminalStatus,
  type RuntimeExecutionLog,
  runtimeStore,
  type StoreInput,
  systemClock,
  toMillis,
  validateId,
} from '@ergon/core';
import { type FlowDefinition, validateName } from './definitions.js';
import { FlowCancelledError, FlowFailedError } from './errors.js';
import { FlowHandle } from './flow-handle.js';
import { type FlowInfo, flowInfo, flowSummary } from './flow-info.js';
import { QueueStates, Queues, waitingFor } from './flow-control.js';
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

/** Options of {@link Client.result}. */
export interface ResultOptions {
  /** Give up waiting after this long (`TIMEOUT`). Default: wait forever. */
  readonly timeout?: Duration;
  /** Stops waiting (`ABORTED`); the flow itself is not affected. */
  readonly signal?: AbortSignal;
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
  async result<O = unknown>(flowId: string, options: ResultOptions = {}): Promise<O> {
    validateId(flowId, 'flow id');
    const deadline =
      options.timeout === undefined
        ? Number.POSITIVE_INFINITY
        : Date.now() + toMillis(options.timeout, 'timeout');
    let wake: (() => void) | undefined;
    const unsubscribe = this.#store.subscribe?.((event) => {
      if (event.type === 'finished' && event.flowId === flowId) wake?.();
    });
    const onAbort = () => wake?.();
    options.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      let pollMs = 5;
      for (;;) {
        const flow = await this.#store.getFlow(flowId);
        if (!flow) throw new FlowNotFoundError(flowId);
        if (isTerminalStatus(flow.status)) return this.#outcome<O>(flow);
        options.signal?.throwIfAborted();
        const remaining = deadline - Date.now();
        if (remaining <= 0) {
          throw new ErgonError(
            ErrorCode.TIMEOUT,
            `flow ${JSON.stringify(flowId)} did not finish in time (status ${flow.status})`,
          );
        }
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, Math.min(pollMs, remaining));
          wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        wake = undefined;
        pollMs = Math.min(pollMs * 2, unsubscribe ? 2000 : 250);
      }
    } finally {
      unsubscribe?.();
      options.signal?.removeEventListener('abort', onAbort);
    }
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

  #outcome<O>(flow: FlowRecord): O {
    if (flow.status === 'completed')
      return (flow.result === undefined ? undefined : this.#codec.decode(flow.result)) as O;
    const cause = flow.error === undefined ? undefined : this.#codec.decode(flow.error);
    if (flow.status === 'cancelled')
      throw cause instanceof FlowCancelledError ? cause : new FlowCancelledError(flow.id);
    throw new FlowFailedError(flow.id, cause);
  }
}

/** Schedules flows; a thin face over {@link Client.schedule} for code that only schedules. */
export class Scheduler {
  readonly #client: Client;
  constructor(options: ClientOptions) {
    this.#client = new Client(options);
  }
  /** See {@link Client.schedule}. */
  schedule<I, O>(
    definition: FlowDefinition<I, O>,
    input: NoInfer<I>,
    options?: ScheduleOptions,
  ): Promise<FlowHandle<O>>;
  /** See {@link Client.schedule}: by type name. */
  schedule<I = unknown, O = unknown>(
    type: string,
    input: I,
    options?: ScheduleOptions,
  ): Promise<FlowHandle<O>>;
  schedule<I, O>(
    definition: FlowDefinition<I, O> | string,
    input: NoInfer<I>,
    options?: ScheduleOptions,
  ): Promise<FlowHandle<O>> {
    return typeof definition === 'string'
      ? this.#client.schedule<I, O>(definition, input, options)
      : this.#client.schedule(definition, input, options);
  }
}
