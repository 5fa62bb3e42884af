/**
 * Retry policies and the retryability of errors (DESIGN §2.3).
 *
 * @module
 */
import { type Duration, toMillis } from './duration.js';
import {
  ErgonError,
  type ErgonErrorOptions,
  ErrorCode,
  InvalidArgumentError,
  markErrorClass,
} from './errors.js';

/** An error that knows whether retrying can help. */
export interface Retryable {
  /** False when another attempt would fail the same way (a business rejection). */
  isRetryable(): boolean;
}

/** Throw this from a step to stop retrying at once; it is recorded and rethrown on replay. */
export class NonRetryableError extends ErgonError {
  constructor(message: string, options: ErgonErrorOptions = {}) {
    super(ErrorCode.NON_RETRYABLE, message, options);
  }
}
markErrorClass(NonRetryableError, '@ergon/core/NonRetryableError');

/**
 * Whether an attempt that failed with `error` may be retried: yes unless the
 * error says otherwise through `isRetryable()` (the {@link Retryable} interface)
 * or is a {@link NonRetryableError}.
 */
export function isRetryableError(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return true;
  const candidate = error as Partial<Retryable> & { retryable?: unknown };
  if (typeof candidate.isRetryable === 'function') return candidate.isRetryable() !== false;
  if (typeof candidate.retryable === 'boolean') return candidate.retryable;
  return true;
}

/** Options for {@link RetryPolicy}. Durations accept numbers (ms) or strings such as `'1s'`. */
export interface RetryPolicyOptions {
  /** Total attempts including the first; at least 1. */
  maxAttempts: number;
  /** Delay before the second attempt. */
  initialDelay?: Duration;
  /** Upper bound of any delay. */
  maxDelay?: Duration;
  /** Growth factor per attempt; at least 1. */
  multiplier?: number;
  /**
   * Randomises delays downward to spread load: `true` for 0.5, or a fraction in
   * [0, 1]. A jittered delay lies in `[d × (1 − jitter), d]`, so never above `maxDelay`.
   */
  jitter?: boolean | number;
  /** Per-attempt timeout; none when omitted. */
  timeout?: Duration;
}

/**
 * How often and how patiently to retry. Immutable; validated at construction.
 * The delay before attempt n+1 is `min(initialDelay × multiplier^(n−1), maxDelay)`.
 */
export class RetryPolicy {
  /** One attempt, no retries. */
  static readonly NONE: RetryPolicy = new RetryPolicy({ maxAttempts: 1 });
  /** 3 attempts, 1s then ×2, at most 30s. */
  static readonly STANDARD: RetryPolicy = new RetryPolicy({
    maxAttempts: 3,
    initialDelay: '1s',
    maxDelay: '30s',
    multiplier: 2,
  });
  /** 10 attempts, 100ms then ×1.5, at most 10s. */
  static readonly AGGRESSIVE: RetryPolicy = new RetryPolicy({
    maxAttempts: 10,
    initialDelay: '100ms',
    maxDelay: '10s',
    multiplier: 1.5,
  });

  /** Total attempts including the first (≥ 1). */
  readonly maxAttempts: number;
  /** Delay before the second attempt, in ms. */
  readonly initialDelay: number;
  /** Upper bound of any delay, in ms. */
  readonly maxDelay: number;
  /** Growth factor of the delay per attempt (≥ 1). */
  readonly multiplier: number;
  /** Fraction in [0, 1] by which delays are randomised downward; 0 for none. */
  readonly jitter: number;
  /** Per-attempt timeout in ms; undefined for none. */
  readonly timeout: number | undefined;

