/**
 * Stopping a run: a graceful stop (stop fetching, let in-flight work finish)
 * that turns into a hard stop (abandon and requeue) at the shutdown deadline.
 *
 * @module
 */
import { TaskAbortedError, TaskTimeoutError } from '../errors.js';
import { CancelScope } from '../internal/scope.js';
import type { RunEndReason } from '../task/outcome.js';

/** The stop signals of one run. */
export class RunControl {
  readonly #stopping = new AbortController();
  readonly #hard = new AbortController();
  readonly #stoppingScope = new CancelScope();
  readonly #hardScope = new CancelScope();
  readonly #shutdownMs: number;
  #reason: RunEndReason | undefined;
  #deadline: NodeJS.Timeout | undefined;
  #runTimer: NodeJS.Timeout | undefined;
  #disposed = false;

  /** @param shutdownMs How long a graceful stop waits before the hard stop. */
  constructor(shutdownMs: number) {
    this.#shutdownMs = shutdownMs;
  }

  /** Arms the policy's overall timeout: a graceful stop when it passes. */
  limitRun(runTimeoutMs: number | undefined): void {
    clearTimeout(this.#runTimer);
    if (runTimeoutMs !== undefined) this.#runTimer = setTimeout(() => this.stop('timeout'), runTimeoutMs);
  }

  /** The grace period of a graceful stop, in ms. */
  get shutdownMs(): number {
    return this.#shutdownMs;
  }

  /** Fires when the run must stop taking new work. */
  get stopping(): AbortSignal {
    return this.#stopping.signal;
  }

  /** Fires when in-flight work must be abandoned (and requeued). */
  get hardStop(): AbortSignal {
    return this.#hard.signal;
  }

  /** {@link stopping} as a scope (children end with it, no listener each). */
  get stoppingScope(): CancelScope {
    return this.#stoppingScope;
  }

  /** {@link hardStop} as a scope: the parent of every transaction's scope. */
  get hardScope(): CancelScope {
    return this.#hardScope;
  }

  /** Why the run was stopped from outside, if it was. */
  get reason(): RunEndReason | undefined {
    return this.#reason;
  }

  /** Graceful stop; arms the shutdown deadline. Idempotent. */
  stop(reason: RunEndReason = 'stopped', shutdownMs = this.#shutdownMs): void {
    if (this.#stopping.signal.aborted || this.#disposed) return;
    this.#reason = reason;
    const why =
      reason === 'timeout' ? new TaskTimeoutError('run', 0) : new TaskAbortedError('the run is stopping');
    this.#stopping.abort(why);
    this.#stoppingScope.abort(why);
    this.#deadline = setTimeout(() => this.abort(), shutdownMs);
  }

  /** Hard stop now. Idempotent. */
  abort(): void {
    if (!this.#stopping.signal.aborted) this.stop('stopped');
    const why = new TaskAbortedError('the shutdown deadline passed before it finished');
    this.#hard.abort(why);
    this.#hardScope.abort(why);
  }

  /** Clears the timers once the run is over. */
  dispose(): void {
    this.#disposed = true;
    clearTimeout(this.#deadline);
    clearTimeout(this.#runTimer);
  }
}
