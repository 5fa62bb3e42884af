/**
 * The plain claim of one queue and type chooses and leases in one statement (`claimReady` in
 * `src/internal/claim-rows.ts`), whose rows come back in key order: the claim must still hand
 * them out best first, take no more than its limit, and leave the rest claimable.
 */
import { describe, expect, it } from 'vitest';
import type { SqliteExecutionLog } from '../src/index.js';
import { newFlow, T0, tempStores } from './support.js';

const stores = tempStores('claim-ready');
const open = async () => (await stores.open(1))[0] as SqliteExecutionLog;

const claim = (store: SqliteExecutionLog, limit: number) =>
  store.claim({ workerId: 'w1', types: ['order'], queues: ['q'], limit, leaseMs: 60_000, now: T0 });

describe('SqliteExecutionLog one-statement claim', () => {
  it('hands out the flows of one claim by priority, then runAt, then id, whatever their keys', async () => {
    const store = await open();
    // Created (so keyed) in an order unlike the claim order; one flow is not due yet.
    await store.createFlows([
      newFlow('low-late', { priority: 0, runAt: T0 - 1 }),
      newFlow('high', { priority: 5, runAt: T0 - 1 }),
      newFlow('low-b', { priority: 0, runAt: T0 - 9 }),
      newFlow('future', { priority: 9, runAt: T0 + 60_000 }),
      newFlow('mid', { priority: 1, runAt: T0 - 2 }),
      newFlow('low-a', { priority: 0, runAt: T0 - 9 }),
    ]);
    const first = await claim(store, 3);
    expect(first.map((c) => c.flow.id)).toEqual(['high', 'mid', 'low-a']);
    const rest = await claim(store, 10);
    expect(rest.map((c) => c.flow.id)).toEqual(['low-b', 'low-late']);
    for (const c of [...first, ...rest]) {
      expect(c.flow.status).toBe('running');
      expect(c.token).toBe(1);
    }
    expect(await claim(store, 10)).toEqual([]);
  });

  it('takes limits that change from claim to claim', async () => {
    const store = await open();
    await store.createFlows(Array.from({ length: 10 }, (_, i) => newFlow(`f${i}`, { runAt: T0 - 10 + i })));
    const sizes: number[] = [];
    for (const limit of [1, 4, 2, 7]) sizes.push((await claim(store, limit)).length);
    expect(sizes).toEqual([1, 4, 2, 3]);
  });

  it('hands out each claimed flow as it is stored, on the one-statement claim and on the others', async () => {
    const store = await open();
    await store.configureQueue({ queue: 'fair', limits: { concurrency: 10 }, now: T0 });
    await store.createFlows([
      newFlow('plain', { input: '"in"', priority: 2, traceContext: 'tc', runAt: T0 - 5 }),
      newFlow('keyed', { queue: 'fair', concurrencyKey: 'k', concurrencyLimit: 2, runAt: T0 - 5 }),
      newFlow('child', { parentId: 'plain', runAt: T0 - 5 }),
    ]);
    const lease = { workerId: 'w2', leaseMs: 5000 };
    const asStored = async (claimed: Awaited<ReturnType<SqliteExecutionLog['claim']>>) => {
      for (const c of claimed) expect(c.flow).toEqual(await store.getFlow(c.flow.id));
      return claimed.map((c) => c.flow.id);
    };
    // One queue and type (claimReady), two queues (claimMany), a controlled queue (claimMany).
    const first = await store.claim({ ...lease, types: ['order'], queues: ['q'], limit: 1, now: T0 });
    expect(await asStored(first)).toEqual(['plain']);
    const rest = await store.claim({
      ...lease,
      types: ['order'],
      queues: ['q', 'fair'],
      limit: 5,
      now: T0 + 1,
    });
    expect(await asStored(rest)).toEqual(['child', 'keyed']);
    // Leases that expired are claimed again (run count, token and abandoned runs move on).
    const again = await store.claim({ ...lease, types: ['order'], queues: ['q'], limit: 5, now: T0 + 9000 });
    expect(await asStored(again)).toEqual(['plain', 'child']);
    expect(again[0]?.flow).toMatchObject({
      runCount: 2,
      abandonedRuns: 1,
      fencingToken: 2,
      leaseOwner: 'w2',
    });
  });
});
