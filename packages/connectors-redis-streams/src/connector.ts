/**
 * The transaction side of the Redis Streams connector: entries in as
 * transactions through a consumer group, transactions out as entries, ack
 * and nack mapped to XACK, a release to other consumers, and the
 * dead-letter stream.
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
import { type DeadLetter, deadLetterFields, readDeadLetterEntries } from './dead-letters.js';
import { isEntryId, streamPrefix } from './ids.js';
import { type AcceptEnv, acceptDeliveries } from './internal/accept.js';
import { EitherSignal } from './internal/async.js';
import { StreamConsumer } from './internal/consumer.js';
import { toConnectorError } from './internal/errors.js';
import { entryFormat, REDIS_METADATA, toFields } from './internal/fields.js';
import { findEntryTransaction } from './internal/lookup.js';
import { ReadAhead } from './internal/read-ahead.js';
import { type RedisStreamsOptions, type ResolvedStreamOptions, resolveStreamOptions } from './options.js';
import { RedisStreamsService } from './service.js';

export { REDIS_METADATA };

/** Options of {@link RedisStreamsConnector}. */
export interface RedisStreamsConnectorOptions extends RedisStreamsOptions {
  /** The Redis connection. */
  readonly service: RedisStreamsService;
  /** Stop the service when the connector stops. Default true; false for a service shared by several connectors. */
  readonly stopService?: boolean | undefined;
}

/**
 * Fetches a stream's entries as transactions through a consumer group and
 * adds dispatched transactions as entries. A fetched entry stays pending for
 * this consumer (renewed while held) until it is acked, nacked, or this
 * consumer dies and another takes it over after `claimIdle`. Entries that
 * cannot become transactions, and entries delivered more than
 * `maxDeliveries` times, go to the dead-letter stream at fetch time and are
 * never returned.
 */
export class RedisStreamsConnector<P = unknown> implements Connector<P, P> {
  /** Stable name, `redis-streams:<stream>` by default. */
  readonly name: string;
  /** The Redis connection. */
  readonly service: RedisStreamsService;
  /** The resolved options. */
  readonly options: ResolvedStreamOptions;
  readonly #stopService: boolean;
  readonly #prefix: string;
  readonly #consumer: StreamConsumer;
  readonly #accepting: AcceptEnv;
  readonly #ahead: ReadAhead<P>;
  #queue: Promise<unknown> = Promise.resolve();
  #halt = new AbortController();
  #stopping: Promise<void> | undefined;
  /** Fetches under way or waiting for their turn. */
  #fetching = 0;
  readonly #signals = new EitherSignal();

