/**
 * Acks coalesced per turn of the event loop. AMQP's `multiple` ack settles
 * every outstanding delivery up to a tag, so acks of consecutive deliveries
 * go out as one frame: a busy consumer sends one ack per batch instead of one
 * per message (less work for this process and for the broker). An ack is
 * never sent for a delivery that is still unsettled: the `multiple` ack
 * stops below the oldest one, later acks go out singly.
 *
 * @module
 */
import type { Channel, Message } from 'amqplib';

interface Pending {
  readonly tag: number;
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

/** The acks of one consumer channel. A new channel gets a new batcher. */
export class AckBatcher {
  readonly #channel: Channel;
  /** Delivered on this channel and neither acked nor nacked yet (buffered, fetched or in flight). */
  readonly #unsettled = new Set<number>();
  #pending: Pending[] = [];
  #scheduled = false;
  #closed: (() => Error) | undefined;

  constructor(channel: Channel) {
    this.#channel = channel;
  }

  /** Records a delivery: it is outstanding until acked or nacked. */
  delivered(tag: number): void {
    this.#unsettled.add(tag);
  }

  /** Queues an ack; resolves once it is written to the connection. */
  ack(tag: number): Promise<void> {
    if (this.#closed) return Promise.reject(this.#closed());
    this.#unsettled.delete(tag);
    return new Promise((resolve, reject) => {
      this.#pending.push({ tag, resolve, reject });
      if (!this.#scheduled) {
        this.#scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  /** Nacks at once (acks queued so far go first). */
  nack(tag: number, requeue: boolean): void {
    this.flush();
    this.#unsettled.delete(tag);
    this.#channel.nack(message(tag), false, requeue);
  }

  /** Writes the queued acks: one `multiple` ack below the oldest unsettled delivery, single acks above it. */
  flush(): void {
    this.#scheduled = false;
    const pending = this.#pending;
    if (pending.length === 0) return;
    this.#pending = [];
    if (this.#closed) {
      for (const p of pending) p.reject(this.#closed());
      return;
    }
    let oldest = Number.POSITIVE_INFINITY;
    for (const tag of this.#unsettled) if (tag < oldest) oldest = tag;
    let upTo = -1;
    try {
      for (const { tag } of pending) {
        if (tag < oldest) upTo = Math.max(upTo, tag);
        else this.#channel.ack(message(tag), false);
      }
      if (upTo >= 0) this.#channel.ack(message(upTo), true);
    } catch (error) {
      for (const p of pending) p.reject(error);
      return;
    }
    for (const p of pending) p.resolve();
  }

  /** The channel is gone: queued and later acks reject with `error()` (the broker delivers those messages again). */
  close(error: () => Error): void {
    this.#closed = error;
    this.flush();
    this.#unsettled.clear();
  }
}

/** amqplib settles by `fields.deliveryTag` alone. */
function message(deliveryTag: number): Message {
  return { fields: { deliveryTag } } as Message;
}
