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
  async end(reason: RunEndReason, inFlight: ReadonlySet<Promise<void>>, error?: Error): Promise<LoopResult> {
    while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
    const { processed, succeeded, failed, aborted, fetches } = this;
    return { reason, processed, succeeded, failed, aborted, fetches, ...(error ? { error } : {}) };
  }
}
