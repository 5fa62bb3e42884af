import { describe, expect, it } from 'vitest';
import type { BatchOutcome, BatchWrite } from './batch.js';
import type { ClaimedFlow } from './leases.js';
import { asksNext, groupNextClaims, shareNextClaims } from './next-claims.js';
import type { NextClaim } from './run-writes.js';

const next: NextClaim = Object.freeze({
  workerId: 'w1',
  types: ['t'],
  queues: ['q'],
  limit: 1,
  leaseMs: 1000,
});
const finish = (flowId: string, now: number, n: NextClaim | null = next): BatchWrite => ({
  op: 'finish',
  request: { flowId, token: 1, status: 'completed', result: '1', now, next: n ?? undefined },
});
const record: BatchWrite = {
  op: 'record',
  request: {
    flowId: 'r',
    token: 1,
    record: {
      flowId: 'r',
      position: 0,
      key: 'k',
      kind: 'step',
      status: 'completed',
      attempts: 1,
      startedAt: 0,
    },
  },
};
const claimed = (id: string): ClaimedFlow => ({ flow: { id } as ClaimedFlow['flow'], token: 1 });

describe('next claims of a batch', () => {
  it('merges alike claims (the same object or equal fields), summing limits at the latest time', () => {
    const copy = { ...next, types: ['t'], limit: 2 };
    const other = { ...next, workerId: 'w2' };
    const writes = [
      finish('a', 5),
      record,
      finish('b', 9, copy),
      finish('c', 7, other),
      finish('d', 3, null),
    ];
    expect(asksNext(writes)).toBe(true);
    expect(asksNext([record, finish('d', 3, null)])).toBe(false);
    const groups = groupNextClaims(writes, () => true);
    expect(groups).toEqual([
      { request: { ...next, limit: 3, now: 9, park: undefined }, at: [0, 2] },
      { request: { ...other, now: 7, park: undefined }, at: [3] },
    ]);
    // A finish that does not count (refused) adds nothing.
    expect(groupNextClaims(writes, (i) => i !== 2)[0]).toEqual({
      request: { ...next, now: 5, park: undefined },
      at: [0],
    });
  });

  it('shares the flows out in order, each finish up to its limit, skipping refused finishes', () => {
    const two = { ...next, limit: 2 };
    const writes = [finish('a', 1, two), finish('b', 1), finish('c', 1, two)];
    const outcomes: BatchOutcome[] = [
      { ok: true, value: undefined },
      { ok: false, error: new Error('stale') },
      { ok: true, value: undefined },
    ];
    shareNextClaims(writes, outcomes, [0, 1, 2], ['x', 'y', 'z'].map(claimed));
    expect(outcomes[0]).toEqual({ ok: true, value: { claimed: [claimed('x'), claimed('y')] } });
    expect(outcomes[1]?.ok).toBe(false);
    expect(outcomes[2]).toEqual({ ok: true, value: { claimed: [claimed('z')] } });
  });
});
