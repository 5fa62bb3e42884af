/**
 * The queue table connector: rows in as transactions (claimed with
 * `FOR UPDATE SKIP LOCKED`, invisible to others for a visibility timeout
 * that the holder extends while it works), transactions out as rows (in
 * your own transaction when you pass its client), ack as a delete, nack as
 * a requeue or a move to the dead-letter table, and `LISTEN/NOTIFY` to wake
 * waiting consumers instead of polling.
 *
 * @module
 */
import { randomUUID } from 'node:crypto';
import {
  type Connector,
  describeReason,
  type FetchOptions,
  InvalidArgumentError,
  type NackOptions,
  type Transaction,
} from '@ergon/core';
import { type PostgresDeadLetter, readDeadLetterRows } from './dead-letters.js';
import { type AcceptEnv, acceptRows } from './internal/accept.js';
import { Batcher } from './internal/batcher.js';
import { Doorbell } from './internal/doorbell.js';
import { EitherSignal } from './internal/either-signal.js';
import { toConnectorError } from './internal/errors.js';
import { HeldRows } from './internal/held.js';
import { VisibilityRenewal } from './internal/renewal.js';
import { claimOf, findQueueTransaction, POSTGRES_METADATA, toRow } from './internal/rows.js';
import { createQueueTables } from './internal/schema.js';
import { type Claim, QueueStatements } from './internal/statements.js';
import { type PostgresQueueOptions, type ResolvedQueueOptions, resolveQueueOptions } from './options.js';
import { PostgresService, type Queryable } from './service.js';

export { POSTGRES_METADATA };

/** Options of {@link PostgresQueueConnector}. */
export interface PostgresQueueConnectorOptions extends PostgresQueueOptions {
  /** The connection pool and LISTEN connection. */
  readonly service: PostgresService;
  /** Stop the service when the connector stops. Default true; false for a service shared by several connectors. */
  readonly stopService?: boolean | undefined;
}

/** Options of {@link PostgresQueueConnector.dispatchTransactions}. */
export interface PostgresDispatchOptions {
  /** Abort before the rows are sent. */
  readonly signal?: AbortSignal;
  /**
   * A client inside your open transaction (`BEGIN` sent, `COMMIT` yours):
   * the rows are inserted there, and exist (and wake consumers) only if and
   * when you commit. Without it the rows are committed on their own.
   */
  readonly client?: Queryable;
}

/**
 * Fetches a queue table's rows as transactions and inserts dispatched ones.
 * A fetched row stays invisible to other consumers while this connector
 * holds it (its visibility is extended every third of the timeout) and
 * comes back when it is nacked with requeue, when this connector stops, or
 * when its holder died and the timeout passed. Its transaction id is the
 * row's `id` column (or `<schema>.<table>:<seq>` without one), the same on
 * every delivery.
 */
export class PostgresQueueConnector<P = unknown> implements Connector<P, P> {
  /** Stable name, `postgres:<schema>.<table>` by default. */
  readonly name: string;
  /** The connection. */
  readonly service: PostgresService;
  /** The resolved options. */
  readonly options: ResolvedQueueOptions;
  readonly #stopService: boolean;
  readonly #statements: QueueStatements;
  readonly #held = new HeldRows();
  readonly #doorbell = new Doorbell();
  readonly #acks: Batcher<Claim>;
  readonly #renewal: VisibilityRenewal;
  readonly #accepting: AcceptEnv;
  readonly #settling = new Set<Promise<unknown>>();
  readonly #consumer: string;
  #tables: Promise<void> | undefined;
  readonly #either = new EitherSignal();
  #queue: Promise<unknown> = Promise.resolve();
  #halt = new AbortController();
  #stopping: Promise<void> | undefined;