  /** @throws InvalidArgumentError for bad options. */
  constructor(options: RedisStreamsConnectorOptions) {
    if (!(options?.service instanceof RedisStreamsService)) {
      throw new InvalidArgumentError('RedisStreamsConnector needs a RedisStreamsService as `service`');
    }
    this.service = options.service;
    this.options = resolveStreamOptions(options);
    this.name = this.options.name;
    this.#stopService = options.stopService ?? true;
    this.#prefix = streamPrefix(this.options.stream);
    this.#consumer = new StreamConsumer(
      this.service,
      this.options,
      this.service.options.logger,
      options.consumer !== undefined,
    );
    // Named fields, not a spread of the format: a spread's result had a map of its own per
    // connector, so the code that reads it left its optimised form ("wrong map") at every run.
    const { payloadName, idName } = entryFormat(this.options, this.#prefix);
    this.#accepting = {
      options: this.options,
      prefix: this.#prefix,
      payloadName,
      idName,
      consumer: this.#consumer,
      logger: this.service.options.logger,
    };
    this.#ahead = new ReadAhead<P>({
      accepting: this.#accepting,
      maxUnacked: this.options.maxUnacked,
      serial: (work) => this.#serial(work),
      busy: () => this.#fetching > 0 || this.#halt.signal.aborted,
    });
    this.#consumer.settler.onAcksSent = this.#ahead.start;
  }

  /** Connects the service. The consumer group is made on the first fetch, so a producer never creates one. */
  start(signal?: AbortSignal): Promise<void> {
    return this.service.start(signal);
  }

  /**
   * Stops fetching (a blocked fetch resolves empty), gives entries still held
   * back to the group (another consumer's next fetch takes them, no
   * `claimIdle` wait), closes the reading connection and, unless
   * `stopService: false`, the service. Idempotent; `start` works again after.
   */
  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      this.#halt.abort();
      this.#consumer.held.wake();
      await this.#queue.catch(() => undefined);
      await this.#consumer.close(this.#ahead.unread());
      this.#ahead.clear();
      this.#signals.dispose();
      if (this.#stopService) await this.service.stop();
      this.#halt = new AbortController();
    })().finally(() => {
      this.#stopping = undefined;
    });
    return this.#stopping;
  }

  /**
   * Up to `limit` transactions (and never more held than `maxUnacked`):
   * pending entries of this consumer nobody here knows of, then entries a
   * dead consumer left, then new entries, blocking up to `block` when there
   * are none. Resolves empty at the end of the block, on abort, or during a
   * stop. Fetches run one at a time. A batch read ahead while the last
   * one's acks were answered comes first (see `internal/read-ahead.ts`).
   */
  async fetchTransactions(options: FetchOptions): Promise<Transaction<P>[]> {
    const limit = options?.limit;
    if (!Number.isSafeInteger(limit) || limit < 0)
      throw new InvalidArgumentError(
        `fetchTransactions: limit must be a whole number ≥ 0 (got ${String(limit)})`,
      );
    if (limit === 0) return [];
    await this.start();
    this.#fetching++;
    try {
      return await this.#serial(async () => {
        const halt = this.#halt.signal;
        if (halt.aborted || options.signal?.aborted) return [];
        const ready = this.#ahead.take(limit);
        const signal = this.#signals.of(halt, options.signal);
        // What was read ahead, and as much more as there is now, without waiting.
        if (ready.length > 0) return this.#ahead.topUp(ready, limit, signal);
        const room = await this.#consumer.held.room(this.options.maxUnacked, {
          signal,
          timeoutMs: this.options.blockMs,
          stopped: () => halt.aborted,
        });
        if (room === 0) return [];
        const count = Math.min(limit, room);
        const deliveries = await this.#consumer.deliver(count, signal);
        this.#ahead.noted(count, deliveries.length);
        return await acceptDeliveries<P>(deliveries, this.#accepting);
      });
    } finally {
      this.#fetching--;
    }
  }

  /**
   * Adds one entry per transaction (`XADD`, in one MULTI/EXEC) and resolves
   * once Redis has answered for every one of them.
   *
   * @throws SerializationError for a payload the codec refuses (`CODEC_*`),
   *   InvalidArgumentError for metadata that collides with the id or payload
   *   field, ErgonError `CONNECTOR_ERROR` when Redis refuses or cannot be reached.
   */
  async dispatchTransactions(
    transactions: readonly Transaction<P>[],
    options: { signal?: AbortSignal } = {},
  ): Promise<void> {
    if (!Array.isArray(transactions))
      throw new InvalidArgumentError('dispatchTransactions needs an array of transactions');
    if (transactions.length === 0) return;
    const entries = transactions.map((tx) => toFields(tx, this.options));
    options.signal?.throwIfAborted();
    await this.start(options.signal);
    const { stream } = this.options;
    const trim = this.#trimArguments();
    const multi = this.service.client.multi();
    for (const fields of entries) multi.xadd(stream, ...trim, '*', ...fields);
    let replies: [Error | null, unknown][] | null;
    try {
      replies = await multi.exec();
    } catch (error) {
      throw toConnectorError(error, { action: 'add entries to', stream });
    }
    if (!replies)
      throw toConnectorError(new Error('MULTI was discarded'), { action: 'add entries to', stream });
    const failed = replies.find(([error]) => error);
    if (failed) throw toConnectorError(failed[0], { action: 'add entries to', stream });
  }

  /** Acks the transaction's entry: it is never delivered again. */
  ack(transaction: Transaction<P>): Promise<void> {
    // Not an async function: the acks of one XACK share its promise, with nothing more per ack.
    let entry: string;
    try {
      entry = this.#entryOf(transaction);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.#consumer.settler.ack(entry);
  }

  /**
   * `requeue: true` gives the entry back for another delivery, here or in
   * another consumer, at once; `requeue: false` moves it to the dead-letter
   * stream with `reason` and its original fields, and acks it.
   */
  async nack(transaction: Transaction<P>, options: NackOptions): Promise<void> {
    const entry = this.#entryOf(transaction);
    if (options?.requeue) return this.#consumer.settler.release([entry]);
    const deliveries =
      this.#consumer.held.deliveries(entry) ?? Number(transaction.metadata[REDIS_METADATA.deliveries]);
    const fields = deadLetterFields(
      {
        reason: options?.reason,
        entry,
        deliveries: Number.isFinite(deliveries) ? deliveries : undefined,
        transactionId: transaction.id,
      },
      this.options,
    );
    await this.#consumer.settler.deadLetter(entry, fields);
  }

  /**
   * Reads transaction `id` without claiming it or changing anything:
   * `<stream>:<entry id>` by entry, otherwise the newest entry whose
   * `idField` holds `id` (a scan from the newest entry back). Acked and
   * pending entries are found too. Resolves `undefined` when there is none.
   *
   * @throws ErgonError `CONNECTOR_ERROR` when the entry cannot become a
   *   transaction (it was dead-lettered when fetched) or Redis fails.
   */
  async findTransaction(
    id: string,
    options: { signal?: AbortSignal } = {},
  ): Promise<Transaction<P> | undefined> {
    await this.start(options.signal);
    return findEntryTransaction<P>(this.service.client, this.options, this.#prefix, id, options.signal);
  }

  /**
   * The dead-letter stream's entries, oldest first, without removing them.
   * `after`: only those after this dead-letter entry id (paging).
   */
  async readDeadLetters(options: { count?: number; after?: string } = {}): Promise<DeadLetter[]> {
    await this.start();
    return readDeadLetterEntries(this.service.client, this.options, options);
  }

  /** `MAXLEN|MINID [~] n` for XADD, or nothing. */
  #trimArguments(): string[] {
    const trim = this.options.trim;
    if (!trim) return [];
    const value = trim.kind === 'MAXLEN' ? String(trim.value) : `${Math.max(0, Date.now() - trim.value)}-0`;
    return trim.exact ? [trim.kind, value] : [trim.kind, '~', value];
  }

  #entryOf(transaction: Transaction<P>): string {
    const entry = transaction?.metadata?.[REDIS_METADATA.entry];
    if (
      typeof entry !== 'string' ||
      !isEntryId(entry) ||
      transaction.metadata[REDIS_METADATA.stream] !== this.options.stream
    ) {
      throw new InvalidArgumentError(`transaction ${transaction?.id} was not fetched from ${this.name}`);
    }
    return entry;
  }

  /** Fetches one at a time: one reading connection, and recovery must not race a read. */
  #serial<T>(work: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(work, work);
    this.#queue = run.catch(() => undefined);
    return run;
  }
}
