import { setImmediate as nextTurn } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { AckBatcher } from './ack-batcher.js';

describe('AckBatcher', () => {
  it('sends the acks of one turn in one call, those of a later turn in another', async () => {
    const sent: string[][] = [];
    const acks = new AckBatcher(async (ids) => {
      sent.push([...ids]);
    });
    const first = ['1-0', '2-0', '3-0'].map((id) => acks.ack(id));
    expect(sent).toEqual([]);
    await Promise.all(first);
    const later = acks.ack('4-0');
    await later;
    expect(sent).toEqual([['1-0', '2-0', '3-0'], ['4-0']]);
  });

  it('splits a turn of more than 1000 acks, and a failed send rejects exactly its own acks', async () => {
    const sent: number[] = [];
    const acks = new AckBatcher((ids) => {
      sent.push(ids.length);
      return sent.length === 1 ? Promise.reject(new Error('connection lost')) : Promise.resolve();
    });
    const results = await Promise.allSettled(Array.from({ length: 1500 }, (_, n) => acks.ack(`${n}-0`)));
    expect(sent).toEqual([1000, 500]);
    expect(results.slice(0, 1000).every((r) => r.status === 'rejected')).toBe(true);
    expect(results.slice(1000).every((r) => r.status === 'fulfilled')).toBe(true);
    expect((results[0] as PromiseRejectedResult).reason).toEqual(new Error('connection lost'));
  });

  it('rejects the acks of a send that throws instead of returning a promise', async () => {
    const acks = new AckBatcher(() => {
      throw new Error('not connected');
    });
    await expect(acks.ack('1-0')).rejects.toThrow('not connected');
    await nextTurn();
    await expect(acks.ack('2-0')).rejects.toThrow('not connected');
  });
});
