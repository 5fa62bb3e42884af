/**
 * Store events of one connection: held until the transaction that made them
 * commits, then given to the process-wide notifier; and written to the change
 * feed (table `events`) at the end of that same transaction, so other processes
 * see them: one row for the transaction's events (a `batch` row when there are
 * several, schema version 9).
 *
 * @module
 */
import type { StoreEvent } from '@ergon/core';
import type Database from 'better-sqlite3';
import { type ChangeSource, ORIGIN } from './feed-reader.js';
import type { ChangeNotifier } from './notifier.js';
import type { Queries } from './queries.js';
import { feedFields, toFeedEntry } from './rows.js';
import type { CommitHooks } from './runner.js';

/** Change-feed rows kept for other processes to read; older ones are pruned. */
export const FEED_KEEP = 10_000;
/** The feed is pruned when a sequence number is a multiple of this. */
const FEED_PRUNE_EVERY = 1000;

/** Collects a transaction's events; see the module comment. */
export class EventOutbox implements Omit<CommitHooks, 'begin'> {
  readonly #q: Queries;
  readonly #notifier: ChangeNotifier;
  readonly #shared: boolean;
  readonly #pending: StoreEvent[] = [];

  /** `shared` is false for a private database no other process can open: no feed then. */
  constructor(q: Queries, notifier: ChangeNotifier, shared: boolean) {
    this.#q = q;
    this.#notifier = notifier;
    this.#shared = shared;
  }

  /** Records an event of the running transaction (written to the feed by {@link flush}). */
  emit(event: StoreEvent): void {
    this.#pending.push(event);
  }

  /**
   * Writes the running transaction's events to the feed, as its last statement: one row for a
   * lone event, one `batch` row for several (a row per event cost ~3 µs of a one-step flow's
   * ~45 under the write lock, in a group commit of 50 flows).
   */
  flush(): void {
    const pending = this.#pending;
    if (!this.#shared || pending.length === 0) return;
    let seq: number;
    if (pending.length === 1) {
      const [type, queue, flowId, status, at] = feedFields(pending[0] as StoreEvent);
      seq = this.#q.insertEvent.insert({ origin: ORIGIN, type, queue, flowId, status, at });
    } else {
      const batch = JSON.stringify(pending.map(feedFields));
      seq = this.#q.insertBatch.insert({ origin: ORIGIN, batch });
    }
    if (seq % FEED_PRUNE_EVERY === 0) this.#q.pruneEvents.run({ seq: seq - FEED_KEEP });
  }

  /** Where the running transaction's events end now (see {@link EventOutbox.rollbackTo}). */
  mark(): number {
    return this.#pending.length;
  }

  /** A savepoint rolled back: the events emitted since `mark` never happened. */
  rollbackTo(mark: number): void {
    this.#pending.length = mark;
  }

  /** The transaction committed: deliver its events. */
  commit(): void {
    if (this.#pending.length === 0) return;
    // Other processes' notifiers first: the ring costs one write, delivery here is a microtask.
    if (this.#shared) this.#notifier.ring();
    this.#notifier.emit(this.#pending.splice(0));
  }

  /** The transaction rolled back: its events never happened. */
  rollback(): void {
    this.#pending.length = 0;
  }
}

/** What the notifier polls on this connection to see other processes' commits. */
export function changeSource(db: Database.Database, q: Queries): ChangeSource {
  const dataVersion = db.prepare<[], number>('PRAGMA data_version').pluck();
  return {
    dataVersion: () => dataVersion.get() ?? 0,
    lastSeq: () => q.lastEvent.get()?.seq ?? 0,
    readFeed: (seq, limit) => q.eventsAfter.all({ seq, limit }).flatMap(toFeedEntry),
  };
}
