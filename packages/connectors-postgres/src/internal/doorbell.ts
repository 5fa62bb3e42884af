/**
 * A wake-up that cannot be missed: every NOTIFY rings it, and a fetch that
 * found nothing waits only if it has not rung since the fetch looked. It
 * also holds the LISTEN that rings it.
 *
 * @module
 */

/** Subscribes to the NOTIFYs that ring a doorbell; resolves with the unsubscribe once the LISTEN is in place. */
export type Subscribe = (ring: () => void) => Promise<() => void>;

/** Rings wake every waiter; `rings` counts them, so a ring between a look and a wait is seen. */
export class Doorbell {
  #rings = 0;
  readonly #waiters = new Set<() => void>();
  #subscribed: Promise<() => void> | undefined;
  #listening = false;

  /** How often it rang. */
  get rings(): number {
    return this.#rings;
  }

  /** True once the LISTEN is in place: every NOTIFY from then on rings. */
  get listening(): boolean {
    return this.#listening;
  }

  /** Wakes every waiter. */
  ring(): void {
    this.#rings++;
    for (const wake of [...this.#waiters]) wake();
  }

  /**
   * Subscribes once through `subscribe` (again after a failure, or after
   * {@link unlisten}); resolves once the LISTEN is in place.
   */
  async listen(subscribe: Subscribe): Promise<void> {
    if (!this.#subscribed) {
      const subscribing: Promise<() => void> = subscribe(() => this.ring()).then((unsubscribe) => {
        if (this.#subscribed === subscribing) this.#listening = true;
        return unsubscribe;
      });
      this.#subscribed = subscribing;
    }
    const subscribed = this.#subscribed;
    try {
      await subscribed;
    } catch (error) {
      if (this.#subscribed === subscribed) this.#subscribed = undefined;
      throw error;
    }
  }

  /** Ends the subscription, if any. */
  async unlisten(): Promise<void> {
    const subscribed = this.#subscribed;
    this.#subscribed = undefined;
    this.#listening = false;
    if (subscribed) (await subscribed.catch(() => undefined))?.();
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