  /** @throws InvalidArgumentError for bad options. */
  constructor(options: PostgresQueueConnectorOptions, defaultTable = 'ergon_queue') {
    if (!(options?.service instanceof PostgresService)) {
      throw new InvalidArgumentError('PostgresQueueConnector needs a PostgresService as `service`');
    }
    this.service = options.service;
    this.options = resolveQueueOptions(options, defaultTable);
    this.name = this.options.name;
    this.#stopService = options.stopService ?? true;
    this.#statements = new QueueStatements(this.service, this.options);
    this.#consumer = `${this.service.options.applicationName}-${randomUUID().slice(0, 8)}`;
    // Every row held acked: its DELETE goes at once, not at the turn's end.
    this.#acks = new Batcher((claims) => this.#deleteAcked(claims), { whole: (n) => n >= this.#held.size });
    this.#renewal = new VisibilityRenewal(
      this.#held,
      this.#statements,
      this.options,
      this.service.options.logger,
    );
    this.#accepting = {
      options: this.options,
      held: this.#held,
      statements: this.#statements,
      logger: this.service.options.logger,
    };
  }

  /** Connects the service and creates the tables when missing (`createTables`). Idempotent. */
  async start(signal?: AbortSignal): Promise<void> {
    await this.service.start(signal);
    if (!this.options.createTables) return;
    this.#tables ??= createQueueTables(this.service.pool, this.options).catch((error: unknown) => {
      this.#tables = undefined;
      throw toConnectorError(error, { action: 'create the tables of', table: this.options.queueSql });
    });
    await this.#tables;
  }

  /**
   * Stops fetching (a waiting fetch resolves empty), lets settlements under
   * way finish, makes every row still held visible again at once, stops
   * listening and, unless `stopService: false`, stops the service.
   * Idempotent; `start` works again after.
   */
  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      this.#halt.abort();
      this.#held.wake();
      await this.#queue.catch(() => undefined);
      await Promise.allSettled([...this.#settling, this.#acks.settled()]);
      this.#renewal.stop();
      await this.#renewal.giveBack();
      await this.#doorbell.unlisten();
      this.#tables = undefined;
      if (this.#stopService) await this.service.stop();
      this.#halt = new AbortController();
    })().finally(() => {
      this.#stopping = undefined;
    });
    return this.#stopping;
  }

  /**
   * Up to `limit` transactions, and never more held than `maxInFlight`:
   * claims visible rows; when there are none, waits for a NOTIFY or for the
   * next row to become visible, at most `fetchWait`, then resolves empty.
   * Rows that cannot become transactions, or were delivered more than
   * `maxAttempts` times, go to the dead-letter table and are not returned.
   * Fetches run one at a time.
   */
  async fetchTransactions(options: FetchOptions): Promise<Transaction<P>[]> {
    const limit = options?.limit;
    if (!Number.isSafeInteger(limit) || limit < 0)
      throw new InvalidArgumentError(
        `fetchTransactions: limit must be a whole number ≥ 0 (got ${String(limit)})`,
      );
    if (limit === 0 || this.#halt.signal.aborted) return [];
    await this.start();
    return this.#serial(async () => {
      const halt = this.#halt.signal;
      if (halt.aborted || options.signal?.aborted) return [];
      const signal = options.signal ? this.#either.of(halt, options.signal) : halt;
      // The first fetch claims while the LISTEN is being set up (a connection of its own): it waits
      // for it only before it would wait for a NOTIFY.
      const listening = this.#doorbell.listen(this.#subscribe);
      listening.catch(() => undefined);
      const { fetchWaitMs, maxInFlight } = this.options;
      const deadline = Date.now() + fetchWaitMs;
      const room = await this.#held.room(maxInFlight, {
        signal,
        timeoutMs: fetchWaitMs,
        stopped: () => halt.aborted,
      });
      if (room === 0) return [];
      for (;;) {
        const listened = this.#doorbell.listening;
        const rings = this.#doorbell.rings;
        const rows = await this.#statements.claim(Math.min(limit, room), this.#consumer);
        const out = await acceptRows<P>(rows, this.#accepting);
        if (out.length > 0) this.#renewal.start();
        if (out.length > 0 || signal.aborted) return out;
        if (rows.length > 0) continue;
        if (!listened) {
          // A NOTIFY sent before the LISTEN was in place was not heard: look again once it is.
          await listening;
          continue;
        }
        const left = deadline - Date.now();
        if (left <= 0) return [];
        const next = await this.#statements.nextVisibleIn();
        await this.#doorbell.wait(rings, Math.min(left, next ?? left), signal);
        if (signal.aborted) return [];
      }
    });
  }

  /**
   * Inserts one row per transaction, in order, and notifies the consumers,
   * in one statement. Without `client` it resolves once the rows are
   * committed; with `client` they are part of your transaction.
   *
   * @throws SerializationError for a payload that is not JSON or too large
   *   (`CODEC_*`), ErgonError `CONNECTOR_ERROR` when PostgreSQL refuses.
   */
  async dispatchTransactions(
    transactions: readonly Transaction<P>[],
    options: PostgresDispatchOptions = {},
  ): Promise<void> {
    if (!Array.isArray(transactions))
      throw new InvalidArgumentError('dispatchTransactions needs an array of transactions');
    if (transactions.length === 0) return;
    const rows = transactions.map((tx) => toRow(tx, this.options));
    options.signal?.throwIfAborted();
    await this.start(options.signal);
    await this.#statements.insert(rows, options.client);
  }

  /**
   * Deletes the transaction's row: it is never delivered again. The acks of
   * a turn share one `DELETE` and its promise (nothing more per ack).
   */
  ack(transaction: Transaction<P>): Promise<void> {
    let claim: Claim;
    try {
      claim = claimOf(transaction, this.options, this.name);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.#acks.add(claim);
  }

  /**
   * `requeue: true` makes the row visible again at once (here or in another
   * consumer; the delivery still counts towards `maxAttempts`);
   * `requeue: false` moves it to the dead-letter table with `reason`.
   */
  nack(transaction: Transaction<P>, options: NackOptions): Promise<void> {
    const claim = claimOf(transaction, this.options, this.name);
    const work = options?.requeue
      ? this.#statements.release([claim])
      : this.#statements.deadLetter({ claim, reason: JSON.stringify(describeReason(options?.reason)) });
    return this.#track(work.finally(() => this.#held.delete(claim)).then(() => undefined));
  }

  /**
   * Reads transaction `id` without claiming it: the newest row with that id
   * (or the row `<schema>.<table>:<seq>`), held elsewhere or not. Acked rows
   * are gone. Resolves `undefined` when there is none.
   *
   * @throws ErgonError `CONNECTOR_ERROR` when the row cannot become a transaction, or PostgreSQL fails.
   */
  async findTransaction(
    id: string,
    options: { signal?: AbortSignal } = {},
  ): Promise<Transaction<P> | undefined> {
    await this.start(options.signal);
    return findQueueTransaction<P>(this.#statements, this.options, id);
  }

  /** Rows waiting for delivery: visible now, held by nobody. */
  async readyCount(): Promise<number> {
    await this.start();
    return this.#statements.readyCount();
  }

  /** The dead-letter table's rows, oldest first, without removing them. `after`: only those after this dead-letter `seq`. */
  async readDeadLetters(options: { count?: number; after?: string } = {}): Promise<PostgresDeadLetter[]> {
    await this.start();
    return readDeadLetterRows(this.service, this.options, options);
  }

  /** Subscribes to the queue's NOTIFY channel (a consumer only: a producer never listens). */
  readonly #subscribe = (ring: () => void) => this.service.listen(this.options.channel, ring);

  /** One `DELETE` for the acks of a batch; done or failed, their rows are no longer held here. */
  #deleteAcked(claims: readonly Claim[]): Promise<unknown> {
    return this.#statements.delete(claims).finally(() => this.#held.deleteAll(claims));
  }

  #track<T>(work: Promise<T>): Promise<T> {
    this.#settling.add(work);
    const forget = () => this.#settling.delete(work);
    work.then(forget, forget);
    return work;
  }

  /** Fetches one at a time: the in-flight bound and the doorbell are per connector. */
  #serial<T>(work: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(work, work);
    this.#queue = run.catch(() => undefined);
    return run;
  }
}
