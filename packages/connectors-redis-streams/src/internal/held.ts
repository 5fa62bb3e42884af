/**
 * The entries this connector fetched and has not settled: the in-flight
 * bound (fetches wait for room), and what the renewals and a stop cover.
 * An entry counts as settled once its XACK was written to the connection
 * (see `StreamConsumer`), not when its reply came.
 *
 * @module
 */

/**
 * Fetched, unsettled entries, oldest first, with their delivery counts: two
 * arrays side by side, not a map. Entries come in batches and usually go in
 * the same batches, in order (a batch's XACK): a push each, and one cut for
 * the batch. A map grew from its smallest table with every batch (a clear
 * shrank it) and hashed every new id; looking an id up is rare (a nack,
 * a sweep, a renewal that lost entries) and scans at most `maxUnacked`.
 */
export class HeldEntries {
  #ids: string[] = [];
  #deliveries: number[] = [];
  #waiters: (() => void)[] = [];

  /** How many are held. */
  get size(): number {
    return this.#ids.length;
  }

  /** The room left under `max`. */
  roomUnder(max: number): number {
    return Math.max(0, max - this.#ids.length);
  }

  /** The ids held, oldest first. */
  ids(): string[] {
    return this.#ids.slice();
  }

  /** True when `id` is held. */
  has(id: string): boolean {
    return this.#ids.indexOf(id) !== -1;
  }

  /** Holds `id`, delivered `deliveries` times. */
  add(id: string, deliveries: number): void {
    this.#ids.push(id);
    this.#deliveries.push(deliveries);
  }

  /** Delivery count of a held entry. */
  deliveries(id: string): number | undefined {
    const at = this.#ids.indexOf(id);
    return at === -1 ? undefined : this.#deliveries[at];
  }

  /** Lets `id` go; wakes fetches waiting for room. */
  delete(id: string): void {
    const at = this.#ids.indexOf(id);
    if (at === -1) return;
    this.#ids.splice(at, 1);
    this.#deliveries.splice(at, 1);
    this.wake();
  }

  /** Lets every one of `ids` go; wakes fetches waiting for room once. */
  deleteAll(ids: readonly string[]): void {
    if (ids.length === 0) return;
    const held = this.#ids;
    // Usually the oldest held, in order (a batch's XACK): one cut.
    let prefix = ids.length <= held.length;
    for (let i = 0; prefix && i < ids.length; i++) prefix = held[i] === ids[i];
    if (prefix) {
      if (ids.length === held.length) {
        this.#ids = [];
        this.#deliveries = [];
      } else {
        held.splice(0, ids.length);
        this.#deliveries.splice(0, ids.length);
      }
      this.wake();
      return;
    }
    const gone = new Set(ids);
    const keptIds: string[] = [];
    const keptDeliveries: number[] = [];
    for (let i = 0; i < held.length; i++) {
      const id = held[i] as string;
      if (gone.has(id)) continue;
      keptIds.push(id);
      keptDeliveries.push(this.#deliveries[i] as number);
    }
    if (keptIds.length === held.length) return;
    this.#ids = keptIds;
    this.#deliveries = keptDeliveries;
    this.wake();
  }

  /** Forgets everything (a stop), waking every waiter. */
  clear(): void {
    this.#ids = [];
    this.#deliveries = [];
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
