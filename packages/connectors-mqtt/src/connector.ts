/**
 * The transaction side of the MQTT connector: messages of the group's shared
 * subscription in as transactions (poison messages and messages delivered
 * too often dead-lettered), ack as the deferred PUBACK, requeue and dead
 * letters built from publishes (MQTT has neither), dispatches at QoS 1.
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
import { deadLetterMessage } from './dead-letters.js';
import { Received } from './internal/received.js';
import {
  type BodyFormat,
  decodeMessage,
  deliveriesOf,
  encodeTransaction,
  type MessageCodecOptions,
  MQTT_PROPERTIES,
} from './messages.js';
import { type Delivery, MqttService } from './service.js';

/** Options of {@link MqttConnector}. */
export interface MqttConnectorOptions {
  /** The connection, as a service. It consumes when it has a `group`. */
  readonly service: MqttService;
  /** Name for logs and dependency injection. Default the service's name. */
  readonly name?: string;
  /** Most transactions this connector holds fetched and unsettled. Default the service's `receiveMaximum`. */
  readonly maxInFlight?: number;
  /** How long a fetch with nothing received waits for a first message before it returns empty. Default `'1s'`. */
  readonly fetchWait?: Duration;
  /** Deliveries after which a message is dead-lettered instead of processed again. Default 5. */
  readonly maxDeliveries?: number;
  /** Largest payload accepted, in bytes: larger messages are dead-lettered, larger dispatches refused. Default 256 KiB. */
  readonly maxMessageBytes?: number;
  /** Payload of dispatched messages: `'json'` (default) or `'ergon'` (the Ergon codec: Dates, Maps, BigInts survive). */
  readonly format?: BodyFormat;
  /** Codec of `'ergon'` payloads. Default the core codec. */
  readonly codec?: Codec;
}

/**
 * Consumes an MQTT topic through a shared subscription as transactions and
 * publishes dispatched ones to it. A transaction's id is its `ergon-id` user
 * property, the same on every delivery (a resend to the session, a requeue),
 * so with the durable bridge a redelivery resumes the same flow.
 */
export class MqttConnector<P = unknown> implements Connector<P, P> {
  /** Stable name (the service's by default). */
  readonly name: string;
  /** The connection's service. */
  readonly service: MqttService;
  readonly #maxInFlight: number;
  readonly #fetchWaitMs: number;
  readonly #maxDeliveries: number;
  readonly #messages: MessageCodecOptions;
  readonly #buffer = new Received();
  readonly #held = new Map<number, Delivery>();
  /** Held transactions' deliveries (a Map: cheaper than a WeakMap per message; emptied as they settle, and on stop). */
  readonly #deliveries = new Map<Transaction<P>, Delivery>();
  readonly #settling = new Set<Promise<unknown>>();
  #lastTracked: Promise<unknown> | undefined;
  #stopping = false;

  /** @throws InvalidArgumentError for bad options. */
  constructor(options: MqttConnectorOptions) {
    if (!(options?.service instanceof MqttService))
      throw new InvalidArgumentError('MqttConnector needs an MqttService as `service`');
    const codec = options.codec ?? defaultCodec;
    const maxBytes = options.maxMessageBytes ?? Math.min(codec.maxBytes, 256 * 1024);
    const maxInFlight = options.maxInFlight ?? options.service.options.receiveMaximum;
    const maxDeliveries = options.maxDeliveries ?? 5;
    for (const [what, value] of [
      ['maxMessageBytes', maxBytes],
      ['maxInFlight', maxInFlight],
      ['maxDeliveries', maxDeliveries],
    ] as const) {
      if (!Number.isSafeInteger(value) || value < 1)
        throw new InvalidArgumentError(
          `MqttConnector ${what} must be a positive whole number (got ${value})`,
        );
    }
    const format = options.format ?? 'json';
    if (format !== 'json' && format !== 'ergon')
      throw new InvalidArgumentError(
        `MqttConnector format must be 'json' or 'ergon' (got ${String(format)})`,
      );
    this.service = options.service;
    this.name = options.name ?? options.service.name;
    this.#maxInFlight = maxInFlight;
    this.#maxDeliveries = maxDeliveries;
    this.#fetchWaitMs = toMillis(options.fetchWait ?? '1s', 'fetchWait');
    this.#messages = Object.freeze({ format, codec, maxBytes });
  }

