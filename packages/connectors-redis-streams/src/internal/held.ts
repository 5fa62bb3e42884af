/**
 * The entries this connector fetched and has not settled: the in-flight
 * bound (fetches wait for room), and what the renewals and a stop cover.
 * An entry counts as settled once its XACK was written to the connection
 * (see `StreamConsumer`), not when its reply came.
 *
 * @module
 */

/** Fetched, unsettled entries by id, with their delivery counts. */
export class HeldEntries {
  readonly #entries = new Map<string, number>();
  #waiters: (() => void)[] = [];

  /** How many are held. */
  get size(): number {
    return this.#entries.size;
  }

  /** The room left under `max`. */
  roomUnder(max: number): number {
    return Math.max(0, max - this.#entries.size);
  }

  /** The ids held, oldest first. */
  ids(): string[] {
    return [...this.#entries.keys()];
  }

  /** True when `id` is held. */
  has(id: string): boolean {
    return this.#entries.has(id);
  }

  /** Holds `id`, delivered `deliveries` times. */
  add(id: string, deliveries: number): void {
    this.#entries.set(id, deliveries);
  }

  /** Delivery count of a held entry. */
  deliveries(id: string): number | undefined {
    return this.#entries.get(id);
  }

  /** Lets `id` go; wakes fetches waiting for room. */
  delete(id: string): void {
    if (this.#entries.delete(id)) this.wake();
  }

  /** Lets every one of `ids` go; wakes fetches waiting for room once. */
  deleteAll(ids: readonly string[]): void {
    // Usually the ids are every entry held, in the order they were fetched (a batch's XACK): then
    // one clear, not a delete each (the map shrank step by step as it emptied, and grew back the
    // same way with the next batch).
    if (ids.length === this.#entries.size && ids.length > 0 && sameOrder(this.#entries.keys(), ids)) {
      this.#entries.clear();
      this.wake();
      return;
    }
    let deleted = false;
    for (const id of ids) if (this.#entries.delete(id)) deleted = true;
    if (deleted) this.wake();
  }

  /** Forgets everything (a stop), waking every waiter. */
  clear(): void {
    this.#entries.clear();
    this.wake();
  }

  /** Wakes every fetch waiting for room, to look again (a stop). */
  wake(): void {
    if (this.#waiters.length === 0) return;
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const wake of waiters) wake();
  }

  /**
   * Resolves with the room left under `max` as soon as there is some; with 0
   * when `timeoutMs` passed, `signal` aborted or `stopped()` turned true first.
   */
  async room(max: number, options: { signal?: AbortSignal; timeoutMs: number; stopped: () => boolean }) {
    const deadline = Date.now() + options.timeoutMs;
    for (;;) {
      const room = this.roomUnder(max);
      if (room > 0) return room;
      const left = deadline - Date.now();
      if (left <= 0 || options.signal?.aborted || options.stopped()) return 0;
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          options.signal?.removeEventListener('abort', done);
          resolve();
        };
        const timer = setTimeout(done, left);
        options.signal?.addEventListener('abort', done, { once: true });
        this.#waiters.push(done);
      });
    }
  }
}

/** True when `keys` yields exactly `ids`, in order. */
function sameOrder(keys: Iterator<string>, ids: readonly string[]): boolean {
  for (const id of ids) {
    const next = keys.next();
    if (next.done || next.value !== id) return false;
  }
  return keys.next().done === true;
}
