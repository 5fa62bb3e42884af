/**
 * Acks gathered into one XACK: while one XACK is in flight, the acks asked
 * for meanwhile wait and then go together. An ack on an idle connector goes
 * at once, so batching adds no delay; under load a hundred acks cost one
 * command instead of a hundred.
 *
 * @module
 */

/** Sends one XACK for `ids`. */
export type SendAcks = (ids: readonly string[]) => Promise<unknown>;

/** Most ids in one XACK. */
const MAX_BATCH = 1000;

interface Waiting {
  readonly id: string;
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

/** Coalesces acks while one is in flight. */
export class AckBatcher {
  readonly #send: SendAcks;
  #queue: Waiting[] = [];
  #inFlight = false;

  constructor(send: SendAcks) {
    this.#send = send;
  }

  /** Acks `id`: resolves once the XACK carrying it was answered, rejects with its error. */
  ack(id: string): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.#queue.push({ id, resolve, reject });
      if (!this.#inFlight) void this.#flush();
    });
  }

  async #flush(): Promise<void> {
    this.#inFlight = true;
    while (this.#queue.length > 0) {
      const batch = this.#queue.splice(0, MAX_BATCH);
      try {
        await this.#send(batch.map((w) => w.id));
        for (const w of batch) w.resolve();
      } catch (error) {
        for (const w of batch) w.reject(error);
      }
    }
    this.#inFlight = false;
  }
}
