import type { ClaimedFlow, FlowRecord, OperationRecord } from '@ergon/core';
import { describe, expect, it } from 'vitest';
import { checkLeases } from './check-leases.js';
import { checkRecords } from './check-history.js';
import type { StoreSnapshot } from './snapshot.js';
import { Trace } from './trace.js';
import { Invariant } from './violations.js';

const T0 = Date.UTC(2030, 0, 1);
const LEASE = 60_000;

function claimed(id: string, token: number, now: number): ClaimedFlow {
  return { flow: { id, fencingToken: token, leaseExpiresAt: now + LEASE } as FlowRecord, token };
}

function record(position: number, result: string): OperationRecord {
  return {
    flowId: 'f',
    position,
    key: `s${position}#0`,
    kind: 'run',
    status: 'completed',
    attempts: 1,
    result,
    startedAt: T0,
    finishedAt: T0,
  };
}

/** A trace of calls that each settle before the next starts. */
function trace(
  ...calls: [caller: string, method: string, request: unknown, value: unknown, error?: string][]
): Trace {
  const t = new Trace();
  for (const [caller, method, request, value, error] of calls) {
    const entry = t.begin(caller, method, request, (request as { now?: number }).now ?? T0);
    t.end(entry, error ? { ok: false, error: { code: error } } : { ok: true, value });
  }
  return t;
}

const empty: StoreSnapshot = { flows: new Map(), history: new Map(), signals: new Map() };

describe('the invariant checker', () => {
  it('passes a takeover where the old holder is refused', () => {
    const t = trace(
      ['w0', 'claim', { workerId: 'w0', now: T0 }, [claimed('f', 1, T0)]],
      ['w1', 'claim', { workerId: 'w1', now: T0 + LEASE }, [claimed('f', 2, T0 + LEASE)]],
      ['w0', 'recordOperation', { flowId: 'f', token: 1, record: record(0, 'a') }, undefined, 'LEASE_LOST'],
      [
        'w1',
        'recordOperation',
        { flowId: 'f', token: 2, record: record(0, 'b') },
        { record: record(0, 'b'), existed: false },
      ],
    );
    expect(checkLeases(t.entries)).toEqual([]);
    expect(checkRecords(t.entries, empty)).toEqual([]);
  });

  it('reports a write accepted with a token a later claim made stale', () => {
    const t = trace(
      ['w0', 'claim', { workerId: 'w0', now: T0 }, [claimed('f', 1, T0)]],
      ['w1', 'claim', { workerId: 'w1', now: T0 + LEASE }, [claimed('f', 2, T0 + LEASE)]],
      [
        'w0',
        'recordOperation',
        { flowId: 'f', token: 1, record: record(0, 'a') },
        { record: record(0, 'a'), existed: false },
      ],
    );
    expect(checkLeases(t.entries).map((v) => v.invariant)).toEqual([Invariant.FENCED_WRITES]);
  });

  it('reports a claim of a running flow whose lease is still live, unless its holder was declared dead', () => {
    const early = trace(
      ['w0', 'claim', { workerId: 'w0', now: T0 }, [claimed('f', 1, T0)]],
      ['w1', 'claim', { workerId: 'w1', now: T0 + 1000 }, [claimed('f', 2, T0 + 1000)]],
    );
    expect(checkLeases(early.entries).map((v) => v.invariant)).toEqual([Invariant.CLAIM_UNDER_LEASE]);
    const reaped = trace(
      ['w0', 'claim', { workerId: 'w0', now: T0 }, [claimed('f', 1, T0)]],
      ['w1', 'heartbeatWorker', { now: T0 + 1000 }, { reaped: ['w0'] }],
      ['w1', 'claim', { workerId: 'w1', now: T0 + 1000 }, [claimed('f', 2, T0 + 1000)]],
    );
    expect(checkLeases(reaped.entries)).toEqual([]);
  });

  it('excuses a claim after a suspension that may have taken effect, not after one refused', () => {
    const suspendThen = (error: string) =>
      trace(
        ['w0', 'claim', { workerId: 'w0', now: T0 }, [claimed('f', 1, T0)]],
        ['w0', 'suspend', { flowId: 'f', token: 1 }, undefined, error],
        ['w1', 'claim', { workerId: 'w1', now: T0 + 1000 }, [claimed('f', 2, T0 + 1000)]],
      ).entries;
    // Its reply was lost (or its process killed while waiting): the flow may be suspended and due.
    expect(checkLeases(suspendThen('STORE_UNAVAILABLE'))).toEqual([]);
    expect(checkLeases(suspendThen('LEASE_LOST')).map((v) => v.invariant)).toEqual([
      Invariant.CLAIM_UNDER_LEASE,
    ]);
  });

  it('reports a final record written twice, and one that changed', () => {
    const t = trace(
      ['w0', 'claim', { workerId: 'w0', now: T0 }, [claimed('f', 1, T0)]],
      [
        'w0',
        'recordOperation',
        { flowId: 'f', token: 1, record: record(0, 'a') },
        { record: record(0, 'a'), existed: false },
      ],
      [
        'w0',
        'recordOperation',
        { flowId: 'f', token: 1, record: record(0, 'b') },
        { record: record(0, 'b'), existed: false },
      ],
    );
    expect(checkRecords(t.entries, empty).map((v) => v.invariant)).toEqual([
      Invariant.RECORDED_ONCE,
      Invariant.FINAL_UNCHANGED,
    ]);
  });
});
