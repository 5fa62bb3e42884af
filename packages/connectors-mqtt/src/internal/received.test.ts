import { describe, expect, it } from 'vitest';
import type { Delivery } from '../service.js';
import { Received } from './received.js';

const delivery = (packetId: number): Delivery => ({
  packetId,
  session: 1,
  message: { topic: 't', payload: Buffer.alloc(0), userProperties: undefined, dup: false },
});

describe('Received deliveries', () => {
  it('come out in arrival order, one per packet id while it waits', () => {
    const received = new Received();
    expect(received.push(delivery(1))).toBe(true);
    expect(received.push(delivery(2))).toBe(true);
    expect(received.push(delivery(1))).toBe(false);
    expect(received.size).toBe(2);
    expect(received.shift()?.packetId).toBe(1);
    // Taken, so the id may come again (the broker reuses packet ids once acked).
    expect(received.push(delivery(1))).toBe(true);
    expect([received.shift()?.packetId, received.shift()?.packetId, received.shift()]).toEqual([
      2,
      1,
      undefined,
    ]);
    expect(received.size).toBe(0);
  });

  it('keep their order across many pushes and shifts, and clear', () => {
    const received = new Received();
    const out: number[] = [];
    for (let n = 0; n < 5000; n++) {
      received.push(delivery(n));
      if (n % 3 === 0) out.push((received.shift() as Delivery).packetId);
    }
    while (received.size > 0) out.push((received.shift() as Delivery).packetId);
    expect(out).toEqual(Array.from({ length: 5000 }, (_, n) => n));
    received.push(delivery(7));
    received.clear();
    expect([received.size, received.shift(), received.push(delivery(7))]).toEqual([0, undefined, true]);
  });

  it('end a wait for a change on wake, on abort, or when its time is up', async () => {
    const received = new Received();
    const woken = received.changed(60_000);
    received.wake();
    await woken;
    const aborts = new AbortController();
    const aborted = received.changed(60_000, aborts.signal);
    aborts.abort();
    await aborted;
    await received.changed(1);
    // Nothing waits any more: a wake with no waiter is a no-op.
    received.wake();
  });
});
