/**
 * Store events of one connection: held until the transaction that made them
 * commits, then given to the process-wide notifier; and written to the change
 * feed (table `events`) in that same transaction so other processes see them.
 *
 * @module
 */
import type { StoreEvent } from '@ergon/core';
import type Database from 'better-sqlite3';
import { type ChangeSource, ORIGIN } from './feed-reader.js';
import type { ChangeNotifier } from './notifier.js';
import type { Queries } from './queries.js';
import { toFeedEntry } from './rows.js';
import type { CommitHooks } from './runner.js';

/** Change-feed rows kept for other processes to read; older ones are pruned. */
export const FEED_KEEP = 10_000;
/** The feed is pruned when a sequence number is a multiple of this. */
const FEED_PRUNE_EVERY = 1000;

/** Collects a transaction's events; see the module comment. */
export class EventOutbox implements CommitHooks {
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

  /** Records an event of the running transaction. */
  emit(event: StoreEvent): void {
    this.#pending.push(event);
    if (!this.#shared) return;
    const seq = this.#q.insertEvent.insert({
      origin: ORIGIN,
      type: event.type,
      queue: event.type === 'ready' ? event.queue : undefined,
      flowId: event.type === 'ready' ? undefined : event.flowId,
      status: event.type === 'finished' ? event.status : undefined,
      at: event.type === 'ready' ? event.at : undefined,
    });
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
