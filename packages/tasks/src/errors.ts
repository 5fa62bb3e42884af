/**
 * The errors tasks raise, each with a stable code from core's `ErrorCode`.
 *
 * @module
 */
import { ErgonError, ErrorCode, markErrorClass, registerErrorClass } from '@ergon/core';

/** A stage attempt, a transaction or a run passed its timeout (`TIMEOUT`). Retryable (by its code). */
export class TaskTimeoutError extends ErgonError {
  /** What timed out: a stage name, `'transaction'` or `'run'`. */
  readonly scope: string;
  /** The timeout that passed, in ms. */
  readonly timeoutMs: number;
  constructor(scope: string, timeoutMs: number) {
    super(ErrorCode.TIMEOUT, `${scope} timed out after ${timeoutMs} ms`, { details: { scope, timeoutMs } });
    this.scope = scope;
    this.timeoutMs = timeoutMs;
  }
}

/**
 * Work was stopped before it finished (`ABORTED`): the shutdown deadline
 * passed, or the run was aborted. The transaction is requeued, not failed.
 */
export class TaskAbortedError extends ErgonError {
  constructor(message = 'stopped by shutdown before it finished') {
    super(ErrorCode.ABORTED, message);
  }
}

markErrorClass(TaskTimeoutError, '@ergon/tasks/TaskTimeoutError');
markErrorClass(TaskAbortedError, '@ergon/tasks/TaskAbortedError');
// Errors cross thread and process boundaries through the codec; keep their classes.
registerErrorClass(TaskTimeoutError, TaskAbortedError);
