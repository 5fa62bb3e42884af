import { describe, expect, it } from 'vitest';
import { AckGroups, type AckWaiter } from './ack-groups.js';
import type { SettleResult } from './settle.js';

function waiter(results: SettleResult[]): AckWaiter {
  return { acked: (result) => results.push(result) };
}

describe('AckGroups', () => {
  it('tells every waiter of one shared ack promise once it is done, in order', async () => {
    const groups = new AckGroups();
    const told: SettleResult[] = [];
    let done: () => void = () => undefined;
    const shared = new Promise<void>((resolve) => {
      done = resolve;
    });
    for (let i = 0; i < 3; i++) groups.wait(shared, waiter(told));
    await Promise.resolve();
    expect(told).toEqual([]);
    done();
    await shared;
    await Promise.resolve();
    expect(told.map((r) => r.settlement)).toEqual(['ack', 'ack', 'ack']);
  });

  it('a failed ack reports its error to each of its waiters and to no one else', async () => {
    const groups = new AckGroups();
    const failed: SettleResult[] = [];
    const fine: SettleResult[] = [];
    const refused = Promise.reject(new Error('XACK refused'));
    groups.wait(refused, waiter(failed));
    groups.wait(refused, waiter(failed));
    groups.wait(Promise.resolve(), waiter(fine));
    await new Promise((resolve) => setImmediate(resolve));
    expect(failed.map((r) => [r.settlement, r.settleError?.message])).toEqual([
      ['none', 'XACK refused'],
      ['none', 'XACK refused'],
    ]);
    expect(fine.map((r) => r.settlement)).toEqual(['ack']);
  });

  it('a promise returned again after it settled starts a new group (nobody waits forever)', async () => {
    const groups = new AckGroups();
    const told: SettleResult[] = [];
    const settled = Promise.resolve();
    groups.wait(settled, waiter(told));
    await new Promise((resolve) => setImmediate(resolve));
    groups.wait(settled, waiter(told));
    // An ack that returns nothing counts as done.
    groups.wait(undefined, waiter(told));
    await new Promise((resolve) => setImmediate(resolve));
    expect(told.map((r) => r.settlement)).toEqual(['ack', 'ack', 'ack']);
  });
});