  /** @throws InvalidArgumentError (`INVALID_RETRY_POLICY`) for missing or senseless options. */
  constructor(options: RetryPolicyOptions) {
    const fail = (message: string): never => {
      throw new InvalidArgumentError(`invalid retry policy: ${message}`, {
        code: ErrorCode.INVALID_RETRY_POLICY,
      });
    };
    if (typeof options !== 'object' || options === null) {
      fail(
        `options must be an object such as { maxAttempts: 3, initialDelay: '1s' } (got ${String(options)})`,
      );
    }
    const { maxAttempts } = options;
    if (typeof maxAttempts !== 'number' || Number.isNaN(maxAttempts) || maxAttempts < 1) {
      fail(`maxAttempts must be a whole number ≥ 1 (got ${maxAttempts})`);
    }
    if (maxAttempts !== Number.POSITIVE_INFINITY && !Number.isInteger(maxAttempts)) {
      fail(`maxAttempts must be a whole number ≥ 1 (got ${maxAttempts})`);
    }
    const delay = (value: Duration | undefined, name: string, fallback: number): number => {
      if (value === undefined) return fallback;
      try {
        return toMillis(value, name);
      } catch {
        return fail(`${name} must be a non-negative duration (got ${String(value)})`);
      }
    };
    const initialDelay = delay(options.initialDelay, 'initialDelay', 0);
    const maxDelay = delay(options.maxDelay, 'maxDelay', Math.max(initialDelay, 0));
    if (maxDelay < initialDelay) fail(`maxDelay (${maxDelay}ms) must be ≥ initialDelay (${initialDelay}ms)`);
    const multiplier = options.multiplier ?? 1;
    if (typeof multiplier !== 'number' || !Number.isFinite(multiplier) || multiplier < 1) {
      fail(`multiplier must be a finite number ≥ 1 (got ${multiplier})`);
    }
    const jitter = options.jitter === true ? 0.5 : options.jitter === false ? 0 : (options.jitter ?? 0);
    if (typeof jitter !== 'number' || Number.isNaN(jitter) || jitter < 0 || jitter > 1) {
      fail(`jitter must be a boolean or a fraction in [0, 1] (got ${String(options.jitter)})`);
    }
    const timeout = options.timeout === undefined ? undefined : delay(options.timeout, 'timeout', 0);
    if (timeout !== undefined && timeout <= 0) fail(`timeout must be > 0 (got ${timeout}ms)`);
    this.maxAttempts = maxAttempts;
    this.initialDelay = initialDelay;
    this.maxDelay = maxDelay;
    this.multiplier = multiplier;
    this.jitter = jitter;
    this.timeout = timeout;
    Object.freeze(this);
  }

  /**
   * The delay before attempt `failedAttempt + 1`, in milliseconds.
   * `random` returns a number in [0, 1); pass a deterministic one for replay.
   */
  delayAfter(failedAttempt: number, random: () => number = Math.random): number {
    const n = Math.max(1, Math.floor(failedAttempt));
    const grown = this.initialDelay === 0 ? 0 : this.initialDelay * this.multiplier ** (n - 1);
    // Overflow to Infinity is fine: min() caps it.
    const base = Math.min(Number.isNaN(grown) ? this.maxDelay : grown, this.maxDelay);
    if (this.jitter === 0) return base;
    return Math.round(base * (1 - this.jitter * random()));
  }

  /** Whether attempt `failedAttempt + 1` should happen after `error`. */
  shouldRetry(failedAttempt: number, error: unknown): boolean {
    return failedAttempt < this.maxAttempts && isRetryableError(error);
  }

  /** A copy with some fields replaced. */
  with(options: Partial<RetryPolicyOptions>): RetryPolicy {
    return new RetryPolicy({ ...this.toOptions(), ...options });
  }

  /** The options that rebuild this policy. */
  toOptions(): RetryPolicyOptions {
    const options: RetryPolicyOptions = {
      maxAttempts: this.maxAttempts,
      initialDelay: this.initialDelay,
      maxDelay: this.maxDelay,
      multiplier: this.multiplier,
      jitter: this.jitter,
    };
    if (this.timeout !== undefined) options.timeout = this.timeout;
    return options;
  }
}
