/**
 * A counting semaphore: the async model's bound on concurrent transactions.
 *
 * @module
 */

/** Permits handed out in FIFO order. */
export class Semaphore {
  #free: number;
  readonly #waiters: (() => void)[] = [];
  readonly #idle: (() => void)[] = [];
  readonly #size: number;

  constructor(size: number) {
    this.#size = size;
    this.#free = size;
  }

  /** Permits free now. */
  get available(): number {
    return this.#free;
  }

  /** Permits in use. */
  get inUse(): number {
    return this.#size - this.#free;
  }

  /** Waits for a permit. Returns its release function (idempotent). */
  async acquire(): Promise<() => void> {
    await this.take();
    return this.#releaser();
  }

  /** A permit now if one is free (nobody waiting can be ahead of it then), else undefined. */
  tryAcquire(): (() => void) | undefined {
    return this.tryTake() ? this.#releaser() : undefined;
  }

  /**
   * Takes a permit now if one is free; true when it did. The caller gives it
   * back with exactly one {@link release} (no release function per permit).
   */
  tryTake(): boolean {
    if (this.#free === 0) return false;
    this.#free--;
    return true;
  }

  /** Waits for a permit; give it back with exactly one {@link release}. */
  take(): Promise<void> {
    if (this.#free > 0) {
      this.#free--;
      return Promise.resolve();
    }
    return new Promise<void>((resolve) => this.#waiters.push(resolve));
  }

  /** Gives back a permit taken by {@link tryTake} or {@link take}: to the first waiter, else to the free ones. */
  release(): void {
    // Usually nobody waits: no shift (a call into the array builtins) on an empty queue.
    if (this.#waiters.length > 0) (this.#waiters.shift() as () => void)();
    else this.#free++;
    this.#signalSpace();
  }

  #releaser(): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.release();
    };
  }

  /** Resolves when at least one permit is free (at once if one is). */
  whenAvailable(): Promise<void> {
    if (this.#free > 0) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  #signalSpace(): void {
    // Most releases find nobody waiting for space: no array is made for them.
    if (this.#free === 0 || this.#idle.length === 0) return;
    for (const resolve of this.#idle.splice(0)) resolve();
  }
}
