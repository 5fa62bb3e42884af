/**
 * Replay order: recorded results are delivered in the order they were
 * recorded, not the order the code calls them. A record is resolved only
 * after every earlier-recorded one the code has called, so a `Promise.race`
 * is won on replay by the operation that won it live.
 *
 * @module
 */
import type { OperationRecord } from '@ergon/core';

/** Delivers recorded results by rank (recording order). */
export class ReplayOrder {
  /** Position → rank of its final record in recording order. */
  readonly #rank = new Map<number, number>();
  /** Called recorded operations waiting for their turn, by rank. */
  readonly #turns = new Map<number, () => void>();
  /** Ranks that will never be called (nodes of a DAG replayed whole). */
  readonly #skipped = new Set<number>();
  readonly #onWaiting: () => void;
  #next = 0;

  /** `onWaiting` is told when deliveries wait on ranks not yet called (a stall check may be due). */
  constructor(history: readonly OperationRecord[], onWaiting: () => void) {
    this.#onWaiting = onWaiting;
    const finals = history
      .filter((r) => r.status !== 'waiting')
      .sort(
        (a, b) =>
          (a.seq ?? Number.MAX_SAFE_INTEGER) - (b.seq ?? Number.MAX_SAFE_INTEGER) ||
          (a.finishedAt ?? 0) - (b.finishedAt ?? 0) ||
          a.position - b.position,
      );
    for (const [rank, r] of finals.entries()) this.#rank.set(r.position, rank);
  }

  /** True when some delivery waits for its turn. */
  get waiting(): boolean {
    return this.#turns.size > 0;
  }

  /** The record at `position` will never be called (its DAG is replayed whole). */
  skip(position: number): void {
    const rank = this.#rank.get(position);
    if (rank !== undefined) this.#skipped.add(rank);
  }

  /** Runs `deliver` in the turn of the record at `position` (at once when it has no rank). */
  deliver(position: number, deliver: () => void): void {
    const rank = this.#rank.get(position);
    if (rank === undefined) {
      deliver();
      return;
    }
    this.#turns.set(rank, deliver);
    this.#advance();
  }

  /**
   * No live work is left, yet deliveries wait: an earlier-recorded operation was
   * never called (the code took another path). Deliver the waiting ones in their order.
   */
  unstall(): void {
    this.#next = Math.min(...this.#turns.keys());
    this.#advance();
  }

  #advance(): void {
    for (;;) {
      if (this.#skipped.has(this.#next)) {
        this.#next++;
        continue;
      }
      const deliver = this.#turns.get(this.#next);
      if (!deliver) break;
      this.#turns.delete(this.#next);
      this.#next++;
      deliver();
    }
    if (this.#turns.size > 0) this.#onWaiting();
  }
}
