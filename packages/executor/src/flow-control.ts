/**
 * Flow control from the engine's side (core's `queues.ts` has the rules each
 * store keeps): the schedule options that carry a concurrency key,
 * de-duplication, debounce or a singleton key to the store; queue limits set
 * through `client.queues`; and why a flow that could run is not running yet.
 *
 * @module
 */
import {
  type Codec,
  type Duration,
  type FlowRecord,
  InvalidArgumentError,
  type NewFlow,
  type QueueLimits,
  type QueueState,
  type RuntimeExecutionLog,
  toMillis,
  type WaitingFor,
} from '@ergon/core';
import { type AnyFlowDefinition, validateName } from './definitions.js';

/** The flow-control options of a schedule call. */
export interface FlowControlOptions {
  /**
   * The key whose running flows are limited (the queue's `keyConcurrency`, or `concurrencyLimit`)
   * and whose queued flows are served fairly against other keys' (a tenant, a customer, an
   * account). Default: the flow definition's `concurrencyKey(input)`, if it has one.
   */
  readonly concurrencyKey?: string;
  /** At most this many flows of the queue with this key run at once. Default: the definition's, or the queue's. */
  readonly concurrencyLimit?: number;
  /**
   * De-duplication: while a flow scheduled with this key (per flow type) was created less than
   * `for` ago, scheduling returns that flow instead of a new one. Without `for`: while that flow
   * is not finished.
   */
  readonly dedup?: {
    /** The de-duplication key (scoped to the flow type). */
    readonly key: string;
    /** How long after creation the key holds; without it, until the flow finishes. */
    readonly for?: Duration;
  };
  /**
   * Debounce: a burst of schedule calls with this key (per flow type) becomes one run, with the
   * last call's input, `delay` after the last call; never later than `maxWait` after the first.
   */
  readonly debounce?: {
    /** The debounce key (scoped to the flow type): calls with one key gather into one run. */
    readonly key: string;
    /** The quiet period after the last call before the run starts. */
    readonly delay: Duration;
    /** The longest a run waits from the first call, however calls keep coming. */
    readonly maxWait?: Duration;
  };
  /**
   * One running flow per key. `mode: 'wait'` (the default): others wait their turn (a
   * concurrency key with a limit of 1). `mode: 'skip'`: while one with the key is not finished,
   * scheduling returns it and starts nothing (a dedup key without a period).
   */
  readonly singleton?: {
    /** The singleton key (scoped to the flow type): one running flow per key. */
    readonly key: string;
    /** `wait` (default): others queue behind it; `skip`: scheduling returns the running one. */
    readonly mode?: 'wait' | 'skip';
  };
}

/** The fields of a new flow the options (and the definition's key function) give. */
export function flowControlFields(
  type: string,
  options: FlowControlOptions,
  fromDefinition: {
    readonly concurrencyKey?: string | undefined;
    readonly concurrencyLimit?: number | undefined;
  },
): Pick<NewFlow, 'concurrencyKey' | 'concurrencyLimit' | 'dedup' | 'debounce'> {
  let concurrencyKey = options.concurrencyKey ?? fromDefinition.concurrencyKey;
  let concurrencyLimit = options.concurrencyLimit ?? fromDefinition.concurrencyLimit;
  let dedup: NewFlow['dedup'];
  if (options.dedup) {
    const forMs = options.dedup.for === undefined ? undefined : toMillis(options.dedup.for, 'dedup for');
    dedup = { key: `${type}:${options.dedup.key}`, forMs };
  }
  if (options.singleton) {
    const { key, mode = 'wait' } = options.singleton;
    if (mode === 'skip') {
      if (dedup) throw new InvalidArgumentError('a singleton that skips is a dedup key: give one of them');
      dedup = { key: `${type}:singleton:${key}` };
    } else if (mode === 'wait') {
      concurrencyKey = key;
      concurrencyLimit = 1;
    } else {
      throw new InvalidArgumentError(`singleton mode must be 'wait' or 'skip' (got ${JSON.stringify(mode)})`);
    }
  }
  const debounce = options.debounce && {
    key: `${type}:${options.debounce.key}`,
    delayMs: toMillis(options.debounce.delay, 'debounce delay'),
    maxWaitMs:
      options.debounce.maxWait === undefined
        ? undefined
        : toMillis(options.debounce.maxWait, 'debounce maxWait'),
  };
  return { concurrencyKey, concurrencyLimit, dedup, debounce };
}

/** The key a definition's `concurrencyKey` function gives for an input, checked. */
export function keyOfInput<I>(
  name: string,
  keyOf: ((input: I) => string) | undefined,
  input: I,
): string | undefined {
  if (!keyOf) return undefined;
  const key = keyOf(input);
  if (typeof key !== 'string' || key.length === 0) {
    throw new InvalidArgumentError(
      `flow '${name}' concurrencyKey(input) must return a non-empty string (got ${String(key)})`,
    );
  }
  return key;
}

