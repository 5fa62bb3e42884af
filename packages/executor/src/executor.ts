/**
 * The executor runs one flow instance in this process, now: the seed's
 * `Executor::new(id, flow, storage).execute(|f| f.process())`. A flow that
 * suspends is resumed later by any `Worker` that knows its type (or by
 * `executor.resume()` here).
 *
 * @module
 */
import {
  type ClaimedFlow,
  type Clock,
  type Codec,
  type Duration,
  defaultCodec,
  FlowNotFoundError,
  type FlowRecord,
  InvalidArgumentError,
  isTerminalStatus,
  type Logger,
  noopLogger,
  type RuntimeExecutionLog,
  runtimeStore,
  type StoreInput,
  systemClock,
  toMillis,
  uuidv7,
  validateId,
} from '@ergon/core';
import { type FlowSource, flowClassWithEntry, toFlowDefinition } from './decorators.js';
import type { AnyFlowDefinition, FlowDefinition } from './definitions.js';
import { UnknownFlowTypeError } from './errors.js';
import { LeaseKeeper } from './internal/lease-keeper.js';
import { runClaimed } from './internal/runner.js';
import { type FlowOutcome, recordedOutcome } from './outcome.js';
import { type ScheduleOptions, scheduleFlow } from './schedule.js';

export type { FlowOutcome } from './outcome.js';

/** Options of {@link Executor}. */
export interface ExecutorOptions {
  /** The store (raw, or its runtime wrapper). */
  readonly store: StoreInput;
  /** Flow types that `resume()` may run. */
  readonly flows?: readonly FlowSource[];
  /** Time source. Default the system clock. */
  readonly clock?: Clock;
  /** Codec of inputs, results and payloads; use the same one in every process. Default the core codec. */
  readonly codec?: Codec;
  /** Where the engine logs. Default: nowhere. */
  readonly logger?: Logger;
  /** Default `'15s'`. */
  readonly lease?: Duration;
  /** Retry backoffs at least this long suspend the flow. Default `'5s'`. */
  readonly durableBackoff?: Duration;
}

/** Runs single flows in process. */
export class Executor {
  readonly #options: ExecutorOptions;
  readonly #flows = new Map<string, AnyFlowDefinition>();
  readonly #instance: { flowId: string; value: object } | undefined;
  readonly #deps: { readonly store: RuntimeExecutionLog; readonly clock: Clock; readonly codec: Codec };
  /** The lease owner this executor's claims record. */
  readonly #workerId = `executor-${process.pid}`;
  #lease: number | undefined;
  #backoff: number | undefined;
  #leases: LeaseKeeper | undefined;

