/**
 * The protocol side of the AMQP connector (DESIGN §3): one connection with a
 * confirm channel for publishing and, once someone consumes, a consumer
 * channel with a prefetch; the topology declared from the options on every
 * connect; reconnection with backoff. This file holds the connection's
 * lifecycle; the consumer, the opening of a connection, publishing and
 * queue inspection live in `internal/`. Knows nothing of transactions;
 * {@link AmqpConnector} does.
 *
 * @module
 */
import { ErgonError, ErrorCode, type HealthStatus, type Service, Waiters } from '@ergon/core';
import type { ChannelModel, ConfirmChannel, GetMessage } from 'amqplib';
import { redactUrl, toConnectorError } from './errors.js';
import { untilAborted } from './internal/abort.js';
import { openConnection, reconnectDelay } from './internal/connection.js';
import { Consumer, type Delivery } from './internal/consumer.js';
import { countReady, peekQueue } from './internal/inspect.js';
import {
  describeTarget,
  type OutgoingMessage,
  type PublishTarget,
  publishConfirmed,
} from './internal/publish.js';
import { type AmqpServiceOptions, type ResolvedAmqpOptions, resolveAmqpOptions } from './options.js';

export type { Delivery, OutgoingMessage, PublishTarget };

type State = 'stopped' | 'connecting' | 'connected' | 'reconnecting';

/** Longest a publish waits for a lost connection to come back. */
const RECONNECT_WAIT_MS = 30_000;

/** A RabbitMQ connection with publisher confirms, a consumer with prefetch, and reconnection. */
export class AmqpService implements Service {
  /** Stable name, `amqp:<queue>` by default. */
  readonly name: string;
  /** The resolved options. */
  readonly options: ResolvedAmqpOptions;
  #state: State = 'stopped';
  #starting: Promise<void> | undefined;
  #stopping: Promise<void> | undefined;
  #model: ChannelModel | undefined;
  #publisher: ConfirmChannel | undefined;
  readonly #consumer: Consumer;
  #generation = 0;
  #attempt = 0;
  #lastError: Error | undefined;
  #blocked = false;
  #timer: NodeJS.Timeout | undefined;
  readonly #returned = new Set<string>();
  readonly #waiters = new Waiters();

