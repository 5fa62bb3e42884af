/**
 * The rows this connector claimed and has not settled: the in-flight bound
 * (a fetch waits for room), and what the visibility extensions and a stop
 * cover.
 *
 * @module
 */
import type { Claim } from './statements.js';

/** Claimed, unsettled rows by `seq`, with their delivery numbers. */
export class HeldRows {
  readonly #rows = new Map<string, number>();
  #waiters: (() => void)[] = [];

  /** How many are held. */
  get size(): number {
    return this.#rows.size;
  }

  /** Every held claim. */
  claims(): Claim[] {
    return [...this.#rows].map(([seq, attempts]) => ({ seq, attempts }));
  }

  /** Holds a claim. */
  add(claim: Claim): void {
    this.#rows.set(claim.seq, claim.attempts);
  }

  /** True when exactly this claim is held. */
  holds(claim: Claim): boolean {
    return this.#rows.get(claim.seq) === claim.attempts;
  }

  /** Lets a claim go; wakes fetches waiting for room. */
  delete(claim: Claim): void {
    if (this.holds(claim)) {
      this.#rows.delete(claim.seq);
      this.wake();
    }
  }

  /** Lets every one of `claims` go that is still held; wakes fetches waiting for room once. */
  deleteAll(claims: readonly Claim[]): void {
    // Usually the claims are every row held, in the order they were claimed (a batch's DELETE):
    // then one clear, not a delete each (the map shrank step by step as it emptied, and grew back
    // the same way with the next batch).
    if (claims.length === this.#rows.size && claims.length > 0 && this.#heldInOrder(claims)) {
      this.#rows.clear();
      this.wake();
      return;
    }
    let deleted = false;
    for (const claim of claims) {
      if (this.holds(claim)) {
        this.#rows.delete(claim.seq);
        deleted = true;
      }
    }
    if (deleted) this.wake();
  }

  /** True when the rows held are exactly `claims`, in order. */
  #heldInOrder(claims: readonly Claim[]): boolean {
    const seqs = this.#rows.keys();
    for (const claim of claims) {
      const next = seqs.next();
      if (next.done || next.value !== claim.seq || this.#rows.get(claim.seq) !== claim.attempts) return false;
    }
    return seqs.next().done === true;
  }

  /** Forgets everything (a stop), waking every waiter. */
  clear(): void {
    this.#rows.clear();
    this.wake();
  }

  /** Wakes every fetch waiting for room, to look again. */
  wake(): void {
    if (this.#waiters.length === 0) return;
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const wake of waiters) wake();
  }

  /**
   * Resolves with the room left under `max` as soon as there is some; with 0
   * when `timeoutMs` passed, `signal` aborted or `stopped()` turned true first.
   */
  async room(max: number, options: { signal: AbortSignal; timeoutMs: number; stopped: () => boolean }) {
    const deadline = Date.now() + options.timeoutMs;
    for (;;) {
      if (this.#rows.size < max) return max - this.#rows.size;
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
