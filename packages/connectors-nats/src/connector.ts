/**
 * The transaction side of the NATS connector: messages of the durable pull
 * consumer in as transactions (poison messages and messages delivered too
 * often dead-lettered with their reason), ack, delayed requeue (`nak`) and
 * dead letters (`term` after a copy to the dead-letter subject), in-progress
 * acks while a transaction is held, dispatches published with acknowledgement.
 *
 * @module
 */
import {
  type Codec,
  type Connector,
  type Duration,
  defaultCodec,
  ErgonError,
  ErrorCode,
  type FetchOptions,
  InvalidArgumentError,
  type NackOptions,
  type Transaction,
  toMillis,
} from '@ergon/core';
import type { JsMsg } from '@nats-io/jetstream';
import { deadLetterMessage, type NatsDeadLetter, readDeadLetter } from './dead-letters.js';
import { toConnectorError } from './errors.js';
import { Puller } from './internal/puller.js';
import {
  type BodyFormat,
  decodeMessage,
  encodeTransaction,
  type IncomingMessage,
  type MessageCodecOptions,
} from './messages.js';
import { NatsService } from './service.js';

/** Options of {@link NatsConnector}. */
export interface NatsConnectorOptions {
  /** The connection, as a service. */
  readonly service: NatsService;
  /** Name for logs and dependency injection. Default the service's name. */
  readonly name?: string;
  /** Most transactions this connector holds fetched and unsettled (pulls ask for no more). Default 256. */
  readonly maxInFlight?: number;
  /** How long a fetch with nothing buffered waits for a first message before it returns empty. Default `'1s'`. */
  readonly fetchWait?: Duration;
  /** Delay before a requeued (`nack` with requeue) message is delivered again (`nak` with delay). Default `'0s'`. */
  readonly requeueDelay?: Duration;
  /** Largest data accepted, in bytes: larger messages are dead-lettered, larger dispatches refused. Default 1 MiB. */
  readonly maxMessageBytes?: number;
  /** Dead-letter messages without `Nats-Msg-Id` (`INVALID_ID`) instead of using `<stream>:<sequence>` as their id. Default false. */
  readonly requireId?: boolean;
  /** Data of dispatched messages: `'json'` (default) or `'ergon'` (the Ergon codec: Dates, Maps, BigInts survive). */
  readonly format?: BodyFormat;
  /** Codec of `'ergon'` data. Default the core codec. */
  readonly codec?: Codec;
}

/**
 * Consumes a JetStream stream through a durable pull consumer as
 * transactions and publishes dispatched ones to its subject. A
 * transaction's id is its `Nats-Msg-Id` (else `<stream>:<sequence>`), the
 * same on every delivery, so with the durable bridge a redelivery resumes
 * the same flow. Pulling starts at the first fetch.
 */
export class NatsConnector<P = unknown> implements Connector<P, P> {
  /** Stable name (the service's by default). */
  readonly name: string;
  /** The connection's service. */
  readonly service: NatsService;
  readonly #maxInFlight: number;
  readonly #fetchWaitMs: number;
  readonly #requeueDelayMs: number;
  readonly #messages: MessageCodecOptions;
  readonly #puller: Puller;
  readonly #buffer: JsMsg[] = [];
  readonly #held = new Set<JsMsg>();
  readonly #deliveries = new WeakMap<Transaction<P>, JsMsg>();
  readonly #settling = new Set<Promise<unknown>>();
  readonly #waiters = new Set<() => void>();
  #renewal: NodeJS.Timeout | undefined;
  #pullError: unknown;
  #stopping = false;

