/**
 * Default retry policies per stage. Finite everywhere; no stage timeout by
 * default (set `timeout` on a stage's policy, or a transaction timeout).
 *
 * @module
 */
import { RetryPolicy } from '@ergon/core';

/** Fetching: 5 attempts, 100 ms doubling to at most 5 s (a transport hiccup, not a bug). */
export const FETCH_RETRY: RetryPolicy = new RetryPolicy({
  maxAttempts: 5,
  initialDelay: '100ms',
  multiplier: 2,
  maxDelay: '5s',
});

/** Handlers and dispatch: 3 attempts, 200 ms doubling to at most 5 s. */
export const STAGE_RETRY: RetryPolicy = new RetryPolicy({
  maxAttempts: 3,
  initialDelay: '200ms',
  multiplier: 2,
  maxDelay: '5s',
});

/** The exception handler: 2 attempts, 100 ms apart. */
export const EXCEPTION_RETRY: RetryPolicy = new RetryPolicy({ maxAttempts: 2, initialDelay: '100ms' });
