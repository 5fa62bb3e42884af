/**
 * Reading the next batch while the last one's acks are answered.
 *
 * A consumer that fetches a batch, works on it and acks it waits a round
 * trip for the XACK's reply before it fetches again (its runner counts a
 * transaction in flight until its ack is answered), then another for the
 * read. Acked entries stop counting against `maxUnacked` once their XACK is
 * written, so the connector reads the next batch then, on the reading
 * connection, in the same write as the XACK: both are answered together,
 * and the next fetch finds the batch there. Entries are taken only for a
 * consumer that keeps fetching: after it acked a full batch, never as soon
 * as a fetch returns (other consumers of the group get what it did not ask
 * for).
 *
 * Only after a full batch (a stream that had more), only new entries, never
 * blocking, never while a fetch runs or waits, and never when a sweep of
 * pending entries is due (the next fetch does that one first). Entries read
 * ahead are held like fetched ones (renewed, counted, given back by a stop:
 * as never delivered, since nobody saw them).
 *
 * @module
 */
import type { Transaction } from '@ergon/core';
import { type AcceptEnv, acceptDeliveries } from './accept.js';
import { REDIS_METADATA } from './fields.js';

/** What reading ahead uses of its connector. */
export interface ReadAheadHost {
  readonly accepting: AcceptEnv;
  readonly maxUnacked: number;
  /** Runs `work` in turn with the fetches (one read at a time on the reading connection). */
  serial(work: () => Promise<void>): Promise<void>;
  /** True while a fetch runs or waits for room, or a stop is under way: no reading ahead then. */
  busy(): boolean;
}

/** The batch read ahead of one connector, and when to read it. */
export class ReadAhead<P> {
  readonly #host: ReadAheadHost;
  #ready: Transaction<P>[] = [];
  /** The size of the last read if it came back full (the stream had more), else 0. */
  #batch = 0;
  #reading = false;

  constructor(host: ReadAheadHost) {
    this.#host = host;
  }

  /** A read asked for `asked` entries and got `got`. */
  noted(asked: number, got: number): void {
    this.#batch = got > 0 && got === asked ? asked : 0;
  }

  /** Up to `limit` of the transactions read ahead, oldest first (none: an empty array). */
  take(limit: number): Transaction<P>[] {
    const ready = this.#ready;
    if (ready.length === 0) return ready;
    if (ready.length <= limit) {
      this.#ready = [];
      return ready;
    }
    return ready.splice(0, limit);
  }

  /**
   * `ready` (taken from what was read ahead) and as many more as there are
   * now, up to `limit`, without waiting.
   */
  async topUp(ready: Transaction<P>[], limit: number, signal: AbortSignal): Promise<Transaction<P>[]> {
    const { accepting, maxUnacked } = this.#host;
    const count = Math.min(limit - ready.length, accepting.consumer.held.roomUnder(maxUnacked));
    if (count <= 0 || signal.aborted) return ready;
    try {
      const deliveries = await accepting.consumer.deliver(count, signal, false);
      for (const tx of await acceptDeliveries<P>(deliveries, accepting)) ready.push(tx);
    } catch (error) {
      // What was read ahead is held here already: it goes out; the next fetch meets the failure again.
      accepting.logger.warn(`redis streams: fetching from ${accepting.options.stream} failed`, {
        error: String(error),
      });
    }
    return ready;
  }

  /** Entry ids read ahead and not handed out. */
  unread(): string[] {
    const { entry } = REDIS_METADATA;
    return this.#ready.map((tx) => tx.metadata[entry] as string);
  }

  /** Forgets what was read ahead (a stop gave it back). */
  clear(): void {
    this.#ready = [];
    this.#batch = 0;
  }

  /**
   * Reads the next batch now, when the last read was full and there is room
   * for it, sending `acks` (whose entries just left the bound) in the same
   * write. Returns their XACK's reply when it took them, else undefined.
   * Nothing reads on the reading connection now (no fetch runs or waits,
   * none is read ahead): the read goes out at once, and the next fetch
   * waits for it.
   */
  readonly start = (acks?: readonly string[]): Promise<unknown> | undefined => {
    const { accepting, maxUnacked } = this.#host;
    const { consumer } = accepting;
    if (this.#batch === 0 || this.#reading || this.#ready.length > 0 || this.#host.busy()) return undefined;
    if (consumer.sweepDue) return undefined;
    const count = Math.min(this.#batch, consumer.held.roomUnder(maxUnacked));
    if (count === 0) return undefined;
    this.#reading = true;
    const { acked, read } = consumer.readNew(count, acks);
    void this.#host.serial(async () => {
      try {
        const deliveries = await read;
        this.noted(count, deliveries.length);
        if (deliveries.length > 0) this.#ready = await acceptDeliveries<P>(deliveries, accepting);
      } catch {
        // Nothing read (what a lost reply delivered is recovered by the next fetch): it reads as usual.
        this.#batch = 0;
      } finally {
        this.#reading = false;
      }
    });
    return acked;
  };
}
