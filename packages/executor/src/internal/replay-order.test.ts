import type { OperationRecord } from '@ergon/core';
import { describe, expect, it } from 'vitest';
import { ReplayOrder } from './replay-order.js';

/** A final record at `position`, finished `seq`-th. */
function record(position: number, seq: number): OperationRecord {
  return {
    flowId: 'f',
    position,
    key: `s#${position}`,
    kind: 'run',
    status: 'completed',
    attempts: 1,
    result: '[1]',
    startedAt: 0,
    finishedAt: seq,
    seq,
  };
}

describe('ReplayOrder', () => {
  it('has a record delivered by its caller when its turn has come, and those queued behind it follow in order', () => {
    // Recorded: position 2 finished first, then 0, then 1.
    const order = new ReplayOrder([record(0, 2), record(1, 3), record(2, 1)], { check: () => {} });
    const seen: number[] = [];
    expect(order.due(0)).toBe(false);
    order.deliver(0, () => seen.push(0));
    expect(order.due(1)).toBe(false);
    order.deliver(1, () => seen.push(1));
    expect(seen).toEqual([]);
    expect(order.due(2)).toBe(true);
    seen.push(2);
    order.delivered(2);
    expect(seen).toEqual([2, 0, 1]);
    expect(order.waiting).toBe(false);
  });

  it('has every record due at once in a history without final records', () => {
    const order = new ReplayOrder([], { check: () => {} });
    expect(order.due(5)).toBe(true);
    order.delivered(5);
    expect(order.waiting).toBe(false);
  });
});
