/**
 * What an open store is made of, shared by the modules that implement its
 * calls: the connection, its prepared queries, the transaction runner, the
 * event outbox and the process-wide notifier of its file; how they are put
 * together when the store opens and taken apart, once, when it closes.
 *
 * @module
 */
import type { StoreListener } from '@ergon/core';
import { type ResolvedOptions, resolveOptions, type SqliteExecutionLogOptions } from '../options.js';
import { Apart } from './batch.js';
import { Doorbell } from './doorbell.js';
import { toErgonError } from './errors.js';
import { changeSource, EventOutbox } from './feed.js';
import type { ChangeSource } from './feed-reader.js';
import { GroupCommit } from './group-commit.js';
import { HeldFlows } from './held-flows.js';
import { type ChangeNotifier, joinNotifier, leaveNotifier } from './notifier.js';
import { type Connection, connect, prepareDatabase } from './open.js';
import { prepareQueries, type TxContext } from './queries.js';
import { QueueCache } from './queue-cache.js';
import { TransactionRunner } from './runner.js';
import { SqliteSchedules } from './schedules.js';
import { StatementCache } from './statements.js';

/** One open store's parts. */
export class StoreCore {
  /** The connection and the file it is to. */
  readonly connection: Connection;
  /** The prepared queries and the event sink of the running transaction. */
  readonly ctx: TxContext;
  /** The events of the running transaction, delivered when it commits. */
  readonly outbox: EventOutbox;
  /** Keeps the items of a batch, or the calls of a group, apart in the running transaction. */
  readonly apart: Apart;
  /** Writes in IMMEDIATE transactions, reads, both retried while another connection holds the lock. */
  readonly runner: TransactionRunner;
  /** The store's calls through {@link runner}, a turn's calls in one transaction (`group-commit.ts`). */
  readonly group: GroupCommit;
  /** Statements compiled on first use (listings, imports). */
  readonly adhoc: StatementCache;
  /** Cron schedules, in the `schedules` table (`schedules.ts`). */
  readonly schedules: SqliteSchedules;
  readonly #notifier: ChangeNotifier;
  readonly #source: ChangeSource | undefined;
  readonly #subscriptions = new Set<() => void>();

  constructor(config: ResolvedOptions, connection: Connection) {
    const { db } = connection;
    this.connection = connection;
    const q = prepareQueries(db, connection.kysely);
    this.adhoc = new StatementCache(db);
    // A private in-memory database has no other connection to tell or to listen to.
    this.#source = db.memory ? undefined : changeSource(db, q);
    this.#notifier = joinNotifier(connection.key, this.#source, {
      pollIntervalMs: config.pollIntervalMs,
      doorbell: this.#source && config.watch ? new Doorbell(connection.key) : undefined,
    });
    const outbox = new EventOutbox(q, this.#notifier, this.#source !== undefined);
    this.outbox = outbox;
    const queues = new QueueCache();
    this.ctx = { q, queues, held: new HeldFlows(), emit: (event) => outbox.emit(event) };
    this.apart = new Apart(db, outbox, queues);
    this.runner = new TransactionRunner({
      db,
      where: connection.where,
      busyTimeoutMs: config.busyTimeoutMs,
      hooks: {
        begin: () => queues.begin(),
        flush: () => outbox.flush(),
        commit: () => {
          queues.end();
          outbox.commit();
        },
        rollback: () => {
          queues.end();
          outbox.rollback();
        },
      },
    });
    this.group = new GroupCommit(this.runner, this.apart);
    this.schedules = new SqliteSchedules(db, connection.kysely as never, this.runner);
  }

  /** Subscribes `listener` to the file's events; returns its unsubscribe function. */
  subscribe(listener: StoreListener): () => void {
    const stop = this.#notifier.listen(listener);
    const unsubscribe = () => {
      stop();
      this.#subscriptions.delete(unsubscribe);
    };
    this.#subscriptions.add(unsubscribe);
    return unsubscribe;
  }

  /** Refuses later work, ends subscriptions, leaves the notifier and closes the connection if owned. */
  async close(): Promise<void> {
    this.runner.close();
    for (const unsubscribe of [...this.#subscriptions]) unsubscribe();
    leaveNotifier(this.connection.key, this.#source);
    const { db, owned, kysely } = this.connection;
    await kysely.destroy();
    if (owned && db.open) db.close();
  }
}

/**
 * Opens (creating when missing) and migrates the store `options` describe. On failure a
 * connection it opened is closed again.
 */
export async function openStore(options: SqliteExecutionLogOptions): Promise<StoreCore> {
  const config = resolveOptions(options);
  const connection = connect(config);
  try {
    await prepareDatabase(connection, config);
    return new StoreCore(config, connection);
  } catch (error) {
    if (connection.owned && connection.db.open) connection.db.close();
    throw toErgonError(error, connection.where);
  }
}
