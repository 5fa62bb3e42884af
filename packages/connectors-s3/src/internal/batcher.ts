/**
 * Settlements asked for in one event-loop turn, or while one is in flight,
 * go together in one request: one round trip per batch under load, none
 * delayed by more than a turn when idle.
 *
 * @module
 */

interface Pending<T> {
  readonly item: T;
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

/**
 * What a flush may resolve with to fail items one by one: per item, in
 * order, the error it failed with, `undefined` where it went through. A
 * flush that resolves with anything else went through for every item.
 */
export type FlushFailures = readonly unknown[];

/** Runs `flush` on batches of items; each `add` resolves when its batch did (or its item, when the flush says per item). */
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
      if (!this.#running) {
        // Marked running now, drained after this turn: the settlements of one batch go together.
        this.#running = true;
        setImmediate(() => void this.#drain());
      }
    });
  }

  async #drain(): Promise<void> {
    try {
      while (this.#queue.length > 0) {
        const batch = this.#queue.splice(0, this.#max);
        try {
          const result = await this.#flush(batch.map((p) => p.item));
          const failed = Array.isArray(result) ? (result as FlushFailures) : undefined;
          for (let i = 0; i < batch.length; i++) {
            const p = batch[i] as Pending<T>;
            const error = failed?.[i];
            if (error === undefined) p.resolve();
            else p.reject(error);
          }
        } catch (error) {
          for (const p of batch) p.reject(error);
        }
      }
    } finally {
      this.#running = false;
    }
  }
}
