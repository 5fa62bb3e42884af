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

/** The acks of one XACK: their ids, and the one promise they all wait on. */
interface Batch {
  readonly ids: string[];
  readonly sent: Promise<void>;
  readonly send: () => void;
}

/** Coalesces the acks of one turn. */
export class AckBatcher {
  readonly #send: SendAcks;
  /** The batches of this turn, sent when it ends; the last one takes new ids. */
  #batches: Batch[] = [];

  constructor(send: SendAcks) {
    this.#send = send;
  }

  /**
   * Acks `id`: resolves once the XACK carrying it was answered, rejects with
   * its error. The acks of one XACK share one promise (a hundred acks cost
   * one promise, not a hundred).
   */
  ack(id: string): Promise<void> {
    let batch = this.#batches[this.#batches.length - 1];
    if (!batch || batch.ids.length >= MAX_BATCH) {
      if (this.#batches.length === 0) setImmediate(this.#flush);
      batch = this.#batch();
      this.#batches.push(batch);
    }
    batch.ids.push(id);
    return batch.sent;
  }

  #batch(): Batch {
    const ids: string[] = [];
    let send!: () => void;
    const sent = new Promise<void>((resolve, reject) => {
      send = () => {
        try {
          this.#send(ids).then(() => resolve(), reject);
        } catch (error) {
          reject(error);
        }
      };
    });
    return { ids, sent, send };
  }

  readonly #flush = (): void => {
    const batches = this.#batches;
    this.#batches = [];
    for (const batch of batches) batch.send();
  };
}
