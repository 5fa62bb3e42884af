/**
 * The consumer: a channel of its own with the queue's prefetch and an ack
 * batcher, opened again on every connect while someone consumes. Deliveries
 * carry the connection generation they arrived on, so one whose channel is
 * gone is refused instead of settled on a channel that never delivered it.
 *
 * @module
 */
import { ErgonError, ErrorCode } from '@ergon/core';
import type { Channel, ChannelModel, ConsumeMessage } from 'amqplib';
import { AckBatcher } from './acks.js';

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

/** What the consumer asks of the connection it runs on. */
export interface ConsumerConnection {
  /** The current connection generation. */
  readonly generation: () => number;
  /** The channel of `generation` failed, or the broker cancelled the consumer. */
  readonly lost: (generation: number, error: Error) => void;
}

/** The consumer channel of the current connection, its ack batcher and where deliveries go. */
export class Consumer {
  /** Where deliveries go; consuming resumes on every connect while it is set. */
  onDelivery: ((delivery: Delivery) => void) | undefined;
  readonly #queue: string;
  readonly #prefetch: number;
  readonly #connection: ConsumerConnection;
  #channel: Channel | undefined;
  #acks: AckBatcher | undefined;
  #tag: string | undefined;
  #opening: Promise<void> | undefined;

  constructor(options: { queue: string; prefetch: number; connection: ConsumerConnection }) {
    this.#queue = options.queue;
    this.#prefetch = options.prefetch;
    this.#connection = options.connection;
  }

  /** True while a consumer channel is open. */
  get opened(): boolean {
    return this.#channel !== undefined;
  }

  /** Opens the channel on `model` and consumes the queue; one opening at a time. */
  open(model: ChannelModel): Promise<void> {
    this.#opening ??= (async () => {
      const connection = this.#connection;
      const generation = connection.generation();
      const channel = await model.createChannel();
      channel.on('error', () => undefined);
      await channel.prefetch(this.#prefetch);
      channel.on('close', () => connection.lost(generation, new Error('consumer channel closed')));
      const acks = new AckBatcher(channel);
      this.#channel = channel;
      this.#acks = acks;
      const { consumerTag } = await channel.consume(this.#queue, (message) => {
        if (message === null) {
          connection.lost(generation, new Error(`the broker cancelled the consumer of ${this.#queue}`));
          return;
        }
        if (generation !== connection.generation()) return;
        acks.delivered(message.fields.deliveryTag);
        this.onDelivery?.({ message, generation });
      });
      this.#tag = consumerTag;
    })().finally(() => {
      this.#opening = undefined;
    });
    return this.#opening;
  }

  /** Writes the acks queued so far. */
  flush(): void {
    this.#acks?.flush();
  }

  /** Stops deliveries (basic.cancel); held deliveries can still be settled. */
  async cancel(): Promise<void> {
    this.onDelivery = undefined;
    this.#acks?.flush();
    const channel = this.#channel;
    const tag = this.#tag;
    this.#tag = undefined;
    if (channel && tag) await channel.cancel(tag).catch(() => undefined);
  }

  /** Forgets the channel; acks not yet written reject (the broker delivers those messages again). */
  release(): void {
    this.#acks?.close(channelClosedError);
    this.#channel = this.#tag = this.#acks = undefined;
  }

  /**
   * The ack batcher that can settle `delivery`.
   * @throws ErgonError `CONNECTOR_ERROR` when its channel is gone.
   */
  acksOf(delivery: Delivery, action: string): AckBatcher {
    const acks = this.#acks;
    if (!acks || delivery.generation !== this.#connection.generation()) throw staleDelivery(delivery, action);
    return acks;
  }
}

/** The error of acks not yet written when their channel closed. */
function channelClosedError(): ErgonError {
  return new ErgonError(
    ErrorCode.CONNECTOR_ERROR,
    'amqp: acking failed: the channel closed before the ack was written, so the broker delivers the message again',
  );
}

/** The error of settling a delivery of an older generation. */
function staleDelivery(delivery: { readonly message: ConsumeMessage }, action: string): ErgonError {
  return new ErgonError(
    ErrorCode.CONNECTOR_ERROR,
    `amqp: ${action} message ${delivery.message.properties.messageId ?? '(no id)'} failed: its channel was lost with the connection, so the broker delivers it again`,
    { details: { action, stale: true } },
  );
}
