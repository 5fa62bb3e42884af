/**
 * The objects this connector claimed and has not finished: their leases
 * (renewed while held), the lines of each still unsettled, lines given back
 * to be fetched again, and the in-flight bound (fetches wait for room).
 *
 * @module
 */
import type { Transaction } from '@ergon/core';
import type { Lease } from './claims.js';

/** A claimed object and what of it is still unsettled. */
export interface HeldObject {
  readonly lease: Lease;
  /** The user metadata it was read with (for its dead letter). */
  readonly metadata: Readonly<Record<string, string>>;
  /** Unsettled transactions of it, by line (0 for a whole object). */
  readonly open: Set<number>;
}

/** Claimed objects by key; counts transactions, not objects. */
export class HeldObjects {
  readonly #objects = new Map<string, HeldObject>();
  /** Lines of held objects given back (JSON lines), fetched again first. */
  readonly #again: Transaction[] = [];
  #count = 0;
  #waiters: (() => void)[] = [];

  /** Unsettled transactions held. */
  get count(): number {
    return this.#count;
  }

  /** The leases of every held object. */
  leases(): HeldObject['lease'][] {
    return [...this.#objects.values()].map((o) => o.lease);
  }

  /** True when `key` is held. */
  has(key: string): boolean {
    return this.#objects.has(key);
  }

  /** The held object `key`. */
  get(key: string): HeldObject | undefined {
    return this.#objects.get(key);
  }

  /** Holds an object with its open lines. */
  add(key: string, object: HeldObject): void {
    this.#objects.set(key, object);
    this.#count += object.open.size;
  }

  /** Settles one line of a held object; true when it was open. */
  settle(key: string, line: number): boolean {
    const object = this.#objects.get(key);
    if (!object?.open.delete(line)) return false;
    this.#count--;
    this.wake();
    return true;
  }

  /** Lets a whole object go (released or finished). */
  drop(key: string): void {
    const object = this.#objects.get(key);
    if (!object) return;
    this.#objects.delete(key);
    this.#count -= object.open.size;
    for (let i = this.#again.length - 1; i >= 0; i--) {
      if ((this.#again[i] as Transaction).metadata['s3.key'] === key) this.#again.splice(i, 1);
    }
    this.wake();
  }

  /** Keeps a line of a held object to be fetched again (a requeue within a JSON-lines object). */
  again(transaction: Transaction): void {
    this.#again.push(transaction);
  }

  /** Up to `n` lines given back, oldest first. */
  takeAgain(n: number): Transaction[] {
    return this.#again.splice(0, n);
  }

  /** Forgets everything (a stop). */
  clear(): void {
    this.#objects.clear();
    this.#again.length = 0;
    this.#count = 0;
    this.wake();
  }

  /** Wakes every fetch waiting for room. */
  wake(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const wake of waiters) wake();
  }

  /**
   * Resolves with the room left under `max` (lines given back count as
   * room, they are held already); 0 when `timeoutMs` passed, `signal`
   * aborted or `stopped()` turned true first.
   */
  async room(max: number, options: { signal: AbortSignal; timeoutMs: number; stopped: () => boolean }) {
    const deadline = Date.now() + options.timeoutMs;
    for (;;) {
      const free = max - this.#count + this.#again.length;
      if (free > 0) return free;
      const left = deadline - Date.now();
      if (left <= 0 || options.signal.aborted || options.stopped()) return 0;
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          options.signal.removeEventListener('abort', done);
          resolve();
        };
        const timer = setTimeout(done, left);
        options.signal.addEventListener('abort', done, { once: true });
        this.#waiters.push(done);
      });
    }
  }
}
