/**
 * The protocol side of the AMQP connector (DESIGN §3): one connection with a
 * confirm channel for publishing and, once someone consumes, a consumer
 * channel with a prefetch; the topology declared from the options on every
 * connect; reconnection with backoff. Knows nothing of transactions;
 * {@link AmqpConnector} does.
 *
 * @module
 */
import { ErgonError, ErrorCode, type HealthStatus, type Service } from '@ergon/core';
import {
  type Channel,
  type ChannelModel,
  type ConfirmChannel,
  type ConsumeMessage,
  connect,
  type GetMessage,
} from 'amqplib';
import { redactUrl, toConnectorError } from './errors.js';
import { AckBatcher } from './internal/acks.js';
import { type OutgoingMessage, type PublishTarget, publishConfirmed } from './internal/publish.js';
import { declareTopology } from './internal/topology.js';
import { type AmqpServiceOptions, type ResolvedAmqpOptions, resolveAmqpOptions } from './options.js';

export type { OutgoingMessage, PublishTarget };

/** A message of the consumer channel, with the connection generation it arrived on. */
export interface Delivery {
  /** The message as amqplib delivered it. */
  readonly message: ConsumeMessage;
  /**
   * Increments on every connection loss: a delivery of an older generation
   * can no longer be settled (the broker put it back and delivers it again).
   */
  readonly generation: number;
}

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
  #consumer: Channel | undefined;
  #acks: AckBatcher | undefined;
  #consumerTag: string | undefined;
  #opening: Promise<void> | undefined;
  #onDelivery: ((delivery: Delivery) => void) | undefined;
  #generation = 0;
  #attempt = 0;
  #lastError: Error | undefined;
  #blocked = false;
  #timer: NodeJS.Timeout | undefined;
  readonly #returned = new Set<string>();
  readonly #waiters = new Set<() => void>();

  /** @throws InvalidArgumentError for bad options. */
  constructor(options: AmqpServiceOptions) {
    this.options = resolveAmqpOptions(options);
    this.name = this.options.name;
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
    this.#onDelivery = onDelivery;
    await this.start();
    if (this.#state === 'connected' && !this.#consumer) await this.#openConsumer();
  }

  /** Stops deliveries (basic.cancel); held deliveries can still be settled. */
  async stopConsuming(): Promise<void> {
    this.#onDelivery = undefined;
    this.#acks?.flush();
    const consumer = this.#consumer;
    const tag = this.#consumerTag;
    this.#consumerTag = undefined;
    if (consumer && tag) await consumer.cancel(tag).catch(() => undefined);
  }

  /** True while `delivery` can still be settled on its channel. */
  isCurrent(delivery: Delivery): boolean {
    return delivery.generation === this.#generation && this.#consumer !== undefined;
  }

  /**
   * Acks a delivery; resolves once the ack is written (acks of one turn of
   * the event loop go out together, see `internal/acks.ts`).
   * @throws ErgonError `CONNECTOR_ERROR` when its channel is gone (it will be delivered again).
   */
  async ack(delivery: Delivery): Promise<void> {
    const acks = this.#acksOf(delivery, 'acking');
    try {
      await acks.ack(delivery.message.fields.deliveryTag);
    } catch (error) {
      throw toConnectorError(error, 'acking', this.options.url);
    }
  }

  /** Nacks a delivery: requeued, or handed to the queue's dead-letter exchange by the broker. */
  nack(delivery: Delivery, requeue: boolean): void {
    const acks = this.#acksOf(delivery, 'nacking');
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
    return this.#withChannel('counting messages', async (channel) => {
      return (await channel.checkQueue(queue)).messageCount;
    });
  }

  /**
   * Reads up to `limit` ready messages of `queue` without removing them: they
   * are taken and put back (so their order may change and `redelivered` is set).
   */
  async peek(queue: string, limit = 1000): Promise<GetMessage[]> {
    return this.#withChannel(`reading ${queue}`, async (channel) => {
      const out: GetMessage[] = [];
      while (out.length < limit) {
        const message = await channel.get(queue, { noAck: false });
        if (message === false) break;
        out.push(message);
      }
      return out; // closing the channel puts them back
    });
  }

  async #open(): Promise<void> {
    const prior = this.#state;
    const generation = ++this.#generation;
    const model = await connect(this.options.url, {
      clientProperties: { connection_name: this.options.connectionName },
    });
    // Until the set-up is done, a close is the set-up's failure (thrown below), not a loss to recover from.
    let live = false;
    let closedEarly: Error | undefined;
    const onClose = (error: Error) => {
      if (live) this.#lost(generation, error);
      else closedEarly ??= error;
    };
    try {
      model.on('error', () => undefined); // 'close' follows with the error
      model.on('close', (error?: Error) => onClose(error ?? new Error('connection closed')));
      model.on('blocked', () => {
        this.#blocked = true;
      });
      model.on('unblocked', () => {
        this.#blocked = false;
      });
      const publisher = await model.createConfirmChannel();
      publisher.on('error', () => undefined);
      publisher.on('close', () => onClose(new Error('publisher channel closed')));
      if (this.options.declare) await declareTopology(publisher, this.options);
      publisher.on('return', (message) => {
        const id = message.properties.messageId;
        if (typeof id === 'string') this.#returned.add(id);
      });
      this.#model = model;
      this.#publisher = publisher;
      this.#blocked = false;
      this.#state = 'connected';
      if (this.#onDelivery) await this.#openConsumer();
      if (closedEarly) throw closedEarly;
    } catch (error) {
      this.#state = prior;
      this.#releaseChannels();
      await model.close().catch(() => undefined);
      throw error;
    }
    live = true;
    this.#attempt = 0;
    this.#wake();
  }

  #openConsumer(): Promise<void> {
    this.#opening ??= (async () => {
      const model = this.#model as ChannelModel;
      const generation = this.#generation;
      const channel = await model.createChannel();
      channel.on('error', () => undefined);
      await channel.prefetch(this.options.prefetch);
      channel.on('close', () => this.#lost(generation, new Error('consumer channel closed')));
      const acks = new AckBatcher(channel);
      this.#consumer = channel;
      this.#acks = acks;
      const { consumerTag } = await channel.consume(this.options.queue, (message) => {
        if (message === null) {
          this.#lost(generation, new Error(`the broker cancelled the consumer of ${this.options.queue}`));
          return;
        }
        if (generation !== this.#generation) return;
        acks.delivered(message.fields.deliveryTag);
        this.#onDelivery?.({ message, generation });
      });
      this.#consumerTag = consumerTag;
    })().finally(() => {
      this.#opening = undefined;
    });
    return this.#opening;
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
    this.#wake();
  }

  #scheduleReconnect(): void {
    const { initialMs, maxMs, multiplier } = this.options.reconnect;
    const base = Math.min(maxMs, initialMs * multiplier ** this.#attempt);
    const delay = Math.min(maxMs, base * (0.8 + Math.random() * 0.4));
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
    this.#acks?.flush(); // acks already given are written before the close
    this.#state = 'stopped';
    this.#generation++;
    this.#releaseChannels();
    this.#onDelivery = undefined;
    this.#starting = undefined;
    this.#wake();
    await model?.close().catch(() => undefined);
  }

  /** Forgets the connection's channels; acks not yet written reject (the broker delivers those messages again). */
  #releaseChannels(): void {
    const acks = this.#acks;
    acks?.close(
      () =>
        new ErgonError(
          ErrorCode.CONNECTOR_ERROR,
          'amqp: acking failed: the channel closed before the ack was written, so the broker delivers the message again',
        ),
    );
    this.#model = this.#publisher = this.#consumer = this.#consumerTag = this.#acks = undefined;
  }

  #acksOf(delivery: Delivery, action: string): AckBatcher {
    const acks = this.#acks;
    if (!acks || delivery.generation !== this.#generation) throw staleDelivery(delivery, action);
    return acks;
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
      await this.#nextChange(Math.max(1, deadline - Date.now()), signal);
    }
    return this.#publisher;
  }

  async #withChannel<T>(action: string, work: (channel: Channel) => Promise<T>): Promise<T> {
    await this.start();
    const model = this.#model;
    if (!model) throw toConnectorError(new Error('not connected'), action, this.options.url);
    try {
      const channel = await model.createChannel();
      channel.on('error', () => undefined);
      try {
        return await work(channel);
      } finally {
        await channel.close().catch(() => undefined);
      }
    } catch (error) {
      throw toConnectorError(error, action, this.options.url);
    }
  }

  #nextChange(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.#waiters.delete(done);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.#waiters.add(done);
      signal?.addEventListener('abort', done, { once: true });
    });
  }

  #wake(): void {
    for (const wake of [...this.#waiters]) wake();
  }
}

function describeTarget(target: PublishTarget): string {
  return target.exchange === ''
    ? `queue ${target.routingKey}`
    : `exchange ${target.exchange} (${target.routingKey})`;
}

function untilAborted(work: Promise<void>, signal?: AbortSignal): Promise<void> {
  if (!signal) return work;
  signal.throwIfAborted();
  return new Promise((resolve, reject) => {
    const onAbort = () =>
      reject(new ErgonError(ErrorCode.ABORTED, 'amqp: start was aborted', { cause: signal.reason }));
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

function staleDelivery(delivery: { readonly message: ConsumeMessage }, action: string): ErgonError {
  return new ErgonError(
    ErrorCode.CONNECTOR_ERROR,
    `amqp: ${action} message ${delivery.message.properties.messageId ?? '(no id)'} failed: its channel was lost with the connection, so the broker delivers it again`,
    { details: { action, stale: true } },
  );
}
