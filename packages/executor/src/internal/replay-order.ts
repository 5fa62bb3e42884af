/**
 * Replay order: recorded results are delivered in the order they were
 * recorded, not the order the code calls them. A record is resolved only
 * after every earlier-recorded one the code has called, so a `Promise.race`
 * is won on replay by the operation that won it live.
 *
 * @module
 */
import type { OperationRecord } from '@ergon/core';

/** Told when deliveries wait on ranks not yet called (a stall check may be due): the activation's liveness. */
export interface ReplayWatcher {
  check(): void;
}

/** The order of a history's final records, and the deliveries waiting for their turn. */
interface Ranks {
  /** Position → rank of its final record in recording order. */
  readonly rank: Map<number, number>;
  /** Called recorded operations waiting for their turn, by rank. */
  readonly turns: Map<number, () => void>;
  /** Ranks that will never be called (nodes of a DAG replayed whole). */
  readonly skipped: Set<number>;
  next: number;
}

/** Delivers recorded results by rank (recording order). */
export class ReplayOrder {
  /** None for a history without final records (a flow's first run): every delivery is at once. */
  readonly #ranks: Ranks | undefined;
  readonly #watcher: ReplayWatcher;

  constructor(history: readonly OperationRecord[], watcher: ReplayWatcher) {
    this.#watcher = watcher;
    if (history.length === 0) {
      this.#ranks = undefined;
      return;
    }
    const finals = history
      .filter((r) => r.status !== 'waiting')
      .sort(
        (a, b) =>
          (a.seq ?? Number.MAX_SAFE_INTEGER) - (b.seq ?? Number.MAX_SAFE_INTEGER) ||
          (a.finishedAt ?? 0) - (b.finishedAt ?? 0) ||
          a.position - b.position,
      );
    if (finals.length === 0) {
      this.#ranks = undefined;
      return;
    }
    const rank = new Map<number, number>();
    for (const [i, r] of finals.entries()) rank.set(r.position, i);
    this.#ranks = { rank, turns: new Map(), skipped: new Set(), next: 0 };
  }

  /** True when some delivery waits for its turn. */
  get waiting(): boolean {
    return this.#ranks !== undefined && this.#ranks.turns.size > 0;
  }

  /** The record at `position` will never be called (its DAG is replayed whole). */
  skip(position: number): void {
    const ranks = this.#ranks;
    const rank = ranks?.rank.get(position);
    if (ranks && rank !== undefined) ranks.skipped.add(rank);
  }

  /**
   * True when the record at `position` may be delivered now (it has no rank, or its turn has
   * come): the caller delivers it itself, then calls {@link ReplayOrder.delivered}.
   */
  due(position: number): boolean {
    const ranks = this.#ranks;
    const rank = ranks?.rank.get(position);
    return !ranks || rank === undefined || (rank === ranks.next && !ranks.skipped.has(rank));
  }

  /** The record at `position`, {@link ReplayOrder.due}, was delivered: the turns after it follow. */
  delivered(position: number): void {
    const ranks = this.#ranks;
    if (!ranks || ranks.rank.get(position) === undefined) return;
    ranks.next++;
    this.#advance(ranks);
  }

  /** Runs `deliver` in the turn of the record at `position` (at once when it has no rank). */
  deliver(position: number, deliver: () => void): void {
    const ranks = this.#ranks;
    const rank = ranks?.rank.get(position);
    if (!ranks || rank === undefined) {
      deliver();
      return;
    }
    ranks.turns.set(rank, deliver);
    this.#advance(ranks);
  }

  /**
   * No live work is left, yet deliveries wait: an earlier-recorded operation was
   * never called (the code took another path). Deliver the waiting ones in their order.
   */
  unstall(): void {
    const ranks = this.#ranks;
    if (!ranks || ranks.turns.size === 0) return;
    ranks.next = Math.min(...ranks.turns.keys());
    this.#advance(ranks);
  }

  #advance(ranks: Ranks): void {
    for (;;) {
      if (ranks.skipped.has(ranks.next)) {
        ranks.next++;
        continue;
      }
      const deliver = ranks.turns.get(ranks.next);
      if (!deliver) break;
      ranks.turns.delete(ranks.next);
      ranks.next++;
      deliver();
    }
    if (ranks.turns.size > 0) this.#watcher.check();
  }
}
