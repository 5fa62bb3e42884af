/**
 * The transaction side of the AMQP connector: deliveries in as
 * transactions (poison messages dead-lettered with their reason), ack and
 * nack mapped to the broker's, dead letters written with the reason and the
 * original headers, dispatches published with confirms.
 *
 * @module
 */
import {
  type Codec,
  type Connector,
  type Duration,
  defaultCodec,
  type FetchOptions,
  InvalidArgumentError,
  type NackOptions,
  type Transaction,
  toMillis,
  Waiters,
} from '@ergon/core';
import { type AmqpDeadLetter, deadLetterMessage, readDeadLetter } from './dead-letters.js';
import { type BodyFormat, decodeMessage, encodeTransaction, type MessageCodecOptions } from './messages.js';
import { AmqpService, type Delivery } from './service.js';

/** Options of {@link AmqpConnector}. */
export interface AmqpConnectorOptions {
  /** The connection, as a service. */
  readonly service: AmqpService;
  /** Name for logs and dependency injection. Default the service's name. */
  readonly name?: string;
  /** How long a fetch on an empty queue waits for a first message before it returns empty. Default `'1s'`. */
  readonly fetchWait?: Duration;
  /** Largest body accepted, in bytes: larger deliveries are dead-lettered, larger dispatches refused. Default 2 MiB. */
  readonly maxMessageBytes?: number;
  /**
   * Body of dispatched messages: `'json'` (default; any consumer reads it)
   * or `'ergon'` (the Ergon codec: Dates, Maps, BigInts survive). Fetches
   * read both, by content type.
   */
  readonly format?: BodyFormat;
  /** Codec of `'ergon'` bodies. Default the core codec. */
  readonly codec?: Codec;
}

/**
 * Consumes a RabbitMQ queue as transactions and publishes dispatched ones.
 * A transaction's id is its message's `message_id`, so a redelivery is the
 * same transaction (and, with the durable bridge, resumes the same flow).
 * Consumption starts at the first fetch; at most `prefetch` transactions
 * are held unsettled at once.
 */
export class AmqpConnector<P = unknown> implements Connector<P, P> {
  /** Stable name (the service's by default). */
  readonly name: string;
  /** The connection's service. */
  readonly service: AmqpService;
  readonly #fetchWaitMs: number;
  readonly #messages: MessageCodecOptions;
  readonly #buffer: Delivery[] = [];
  readonly #deliveries = new WeakMap<Transaction<P>, Delivery>();
  readonly #settling = new Set<Promise<unknown>>();
  readonly #waiters = new Waiters();
  #consuming: Promise<void> | undefined;
  #stopping = false;

  /** @throws InvalidArgumentError for bad options. */
  constructor(options: AmqpConnectorOptions) {
    if (!(options?.service instanceof AmqpService)) {
      throw new InvalidArgumentError('AmqpConnector needs an AmqpService as `service`');
    }
    const codec = options.codec ?? defaultCodec;
    const maxBytes = options.maxMessageBytes ?? codec.maxBytes;
    if (!Number.isSafeInteger(maxBytes) || maxBytes < 1) {
      throw new InvalidArgumentError(
        `AmqpConnector maxMessageBytes must be a positive whole number (got ${maxBytes})`,
      );
    }
    const format = options.format ?? 'json';
    if (format !== 'json' && format !== 'ergon') {
      throw new InvalidArgumentError(
        `AmqpConnector format must be 'json' or 'ergon' (got ${String(format)})`,
      );
    }
    this.service = options.service;
    this.name = options.name ?? options.service.name;
    this.#fetchWaitMs = toMillis(options.fetchWait ?? '1s', 'fetchWait');
    this.#messages = Object.freeze({ format, codec, maxBytes, persistent: this.service.options.persistent });
  }

  /** Connects (the service). Idempotent. */
  start(signal?: AbortSignal): Promise<void> {
    this.#stopping = false;
    return this.service.start(signal);
  }

