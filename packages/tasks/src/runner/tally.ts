/**
 * Counting outcomes during a run, and waiting for in-flight work at its end.
 *
 * @module
 */
import type { RunEndReason, TransactionOutcome } from '../task/outcome.js';

/** What a loop reports to the runner. */
export interface LoopResult {
  /** Why the loop ended. */
  readonly reason: RunEndReason;
  /** Lifecycles run. */
  readonly processed: number;
  /** Lifecycles that succeeded. */
  readonly succeeded: number;
  /** Lifecycles that failed. */
  readonly failed: number;
  /** Lifecycles stopped by shutdown (requeued). */
  readonly aborted: number;
  /** Fetch calls made. */
  readonly fetches: number;
  /** Why the loop failed, when it did. */
  readonly error?: Error;
}

/** Outcome counters of one loop. */
export class Tally {
  /** Lifecycles run so far. */
  processed = 0;
  /** Of which succeeded. */
  succeeded = 0;
  /** Of which failed. */
  failed = 0;
  /** Of which were stopped by shutdown. */
  aborted = 0;
  /** Fetch calls so far. */
  fetches = 0;
  readonly #onOutcome: ((outcome: TransactionOutcome) => void) | undefined;

  constructor(onOutcome: ((outcome: TransactionOutcome) => void) | undefined) {
    this.#onOutcome = onOutcome;
  }

  /** Counts an outcome and reports it; a throwing listener is ignored. */
  add(outcome: TransactionOutcome): void {
    this.processed++;
    if (outcome.status === 'succeeded') this.succeeded++;
    else if (outcome.status === 'failed') this.failed++;
    else this.aborted++;
    try {
      this.#onOutcome?.(outcome);
    } catch {
      // A listener's bug must not break the run.
    }
  }

  /** Waits for in-flight work (each lifecycle ends by itself, at the latest at the hard stop), then reports. */
  async end(reason: RunEndReason, inFlight: InFlight | undefined, error?: Error): Promise<LoopResult> {
    await inFlight?.drained();
    const { processed, succeeded, failed, aborted, fetches } = this;
    return { reason, processed, succeeded, failed, aborted, fetches, ...(error ? { error } : {}) };
  }
}

/** Work still running: a count, and who waits for it to reach zero. */
export class InFlight {
  #count = 0;
  #waiters: (() => void)[] = [];

  /** How many are running. */
  get size(): number {
    return this.#count;
  }

  /** Counts `work` until it settles. */
  add(work: Promise<unknown>): void {
    this.#count++;
    work.then(this.#leave, this.#leave);
  }

  /** Counts one piece of work that calls {@link leave} exactly once when it ends (no callback on its promise). */
  enter(): void {
    this.#count++;
  }

  /** Ends a piece of work counted by {@link enter}. */
  leave(): void {
    this.#leave();
  }

  /** Resolves once nothing is running (at once if nothing is). */
  drained(): Promise<void> {
    if (this.#count === 0) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  readonly #leave = (): void => {
    if (--this.#count > 0) return;
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const wake of waiters) wake();
  };
}