/** Reads queue states for {@link waitingFor}, once per queue and key within one call. */
export class QueueStates {
  readonly #store: RuntimeExecutionLog;
  readonly #now: number;
  readonly #cache = new Map<string, Promise<QueueState>>();

  constructor(store: RuntimeExecutionLog, now: number) {
    this.#store = store;
    this.#now = now;
  }

  /** The queue's state, with the key's running count. */
  get(queue: string, key: string | undefined): Promise<QueueState> {
    const id = JSON.stringify([queue, key ?? null]);
    let state = this.#cache.get(id);
    if (!state) {
      state = this.#store.getQueueState({ queue, key, now: this.#now });
      this.#cache.set(id, state);
    }
    return state;
  }
}

/**
 * Why a flow that could run by time is not running: a debounce still gathering calls, or the
 * limit it waits on now. Undefined when it runs, is finished, waits on its own timers, signals
 * or children, or waits only for a free worker.
 */
export async function waitingFor(
  flow: FlowRecord,
  states: QueueStates,
  now: number,
): Promise<WaitingFor | undefined> {
  if (flow.status !== 'pending' && flow.status !== 'suspended') return undefined;
  if (flow.debounceKey !== undefined && flow.runCount === 0 && (flow.runAt ?? 0) > now) return 'debounce';
  if (flow.runAt === undefined || flow.runAt > now) return undefined;
  const state = await states.get(flow.queue, flow.concurrencyKey);
  const limits = state.limits;
  if (limits?.concurrency !== undefined && state.running >= limits.concurrency) return 'queue-concurrency';
  if (limits?.rate !== undefined && state.recentStarts >= limits.rate.limit) return 'rate-limit';
  const keyLimit = flow.concurrencyLimit ?? limits?.keyConcurrency;
  if (flow.concurrencyKey !== undefined && keyLimit !== undefined && state.keyRunning >= keyLimit) {
    return 'key-concurrency';
  }
  return undefined;
}

/** Queue limits, kept in the store so every worker claims within them (`client.queues`). */
export class Queues {
  readonly #store: RuntimeExecutionLog;
  readonly #now: () => number;

  constructor(store: RuntimeExecutionLog, now: () => number) {
    this.#store = store;
    this.#now = now;
  }

  /**
   * Sets a queue's limits (replacing earlier ones), or removes them with `null`. Every worker's
   * next claim keeps them.
   *
   * ```ts
   * await client.queues.configure('emails', { concurrency: 10, rate: { limit: 100, period: '1m' } });
   * ```
   * @throws ErgonError `INVALID_FLOW_CONTROL` for a negative, zero or fractional limit.
   */
  configure(queue: string, limits: QueueLimitsInput | null): Promise<void> {
    validateName(queue, 'queue name');
    return this.#store.configureQueue({
      queue,
      limits: limits === null ? undefined : toLimits(limits),
      now: this.#now(),
    });
  }

  /** The queue's limits and what counts against them now (running flows, starts in the rate window). */
  state(queue: string, key?: string): Promise<QueueState> {
    validateName(queue, 'queue name');
    return this.#store.getQueueState({ queue, key, now: this.#now() });
  }
}

/** Queue limits as `client.queues.configure` takes them: the rate's period as a duration. */
export interface QueueLimitsInput extends Omit<QueueLimits, 'rate'> {
  /** At most `limit` starts in any window of `period` (a sliding window). */
  readonly rate?: {
    /** Starts allowed per period. */
    readonly limit: number;
    /** The period, a sliding window. */
    readonly period: Duration;
  };
}

function toLimits(input: QueueLimitsInput): QueueLimits {
  if (typeof input !== 'object')
    throw new InvalidArgumentError('queue limits must be an object, or null to remove them');
  const { rate, ...rest } = input;
  return rate === undefined
    ? rest
    : { ...rest, rate: { limit: rate.limit, periodMs: toMillis(rate.period, 'rate period') } };
}

/**
 * The concurrency key and limit of a flow a schedule tick starts: from its definition's
 * `concurrencyKey(input)` and `concurrencyLimit`, the input decoded as the flow will see it.
 */
export function tickKey(
  def: AnyFlowDefinition | undefined,
  codec: Codec,
  input: string,
): { concurrencyKey?: string | undefined; concurrencyLimit?: number | undefined } {
  const keyOf = def?.options.concurrencyKey;
  if (!def || !keyOf) return {};
  const decoded = codec.decode(input);
  const value = def.reviveInput ? def.reviveInput(decoded) : decoded;
  return {
    concurrencyKey: keyOfInput(def.name, keyOf, value),
    concurrencyLimit: def.options.concurrencyLimit,
  };
}
