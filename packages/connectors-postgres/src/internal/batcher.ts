/**
 * Settlements asked for in one event-loop turn, or while one is in flight,
 * go together in one request: one round trip per batch under load, none
 * delayed by more than a turn when idle. A batch that holds all there can
 * be (`whole`: every row held was acked) goes at once, not after the turn.
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
  readonly #whole: (size: number) => boolean;
  #running: Promise<void> | undefined;
  /** Starts the drain now instead of after the turn, while it has not started. */
  #now: (() => void) | undefined;

  /** `whole(n)`: true when no item can join a first batch of `n` (nothing to wait a turn for). */
  constructor(
    flush: (items: T[]) => Promise<unknown>,
    options: { max?: number; whole?: (size: number) => boolean } = {},
  ) {
    this.#flush = flush;
    this.#max = options.max ?? 500;
    this.#whole = options.whole ?? (() => false);
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
    if (!this.#running) {
      // Drained after this turn: the settlements of one turn go together.
      let go!: () => void;
      this.#running = new Promise<void>((resolve) => {
        go = resolve;
      }).then(() => this.#drain());
      const turn = setImmediate(go);
      this.#now = () => {
        clearImmediate(turn);
        go();
      };
    }
    if (this.#now && this.#waiting.length === 1 && this.#whole(batch.items.length)) this.#now();
    return batch.done;
  }

  /** Resolves once every item queued so far was flushed (or failed); never rejects. */
  async settled(): Promise<void> {
    while (this.#running) await this.#running;
  }

  async #drain(): Promise<void> {
    this.#now = undefined;
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