  /** @throws InvalidArgumentError for bad options. */
  constructor(options: AmqpServiceOptions) {
    this.options = resolveAmqpOptions(options);
    this.name = this.options.name;
    this.#consumer = new Consumer({
      queue: this.options.queue,
      prefetch: this.options.prefetch,
      connection: { generation: () => this.#generation, lost: (g, error) => this.#lost(g, error) },
    });
  }

  /** The current connection generation (see {@link Delivery.generation}). */
  get generation(): number {
    return this.#generation;
  }

  /** Connects, declares the topology and opens the publisher channel. Idempotent. */
  start(signal?: AbortSignal): Promise<void> {
    if (this.#stopping) return this.#stopping.then(() => this.start(signal));
    if (!this.#starting) {
      this.#state = 'connecting';
      this.#starting = this.#open().catch((error: unknown) => {
        this.#state = 'stopped';
        this.#starting = undefined;
        throw toConnectorError(error, 'connecting', this.options.url);
      });
    }
    return untilAborted(this.#starting, signal);
  }

  /** Closes the channels and the connection; the broker requeues every unacked delivery. Idempotent. */
  stop(): Promise<void> {
    this.#stopping ??= this.#stop().finally(() => {
      this.#stopping = undefined;
    });
    return this.#stopping;
  }

  /** Healthy while connected and not blocked by a resource alarm. */
  async health(): Promise<HealthStatus> {
    const url = redactUrl(this.options.url);
    if (this.#state === 'connected' && !this.#blocked) return { healthy: true };
    if (this.#state === 'connected')
      return { healthy: false, detail: `${url} blocks publishing (memory or disk alarm)` };
    if (this.#state === 'reconnecting') {
      const reason = this.#lastError?.message ?? 'unknown';
      return {
        healthy: false,
        detail: `connection to ${url} lost (${reason}); reconnect attempt ${this.#attempt}`,
      };
    }
    return { healthy: false, detail: this.#state === 'connecting' ? `connecting to ${url}` : 'not started' };
  }

  /**
   * Starts consuming the queue: every message goes to `onDelivery`, with at
   * most `prefetch` unsettled at once. Consuming resumes after a reconnect.
   */
  async consume(onDelivery: (delivery: Delivery) => void): Promise<void> {
    this.#consumer.onDelivery = onDelivery;
    await this.start();
    if (this.#state === 'connected' && !this.#consumer.opened) await this.#openConsumer();
  }

  /** Stops deliveries (basic.cancel); held deliveries can still be settled. */
  stopConsuming(): Promise<void> {
    return this.#consumer.cancel();
  }

  /** True while `delivery` can still be settled on its channel. */
  isCurrent(delivery: Delivery): boolean {
    return delivery.generation === this.#generation && this.#consumer.opened;
  }

  /**
   * Acks a delivery; resolves once the ack is written (acks of one turn of
   * the event loop go out together, see `internal/acks.ts`).
   * @throws ErgonError `CONNECTOR_ERROR` when its channel is gone (it will be delivered again).
   */
  async ack(delivery: Delivery): Promise<void> {
    const acks = this.#consumer.acksOf(delivery, 'acking');
    try {
      await acks.ack(delivery.message.fields.deliveryTag);
    } catch (error) {
      throw toConnectorError(error, 'acking', this.options.url);
    }
  }

  /** Nacks a delivery: requeued, or handed to the queue's dead-letter exchange by the broker. */
  nack(delivery: Delivery, requeue: boolean): void {
    const acks = this.#consumer.acksOf(delivery, 'nacking');
    try {
      acks.nack(delivery.message.fields.deliveryTag, requeue);
    } catch (error) {
      throw toConnectorError(error, 'nacking', this.options.url);
    }
  }

  /**
   * Publishes and resolves once the broker confirmed every message (routed
   * and, when persistent, written). Waits out a reconnect (30 s at most).
   *
   * @throws ErgonError `CONNECTOR_ERROR` when a message is refused (nack), unroutable, or the channel fails.
   */
  async publish(
    messages: readonly OutgoingMessage[],
    options: { target?: PublishTarget; signal?: AbortSignal } = {},
  ): Promise<void> {
    if (messages.length === 0) return;
    const channel = await this.#connectedPublisher(options.signal);
    const target = options.target ?? { exchange: this.options.exchange, routingKey: this.options.routingKey };
    try {
      await publishConfirmed(channel, target, messages, this.#returned);
    } catch (error) {
      throw toConnectorError(error, `publishing to ${describeTarget(target)}`, this.options.url);
    }
  }

  /** Where dead letters are published. */
  get deadLetterTarget(): PublishTarget {
    const { deadLetterExchange, deadLetterQueue, queue } = this.options;
    return { exchange: deadLetterExchange, routingKey: deadLetterExchange === '' ? deadLetterQueue : queue };
  }

  /** Messages ready in `queue` (default the service's), not counting those held by consumers. */
  async readyCount(queue = this.options.queue): Promise<number> {
    return this.#withModel('counting messages', (model) => countReady(model, queue));
  }

  /**
   * Reads up to `limit` ready messages of `queue` without removing them: they
   * are taken and put back (so their order may change and `redelivered` is set).
   */
  async peek(queue: string, limit = 1000): Promise<GetMessage[]> {
    return this.#withModel(`reading ${queue}`, (model) => peekQueue(model, queue, limit));
  }

  async #open(): Promise<void> {
    const prior = this.#state;
    const generation = ++this.#generation;
    const connection = await openConnection({
      options: this.options,
      returned: this.#returned,
      onLost: (error) => this.#lost(generation, error),
      onBlocked: (blocked) => {
        this.#blocked = blocked;
      },
    });
    try {
      this.#model = connection.model;
      this.#publisher = connection.publisher;
      this.#blocked = false;
      this.#state = 'connected';
      if (this.#consumer.onDelivery) await this.#openConsumer();
      connection.goLive();
    } catch (error) {
      this.#state = prior;
      this.#releaseChannels();
      await connection.model.close().catch(() => undefined);
      throw error;
    }
    this.#attempt = 0;
    this.#waiters.wake();
  }

  #openConsumer(): Promise<void> {
    return this.#consumer.open(this.#model as ChannelModel);
  }

  /** A channel or the connection failed: everything of this generation is void; reconnect with backoff. */
  #lost(generation: number, error: Error): void {
    if (generation !== this.#generation || this.#state !== 'connected' || this.#stopping) return;
    this.#generation++;
    this.#lastError = error;
    this.#state = 'reconnecting';
    const model = this.#model;
    this.#releaseChannels();
    this.#returned.clear();
    void model?.close().catch(() => undefined);
    this.#scheduleReconnect();
    this.#waiters.wake();
  }

  #scheduleReconnect(): void {
    const delay = reconnectDelay(this.options.reconnect, this.#attempt);
    this.#attempt++;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      if (this.#state !== 'reconnecting' || this.#stopping) return;
      this.#open().catch((error: unknown) => {
        if (this.#state !== 'reconnecting' || this.#stopping) return;
        this.#lastError = error instanceof Error ? error : new Error(String(error));
        this.#scheduleReconnect();
      });
    }, delay);
  }

  async #stop(): Promise<void> {
    await this.#starting?.catch(() => undefined);
    clearTimeout(this.#timer);
    const model = this.#model;
    this.#consumer.flush(); // acks already given are written before the close
    this.#state = 'stopped';
    this.#generation++;
    this.#releaseChannels();
    this.#consumer.onDelivery = undefined;
    this.#starting = undefined;
    this.#waiters.wake();
    await model?.close().catch(() => undefined);
  }

  /** Forgets the connection's channels; acks not yet written reject (the broker delivers those messages again). */
  #releaseChannels(): void {
    this.#consumer.release();
    this.#model = this.#publisher = undefined;
  }

  async #connectedPublisher(signal?: AbortSignal): Promise<ConfirmChannel> {
    if (this.#state === 'stopped') await this.start(signal);
    const deadline = Date.now() + RECONNECT_WAIT_MS;
    while (!this.#publisher) {
      signal?.throwIfAborted();
      if (this.#state === 'stopped' || Date.now() > deadline) {
        throw new ErgonError(
          ErrorCode.CONNECTOR_ERROR,
          `amqp: not connected to ${redactUrl(this.options.url)} (${this.#lastError?.message ?? this.#state}); retry later`,
          { cause: this.#lastError },
        );
      }
      await this.#waiters.next(Math.max(1, deadline - Date.now()), signal);
    }
    return this.#publisher;
  }

  async #withModel<T>(action: string, work: (model: ChannelModel) => Promise<T>): Promise<T> {
    await this.start();
    const model = this.#model;
    if (!model) throw toConnectorError(new Error('not connected'), action, this.options.url);
    try {
      return await work(model);
    } catch (error) {
      throw toConnectorError(error, action, this.options.url);
    }
  }
}
