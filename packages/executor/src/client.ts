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
  ErgonError,
  ErrorCode,
  FlowNotFoundError,
  type FlowQuery,
  type FlowRecord,
  type FlowStatus,
  InvalidArgumentError,
  isTerminalStatus,
  type OperationKind,
  type OperationStatus,
  type RuntimeExecutionLog,
  runtimeStore,
  type StoreInput,
  systemClock,
  toMillis,
  uuidv7,
  validateId,
  type Wait,
} from '@ergon/core';
import { toFlowDefinition } from './decorators.js';
import { type FlowDefinition, validateName } from './definitions.js';
import { FlowCancelledError, FlowFailedError } from './errors.js';
import { cancelChildren } from './internal/cancel.js';
import { currentTraceContext, endSpan, startScheduleSpan } from './internal/telemetry.js';

/** Options of {@link Client}. */
export interface ClientOptions {
  /** The store (raw, or its runtime wrapper). */
  readonly store: StoreInput;
  readonly clock?: Clock;
  readonly codec?: Codec;
}

/** Options of {@link Client.schedule}. */
export interface ScheduleOptions {
  /** Queue; default the definition's, or `'default'` when scheduling by type name. */
  readonly queue?: string;
  /** Idempotency: scheduling an existing id returns that flow, never a second one. Default a UUIDv7. */
  readonly flowId?: string;
  /** Not before this time. */
  readonly runAt?: Date | number;
  /** Not before this long from now. */
  readonly delay?: Duration;
  /** Higher runs first. Default 0. */
  readonly priority?: number;
  /** W3C `traceparent` to continue. */
  readonly traceContext?: string;
}

/** Options of {@link Client.result}. */
export interface ResultOptions {
  /** Give up waiting after this long (`TIMEOUT`). Default: wait forever. */
  readonly timeout?: Duration;
  readonly signal?: AbortSignal;
}

/** One history entry, decoded for people and tools. */
export interface HistoryEntry {
  readonly position: number;
  readonly key: string;
  readonly kind: OperationKind;
  readonly status: OperationStatus;
  readonly attempts: number;
  readonly startedAt: number;
  readonly finishedAt?: number | undefined;
  readonly durationMs?: number | undefined;
  readonly wakeAt?: number | undefined;
  readonly result?: unknown;
  readonly error?: unknown;
}

/** A flow with its decoded input, result or error, history, waits and buffered signals. */
export interface FlowInfo {
  readonly id: string;
  readonly type: string;
  readonly queue: string;
  readonly status: FlowStatus;
  readonly input: unknown;
  readonly result?: unknown;
  readonly error?: unknown;
  readonly parentId?: string | undefined;
  readonly priority: number;
  readonly runAt?: number | undefined;
  readonly runCount: number;
  readonly leaseOwner?: string | undefined;
  readonly leaseExpiresAt?: number | undefined;
  readonly cancelRequested: boolean;
  readonly waits: readonly Wait[];
  readonly signals: readonly { readonly name: string; readonly sentAt: number }[];
  readonly history: readonly HistoryEntry[];
  readonly createdAt: number;
  readonly updatedAt: number;
  readonly finishedAt?: number | undefined;
}

/** A handle on one flow instance; `O` is its output type. */
export class FlowHandle<O> {
  readonly id: string;
  readonly #client: Client;
  /** True when this call created the flow, false when the id existed. */
  readonly created: boolean;

  constructor(client: Client, id: string, created: boolean) {
    this.#client = client;
    this.id = id;
    this.created = created;
  }

