/**
 * One stage of a lifecycle under its retry policy: attempts with their own
 * timeouts and abort signals, back-off between them, and a clean stop when
 * the outer signal fires.
 *
 * @module
 */
import { type RetryPolicy, toError } from '@ergon/core';
import type { Stage } from '../task/context.js';
import { TaskTimeoutError } from '../errors.js';
import { raceAbort, sleep, timeoutController } from './abort.js';
import { inSpan } from './telemetry.js';

/** What one attempt receives. */
export interface AttemptScope {
  readonly signal: AbortSignal;
  readonly attempt: number;
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
  readonly signal: AbortSignal;
  readonly attempt: (scope: AttemptScope) => Promise<T> | T;
}

/**
 * Runs attempts until one succeeds, the error is not retryable, the policy's
 * attempts are spent, or `signal` fires. An attempt that overruns its
 * `policy.timeout` fails with `TIMEOUT` even if its code ignores the signal.
 */
export async function runStage<T>(options: StageOptions<T>): Promise<StageResult<T>> {
  const { stage, policy, signal } = options;
  for (let attempt = 1; ; attempt++) {
    if (signal.aborted) {
      return { ok: false, error: toError(signal.reason), attempts: attempt - 1, stopped: true };
    }
    const timeout = policy.timeout;
    const scope = timeoutController(timeout, () => new TaskTimeoutError(stage, timeout ?? 0), [signal]);
    let error: Error;
    try {
      const value = await inSpan('ergon.attempt', { 'ergon.stage': stage, 'ergon.attempt': attempt }, () =>
        raceAbort(
          Promise.resolve().then(() => options.attempt({ signal: scope.signal, attempt })),
          scope.signal,
        ),
      );
      return { ok: true, value, attempts: attempt };
    } catch (thrown) {
      error = toError(thrown);
    } finally {
      scope.dispose();
    }
    if (signal.aborted) return { ok: false, error, attempts: attempt, stopped: true };
    if (!policy.shouldRetry(attempt, error)) return { ok: false, error, attempts: attempt, stopped: false };
    if (!(await sleep(policy.delayAfter(attempt), signal))) {
      return { ok: false, error, attempts: attempt, stopped: true };
    }
  }
}
