/**
 * How a consumer (or hybrid) task loops, batches, retries and times out
 * (the seed's `ConsumerPolicy`, DESIGN §3). Pure data: immutable, validated at
 * construction, serialisable with `toJSON()`.
 *
 * @module
 */
import { type Duration, RetryPolicy } from '@ergon/core';
import { EXCEPTION_RETRY, FETCH_RETRY, STAGE_RETRY } from './defaults.js';
import { flag, integer, invalid, oneOf, positiveDuration, retries } from './validate.js';

/** `continuous` runs until stopped, backing off on an empty queue; `batch` stops at the first empty fetch. */
export type LoopMode = 'continuous' | 'batch';

/** What to do with a transaction that failed, unless its exception handler decides. */
export type FailureAction = 'dead-letter' | 'requeue';

/** The consumer's stages that have their own retry policy. */
export type ConsumerStage = 'fetch' | 'process' | 'dispatch' | 'success' | 'exception';

/** Back-off while the queue is empty: `min(initialDelay × multiplier^(n−1), maxDelay)` after `n` empty fetches. */
export interface EmptyQueueOptions {
  /** Wait after the first empty fetch; must be > 0 so an empty queue is never busy-polled. Default `'100ms'`. */
  readonly initialDelay?: Duration;
  /** Growth per further empty fetch, ≥ 1. Default 2. */
  readonly multiplier?: number;
  /** Cap of the wait. Default `'5s'`. */
  readonly maxDelay?: Duration;
}

/** Options of {@link ConsumerPolicy}; every field is optional. */
export interface ConsumerPolicyOptions {
  /** Default `'continuous'`. */
  readonly mode?: LoopMode;
  /** Transactions processed at once (semaphore permits, or threads in the threaded model). Default 4. */
  readonly concurrency?: number;
  /** Most transactions asked of the connector per fetch. Default 10. */
  readonly batchSize?: number;
  /**
   * True (default): fetch again as soon as a slot frees. False: process each
   * fetched batch to the end before the next fetch.
   */
  readonly streaming?: boolean;
  /** Stop after this many transactions were fetched and processed. Default: no limit. */
  readonly limit?: number;
  /** Stop fetching after this long and drain. Default: none. */
  readonly timeout?: Duration;
  /**
   * Bound on one transaction's process, dispatch and success stages together
   * (retries included). When it passes the attempt is abandoned (threads are
   * terminated) and the exception handler runs with a `TIMEOUT` error. Default: none.
   */
  readonly transactionTimeout?: Duration;
  /** Back-off between empty fetches in continuous mode. */
  readonly emptyQueue?: EmptyQueueOptions;
  /** A retry policy per stage; `dispatch` is used by hybrid tasks. Each `RetryPolicy.timeout` bounds one attempt. */
  readonly retry?: Partial<Record<ConsumerStage, RetryPolicy>>;
  /** Default `'dead-letter'`: a poison message must not loop forever. */
  readonly onFailure?: FailureAction;
}

const NAME = 'ConsumerPolicy';

/** The loop, back-off, retry and timeout settings of a consumer. */
export class ConsumerPolicy {
  /** All defaults. */
  static readonly DEFAULT: ConsumerPolicy = new ConsumerPolicy();

  /** Continuous, or stop at the first empty fetch. */
  readonly mode: LoopMode;
  /** Transactions in flight at most. */
  readonly concurrency: number;
  /** Most transactions per fetch. */
  readonly batchSize: number;
  /** Fetch as slots free (true) or batch by batch. */
  readonly streaming: boolean;
  /** Transactions to process before stopping, if limited. */
  readonly limit: number | undefined;
  /** Overall timeout in ms. */
  readonly timeout: number | undefined;
  /** Per-transaction timeout in ms. */
  readonly transactionTimeout: number | undefined;
  /** Empty-queue back-off, in ms. */
  readonly emptyQueue: Readonly<{
    /** Wait after the first empty fetch, in ms. */
    initialDelay: number;
    /** Growth of the wait per further empty fetch. */
    multiplier: number;
    /** Cap of the wait, in ms. */
    maxDelay: number;
  }>;
  /** The retry policy of each stage. */
  readonly retry: Readonly<Record<ConsumerStage, RetryPolicy>>;
  /** Settlement of a failed transaction when its exception handler does not decide. */
  readonly onFailure: FailureAction;
  readonly #backoff: RetryPolicy;

