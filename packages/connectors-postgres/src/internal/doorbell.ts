/**
 * A wake-up that cannot be missed: every NOTIFY rings it, and a fetch that
 * found nothing waits only if it has not rung since the fetch looked.
 *
 * @module
 */

/** Rings wake every waiter; `rings` counts them, so a ring between a look and a wait is seen. */
export class Doorbell {
  #rings = 0;
  readonly #waiters = new Set<() => void>();

  /** How often it rang. */
  get rings(): number {
    return this.#rings;
  }

  /** Wakes every waiter. */
  ring(): void {
    this.#rings++;
    for (const wake of [...this.#waiters]) wake();
  }

  /** Resolves at the next ring after `seen` rings, after `ms`, or on abort, whichever is first. */
  wait(seen: number, ms: number, signal: AbortSignal): Promise<void> {
    if (this.#rings !== seen || ms <= 0 || signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.#waiters.delete(done);
        signal.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.#waiters.add(done);
      signal.addEventListener('abort', done, { once: true });
    });
  }
}