  /** The flow's status now. */
  async status(): Promise<FlowStatus> {
    return (await this.#client.get(this.id, { history: false })).status;
  }

  /** Waits for the flow to finish and returns its result. @throws FlowFailedError, FlowCancelledError. */
  result(options?: ResultOptions): Promise<O> {
    return this.#client.result<O>(this.id, options);
  }

  /** Everything about the flow. */
  get(): Promise<FlowInfo> {
    return this.#client.get(this.id);
  }

  /** Sends a signal to the flow. */
  signal(name: string, payload?: unknown): Promise<void> {
    return this.#client.signal(this.id, name, payload);
  }

  /** Cancels the flow and its children. */
  cancel(reason?: string): Promise<FlowStatus> {
    return this.#client.cancel(this.id, reason);
  }
}

/**
 * What {@link Client.schedule} does, returning the flow as the store holds it and
 * whether this call created it (so the executor need not read it back). Internal:
 * not exported from the package.
 */
export async function scheduleFlow<I, O>(
  deps: { readonly store: RuntimeExecutionLog; readonly clock: Clock; readonly codec: Codec },
  definition: FlowDefinition<I, O> | string,
  input: NoInfer<I>,
  options: ScheduleOptions,
): Promise<{ readonly flow: FlowRecord; readonly created: boolean }> {
  const { store, clock, codec } = deps;
  const def: Pick<FlowDefinition<I, O>, 'name' | 'options' | 'storeInput'> = typeof definition === 'string'
    ? { name: validateName(definition, 'flow type'), options: { queue: 'default' } }
    : (toFlowDefinition(definition) as FlowDefinition<I, O>);
  const flowId = options.flowId === undefined ? uuidv7(clock.now()) : validateId(options.flowId, 'flow id');
  const queue = validateName(options.queue ?? def.options.queue, 'queue name');
  const priority = options.priority ?? 0;
  if (!Number.isInteger(priority))
    throw new InvalidArgumentError(`priority must be an integer (got ${priority})`);
  const now = clock.now();
  let runAt = now;
  if (options.runAt !== undefined) runAt = toTime(options.runAt, 'runAt');
  if (options.delay !== undefined) runAt = now + toMillis(options.delay, 'delay');
  const stored = def.storeInput ? def.storeInput(input) : input;
  const encoded = codec.encode(stored, `input of flow ${flowId}`);
  // An `ergon.schedule` span roots the flow's trace (under the caller's span,
  // if any); every run of the flow, on any worker, continues it.
  const scheduled = startScheduleSpan(flowId, def.name);
  try {
    const result = await store.createFlow({
      id: flowId,
      type: def.name,
      queue,
      input: encoded,
      priority,
      runAt,
      traceContext: options.traceContext ?? scheduled.traceContext ?? currentTraceContext(),
      now,
    });
    endSpan(scheduled.span, result.created ? 'created' : 'existed');
    return result;
  } catch (error) {
    endSpan(scheduled.span, 'failed', error);
    throw error;
  }
}

/** Talks to the store on behalf of applications, CLIs and other flows' processes. */
export class Client {
  readonly #store: RuntimeExecutionLog;
  readonly #clock: Clock;
  readonly #codec: Codec;

  constructor(options: ClientOptions) {
    if (!options?.store) throw new InvalidArgumentError('Client needs a store');
    this.#store = runtimeStore(options.store);
    this.#clock = options.clock ?? systemClock;
    this.#codec = options.codec ?? defaultCodec;
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
    return {
      ...this.#summary(flow),
      signals: signals.map((s) => ({ name: s.name, sentAt: s.sentAt })),
      history: history.map((h) => ({
        position: h.position,
        key: h.key,
        kind: h.kind,
        status: h.status,
        attempts: h.attempts,
        startedAt: h.startedAt,
        finishedAt: h.finishedAt,
        durationMs: h.finishedAt === undefined ? undefined : h.finishedAt - h.startedAt,
        wakeAt: h.wakeAt,
        result: this.#safeDecode(h.result),
        error: this.#safeDecode(h.error),
      })),
    };
  }

  /** Flows matching the filters, newest first, paged by `cursor`. */
  async list(
    query: FlowQuery = {},
  ): Promise<{ flows: Omit<FlowInfo, 'history' | 'signals'>[]; nextCursor?: string | undefined }> {
    const page = await this.#store.listFlows(query);
    return { flows: page.flows.map((f) => this.#summary(f)), nextCursor: page.nextCursor };
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

  #summary(flow: FlowRecord): Omit<FlowInfo, 'history' | 'signals'> {
    return {
      id: flow.id,
      type: flow.type,
      queue: flow.queue,
      status: flow.status,
      input: this.#safeDecode(flow.input),
      result: this.#safeDecode(flow.result),
      error: this.#safeDecode(flow.error),
      parentId: flow.parentId,
      priority: flow.priority,
      runAt: flow.runAt,
      runCount: flow.runCount,
      leaseOwner: flow.leaseOwner,
      leaseExpiresAt: flow.leaseExpiresAt,
      cancelRequested: flow.cancelRequested,
      waits: flow.waits,
      createdAt: flow.createdAt,
      updatedAt: flow.updatedAt,
      finishedAt: flow.finishedAt,
    };
  }

  /** Decodes for display; unreadable data shows as a marker instead of failing the whole view. */
  #safeDecode(text: string | undefined): unknown {
    if (text === undefined) return undefined;
    try {
      return this.#codec.decode(text);
    } catch {
      return { unreadable: text.length > 200 ? `${text.slice(0, 200)}…` : text };
    }
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

/** A `Date` or epoch ms as epoch ms. @throws InvalidArgumentError for anything else. */
function toTime(value: unknown, what: string): number {
  const ms = value instanceof Date ? value.getTime() : value;
  if (typeof ms !== 'number' || !Number.isFinite(ms)) {
    throw new InvalidArgumentError(
      `${what} must be a valid Date or epoch milliseconds (got ${typeof value === 'string' ? JSON.stringify(value) : String(value)})`,
    );
  }
  return ms;
}
