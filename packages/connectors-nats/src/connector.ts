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
  type Connector,
  ErgonError,
  ErrorCode,
  type FetchOptions,
  InvalidArgumentError,
  type NackOptions,
  type Transaction,
} from '@ergon/core';
import type { JsMsg } from '@nats-io/jetstream';
import { deadLetterMessage, type NatsDeadLetter, readDeadLetter } from './dead-letters.js';
import { toConnectorError } from './errors.js';
import { Inbox } from './internal/inbox.js';
import { decodeMessage, encodeTransaction, incomingOf, type MessageCodecOptions } from './messages.js';
import { type NatsConnectorOptions, resolveConnectorOptions } from './options.js';
import { NatsService } from './service.js';

export type { NatsConnectorOptions };

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
  readonly #inbox: Inbox;
  /** Held transactions' messages (a Map: cheaper than a WeakMap per message; emptied as they settle, and on stop). */
  readonly #deliveries = new Map<Transaction<P>, JsMsg>();
  readonly #settling = new Set<Promise<unknown>>();
  #renewal: NodeJS.Timeout | undefined;
  /** The last flush a settlement waits on (tracked once, not once per settlement). */
  #flush: Promise<void> | undefined;

  /** @throws InvalidArgumentError for bad options. */
  constructor(options: NatsConnectorOptions) {
    if (!(options?.service instanceof NatsService))
      throw new InvalidArgumentError('NatsConnector needs a NatsService as `service`');
    const resolved = resolveConnectorOptions(options);
    this.service = options.service;
    this.name = options.name ?? options.service.name;
    this.#maxInFlight = resolved.maxInFlight;
    this.#fetchWaitMs = resolved.fetchWaitMs;
    this.#requeueDelayMs = resolved.requeueDelayMs;
    this.#messages = resolved.messages;
    this.#inbox = new Inbox({
      consumer: () => this.service.consumer(),
      maxInFlight: resolved.maxInFlight,
      fetchWaitMs: this.#fetchWaitMs,
      url: this.service.options.url,
    });
  }

  /** Connects (the service). Idempotent. */
  start(signal?: AbortSignal): Promise<void> {
    this.#inbox.stopping = false;
    return this.service.start(signal);
  }

  /**
   * Stops gracefully: no new pulls, waiting fetches return empty, the open
   * pull request runs out (at most `fetchWait`, 1–5 s), settlements under
   * way finish, every buffered or held message is given back at once
   * (`nak`), then the connection closes. Idempotent.
   */
  async stop(): Promise<void> {
    this.#inbox.stopping = true;
    await Promise.allSettled([this.#inbox.endPulls(), ...this.#settling]);
    clearInterval(this.#renewal);
    this.#renewal = undefined;
    this.#deliveries.clear();
    for (const message of this.#inbox.drain()) {
      try {
        message.nak();
      } catch {
        // the connection is gone: the server delivers it again after the ack wait
      }
    }
    await this.service.stop();
  }

  /**
   * Up to `limit` transactions: what was already pulled, or the first to
   * arrive within `fetchWait`. Never more held than `maxInFlight`. Messages
   * that cannot become transactions, or were delivered more than
   * `maxDeliveries` times, are dead-lettered and not returned.
   */
  async fetchTransactions(options: FetchOptions): Promise<Transaction<P>[]> {
    const inbox = this.#inbox;
    if (inbox.stopping || options.signal?.aborted) return [];
    await this.service.start();
    this.#renewal ??= setInterval(
      () => inbox.renew(),
      Math.floor(this.service.options.ackWaitMs / 3),
    ).unref();
    const deadline = Date.now() + this.#fetchWaitMs;
    while (
      inbox.buffer.length === 0 &&
      !inbox.stopping &&
      !options.signal?.aborted &&
      Date.now() < deadline
    ) {
      await inbox.pull();
      await inbox.arrival(deadline - Date.now(), options.signal);
    }
    await inbox.restOfBurst(options.limit);
    const out: Transaction<P>[] = [];
    while (out.length < options.limit && inbox.buffer.length > 0 && !inbox.stopping) {
      const message = inbox.buffer.shift() as JsMsg;
      const accepted = this.#accept(message);
      if (accepted instanceof Promise) await accepted;
      else out.push(accepted);
    }
    if (!inbox.stopping) await inbox.pull().catch(() => undefined); // the next batch is on its way meanwhile
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

  /**
   * Acks the transaction's message; resolves once the server has read the
   * ack. The acks of a turn wait on one PING/PONG and share its promise
   * (no promise, pull or wake-up per ack).
   */
  ack(transaction: Transaction<P>): Promise<void> {
    try {
      const message = this.#take(transaction);
      this.#inbox.free(message);
      try {
        message.ack();
      } catch (error) {
        throw toConnectorError(error, 'acking', this.service.options.url);
      }
    } catch (error) {
      return Promise.reject(error);
    }
    return this.#flushed();
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

  /** The message's transaction (now held), or the dead-lettering of a message that cannot be one (not async: most are). */
  #accept(message: JsMsg): Transaction<P> | Promise<unknown> {
    const incoming = incomingOf(message);
    const { maxDeliveries } = this.service.options;
    let reason: unknown;
    try {
      const tx = decodeMessage<P>(incoming, this.#messages);
      if (incoming.deliveries <= maxDeliveries) {
        this.#inbox.held.add(message);
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
    return this.#track(this.#deadLetter(message, reason)).catch(() => undefined);
  }

  async #deadLetter(message: JsMsg, reason: unknown): Promise<void> {
    this.#inbox.held.add(message); // renewed while its dead letter is published
    try {
      await this.service.publish([deadLetterMessage(incomingOf(message), reason)], {
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
    this.#inbox.free(message); // a place is free: the next messages come meanwhile
    try {
      settle(message);
    } catch (error) {
      throw toConnectorError(error, action, this.service.options.url);
    }
    await this.#flushed();
  }

  /** Resolves once the server has read everything written so far (the turn's one flush, tracked once). */
  #flushed(): Promise<void> {
    const flush = this.service.flush();
    if (flush !== this.#flush) {
      this.#flush = flush;
      this.#track(flush).catch(() => undefined);
    }
    return flush;
  }

  #take(transaction: Transaction<P>): JsMsg {
    const message = this.#deliveries.get(transaction);
    if (!message || !this.#inbox.held.has(message))
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
}