  /**
   * Stops gracefully: no new deliveries, waiting fetches return empty,
   * settlements already under way (acks, dead letters) finish, then the
   * connection closes and the broker requeues whatever is still unsettled.
   * Idempotent.
   */
  async stop(): Promise<void> {
    this.#stopping = true;
    this.#waiters.wake();
    const consuming = this.#consuming;
    this.#consuming = undefined;
    if (consuming)
      await consuming.then(
        () => this.service.stopConsuming(),
        () => undefined,
      );
    await Promise.allSettled([...this.#settling]);
    this.#buffer.length = 0;
    await this.service.stop();
  }

  /**
   * Up to `limit` transactions: what the broker already delivered, or the
   * first to arrive within `fetchWait`. Messages that cannot become
   * transactions are dead-lettered (with the reason) and not returned.
   */
  async fetchTransactions(options: FetchOptions): Promise<Transaction<P>[]> {
    if (this.#stopping || options.signal?.aborted) return [];
    this.#consuming ??= this.service.consume((delivery) => {
      this.#buffer.push(delivery);
      this.#waiters.wake();
    });
    try {
      await this.#consuming;
    } catch (error) {
      this.#consuming = undefined;
      throw error;
    }
    if (this.#buffer.length === 0) await this.#waiters.next(this.#fetchWaitMs, options.signal);
    const out: Transaction<P>[] = [];
    while (out.length < options.limit && this.#buffer.length > 0 && !this.#stopping) {
      const delivery = this.#buffer.shift() as Delivery;
      // Lost with its channel: the broker has put it back and delivers it again.
      if (!this.service.isCurrent(delivery)) continue;
      let tx: Transaction<P>;
      try {
        tx = decodeMessage<P>(delivery.message, this.#messages);
      } catch (reason) {
        await this.#track(this.#deadLetter(delivery, reason)).catch(() => undefined);
        continue;
      }
      this.#deliveries.set(tx, delivery);
      out.push(tx);
    }
    return out;
  }

  /** Publishes every transaction (persistent, mandatory) and resolves once the broker confirmed them all. */
  async dispatchTransactions(
    transactions: readonly Transaction<P>[],
    options: { signal?: AbortSignal } = {},
  ): Promise<void> {
    const messages = transactions.map((tx) => encodeTransaction(tx, this.#messages));
    await this.service.publish(messages, options.signal ? { signal: options.signal } : {});
  }

  /** Acks the transaction's message: it is gone for good. */
  async ack(transaction: Transaction<P>): Promise<void> {
    await this.#track(this.service.ack(this.#take(transaction)));
  }

  /**
   * Requeues the message (`requeue: true`), or dead-letters it: publishes it
   * to the dead-letter queue with the reason and its original headers, then
   * acks it. If that publish fails, the broker dead-letters it instead
   * (without the reason) and the nack rejects.
   */
  async nack(transaction: Transaction<P>, options: NackOptions): Promise<void> {
    const delivery = this.#take(transaction);
    if (options.requeue) return this.service.nack(delivery, true);
    await this.#track(this.#deadLetter(delivery, options.reason));
  }

  /** The dead-letter queue's messages, oldest first, read without removing them. */
  async readDeadLetters(limit = 1000): Promise<AmqpDeadLetter[]> {
    const messages = await this.service.peek(this.service.options.deadLetterQueue, limit);
    return messages.map((message) => readDeadLetter(message, this.#messages.codec));
  }

  async #deadLetter(delivery: Delivery, reason: unknown): Promise<void> {
    const message = deadLetterMessage(delivery.message, reason, this.service.options.queue);
    try {
      await this.service.publish([message], { target: this.service.deadLetterTarget });
    } catch (error) {
      // Never hold a message we cannot handle: the queue's dead-letter exchange takes it, without our reason.
      if (this.service.isCurrent(delivery)) this.service.nack(delivery, false);
      throw error;
    }
    await this.service.ack(delivery);
  }

  #take(transaction: Transaction<P>): Delivery {
    const delivery = this.#deliveries.get(transaction);
    if (!delivery) {
      throw new InvalidArgumentError(
        `transaction ${transaction?.id} was not fetched by ${this.name}, or is already settled`,
      );
    }
    this.#deliveries.delete(transaction);
    return delivery;
  }

  #track<T>(work: Promise<T>): Promise<T> {
    this.#settling.add(work);
    void work.then(
      () => this.#settling.delete(work),
      () => this.#settling.delete(work),
    );
    return work;
  }
}
