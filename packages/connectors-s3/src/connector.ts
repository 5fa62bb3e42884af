/**
 * The transaction side of the S3 connector: objects under a prefix in as
 * transactions (claimed with lease markers that survive a dead consumer),
 * transactions out as objects, ack as a move (or delete), nack as a release
 * or a move to the dead-letter prefix with the reason. Fetching, renewing
 * leases, writing objects and what happens to claimed ones live in
 * `internal/`; this file ties them to the connector contract.
 *
 * @module
 */
import {
  type Connector,
  type FetchOptions,
  InvalidArgumentError,
  type NackOptions,
  type Transaction,
} from '@ergon/core';
import type { S3DeadLetter } from './dead-letters.js';
import { Claims } from './internal/claims.js';
import { toObjects, writeObjects } from './internal/dispatch.js';
import { Fetcher } from './internal/fetch.js';
import { HeldObjects } from './internal/held.js';
import { Listing } from './internal/listing.js';
import { S3_METADATA } from './internal/metadata.js';
import { Objects } from './internal/objects.js';
import { LeaseRenewal } from './internal/renewal.js';
import {
  type ResolvedConnectorOptions,
  resolveConnectorOptions,
  type S3ConnectorOptions,
} from './options.js';
import { findObjectTransaction, readDeadLetterObjects } from './read.js';
import { S3Service } from './service.js';

export { S3_METADATA };

/** Options of {@link S3Connector}. */
export interface S3ConnectorServiceOptions extends S3ConnectorOptions {
  /** The bucket, as a service. */
  readonly service: S3Service;
  /** Stop the service when the connector stops. Default true; false for a service shared by several connectors. */
  readonly stopService?: boolean | undefined;
}

/**
 * Fetches the objects under a prefix as transactions and writes dispatched
 * ones as objects. A transaction's id is its object's key (`<key>#<line>`
 * for JSON lines), the same on every delivery. A fetched object stays
 * claimed while this connector holds it (its lease marker rewritten before
 * it is a third of the lease old) and comes back when it is nacked with requeue, when
 * this connector stops, or when its holder died and the lease ran out.
 */
export class S3Connector<P = unknown> implements Connector<P, P> {
  /** Stable name, `s3:<bucket>/<prefix>` by default. */
  readonly name: string;
  /** The bucket. */
  readonly service: S3Service;
  /** The resolved options. */
  readonly options: ResolvedConnectorOptions;
  readonly #stopService: boolean;
  readonly #claims: Claims;
  readonly #held = new HeldObjects();
  readonly #listing: Listing;
  readonly #objects: Objects;
  readonly #fetcher: Fetcher;
  readonly #renewal: LeaseRenewal;
  readonly #settling = new Set<Promise<unknown>>();
  #consuming: Promise<void> | undefined;
  #queue: Promise<unknown> = Promise.resolve();
  #halt = new AbortController();
  #stopping: Promise<void> | undefined;