  /** Connects; a consumer's session starts receiving at once (kept unacked until fetched and settled). Idempotent. */
  start(signal?: AbortSignal): Promise<void> {
    this.#stopping = false;
    this.service.onDelivery((delivery) => this.#receive(delivery));
    return this.service.start(signal);
  }

  /**
   * Stops gracefully: waiting fetches return empty, settlements under way
   * finish, then the client disconnects without acknowledging what it holds:
   * the broker keeps those messages in the session and sends them again to
   * the next client with the same id. Idempotent.
   */
  async stop(): Promise<void> {
    this.#stopping = true;
    this.#wake();
    await Promise.allSettled([...this.#settling]);
    this.#buffer.clear();
    this.#held.clear();
    this.#deliveries.clear();
    this.service.onDelivery(undefined);
    await this.service.stop();
  }

  /**
   * Up to `limit` transactions: what the broker already sent, or the first
   * to arrive within `fetchWait`; never more held than `maxInFlight`.
   * Messages that cannot become transactions, or were delivered more than
   * `maxDeliveries` times, are dead-lettered and not returned.
   *
   * @throws InvalidArgumentError when the service has no `group` (it only publishes).
   */
  async fetchTransactions(options: FetchOptions): Promise<Transaction<P>[]> {
    if (this.service.options.group === undefined)
      throw new InvalidArgumentError(
        `${this.name} only publishes: give its service a group (and a stable clientId) to consume`,
      );
    if (this.#stopping || options.signal?.aborted) return [];
    await this.start();
    const deadline = Date.now() + this.#fetchWaitMs;
    const room = () => this.#maxInFlight - this.#held.size;
    while ((this.#buffer.size === 0 || room() <= 0) && !this.#stopping && !options.signal?.aborted) {
      if (Date.now() >= deadline) return [];
      await this.#buffer.changed(deadline - Date.now(), options.signal);
    }
    const out: Transaction<P>[] = [];
    const deadLetters: Promise<unknown>[] = [];
    while (out.length < options.limit && room() > 0 && this.#buffer.size > 0 && !this.#stopping) {
      const delivery = this.#buffer.shift() as Delivery;
      const accepted = this.#accept(delivery);
      if (accepted instanceof Promise) deadLetters.push(accepted);
      else out.push(accepted);
    }
    // Dead letters are published before the fetch returns, as they were one by one.
    if (deadLetters.length > 0) await Promise.all(deadLetters);
    return out;
  }

  /** Publishes every transaction at QoS 1 and resolves once the broker acknowledged each (PUBACK). */
  async dispatchTransactions(transactions: readonly Transaction<P>[]): Promise<void> {
    await this.service.publish(transactions.map((tx) => encodeTransaction(tx, this.#messages)));
  }

  /**
   * Acknowledges the transaction's message (its PUBACK); resolves once
   * written. The acks of one turn share one promise (one write, one
   * reaction in the runner): no async function, await or closure per ack.
   */
  ack(transaction: Transaction<P>): Promise<void> {
    let delivery: Delivery;
    try {
      delivery = this.#take(transaction);
    } catch (error) {
      return Promise.reject(error);
    }
    this.#held.delete(delivery.packetId);
    this.#wake();
    return this.#track(this.service.puback(delivery, 'acking'));
  }

  /**
   * MQTT has no negative acknowledgement, so: a requeue publishes the
   * message again to the topic (same id and properties, its delivery count
   * carried along; the group's next session gets it) and then acknowledges
   * the original; a dead-letter publishes it to the dead-letter topic with
   * the reason, then acknowledges it. If that publish fails, the original
   * stays unacknowledged (the broker sends it again when this session
   * reconnects) and the nack rejects.
   */
  async nack(transaction: Transaction<P>, options: NackOptions): Promise<void> {
    const delivery = this.#take(transaction);
    await this.#track(options.requeue ? this.#requeue(delivery) : this.#deadLetter(delivery, options.reason));
  }

  #receive(delivery: Delivery): void {
    // The broker resends what the session holds unacked after a reconnect: one delivery per packet id.
    const held = this.#held.get(delivery.packetId);
    if (held?.session === delivery.session) return;
    if (this.#buffer.push(delivery)) this.#wake();
  }

  /** The delivery as a transaction; or, when it cannot be one, its dead-lettering (tracked, never rejecting). */
  #accept(delivery: Delivery): Transaction<P> | Promise<void> {
    const deliveries = deliveriesOf(delivery.message);
    let reason: unknown;
    try {
      const tx = decodeMessage<P>(delivery.message, this.#messages, deliveries);
      if (deliveries <= this.#maxDeliveries) {
        this.#held.set(delivery.packetId, delivery);
        this.#deliveries.set(tx, delivery);
        return tx;
      }
      reason = new ErgonError(
        ErrorCode.CONNECTOR_ERROR,
        `message ${tx.id} was delivered ${deliveries} times, more than maxDeliveries (${this.#maxDeliveries}): ` +
          'its processing keeps failing or its consumers keep dying; see why, then publish it again',
        { details: { deliveries, maxDeliveries: this.#maxDeliveries } },
      );
    } catch (error) {
      reason = error;
    }
    this.#held.set(delivery.packetId, delivery);
    return this.#track(this.#deadLetter(delivery, reason)).catch(() => undefined);
  }

  async #requeue(delivery: Delivery): Promise<void> {
    const { message } = delivery;
    const again = {
      id: '',
      payload: message.payload,
      userProperties: {
        ...message.userProperties,
        [MQTT_PROPERTIES.deliveries]: String(deliveriesOf(message)),
      },
      contentType: 'application/octet-stream',
    };
    try {
      await this.service.publish([again]);
    } catch (error) {
      this.#held.delete(delivery.packetId);
      throw error;
    }
    await this.#settle(delivery, 'requeueing');
  }

  async #deadLetter(delivery: Delivery, reason: unknown): Promise<void> {
    try {
      const letter = deadLetterMessage(delivery.message, reason, deliveriesOf(delivery.message));
      await this.service.publish([letter], { topic: this.service.options.deadLetterTopic });
    } catch (error) {
      this.#held.delete(delivery.packetId);
      throw error;
    }
    await this.#settle(delivery, 'dead-lettering');
  }

  async #settle(delivery: Delivery, action: string): Promise<void> {
    this.#held.delete(delivery.packetId);
    this.#wake();
    await this.service.puback(delivery, action);
  }

  #take(transaction: Transaction<P>): Delivery {
    const delivery = this.#deliveries.get(transaction);
    if (delivery) this.#deliveries.delete(transaction);
    if (!delivery || this.#held.get(delivery.packetId) !== delivery)
      throw new InvalidArgumentError(
        `transaction ${transaction?.id} was not fetched by ${this.name}, or is already settled`,
      );
    return delivery;
  }

  #track<T>(work: Promise<T>): Promise<T> {
    // Acks of a turn share their promise: tracked once (the last one tracked is the usual case).
    if (work === this.#lastTracked || this.#settling.has(work)) return work;
    this.#lastTracked = work;
    this.#settling.add(work);
    const done = () => {
      this.#settling.delete(work);
      this.#wake();
    };
    work.then(done, done);
    return work;
  }

  /** Waiting fetches look again: a delivery came, room was made, or the connector stops. */
  #wake(): void {
    this.#buffer.wake();
  }
}
