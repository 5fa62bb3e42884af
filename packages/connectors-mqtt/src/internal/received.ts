/**
 * Deliveries received and not fetched yet, in arrival order, one per packet
 * id. This may hold tens of thousands: Mosquitto (2.0) stops at the
 * client's Receive Maximum only until PUBACKs start coming, then sends a
 * session's backlog past it (18,700 of 20,000 queued were held at once in
 * the bench). Taking from the front moves a read index instead of shifting
 * the array: `shift()` on an array that large copied it each time, a third
 * of the connector's CPU.
 *
 * Fetches that find nothing to take wait here until it changes.
 *
 * @module
 */
import { Waiters } from '@ergon/core';
import type { Delivery } from '../service.js';

/** A FIFO of deliveries that refuses a second one with the same packet id. */
export class Received {
  #items: Delivery[] = [];
  #head = 0;
  readonly #packetIds = new Set<number>();
  readonly #waiters = new Waiters();

  /** How many are waiting. */
  get size(): number {
    return this.#items.length - this.#head;
  }

  /** Appends `delivery`; false (and nothing appended) when one with its packet id is waiting already. */
  push(delivery: Delivery): boolean {
    if (this.#packetIds.has(delivery.packetId)) return false;
    this.#packetIds.add(delivery.packetId);
    this.#items.push(delivery);
    return true;
  }

  /** The oldest, removed; undefined when empty. */
  shift(): Delivery | undefined {
    if (this.#head === this.#items.length) return undefined;
    const delivery = this.#items[this.#head] as Delivery;
    this.#items[this.#head++] = undefined as unknown as Delivery;
    this.#packetIds.delete(delivery.packetId);
    if (this.#head === this.#items.length) {
      this.#items = [];
      this.#head = 0;
    } else if (this.#head >= 1024 && this.#head * 2 >= this.#items.length) {
      // Drop the taken half now and then, so the array does not grow for ever.
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    return delivery;
  }

  /** Empties it. */
  clear(): void {
    this.#items = [];
    this.#head = 0;
    this.#packetIds.clear();
  }

  /** Resolves at the next {@link wake}, after `ms`, or on abort, whichever comes first. */
  changed(ms: number, signal?: AbortSignal): Promise<void> {
    return this.#waiters.next(ms, signal);
  }

  /** Ends every wait: something came, or what a waiting fetch may take changed. */
  wake(): void {
    this.#waiters.wake();
  }
}