  /** The seed's form: one flow instance of a decorated class, run with `execute(f => f.process())`. */
  constructor(flowId: string, flow: object, store: StoreInput, options?: Omit<ExecutorOptions, 'store'>);
  /** The general form: `execute(definition, input, { flowId })` and `resume(flowId)`. */
  constructor(options: ExecutorOptions);
  constructor(
    first: string | ExecutorOptions,
    flow?: object,
    store?: StoreInput,
    options: Omit<ExecutorOptions, 'store'> = {},
  ) {
    if (typeof first === 'string') {
      if (!flow || !store)
        throw new InvalidArgumentError('new Executor(flowId, flow, store) needs all three');
      this.#instance = { flowId: validateId(first, 'flow id'), value: flow };
      this.#options = { ...options, store };
    } else {
      this.#instance = undefined;
      this.#options = first;
    }
    for (const source of this.#options.flows ?? []) {
      const def = toFlowDefinition(source);
      this.#flows.set(def.name, def);
    }
    if (!this.#options?.store) throw new InvalidArgumentError('Executor needs a store');
    this.#deps = {
      store: runtimeStore(this.#options.store, { logger: this.#options.logger }),
      clock: this.#options.clock ?? systemClock,
      codec: this.#options.codec ?? defaultCodec,
    };
  }

  /** Runs the instance given to the constructor, entering through `entry`. */
  execute<T extends object, O>(entry: (flow: T) => Promise<O>): Promise<FlowOutcome<O>>;
  /** Schedules (idempotently) and runs a flow now. */
  execute<I, O>(
    definition: FlowDefinition<I, O>,
    input: I,
    options?: ScheduleOptions,
  ): Promise<FlowOutcome<O>>;
  async execute<I, O>(
    first: FlowDefinition<I, O> | ((flow: object) => Promise<O>),
    input?: I,
    options: ScheduleOptions = {},
  ): Promise<FlowOutcome<O>> {
    if (typeof first === 'function' && !(first as { kind?: string }).kind) {
      if (!this.#instance)
        throw new InvalidArgumentError('execute(entry) needs new Executor(flowId, flow, store)');
      const { flowId, value } = this.#instance;
      const definition = flowClassWithEntry(
        value.constructor as new () => object,
        first as (flow: object) => Promise<O>,
      );
      return this.#executeDefinition(definition, value, { ...options, flowId });
    }
    return this.#executeDefinition(first as FlowDefinition<I, O>, input as I, options);
  }

  /**
   * Claims the flow by id (if ready) and runs it until it finishes or suspends.
   * A flow that already finished returns its recorded outcome without running;
   * one that cannot run now says why (see {@link FlowOutcome}).
   * @throws FlowNotFoundError, or UnknownFlowTypeError when an unfinished flow's type is not in `flows`
   *   (the flow is left untouched).
   */
  async resume<O = unknown>(flowId: string): Promise<FlowOutcome<O>> {
    return this.#run<O>(validateId(flowId, 'flow id'), this.#flows);
  }

  async #executeDefinition<I, O>(
    definition: FlowDefinition<I, O>,
    input: I,
    options: ScheduleOptions,
  ): Promise<FlowOutcome<O>> {
    // A flow this call creates comes back claimed (one store call for both) when it is due now.
    const { flow, created, claimed } = await scheduleFlow(
      this.#deps,
      definition,
      input,
      { ...options, flowId: options.flowId ?? uuidv7() },
      { workerId: this.#workerId, leaseMs: this.#leaseMs },
    );
    // The executor's own flows serve as they are when they hold this definition (the bridge's case).
    const flows =
      this.#flows.get(definition.name) === definition
        ? this.#flows
        : new Map(this.#flows).set(definition.name, definition as AnyFlowDefinition);
    if (claimed) return this.#runClaimed<O>(flows, claimed);
    // A flow this call created is as the store returned it; an existing one is read afresh.
    return this.#run<O>(flow.id, flows, created ? flow : undefined);
  }

  /** The lease this executor takes on a flow it runs (parsed once, at first use). */
  get #leaseMs(): number {
    this.#lease ??= toMillis(this.#options.lease ?? '15s', 'lease');
    return this.#lease;
  }

  /** How long a step's retry may wait in memory before the flow suspends instead (parsed once). */
  get #durableBackoffMs(): number {
    this.#backoff ??= toMillis(this.#options.durableBackoff ?? '5s', 'durableBackoff');
    return this.#backoff;
  }

  async #run<O>(
    flowId: string,
    flows: ReadonlyMap<string, AnyFlowDefinition>,
    known?: FlowRecord,
  ): Promise<FlowOutcome<O>> {
    const { store, clock, codec } = this.#deps;
    const workerId = this.#workerId;
    const leaseMs = this.#leaseMs;
    let flow = known ?? (await store.getFlow(flowId));
    if (!flow) throw new FlowNotFoundError(flowId);
    // A finished flow reports its recorded outcome: nothing runs, so its code is not needed.
    if (isTerminalStatus(flow.status)) return recordedOutcome<O>(flow, codec, clock.now());
    if (!flows.has(flow.type)) throw new UnknownFlowTypeError(flow.type, [...flows.keys()]);
    let claimed: ClaimedFlow | undefined;
    // A flow that was claimable when read but not when claimed lost a race; look again (bounded).
    for (let tries = 0; !claimed && tries < 3; tries++) {
      [claimed] = await store.claim({
        workerId,
        types: [flow.type],
        queues: [flow.queue],
        limit: 1,
        leaseMs,
        now: clock.now(),
        flowId,
      });
      if (claimed) break;
      flow = (await store.getFlow(flowId)) ?? flow;
      if (!claimableNow(flow, clock.now())) return recordedOutcome<O>(flow, codec, clock.now());
    }
    if (!claimed) return recordedOutcome<O>(flow, codec, clock.now());
    return this.#runClaimed<O>(flows, claimed);
  }

  /** Runs a flow this executor holds until it finishes or suspends. */
  async #runClaimed<O>(
    flows: ReadonlyMap<string, AnyFlowDefinition>,
    claimed: ClaimedFlow,
  ): Promise<FlowOutcome<O>> {
    const { store, clock, codec } = this.#deps;
    const flowId = claimed.flow.id;
    const leaseMs = this.#leaseMs;
    const heartbeatMs = Math.max(1, Math.floor(leaseMs / 3));
    this.#leases ??= new LeaseKeeper(heartbeatMs);
    const outcome = await runClaimed(
      {
        store,
        codec,
        clock,
        logger: this.#options.logger ?? noopLogger,
        flows,
        workerId: this.#workerId,
        leaseMs,
        heartbeatMs,
        leases: this.#leases,
        durableBackoffMs: this.#durableBackoffMs,
      },
      claimed,
    );
    switch (outcome.status) {
      case 'completed':
        return { status: 'completed', result: outcome.result as O, replayed: false };
      case 'failed':
        return { status: 'failed', error: outcome.error, replayed: false };
      case 'suspended':
        return { status: 'suspended', waits: outcome.waits };
      case 'abandoned':
        return { status: 'abandoned', error: outcome.error };
      case 'cancelled': {
        const after = await store.getFlow(flowId);
        return after
          ? recordedOutcome<O>(after, codec, clock.now(), false)
          : { status: 'cancelled', error: undefined, replayed: false };
      }
    }
  }
}

/** True when a claim of `flow` could succeed now. */
function claimableNow(flow: FlowRecord, now: number): boolean {
  if (flow.status === 'pending' || flow.status === 'suspended')
    return flow.runAt !== undefined && flow.runAt <= now;
  return flow.status === 'running' && (flow.leaseExpiresAt ?? 0) <= now;
}
