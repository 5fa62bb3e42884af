/**
 * Which queues are controlled (flow control), remembered for the running
 * write transaction only. The end of every flow asks (a freed slot wakes
 * workers only in a controlled queue), and a claim asks for its queues: one
 * `queues` lookup per flow was ~2 µs of a one-step flow's ~45 in the store.
 *
 * Inside an IMMEDIATE transaction no other connection can change the `queues`
 * table, and this connection's own changes to what is kept here (limits set,
 * a queue marked keyed) forget the queue. What is remembered is forgotten when
 * the transaction begins and ends and when a savepoint rolls back (a change it
 * undid may have been read back since). Outside a write transaction (a read
 * alone) nothing is remembered: each call reads the table.
 *
 * @module
 */
import type { QueueLimits } from '@ergon/core';

/** What the cache keeps per queue: whether it is controlled, and its limits. */
export interface QueueControl {
  readonly controlled: boolean;
  readonly limits: QueueLimits | undefined;
}

/** See the module notes. */
export class QueueCache {
  readonly #known = new Map<string, QueueControl>();
  #open = false;

  /** A write transaction begins: remember from now on. */
  begin(): void {
    this.#known.clear();
    this.#open = true;
  }

  /** The write transaction ended (committed or rolled back). */
  end(): void {
    this.#open = false;
    this.#known.clear();
  }

  /** A savepoint rolled back, or a queue's row changed: forget everything remembered. */
  forget(): void {
    this.#known.clear();
  }

  /** What this transaction read of the queue already, or undefined (not read, or no transaction). */
  lookup(queue: string): QueueControl | undefined {
    return this.#open ? this.#known.get(queue) : undefined;
  }

  /** Keeps what was read of the queue until the transaction ends (outside one: nothing). */
  remember(queue: string, control: QueueControl): void {
    if (this.#open) this.#known.set(queue, control);
  }
}
