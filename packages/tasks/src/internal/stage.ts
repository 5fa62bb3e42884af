/**
 * One stage of a lifecycle under its retry policy: attempts with their own
 * timeouts and abort signals, back-off between them, and a clean stop when
 * the outer signal fires.
 *
 * @module
 */
import { type RetryPolicy, toError } from '@ergon/core';
import { TaskTimeoutError } from '../errors.js';
import type { Stage } from '../task/context.js';
import { sleep } from './abort.js';
import type { CancelScope } from './scope.js';
import { inSpan, tracing } from './telemetry.js';

/** What one attempt receives. */
export interface AttemptScope {
  /** Fires on the attempt's timeout and when the stage's scope ends. Made on first read. */
  readonly signal: AbortSignal;
  readonly attempt: number;
  /** The attempt's cancellation scope (its `signal` is `scope.signal`). */
  readonly scope: CancelScope;
}

/** How a stage ended. `stopped`: the outer signal ended it (no further attempts were possible). */
export type StageResult<T> =
  | { readonly ok: true; readonly value: T; readonly attempts: number }
  | { readonly ok: false; readonly error: Error; readonly attempts: number; readonly stopped: boolean };

/** Options of {@link runStage}. */
export interface StageOptions<T> {
  readonly stage: Stage;
  readonly policy: RetryPolicy;
  /** Ends the stage: the running attempt is abandoned and no other starts. */
  readonly scope: CancelScope;
  readonly attempt: (scope: AttemptScope) => Promise<T> | T;
  /**
   * True when nothing else races on `scope` while the stage runs (it is the
   * stage's own, like a transaction's scope): then an attempt without a
   * timeout runs in `scope` itself, without a child scope of its own (which
   * would end at the same moments). Default false.
   */
  readonly exclusive?: boolean;
}

/**
 * Runs attempts until one succeeds, the error is not retryable, the policy's
 * attempts are spent, or `signal` fires. An attempt that overruns its
 * `policy.timeout` fails with `TIMEOUT` even if its code ignores the signal.
 *
 * Chained promises, not an async function: a stage runs for every
 * transaction, and an async function's frame and awaits cost more memory
 * than the rest of the stage (the garbage collector's work was a tenth of
 * a no-op consumer's CPU).
 */
export function runStage<T>(options: StageOptions<T>): Promise<StageResult<T>> {
  return attemptFrom(options, 1);
}

/** Attempt number `attempt` and, when it fails and the policy allows, the ones after it. */
function attemptFrom<T>(options: StageOptions<T>, attempt: number): Promise<StageResult<T>> {
  const { stage, policy, scope: outer } = options;
  if (outer.aborted) {
    return Promise.resolve({ ok: false, error: outer.reason as Error, attempts: attempt - 1, stopped: true });
  }
  const timeout = policy.timeout;
  // The reason is made only for a stage that has a timeout (most have none: no closure per attempt).
  const scope =
    timeout !== undefined
      ? outer.child(timeout, () => new TaskTimeoutError(stage, timeout))
      : options.exclusive
        ? outer
        : outer.child();
  const current = new Attempt(scope, attempt);
  const succeeded = (value: T): StageResult<T> => {
    if (scope !== outer) scope.dispose();
    return { ok: true, value, attempts: attempt };
  };
  const failed = (thrown: unknown): Promise<StageResult<T>> => {
    if (scope !== outer) scope.dispose();
    return afterFailure(options, attempt, toError(thrown));
  };
  if (tracing()) {
    return inSpan('ergon.attempt', { 'ergon.stage': stage, 'ergon.attempt': attempt }, () =>
      runAttempt(options.attempt, current),
    ).then(succeeded, failed);
  }
  // Without a tracer provider the span would record nothing: the attempt runs bare, and its race
  // and its result are one promise.
  let result: Promise<T> | T;
  try {
    result = options.attempt(current);
  } catch (error) {
    return failed(error);
  }
  if (!isPromiseLike(result)) return Promise.resolve(succeeded(result));
  return scope.raceTo(Promise.resolve(result), succeeded, failed);
}

/**
 * After attempt number `attempt` failed with `thrown` (an attempt run
 * outside {@link runStage}, in `options.scope` itself): the stage's failure,
 * or its next attempt after the policy's delay, as within {@link runStage}.
 */
export function retryAfter<T>(
  options: StageOptions<T>,
  attempt: number,
  thrown: unknown,
): Promise<StageResult<T>> {
  return afterFailure(options, attempt, toError(thrown));
}

/** After a failed attempt: the stage's failure, or the next attempt after the policy's delay. */
async function afterFailure<T>(
  options: StageOptions<T>,
  attempt: number,
  error: Error,
): Promise<StageResult<T>> {
  const { policy, scope: outer } = options;
  if (outer.aborted) return { ok: false, error, attempts: attempt, stopped: true };
  if (!policy.shouldRetry(attempt, error)) return { ok: false, error, attempts: attempt, stopped: false };
  if (!(await sleep(policy.delayAfter(attempt), outer.signal))) {
    return { ok: false, error, attempts: attempt, stopped: true };
  }
  return attemptFrom(options, attempt + 1);
}

/** One attempt: its work raced against its scope (a synchronous result or throw needs no race). */
function runAttempt<T>(work: (scope: AttemptScope) => Promise<T> | T, attempt: Attempt): Promise<T> {
  let result: Promise<T> | T;
  try {
    result = work(attempt);
  } catch (error) {
    return Promise.reject(toError(error));
  }
  if (!isPromiseLike(result)) return Promise.resolve(result);
  return attempt.scope.race(Promise.resolve(result));
}

/** True for a promise, or anything with a `then` method. */
export function isPromiseLike<T>(value: Promise<T> | T): value is Promise<T> {
  return typeof (value as { then?: unknown } | null)?.then === 'function';
}

/** An {@link AttemptScope} whose signal is made only when read. */
export class Attempt implements AttemptScope {
  readonly scope: CancelScope;
  readonly attempt: number;

  constructor(scope: CancelScope, attempt: number) {
    this.scope = scope;
    this.attempt = attempt;
  }

  get signal(): AbortSignal {
    return this.scope.signal;
  }
}
