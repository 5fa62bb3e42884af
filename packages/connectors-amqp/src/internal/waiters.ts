/**
 * Waiting for something to change without polling: a waiter sleeps until
 * `wake()`, its timeout or its signal, whichever comes first. The connection
 * wakes publishes waiting out a reconnect; the connector wakes fetches
 * waiting for a delivery.
 *
 * @module
 */

/** Callers waiting for the next change. */
export class Waiters {
  readonly #waiting = new Set<() => void>();

  /** Resolves at the next `wake()`, after `ms`, or when `signal` aborts (never rejects). */
  next(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.#waiting.delete(done);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.#waiting.add(done);
      signal?.addEventListener('abort', done, { once: true });
    });
  }

  /** Resolves every waiter now. */
  wake(): void {
    for (const wake of [...this.#waiting]) wake();
  }
}
