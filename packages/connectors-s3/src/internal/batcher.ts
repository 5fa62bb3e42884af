/**
 * Settlements asked for while one is in flight go together in the next
 * statement: one round trip per batch under load, none delayed when idle.
 *
 * @module
 */

interface Pending<T> {
  readonly item: T;
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

/** Runs `flush` on batches of items; each `add` resolves when its batch did. */
export class Batcher<T> {
  readonly #flush: (items: T[]) => Promise<unknown>;
  readonly #max: number;
  #queue: Pending<T>[] = [];
  #running = false;

  constructor(flush: (items: T[]) => Promise<unknown>, max = 500) {
    this.#flush = flush;
    this.#max = max;
  }

  /** Queues `item`; resolves once a flush that included it succeeded. */
  add(item: T): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#queue.push({ item, resolve, reject });
      if (!this.#running) void this.#drain();
    });
  }

  async #drain(): Promise<void> {
    this.#running = true;
    try {
      while (this.#queue.length > 0) {
        const batch = this.#queue.splice(0, this.#max);
        try {
          await this.#flush(batch.map((p) => p.item));
          for (const p of batch) p.resolve();
        } catch (error) {
          for (const p of batch) p.reject(error);
        }
      }
    } finally {
      this.#running = false;
    }
  }
}
