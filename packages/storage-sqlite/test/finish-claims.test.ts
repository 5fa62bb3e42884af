/**
 * A finish that claims its worker's next flows (`FinishRequest.next`, `src/internal/finish-claims.ts`):
 * in the finish's transaction, as a claim would, never after a refused finish; in a batch, the
 * finishes' claims made after its writes, merged, and shared out.
 */
import type { BatchOutcome, ClaimedFlow, FinishRequest, FinishResult, NextClaim } from '@ergon/core';
import { describe, expect, it } from 'vitest';
import type { SqliteExecutionLog } from '../src/index.js';
import { newFlow, T0, tempStores } from './support.js';

const stores = tempStores('finish-claims');

const next = (limit: number, extra: Partial<NextClaim> = {}): NextClaim => ({
  workerId: 'w1',
  types: ['order'],
  queues: ['q'],
  limit,
  leaseMs: 30_000,
  ...extra,
});

const finish = (c: ClaimedFlow, extra: Partial<FinishRequest> = {}): FinishRequest => ({
  flowId: c.flow.id,
  token: c.token,
  status: 'completed',
  result: '"done"',
  now: T0 + 10,
  ...extra,
});

/** A store holding `running` flows claimed by w1 (created first), then `ready` ones, by id. */
async function storeWith(running: string[], ready: string[], extra = {}) {
  const [store] = (await stores.open(1)) as [SqliteExecutionLog];
  for (const id of running) await store.createFlow(newFlow(id, extra));
  const held = await store.claim({ ...next(running.length), now: T0 });
  for (const id of ready) await store.createFlow(newFlow(id, extra));
  return { store, held };
}

const claimedOf = (outcome: BatchOutcome | undefined) =>
  outcome?.ok ? ((outcome.value as FinishResult | undefined)?.claimed ?? []) : [];

describe('SqliteExecutionLog finish with next', () => {
  it('declares finishClaims', async () => {
    const [store] = (await stores.open(1)) as [SqliteExecutionLog];
    expect(store.capabilities.finishClaims).toBe(true);
  });

  it('finishes, then claims the next ready flow with the token and lease a claim gives', async () => {
    const { store, held } = await storeWith(['a'], ['b', 'c']);
    const result = await store.finishFlow(finish(held[0] as ClaimedFlow, { next: next(1) }));
    expect(result?.claimed?.map((c) => c.flow.id)).toEqual(['b']);
    const [b] = result?.claimed ?? [];
    expect(b?.token).toBe(1);
    expect(b?.flow).toMatchObject({ status: 'running', leaseOwner: 'w1', leaseExpiresAt: T0 + 10 + 30_000 });
    expect(await store.getFlow('b')).toMatchObject({ status: 'running', fencingToken: 1, leaseOwner: 'w1' });
    expect(await store.getFlow('a')).toMatchObject({ status: 'completed', result: '"done"' });
    expect(await store.getFlow('c')).toMatchObject({ status: 'pending' });
    // The token is the lease: the claimed flow writes and finishes with it.
    await store.finishFlow(finish(b as ClaimedFlow));
    expect(await store.getFlow('b')).toMatchObject({ status: 'completed' });
  });

  it('claims nothing when the finish is refused: the ready flow stays ready', async () => {
    const { store, held } = await storeWith(['a'], ['b']);
    const stale = finish(held[0] as ClaimedFlow, { token: 99, next: next(1) });
    await expect(store.finishFlow(stale)).rejects.toMatchObject({ code: 'LEASE_LOST' });
    expect(await store.getFlow('b')).toMatchObject({ status: 'pending', fencingToken: 0 });
    const [outcome] = await store.applyWrites([{ op: 'finish', request: stale }]);
    expect(outcome?.ok).toBe(false);
    expect(await store.getFlow('b')).toMatchObject({ status: 'pending', fencingToken: 0 });
  });

  it('claims within the queue’s concurrency limit, the slot its finish freed included', async () => {
    const [store] = (await stores.open(1)) as [SqliteExecutionLog];
    await store.configureQueue({ queue: 'q', limits: { concurrency: 1 }, now: T0 });
    for (const id of ['a', 'b', 'c']) await store.createFlow(newFlow(id));
    const [a] = await store.claim({ ...next(3), now: T0 });
    expect(a?.flow.id).toBe('a');
    const result = await store.finishFlow(finish(a as ClaimedFlow, { next: next(3) }));
    expect(result?.claimed?.map((c) => c.flow.id)).toEqual(['b']);
    expect(await store.getFlow('c')).toMatchObject({ status: 'pending' });
  });

  it('claims one flow per key where keys run one at a time', async () => {
    const [store] = (await stores.open(1)) as [SqliteExecutionLog];
    await store.configureQueue({ queue: 'q', limits: { keyConcurrency: 1 }, now: T0 });
    const keyed = [
      ['a1', 'a'],
      ['a2', 'a'],
      ['b1', 'b'],
      ['b2', 'b'],
    ] as const;
    for (const [id, key] of keyed) await store.createFlow(newFlow(id, { concurrencyKey: key }));
    const [a1] = await store.claim({ ...next(1), now: T0 });
    expect(a1?.flow.id).toBe('a1');
    const result = await store.finishFlow(finish(a1 as ClaimedFlow, { next: next(4) }));
    expect(result?.claimed?.map((c) => c.flow.concurrencyKey).sort()).toEqual(['a', 'b']);
  });

  it('merges a batch’s next claims: never more than the summed limits, nor one flow twice', async () => {
    const { store, held } = await storeWith(['r1', 'r2', 'r3', 'r4'], ['f1', 'f2', 'f3', 'f4', 'f5', 'f6']);
    const [r1, r2, r3, r4] = held as [ClaimedFlow, ClaimedFlow, ClaimedFlow, ClaimedFlow];
    const outcomes = await store.applyWrites([
      { op: 'finish', request: finish(r1, { next: next(2) }) },
      { op: 'finish', request: finish(r2, { token: 99, next: next(3) }) },
      { op: 'finish', request: finish(r3) },
      { op: 'finish', request: finish(r4, { next: next(1) }) },
    ]);
    expect(outcomes.map((o) => o.ok)).toEqual([true, false, true, true]);
    // The refused finish claims nothing, so the limits are 2 + 1.
    expect(claimedOf(outcomes[0]).map((c) => c.flow.id)).toEqual(['f1', 'f2']);
    expect(outcomes[2]).toEqual({ ok: true, value: undefined });
    expect(claimedOf(outcomes[3]).map((c) => c.flow.id)).toEqual(['f3']);
    for (const id of ['f4', 'f5', 'f6']) expect((await store.getFlow(id))?.status).toBe('pending');
    expect((await store.getFlow('r2'))?.status).toBe('running');
  });

  it('shares what there is among a batch’s finishes, in order, and claims after every write', async () => {
    const { store, held } = await storeWith(['r1', 'r2', 'r3'], ['f1']);
    const [r1, r2, r3] = held as [ClaimedFlow, ClaimedFlow, ClaimedFlow];
    const other = next(1, { workerId: 'w2' });
    const outcomes = await store.applyWrites([
      { op: 'finish', request: finish(r1, { next: next(1) }) },
      { op: 'finish', request: finish(r2, { next: next(1) }) },
      // Another worker's claim is its own: it finds nothing left.
      { op: 'finish', request: finish(r3, { next: other }) },
    ]);
    expect(outcomes.map(claimedOf).map((c) => c.map((x) => x.flow.id))).toEqual([['f1'], [], []]);
    for (const id of ['r1', 'r2', 'r3']) expect((await store.getFlow(id))?.status).toBe('completed');
  });
});
