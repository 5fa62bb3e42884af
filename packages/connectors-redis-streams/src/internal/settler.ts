/**
 * What settles one consumer's entries: XACK (the acks of a turn in one
 * command), the release of entries to other consumers, and the dead-letter
 * script. Each settled entry stops being held.
 *
 * @module
 */
import type { Redis } from 'ioredis';
import type { ResolvedStreamOptions } from '../options.js';
import { AckBatcher } from './ack-batcher.js';
import type { HeldEntries } from './held.js';
import { deadLetterEntry, touchEntries } from './scripts.js';

/**
 * Idle time given to released entries: far above any `claimIdle`, so the
 * next XAUTOCLAIM of any consumer takes them (and below the epoch in ms,
 * which Redis would clamp to zero).
 */
const RELEASED_IDLE_MS = 10 * 365 * 24 * 3600 * 1000;

/** What settling uses of its consumer. */
export interface SettlerHost {
  /** The command connection (read at each use: the service may have reconnected). */
  readonly client: Redis;
  readonly options: ResolvedStreamOptions;
  readonly held: HeldEntries;
  /** Released entries are pending for anyone: the sweep starts over. */
  sweepAgain(): void;
  /** The connector error for a failed `action`. */
  error(error: unknown, action: string): Error;
}

/** The settling side of one consumer. */
export class EntrySettler {
  readonly #host: SettlerHost;
  readonly #acks = new AckBatcher((ids) => this.#sendAcks(ids));
  /**
   * Told of each batch of acks about to be written (their entries no longer
   * count against `maxUnacked`). It may send them itself, returning the
   * XACK's reply (a read ahead takes them along); undefined: sent here.
   */
  onAcksSent: ((ids: readonly string[]) => Promise<unknown> | undefined) | undefined;

  constructor(host: SettlerHost) {
    this.#host = host;
  }

  /**
   * XACK, gathered with the other acks of the turn into one command; the
   * acks of one XACK share its promise (no promise or async step per ack).
   */
  ack(id: string): Promise<void> {
    return this.#acks.ack(id);
  }

  /**
   * One XACK for `ids`, resolving on its reply. Its entries are no longer
   * held once it is written (or queued while the connection is back):
   * they leave room for the next read at once, a round trip before the
   * reply. Nothing acked comes back meanwhile: new entries are read past
   * them, and the sweeps run after the XACK was answered (on the command
   * connection after it; a read ahead that carries it is awaited by the
   * next fetch). An XACK that fails leaves its entries pending, to be
   * delivered again (by this consumer's recovery after a reconnect, or by
   * any sweep after `claimIdle`): at least once, as for a consumer that
   * dies before its ack.
   */
  #sendAcks(ids: readonly string[]): Promise<void> {
    this.#host.held.deleteAll(ids);
    // A read ahead takes them along when it goes now (one write for both), else XACK on its own.
    const sent = this.onAcksSent?.(ids) ?? this.xack(ids);
    return sent.then(
      () => undefined,
      (error: unknown) => {
        throw this.#host.error(error, 'ack an entry of');
      },
    );
  }

  /** XACK of `ids` on the command connection, now (a synchronous throw as a rejection). */
  xack(ids: readonly string[]): Promise<unknown> {
    const { stream, group } = this.#host.options;
    try {
      return this.#host.client.xack(stream, group, ...ids);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * Gives held entries back: any consumer's next XAUTOCLAIM takes them, this
   * one's next fetch included. `deliveries`: their delivery count is set to
   * it (entries read ahead and never handed out go back as never delivered).
   */
  async release(ids: readonly string[], deliveries?: number): Promise<void> {
    if (ids.length === 0) return;
    const { client, options, held } = this.#host;
    const { stream, group, consumer } = options;
    try {
      await touchEntries(client, { stream, group, consumer, idleMs: RELEASED_IDLE_MS, deliveries, ids });
    } catch (error) {
      throw this.#host.error(error, 'requeue entries of');
    } finally {
      for (const id of ids) held.delete(id);
      this.#host.sweepAgain();
    }
  }

  /**
   * Moves the entry to the dead-letter stream with `fields` appended, and
   * acks it, in one script. `onlyIfPending: false` for entries that already
   * left the pending list (deleted from the stream).
   */
  async deadLetter(id: string, fields: readonly string[], onlyIfPending = true): Promise<void> {
    const { stream, deadLetterStream, group } = this.#host.options;
    try {
      await deadLetterEntry(this.#host.client, {
        stream,
        deadLetterStream,
        group,
        entryId: id,
        onlyIfPending,
        fields,
      });
    } catch (error) {
      throw this.#host.error(error, 'dead-letter an entry of');
    } finally {
      this.#host.held.delete(id);
    }
  }
}