  /** @throws InvalidArgumentError (`INVALID_ARGUMENT`, `INVALID_DURATION`) naming the field. */
  constructor(options: ConsumerPolicyOptions = {}) {
    if (typeof options !== 'object' || options === null) invalid(NAME, 'options must be an object');
    this.mode = oneOf(NAME, 'mode', options.mode, ['continuous', 'batch'], 'continuous');
    this.concurrency = integer(NAME, 'concurrency', options.concurrency, 4);
    this.batchSize = integer(NAME, 'batchSize', options.batchSize, 10);
    this.streaming = flag(NAME, 'streaming', options.streaming, true);
    this.limit = options.limit === undefined ? undefined : integer(NAME, 'limit', options.limit, 0);
    this.timeout = positiveDuration(NAME, 'timeout', options.timeout);
    this.transactionTimeout = positiveDuration(NAME, 'transactionTimeout', options.transactionTimeout);
    const empty = options.emptyQueue ?? {};
    const initialDelay = positiveDuration(NAME, 'emptyQueue.initialDelay', empty.initialDelay) ?? 100;
    const maxDelay =
      positiveDuration(NAME, 'emptyQueue.maxDelay', empty.maxDelay) ?? Math.max(5000, initialDelay);
    const multiplier = empty.multiplier ?? 2;
    if (typeof multiplier !== 'number' || !Number.isFinite(multiplier) || multiplier < 1) {
      invalid(NAME, `emptyQueue.multiplier must be a finite number ≥ 1 (got ${String(multiplier)})`);
    }
    if (maxDelay < initialDelay) invalid(NAME, `emptyQueue.maxDelay (${maxDelay} ms) must be ≥ initialDelay`);
    this.emptyQueue = Object.freeze({ initialDelay, multiplier, maxDelay });
    this.#backoff = new RetryPolicy({ maxAttempts: Number.POSITIVE_INFINITY, ...this.emptyQueue });
    this.retry = retries<ConsumerStage>(NAME, options.retry, {
      fetch: FETCH_RETRY,
      process: STAGE_RETRY,
      dispatch: STAGE_RETRY,
      success: STAGE_RETRY,
      exception: EXCEPTION_RETRY,
    });
    this.onFailure = oneOf(NAME, 'onFailure', options.onFailure, ['dead-letter', 'requeue'], 'dead-letter');
    Object.freeze(this);
  }

  /** The wait after `emptyFetches` consecutive empty fetches (≥ 1), in ms. */
  emptyQueueDelay(emptyFetches: number): number {
    return this.#backoff.delayAfter(emptyFetches);
  }

  /** A copy with some options replaced. */
  with(options: ConsumerPolicyOptions): ConsumerPolicy {
    return new ConsumerPolicy({ ...this.toJSON(), ...options, retry: { ...this.retry, ...options.retry } });
  }

  /** Plain data (durations in ms) that rebuilds this policy, minus the retry policies' classes. */
  toJSON(): ConsumerPolicyOptions & {
    /** The retry policy of every stage (as policies, not plain data). */
    retry: Record<ConsumerStage, RetryPolicy>;
  } {
    return {
      mode: this.mode,
      concurrency: this.concurrency,
      batchSize: this.batchSize,
      streaming: this.streaming,
      ...(this.limit === undefined ? {} : { limit: this.limit }),
      ...(this.timeout === undefined ? {} : { timeout: this.timeout }),
      ...(this.transactionTimeout === undefined ? {} : { transactionTimeout: this.transactionTimeout }),
      emptyQueue: { ...this.emptyQueue },
      retry: { ...this.retry },
      onFailure: this.onFailure,
    };
  }
}