  /** @throws InvalidArgumentError for bad options. */
  constructor(options: S3ConnectorServiceOptions) {
    if (!(options?.service instanceof S3Service)) {
      throw new InvalidArgumentError('S3Connector needs an S3Service as `service`');
    }
    this.service = options.service;
    this.options = resolveConnectorOptions(options, this.service.bucket);
    this.name = this.options.name;
    this.#stopService = options.stopService ?? true;
    this.#claims = new Claims(this.service, this.options, this.service.options.logger);
    this.#listing = new Listing(this.service, this.options.prefix);
    this.#objects = new Objects({
      service: this.service,
      options: this.options,
      held: this.#held,
      listing: this.#listing,
    });
    this.#fetcher = new Fetcher({
      options: this.options,
      held: this.#held,
      listing: this.#listing,
      claims: this.#claims,
      objects: this.#objects,
    });
    this.#renewal = new LeaseRenewal({
      claims: this.#claims,
      held: this.#held,
      leaseMs: this.options.leaseMs,
      logger: this.service.options.logger,
      prefix: this.options.prefix,
    });
  }

  /** Whether claims use conditional writes (known after the first fetch). */
  get conditionalClaims(): boolean {
    return this.#claims.conditional;
  }

  /** Opens the bucket (the service). Idempotent. */
  start(signal?: AbortSignal): Promise<void> {
    return this.service.start(signal);
  }

  /**
   * Stops fetching (a waiting fetch resolves empty), lets settlements under
   * way finish, deletes the lease markers of every object still held (another
   * consumer's next listing takes them) and, unless `stopService: false`,
   * stops the service. Idempotent; `start` works again after.
   */
  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      this.#halt.abort();
      this.#held.wake();
      await this.#queue.catch(() => undefined);
      await Promise.allSettled([...this.#settling]);
      this.#renewal.stop();
      await this.#objects
        .releaseAll()
        .catch((error: unknown) =>
          this.service.options.logger.warn(
            `s3: could not give back the objects held under ${this.options.prefix} on stop; they come back when their leases run out`,
            { error: String(error) },
          ),
        );
      this.#listing.restart();
      this.#consuming = undefined;
      if (this.#stopService) await this.service.stop();
      this.#halt = new AbortController();
    })().finally(() => {
      this.#stopping = undefined;
    });
    return this.#stopping;
  }

  /**
   * Up to `limit` transactions, and never more held than `maxInFlight` (an
   * object's lines are claimed together, so a JSON-lines object may fill it
   * past that; the rest come at the next fetches): lists the prefix, claims
   * unclaimed objects, reads them. When there are none it lists again every
   * `pollInterval`, up to `fetchWait`, then resolves empty. Objects that
   * cannot become transactions go to the dead-letter prefix, never returned.
   */
  async fetchTransactions(options: FetchOptions): Promise<Transaction<P>[]> {
    const limit = options?.limit;
    if (!Number.isSafeInteger(limit) || limit < 0)
      throw new InvalidArgumentError(
        `fetchTransactions: limit must be a whole number ≥ 0 (got ${String(limit)})`,
      );
    if (limit === 0 || this.#halt.signal.aborted) return [];
    await this.#consumer();
    return this.#serial(async () => {
      const out = await this.#fetcher.fetch(limit, {
        halt: this.#halt.signal,
        signal: options.signal,
        onHeld: () => this.#renewal.start(),
      });
      return out as Transaction<P>[];
    });
  }

  /**
   * Writes one object per transaction, key `<prefix><id>` (the id itself
   * when it already starts with the prefix), metadata as user metadata;
   * resolves once the server stored every one.
   *
   * @throws SerializationError (`CODEC_*`) or InvalidArgumentError for a
   *   payload or metadata S3 cannot carry, ErgonError `CONNECTOR_ERROR` when
   *   the server refuses (the objects before it may be written).
   */
  async dispatchTransactions(
    transactions: readonly Transaction<P>[],
    options: { signal?: AbortSignal } = {},
  ): Promise<void> {
    if (!Array.isArray(transactions))
      throw new InvalidArgumentError('dispatchTransactions needs an array of transactions');
    if (transactions.length === 0) return;
    const objects = toObjects(transactions, this.options);
    options.signal?.throwIfAborted();
    await this.start(options.signal);
    await writeObjects(this.service, objects, {
      concurrency: this.options.concurrency,
      signal: options.signal,
    });
  }

  /** Settles the transaction: once every transaction of its object is, the object moves under the done prefix (or is deleted). */
  ack(transaction: Transaction<P>): Promise<void> {
    const { key, line } = this.#heldOf(transaction);
    this.#held.settle(key, line);
    const object = this.#held.get(key);
    return this.#track(object && object.open.size === 0 ? this.#objects.finish(key) : Promise.resolve());
  }

  /**
   * `requeue: true` gives the object back (its marker deleted: fetched again
   * here or elsewhere; a JSON-lines line is fetched again by this
   * connector); `requeue: false` moves the object (or writes the line)
   * under the dead-letter prefix with `reason` and its original metadata.
   */
  nack(transaction: Transaction<P>, options: NackOptions): Promise<void> {
    const { key, line } = this.#heldOf(transaction);
    if (this.options.format === 'json-lines') {
      if (options?.requeue) {
        this.#held.again(transaction);
        return Promise.resolve();
      }
      return this.#track(this.#objects.deadLetterLine(transaction, line, options?.reason));
    }
    return this.#track(
      options?.requeue ? this.#objects.release(key) : this.#objects.deadLetter(key, options?.reason),
    );
  }

  /**
   * Reads transaction `id` without claiming it: its object under the prefix,
   * or (acked, `ack: 'move'`) under the done prefix. Resolves `undefined`
   * when there is none.
   *
   * @throws ErgonError `CONNECTOR_ERROR` when the object cannot become a transaction, or the server fails.
   */
  async findTransaction(
    id: string,
    options: { signal?: AbortSignal } = {},
  ): Promise<Transaction<P> | undefined> {
    return findObjectTransaction<P>(
      this.service,
      this.options,
      id,
      (signal) => this.start(signal),
      options.signal,
    );
  }

  /** Objects waiting for delivery: under the prefix, without a live lease marker. */
  async readyCount(): Promise<number> {
    await this.start();
    return this.#claims.countUnclaimed();
  }

  /** The dead letters, in key order, read without removing them. */
  async readDeadLetters(options: { count?: number } = {}): Promise<S3DeadLetter[]> {
    await this.start();
    return readDeadLetterObjects(this.service, this.options, options.count);
  }

  /** Decides the claim mode once, before the first fetch (a producer never needs it). */
  #consumer(): Promise<void> {
    this.#consuming ??= (async () => {
      await this.start();
      await this.#claims.decide();
    })().catch((error: unknown) => {
      this.#consuming = undefined;
      throw error;
    });
    return this.#consuming;
  }

  #heldOf(transaction: Transaction<P>): { key: string; line: number } {
    const key = transaction?.metadata?.[S3_METADATA.key];
    const line = Number(transaction?.metadata?.[S3_METADATA.line] ?? 0);
    if (typeof key !== 'string' || !this.#held.get(key)?.open.has(line)) {
      throw new InvalidArgumentError(
        `transaction ${transaction?.id} was not fetched by ${this.name}, or is already settled`,
      );
    }
    return { key, line };
  }

  #track<T>(work: Promise<T>): Promise<T> {
    this.#settling.add(work);
    const forget = () => this.#settling.delete(work);
    work.then(forget, forget);
    return work;
  }

  /** Fetches one at a time: the in-flight bound and the listing are per connector. */
  #serial<T>(work: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(work, work);
    this.#queue = run.catch(() => undefined);
    return run;
  }
}
