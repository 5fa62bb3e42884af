/**
 * How a producer task batches, retries and times out (the seed's
 * `ProducerPolicy`). Immutable, validated at construction.
 *
 * @module
 */
import type { Duration, RetryPolicy } from '@ergon/core';
import { EXCEPTION_RETRY, STAGE_RETRY } from './defaults.js';
import { integer, invalid, positiveDuration, retries } from './validate.js';

/** The producer's stages that have their own retry policy. */
export type ProducerStage = 'prepare' | 'dispatch' | 'success' | 'exception';

/** Options of {@link ProducerPolicy}; every field is optional. */
export interface ProducerPolicyOptions {
  /** Items prepared at once. Default 4. */
  readonly concurrency?: number;
  /** Transactions per dispatch call. Default 10. */
  readonly batchSize?: number;
  /** Stop taking items after this long and drain. Default: none. */
  readonly timeout?: Duration;
  /** Stop after this many items. Default: no limit. */
  readonly limit?: number;
  /** Bound on one item's prepare stage, retries included. Default: none. */
  readonly transactionTimeout?: Duration;
  /** A retry policy per stage. */
  readonly retry?: Partial<Record<ProducerStage, RetryPolicy>>;
}

const NAME = 'ProducerPolicy';

/** The batching, retry and timeout settings of a producer. */
export class ProducerPolicy {
  /** All defaults. */
  static readonly DEFAULT: ProducerPolicy = new ProducerPolicy();

  /** Items prepared at once at most. */
  readonly concurrency: number;
  /** Transactions per dispatch. */
  readonly batchSize: number;
  /** Overall timeout in ms. */
  readonly timeout: number | undefined;
  /** Items to take before stopping, if limited. */
  readonly limit: number | undefined;
  /** Per-item prepare timeout in ms. */
  readonly transactionTimeout: number | undefined;
  /** The retry policy of each stage. */
  readonly retry: Readonly<Record<ProducerStage, RetryPolicy>>;

  /** @throws InvalidArgumentError (`INVALID_ARGUMENT`, `INVALID_DURATION`) naming the field. */
  constructor(options: ProducerPolicyOptions = {}) {
    if (typeof options !== 'object' || options === null) invalid(NAME, 'options must be an object');
    this.concurrency = integer(NAME, 'concurrency', options.concurrency, 4);
    this.batchSize = integer(NAME, 'batchSize', options.batchSize, 10);
    this.timeout = positiveDuration(NAME, 'timeout', options.timeout);
    this.limit = options.limit === undefined ? undefined : integer(NAME, 'limit', options.limit, 0);
    this.transactionTimeout = positiveDuration(NAME, 'transactionTimeout', options.transactionTimeout);
    this.retry = retries<ProducerStage>(NAME, options.retry, {
      prepare: STAGE_RETRY,
      dispatch: STAGE_RETRY,
      success: STAGE_RETRY,
      exception: EXCEPTION_RETRY,
    });
    Object.freeze(this);
  }

  /** A copy with some options replaced. */
  with(options: ProducerPolicyOptions): ProducerPolicy {
    return new ProducerPolicy({ ...this.toJSON(), ...options, retry: { ...this.retry, ...options.retry } });
  }

  /** Plain data (durations in ms) that rebuilds this policy. */
  toJSON(): ProducerPolicyOptions & {
    /** The retry policy of every stage (as policies, not plain data). */
    retry: Record<ProducerStage, RetryPolicy>;
  } {
    return {
      concurrency: this.concurrency,
      batchSize: this.batchSize,
      ...(this.timeout === undefined ? {} : { timeout: this.timeout }),
      ...(this.limit === undefined ? {} : { limit: this.limit }),
      ...(this.transactionTimeout === undefined ? {} : { transactionTimeout: this.transactionTimeout }),
      retry: { ...this.retry },
    };
  }
}
