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
    if (this.#free > 0) this.#free--;
    else await new Promise<void>((resolve) => this.#waiters.push(resolve));
    return this.#releaser();
  }

  /** A permit now if one is free (nobody waiting can be ahead of it then), else undefined. */
  tryAcquire(): (() => void) | undefined {
    if (this.#free === 0) return undefined;
    this.#free--;
    return this.#releaser();
  }

  #releaser(): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.#waiters.shift();
      if (next) next();
      else this.#free++;
      this.#signalSpace();
    };
  }

  /** Resolves when at least one permit is free (at once if one is). */
  whenAvailable(): Promise<void> {
    if (this.#free > 0) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  #signalSpace(): void {
    if (this.#free === 0) return;
    for (const resolve of this.#idle.splice(0)) resolve();
  }
}
