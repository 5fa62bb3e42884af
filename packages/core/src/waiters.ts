/**
 * Waiting for something to change without polling: a waiter sleeps until
 * `wake()`, its timeout or its signal, whichever comes first. Connectors use
 * it for fetches waiting for a delivery and publishes waiting out a reconnect.
 *
 * @module
 */

/** Callers waiting for the next change. */
export class Waiters {
  readonly #waiting = new Set<() => void>();

  /** Resolves at the next {@link wake}, after `ms` (at least 1), or when `signal` aborts; never rejects. */
  next(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.#waiting.delete(done);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, Math.max(1, ms));
      this.#waiting.add(done);
      signal?.addEventListener('abort', done, { once: true });
    });
  }

  /** Resolves every waiter now. */
  wake(): void {
    if (this.#waiting.size === 0) return;
    for (const done of [...this.#waiting]) done();
  }
}
