/**
 * Looking at queues without consuming them: each look opens a short-lived
 * channel of its own, so nothing it takes stays taken (a `get` without ack
 * is put back when the channel closes).
 *
 * @module
 */
import type { Channel, ChannelModel, GetMessage } from 'amqplib';

/** Opens a short-lived channel for `work` and closes it after (a `get` without ack is put back then). */
export async function withTemporaryChannel<T>(
  model: ChannelModel,
  work: (channel: Channel) => Promise<T>,
): Promise<T> {
  const channel = await model.createChannel();
  channel.on('error', () => undefined);
  try {
    return await work(channel);
  } finally {
    await channel.close().catch(() => undefined);
  }
}

/** Messages ready in `queue`, not counting those held by consumers. */
export function countReady(model: ChannelModel, queue: string): Promise<number> {
  return withTemporaryChannel(model, async (channel) => (await channel.checkQueue(queue)).messageCount);
}

/** Up to `limit` ready messages of `queue`, put back after (so their order may change and `redelivered` is set). */
export function peekQueue(model: ChannelModel, queue: string, limit: number): Promise<GetMessage[]> {
  return withTemporaryChannel(model, async (channel) => {
    const out: GetMessage[] = [];
    while (out.length < limit) {
      const message = await channel.get(queue, { noAck: false });
      if (message === false) break;
      out.push(message);
    }
    return out; // closing the channel puts them back
  });
}