  /** @throws InvalidArgumentError for bad options. */
  constructor(options: NatsConnectorOptions) {
    if (!(options?.service instanceof NatsService))
      throw new InvalidArgumentError('NatsConnector needs a NatsService as `service`');
    const codec = options.codec ?? defaultCodec;
    const maxBytes = options.maxMessageBytes ?? Math.min(codec.maxBytes, 1024 * 1024);
    const maxInFlight = options.maxInFlight ?? 256;
    for (const [what, value] of [
      ['maxMessageBytes', maxBytes],
      ['maxInFlight', maxInFlight],
    ] as const) {
      if (!Number.isSafeInteger(value) || value < 1)
        throw new InvalidArgumentError(
          `NatsConnector ${what} must be a positive whole number (got ${value})`,
        );
    }
    const format = options.format ?? 'json';
    if (format !== 'json' && format !== 'ergon')
      throw new InvalidArgumentError(
        `NatsConnector format must be 'json' or 'ergon' (got ${String(format)})`,
      );
    this.service = options.service;
    this.name = options.name ?? options.service.name;
    this.#maxInFlight = maxInFlight;
    this.#fetchWaitMs = toMillis(options.fetchWait ?? '1s', 'fetchWait');
    this.#requeueDelayMs = toMillis(options.requeueDelay ?? '0s', 'requeueDelay');
    this.#messages = Object.freeze({ format, codec, maxBytes, requireId: options.requireId ?? false });
    this.#puller = new Puller(
      () => this.service.consumer(),
      { expiresMs: this.#fetchWaitMs, maxInFlight },
      {
        onMessage: (message) => {
          this.#buffer.push(message); // while stopping too: given back with the rest
          this.#wake();
        },
        onEnd: (error) => {
          if (error !== undefined && !this.#stopping) this.#pullError = error;
          this.#wake();
        },
      },
    );
  }

  /** Connects (the service). Idempotent. */
  start(signal?: AbortSignal): Promise<void> {
    this.#stopping = false;
    return this.service.start(signal);
  }

  /**
   * Stops gracefully: no new pulls, waiting fetches return empty, the open
   * pull request runs out (at most `fetchWait`, 1–5 s), settlements under
   * way finish, every buffered or held message is given back at once
   * (`nak`), then the connection closes. Idempotent.
   */
  async stop(): Promise<void> {
    this.#stopping = true;
    this.#wake();
    await Promise.allSettled([this.#puller.end(), ...this.#settling]);
    clearInterval(this.#renewal);
    this.#renewal = undefined;
    for (const message of [...this.#buffer.splice(0), ...this.#held]) {
      try {
        message.nak();
      } catch {
        // the connection is gone: the server delivers it again after the ack wait
      }
    }
    this.#held.clear();
    await this.service.stop();
  }

  /**
   * Up to `limit` transactions: what was already pulled, or the first to
   * arrive within `fetchWait`. Never more held than `maxInFlight`. Messages
   * that cannot become transactions, or were delivered more than
   * `maxDeliveries` times, are dead-lettered and not returned.
   */
  async fetchTransactions(options: FetchOptions): Promise<Transaction<P>[]> {
    if (this.#stopping || options.signal?.aborted) return [];
    await this.service.start();
    this.#renewal ??= setInterval(
      () => this.#renew(),
      Math.floor(this.service.options.ackWaitMs / 3),
    ).unref();
    const deadline = Date.now() + this.#fetchWaitMs;
    while (
      this.#buffer.length === 0 &&
      !this.#stopping &&
      !options.signal?.aborted &&
      Date.now() < deadline
    ) {
      await this.#pull();
      await this.#arrival(deadline - Date.now(), options.signal);
    }
    await this.#restOfBurst(options.limit);
    const out: Transaction<P>[] = [];
    while (out.length < options.limit && this.#buffer.length > 0 && !this.#stopping) {
      const message = this.#buffer.shift() as JsMsg;
      const tx = await this.#accept(message);
      if (tx) out.push(tx);
    }
    if (!this.#stopping) await this.#pull().catch(() => undefined); // the next batch is on its way meanwhile
    return out;
  }

  /** Publishes every transaction and resolves once the stream acknowledged each (duplicates of a held id included). */
  async dispatchTransactions(
    transactions: readonly Transaction<P>[],
    options: { signal?: AbortSignal } = {},
  ): Promise<void> {
    const messages = transactions.map((tx) => encodeTransaction(tx, this.#messages));
    await this.service.publish(messages, options.signal ? { signal: options.signal } : {});
  }

  /** Acks the transaction's message; resolves once the server has read the ack. */
  async ack(transaction: Transaction<P>): Promise<void> {
    const message = this.#take(transaction);
    await this.#track(this.#settle(message, 'acking', (m) => m.ack()));
  }

  /**
   * Requeues the message (`nak`, delivered again after `requeueDelay`), or
   * dead-letters it: publishes it to the dead-letter subject with the reason
   * and its original headers, then ends its deliveries (`term`). If that
   * publish fails, the message is requeued instead and the nack rejects.
   */
  async nack(transaction: Transaction<P>, options: NackOptions): Promise<void> {
    const message = this.#take(transaction);
    if (options.requeue) {
      await this.#track(this.#settle(message, 'requeueing', (m) => m.nak(this.#requeueDelayMs)));
      return;
    }
    await this.#track(this.#deadLetter(message, options.reason));
  }

  /** The dead-letter stream's messages, oldest first, read without removing them. */
  async readDeadLetters(limit = 1000): Promise<NatsDeadLetter[]> {
    const stored = await this.service.readDeadLetters(limit);
    return stored.map((m) => readDeadLetter(m, this.#messages.codec));
  }

  async #pull(): Promise<void> {
    if (this.#pullError !== undefined) {
      const error = this.#pullError;
      this.#pullError = undefined;
      // A fetch that ended on heartbeats missed (a dropped connection) is simply pulled again.
      if (!/heartbeat/i.test(String((error as Error)?.message)))
        throw toConnectorError(error, 'pulling', this.service.options.url);
    }
    await this.#puller.pull(this.#maxInFlight - this.#held.size - this.#buffer.length - this.#puller.owed);
  }

  /** Messages sent together arrive a few at a time: take what comes within a moment of the first. */
  async #restOfBurst(limit: number): Promise<void> {
    const until = Date.now() + 10;
    while (
      this.#buffer.length > 0 &&
      this.#buffer.length < limit &&
      this.#puller.owed > 0 &&
      Date.now() < until
    ) {
      const before = this.#buffer.length;
      await this.#arrival(2);
      if (this.#buffer.length === before) return;
    }
  }

  async #accept(message: JsMsg): Promise<Transaction<P> | undefined> {
    const incoming = toIncoming(message);
    const { maxDeliveries } = this.service.options;
    let reason: unknown;
    try {
      const tx = decodeMessage<P>(incoming, this.#messages);
      if (incoming.deliveries <= maxDeliveries) {
        this.#held.add(message);
        this.#deliveries.set(tx, message);
        return tx;
      }
      reason = new ErgonError(
        ErrorCode.CONNECTOR_ERROR,
        `message ${tx.id} was delivered ${incoming.deliveries} times, more than maxDeliveries (${maxDeliveries}): ` +
          'its processing keeps failing or its consumers keep dying; see why, then publish it again',
        { details: { deliveries: incoming.deliveries, maxDeliveries } },
      );
    } catch (error) {
      reason = error;
    }
    await this.#track(this.#deadLetter(message, reason)).catch(() => undefined);
    return undefined;
  }

  async #deadLetter(message: JsMsg, reason: unknown): Promise<void> {
    this.#held.add(message); // renewed while its dead letter is published
    try {
      await this.service.publish([deadLetterMessage(toIncoming(message), reason)], {
        subject: this.service.options.deadLetterSubject,
      });
    } catch (error) {
      // Never lose what we could not dead-letter: it comes back later.
      await this.#settle(message, 'requeueing', (m) => m.nak(Math.max(this.#requeueDelayMs, 1000))).catch(
        () => undefined,
      );
      throw error;
    }
    await this.#settle(message, 'terminating', (m) => m.term());
  }

  async #settle(message: JsMsg, action: string, settle: (m: JsMsg) => void): Promise<void> {
    this.#held.delete(message);
    this.#wake(); // a place is free
    if (!this.#stopping) void this.#pull().catch(() => undefined); // the next messages come meanwhile
    try {
      settle(message);
    } catch (error) {
      throw toConnectorError(error, action, this.service.options.url);
    }
    await this.service.flush();
  }

  #renew(): void {
    for (const message of [...this.#buffer, ...this.#held]) {
      try {
        message.working();
      } catch {
        // disconnected: renewed on the next round, or delivered again after the ack wait
      }
    }
  }

  #take(transaction: Transaction<P>): JsMsg {
    const message = this.#deliveries.get(transaction);
    if (!message || !this.#held.has(message))
      throw new InvalidArgumentError(
        `transaction ${transaction?.id} was not fetched by ${this.name}, or is already settled`,
      );
    this.#deliveries.delete(transaction);
    return message;
  }

  #track<T>(work: Promise<T>): Promise<T> {
    this.#settling.add(work);
    const done = () => this.#settling.delete(work);
    work.then(done, done);
    return work;
  }

  #arrival(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.#waiters.delete(done);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, Math.max(1, ms));
      this.#waiters.add(done);
      signal?.addEventListener('abort', done, { once: true });
    });
  }

  #wake(): void {
    for (const wake of [...this.#waiters]) wake();
  }
}

function toIncoming(message: JsMsg): IncomingMessage {
  return {
    data: message.data,
    headers: message.headers,
    stream: message.info.stream,
    sequence: message.seq,
    deliveries: message.info.deliveryCount,
  };
}
