/**
 * Publishing on a confirm channel: every message mandatory, resolved when the
 * broker acks it, rejected when it nacks it or returns it as unroutable.
 *
 * @module
 */
import { once } from 'node:events';
import type { ConfirmChannel, Options } from 'amqplib';

/** A message to publish: its body and AMQP properties. */
export interface OutgoingMessage {
  /** The body. */
  readonly content: Buffer;
  /** Properties and headers (`messageId` identifies it in refusals). */
  readonly options: Options.Publish;
}

/** Exchange and routing key of a publish (`''` is the default exchange: the key names the queue). */
export interface PublishTarget {
  /** The exchange to publish to; `''` is the default exchange. */
  readonly exchange: string;
  /** The routing key (with the default exchange: the queue name). */
  readonly routingKey: string;
}

/** How a target reads in an error: the queue, or the exchange and routing key. */
export function describeTarget(target: PublishTarget): string {
  return target.exchange === ''
    ? `queue ${target.routingKey}`
    : `exchange ${target.exchange} (${target.routingKey})`;
}

/**
 * Publishes `messages` in order and waits for every confirm. `returned`
 * holds the message ids the broker returned as unroutable (the channel's
 * `return` event adds them; a return always comes before its message's ack).
 */
export async function publishConfirmed(
  channel: ConfirmChannel,
  target: PublishTarget,
  messages: readonly OutgoingMessage[],
  returned: Set<string>,
): Promise<void> {
  const confirms: Promise<void>[] = [];
  for (const message of messages) {
    const id = message.options.messageId;
    let written = true;
    confirms.push(
      new Promise<void>((resolve, reject) => {
        written = channel.publish(
          target.exchange,
          target.routingKey,
          message.content,
          { mandatory: true, ...message.options },
          (error: unknown) => {
            if (typeof id === 'string' && returned.delete(id)) {
              reject(
                new Error(
                  `message ${id} is unroutable: no queue is bound for it (check exchange and routingKey)`,
                ),
              );
            } else if (error) {
              reject(
                error instanceof Error && /closed/i.test(error.message)
                  ? error
                  : new Error(
                      `the broker refused message ${id ?? '(no id)'} (nack: the queue is full or refuses publishes)`,
                    ),
              );
            } else resolve();
          },
        );
      }),
    );
    // The socket's buffer is full: wait until it drains before writing more.
    if (!written) await once(channel, 'drain');
  }
  const results = await Promise.allSettled(confirms);
  const failed = results.find((result) => result.status === 'rejected');
  if (failed) throw failed.reason;
}
