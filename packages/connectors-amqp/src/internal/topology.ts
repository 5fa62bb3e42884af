/**
 * Declares what the options describe, idempotently, on every connect: the
 * dead-letter queue (and exchange), the queue with its dead-letter
 * arguments, and the exchange with its binding.
 *
 * @module
 */
import type { Channel } from 'amqplib';
import type { ResolvedAmqpOptions } from '../options.js';

/** Asserts the topology; a conflicting existing declaration fails with 406 (see the error hints). */
export async function declareTopology(channel: Channel, options: ResolvedAmqpOptions): Promise<void> {
  const { durable, queue, deadLetterQueue, deadLetterExchange, exchange } = options;
  if (deadLetterExchange !== '') await channel.assertExchange(deadLetterExchange, 'direct', { durable });
  await channel.assertQueue(deadLetterQueue, { durable });
  if (deadLetterExchange !== '') await channel.bindQueue(deadLetterQueue, deadLetterExchange, queue);
  await channel.assertQueue(queue, {
    durable,
    arguments: {
      // What the broker dead-letters itself (a user's reject, a TTL, a length limit) lands beside ours.
      'x-dead-letter-exchange': deadLetterExchange,
      'x-dead-letter-routing-key': deadLetterExchange === '' ? deadLetterQueue : queue,
      ...options.queueArguments,
    },
  });
  if (exchange !== '') {
    await channel.assertExchange(exchange, options.exchangeType, { durable });
    await channel.bindQueue(queue, exchange, options.routingKey);
  }
}
