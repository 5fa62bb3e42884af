/**
 * Acks gathered into one XACK per turn of the event loop: the acks a batch
 * of transactions asks for in one turn go as one command when the turn
 * ends (a hundred acks cost one command instead of a hundred, and one reply
 * settles them together). XACKs of later turns go at once, pipelined on the
 * connection, without waiting for earlier replies.
 *
 * An earlier version sent the first ack alone and held the rest until its
 * reply: a batch's acks then came back in two replies a round trip apart,
 * and the consumer's next fetch asked for one entry after the first.
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

/** Coalesces the acks of one turn. */
export class AckBatcher {
  readonly #send: SendAcks;
  #queue: Waiting[] = [];
  #scheduled = false;

  constructor(send: SendAcks) {
    this.#send = send;
  }

  /** Acks `id`: resolves once the XACK carrying it was answered, rejects with its error. */
  ack(id: string): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.#queue.push({ id, resolve, reject });
      if (!this.#scheduled) {
        this.#scheduled = true;
        setImmediate(this.#flush);
      }
    });
  }

  readonly #flush = (): void => {
    this.#scheduled = false;
    const queue = this.#queue;
    this.#queue = [];
    for (let from = 0; from < queue.length; from += MAX_BATCH) {
      const batch = queue.slice(from, from + MAX_BATCH);
      let sent: Promise<unknown>;
      try {
        sent = this.#send(batch.map((w) => w.id));
      } catch (error) {
        sent = Promise.reject(error);
      }
      sent.then(
        () => {
          for (const w of batch) w.resolve();
        },
        (error: unknown) => {
          for (const w of batch) w.reject(error);
        },
      );
    }
  };
}
