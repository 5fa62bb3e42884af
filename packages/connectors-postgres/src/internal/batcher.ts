/**
 * Settlements asked for in one event-loop turn, or while one is in flight,
 * go together in one request: one round trip per batch under load, none
 * delayed by more than a turn when idle.
 *
 * @module
 */

/** Items that go in one request, and the one promise all of them wait on. */
interface Batch<T> {
  readonly items: T[];
  readonly done: Promise<void>;
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

/** Runs `flush` on batches of items; each `add` resolves when its batch did. */
export class Batcher<T> {
  readonly #flush: (items: T[]) => Promise<unknown>;
  readonly #max: number;
  /** Batches not sent yet, oldest first; the last one takes new items until it is full. */
  #waiting: Batch<T>[] = [];
  #running: Promise<void> | undefined;

  constructor(flush: (items: T[]) => Promise<unknown>, max = 500) {
    this.#flush = flush;
    this.#max = max;
  }

  /**
   * Queues `item`; resolves once a flush that included it succeeded, rejects
   * with its error. The items of one flush share one promise (a hundred
   * acks cost one promise, not a hundred).
   */
  add(item: T): Promise<void> {
    let batch = this.#waiting[this.#waiting.length - 1];
    if (!batch || batch.items.length >= this.#max) {
      batch = newBatch<T>();
      this.#waiting.push(batch);
    }
    batch.items.push(item);
    // Drained after this turn: the settlements of one turn go together.
    this.#running ??= new Promise<void>((resolve) => setImmediate(resolve)).then(() => this.#drain());
    return batch.done;
  }

  /** Resolves once every item queued so far was flushed (or failed); never rejects. */
  async settled(): Promise<void> {
    while (this.#running) await this.#running;
  }

  async #drain(): Promise<void> {
    try {
      for (let batch = this.#waiting.shift(); batch; batch = this.#waiting.shift()) {
        try {
          await this.#flush(batch.items);
          batch.resolve();
        } catch (error) {
          batch.reject(error);
        }
      }
    } finally {
      this.#running = undefined;
    }
  }
}

function newBatch<T>(): Batch<T> {
  let resolve!: () => void;
  let reject!: (error: unknown) => void;
  const done = new Promise<void>((yes, no) => {
    resolve = yes;
    reject = no;
  });
  return { items: [], done, resolve, reject };
}
