/**
 * The transaction side of the S3 connector: objects under a prefix in as
 * transactions (claimed with lease markers that survive a dead consumer),
 * transactions out as objects, ack as a move (or delete), nack as a release
 * or a move to the dead-letter prefix with the reason.
 *
 * @module
 */
import {
  type Connector,
  ErgonError,
  ErrorCode,
  type FetchOptions,
  InvalidArgumentError,
  type NackOptions,
  type Transaction,
} from '@ergon/core';
import type { S3DeadLetter } from './dead-letters.js';
import { encodePayload } from './formats.js';
import { Claims } from './internal/claims.js';
import { HeldObjects } from './internal/held.js';
import { Listing } from './internal/listing.js';
import { S3_METADATA, toUserMetadata } from './internal/metadata.js';
import { Objects } from './internal/objects.js';
import { mapLimit, sleep } from './internal/pool.js';
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
 * claimed while this connector holds it (its lease marker renewed every
 * third of the lease) and comes back when it is nacked with requeue, when
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
  readonly #settling = new Set<Promise<unknown>>();
  #consuming: Promise<void> | undefined;
  /** JSON lines: lines per object seen so far (a running mean), to claim no more objects than a fetch needs. */
  #linesPerObject = Number.POSITIVE_INFINITY;
  #renewal: NodeJS.Timeout | undefined;
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
    // One object per transaction, except JSON lines, whose first fetch claims one object to learn their size.
    if (this.options.format !== 'json-lines') this.#linesPerObject = 1;
    this.#objects = new Objects({
      service: this.service,
      options: this.options,
      held: this.#held,
      listing: this.#listing,
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
      clearInterval(this.#renewal);
      this.#renewal = undefined;
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
      const halt = this.#halt.signal;
      if (halt.aborted || options.signal?.aborted) return [];
      const signal = options.signal ? AbortSignal.any([halt, options.signal]) : halt;
      const { fetchWaitMs, pollIntervalMs, maxInFlight, concurrency } = this.options;
      const room = await this.#held.room(maxInFlight, {
        signal,
        timeoutMs: fetchWaitMs,
        stopped: () => halt.aborted,
      });
      if (room === 0) return [];
      const want = Math.min(limit, room);
      const out = this.#held.takeAgain(want) as Transaction<P>[];
      const deadline = Date.now() + fetchWaitMs;
      while (out.length < want && !signal.aborted) {
        let candidates: Awaited<ReturnType<Listing['next']>>;
        try {
          // JSON lines: about as many objects as the lines still wanted need.
          const objects = Math.max(1, Math.ceil((want - out.length) / this.#linesPerObject));
          candidates = await this.#listing.next(objects, (key) => this.#held.has(key), signal);
        } catch (error) {
          // An abort ends a listing, never a claim: what is claimed is returned.
          if (signal.aborted) break;
          throw error;
        }
        if (candidates.length === 0) {
          if (out.length > 0 || Date.now() >= deadline) break;
          await sleep(Math.min(pollIntervalMs, deadline - Date.now()), signal);
          this.#listing.restart();
          continue;
        }
        const listed = new Map(candidates.map((c) => [c.key, c]));
        const leases = await this.#claims.claim([...listed.keys()]);
        const read = await mapLimit(leases, concurrency, (lease) =>
          this.#objects.read(
            lease,
            listed.get(lease.key) ?? { key: lease.key, etag: '', size: 0, lastModified: 0 },
          ),
        );
        for (const txs of read) out.push(...(txs as Transaction<P>[]));
        if (this.options.format === 'json-lines' && read.length > 0) {
          const lines = read.reduce((sum, txs) => sum + txs.length, 0) / read.length;
          const mean = Number.isFinite(this.#linesPerObject) ? (this.#linesPerObject + lines) / 2 : lines;
          this.#linesPerObject = Math.max(1, mean);
        }
      }
      for (const surplus of out.splice(want)) this.#held.again(surplus);
      if (this.#held.count > 0) this.#renewing();
      return out;
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
    const { prefix, format, maxObjectBytes, concurrency } = this.options;
    const objects = transactions.map((tx) => ({
      key: tx.id.startsWith(prefix) ? tx.id : `${prefix}${tx.id}`,
      metadata: toUserMetadata(tx.metadata, tx.id),
      ...encodePayload(tx.payload, format, {
        what: `payload of transaction ${tx.id}`,
        maxBytes: maxObjectBytes,
      }),
    }));
    options.signal?.throwIfAborted();
    await this.start(options.signal);
    await mapLimit(objects, concurrency, (o) =>
      this.service.put(o.key, o.body, {
        metadata: o.metadata,
        contentType: o.contentType,
        signal: options.signal,
      }),
    );
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
    const [objects, markers] = await Promise.all([
      this.service.listAll(this.options.prefix),
      this.#claims.markers(),
    ]);
    return objects.filter((o) => {
      const marker = markers.get(o.key);
      return !marker || !this.#claims.live(marker);
    }).length;
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
      const mode = this.service.options.claims;
      if (mode === 'read-after-write') return;
      const conditional = await this.service.conditionalWrites(this.options.leasePrefix);
      if (!conditional && mode === 'conditional') {
        throw new ErgonError(
          ErrorCode.CONNECTOR_ERROR,
          `s3: the server at ${this.service.options.endpoint ?? 'AWS'} ignores conditional writes (If-None-Match): ` +
            "use claims: 'read-after-write' (best effort) or a server that honours them",
        );
      }
      this.#claims.conditional = conditional;
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

  /** Renews the markers of held objects every third of the lease, while any are held. */
  #renewing(): void {
    if (this.#renewal) return;
    let renewing = false;
    this.#renewal = setInterval(
      () => {
        // One renewal at a time: a slow one must not race the next.
        if (renewing) return;
        renewing = true;
        this.#claims
          .renew(this.#held.leases(), (lease) => this.#held.get(lease.key)?.lease === lease)
          .catch((error: unknown) =>
            this.service.options.logger.warn(
              `s3: renewing leases under ${this.options.prefix} failed; retrying`,
              {
                error: String(error),
              },
            ),
          )
          .finally(() => {
            renewing = false;
          });
      },
      Math.floor(this.options.leaseMs / 3),
    );
    this.#renewal.unref();
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
