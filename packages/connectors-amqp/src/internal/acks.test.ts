import type { Channel } from 'amqplib';
import { describe, expect, it } from 'vitest';
import { AckBatcher } from './acks.js';

function fakeChannel() {
  const frames: string[] = [];
  const channel = {
    ack: (m: { fields: { deliveryTag: number } }, all: boolean) =>
      frames.push(`ack ${m.fields.deliveryTag}${all ? '+' : ''}`),
    nack: (m: { fields: { deliveryTag: number } }, _all: boolean, requeue: boolean) =>
      frames.push(`nack ${m.fields.deliveryTag}${requeue ? ' requeue' : ''}`),
  };
  return { frames, channel: channel as unknown as Channel };
}

describe('AckBatcher', () => {
  it('acks consecutive deliveries with one multiple ack, never past the oldest unsettled one', async () => {
    const { frames, channel } = fakeChannel();
    const acks = new AckBatcher(channel);
    for (let tag = 1; tag <= 6; tag++) acks.delivered(tag);
    await Promise.all([acks.ack(2), acks.ack(1), acks.ack(3), acks.ack(5)]);
    expect(frames).toEqual(['ack 5', 'ack 3+']);
    acks.nack(4, true);
    await acks.ack(6);
    expect(frames).toEqual(['ack 5', 'ack 3+', 'nack 4 requeue', 'ack 6+']);
  });

  it('rejects acks not yet written when its channel closes', async () => {
    const { frames, channel } = fakeChannel();
    const acks = new AckBatcher(channel);
    acks.delivered(1);
    const pending = acks.ack(1);
    acks.close(() => new Error('gone'));
    await expect(pending).rejects.toThrow('gone');
    await expect(acks.ack(2)).rejects.toThrow('gone');
    expect(frames).toEqual([]);
  });
});
