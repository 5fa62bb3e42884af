/**
 * Lease renewal of a worker's runs (or an executor's) on one timer. It ticks
 * every half heartbeat and asks each run that has seen two ticks since it was
 * held or last asked to renew its lease: a lease is renewed between half a
 * heartbeat and one heartbeat after the last time, never later than a timer of
 * its own would have done it. A timer made and cleared per run cost a visible
 * share of a one-step flow (a `Timeout`, its closure, two timer-list updates).
 *
 * @module
 */

/** A run whose lease a {@link LeaseKeeper} renews. */
export interface LeaseHolder {
  /** Renews the lease now; skips when its last renewal is still out. Never throws. */
  renewLease(): void;
}

/** Renews the leases of the runs it holds, every `heartbeatMs` at most. */
export class LeaseKeeper {
  readonly #tickMs: number;
  /** Held runs → ticks seen since held or last asked to renew. */
  readonly #held = new Map<LeaseHolder, number>();
  #timer: NodeJS.Timeout | undefined;

  constructor(heartbeatMs: number) {
    this.#tickMs = Math.max(1, heartbeatMs / 2);
  }

  /** Runs held now. */
  get size(): number {
    return this.#held.size;
  }

  /** Renews `holder`'s lease from now on until {@link LeaseKeeper.drop}. */
  hold(holder: LeaseHolder): void {
    this.#held.set(holder, 0);
    if (this.#timer) return;
    this.#timer = setInterval(() => this.#tick(), this.#tickMs);
    this.#timer.unref();
  }

  /** Stops renewing `holder`'s lease. */
  drop(holder: LeaseHolder): void {
    this.#held.delete(holder);
  }

  #tick(): void {
    // Stopped by the first tick that finds nothing held, not at each drop: a worker whose
    // runs come and go one at a time keeps its one timer.
    if (this.#held.size === 0) {
      clearInterval(this.#timer);
      this.#timer = undefined;
      return;
    }
    for (const [holder, ticks] of this.#held) {
      if (ticks === 0) {
        this.#held.set(holder, 1);
        continue;
      }
      this.#held.set(holder, 0);
      holder.renewLease();
    }
  }
}
