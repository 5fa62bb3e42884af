/**
 * Reads of single flows by id, coalesced: while one read is in flight, the
 * ids asked for meanwhile gather and go together in the next statement
 * (`id = any($1)`), each caller getting its own row. An idle read goes at
 * once. Many result waiters polling at the same time (one `getFlow` each)
 * then cost a few round trips instead of one each, and leave the pool to the
 * workers.
 *
 * @module
 */

/** Batches single-key reads. */
export class ReadCoalescer<Row> {
  readonly #read: (keys: string[]) => Promise<Row[]>;
  readonly #keyOf: (row: Row) => string;
  #waiting = new Map<
    string,
    { resolve: (row: Row | undefined) => void; reject: (error: unknown) => void }[]
  >();
  #inFlight = false;

  /** `read` loads the rows of some keys (those that exist); `keyOf` tells a row's key. */
  constructor(read: (keys: string[]) => Promise<Row[]>, keyOf: (row: Row) => string) {
    this.#read = read;
    this.#keyOf = keyOf;
  }

  /** The row of `key`, or undefined. */
  get(key: string): Promise<Row | undefined> {
    return new Promise((resolve, reject) => {
      const callers = this.#waiting.get(key);
      if (callers) callers.push({ resolve, reject });
      else this.#waiting.set(key, [{ resolve, reject }]);
      if (!this.#inFlight) void this.#flush();
    });
  }

  async #flush(): Promise<void> {
    this.#inFlight = true;
    while (this.#waiting.size > 0) {
      const batch = this.#waiting;
      this.#waiting = new Map();
      try {
        const found = new Map((await this.#read([...batch.keys()])).map((row) => [this.#keyOf(row), row]));
        for (const [key, callers] of batch) for (const c of callers) c.resolve(found.get(key));
      } catch (error) {
        for (const callers of batch.values()) for (const c of callers) c.reject(error);
      }
    }
    this.#inFlight = false;
  }
}
