/**
 * Where a new flow is filed and how a batch's writes travel: a flow due now in a queue without
 * flow control goes straight into its ready set (no claim has to promote it), any other into its
 * due set; a record followed by the finish of the same run is one apply-writes entry ("R"), whose
 * two writes still succeed or fail each as its own call would; the flows a batch finishes are
 * announced in one message.
 */
import type { BatchWrite, OperationRecord, StoreEvent } from '@ergon/core';
import { describe, expect, it } from 'vitest';
import type { RedisExecutionLog } from '../index.js';
import { batchArgs } from '../internal/writes.js';
import { newFlow, storeFixture } from './fixture.js';
import { redisAvailable } from './support.js';

const T0 = Date.UTC(2030, 0, 1);
const LEASE = 30_000;

// Service guard (support.ts): under CI=true a missing Redis fails the run; elsewhere this suite is skipped loudly.
describe.skipIf(!redisAvailable)('RedisExecutionLog filing and batched writes', () => {
  const stores = storeFixture();
  const open = () => stores.open();
  const flow = (overrides: Parameters<typeof newFlow>[1] = {}) => newFlow(T0, overrides);
  const key = (store: RedisExecutionLog, kind: string, queue: string) =>
    `{${store.prefix}}:${kind}:${queue.length}:${queue}:order`;
  const claim = (store: RedisExecutionLog, limit: number, now = T0, queues = ['default']) =>
    store.claim({ workerId: 'w1', types: ['order'], queues, limit, leaseMs: LEASE, now });
  const record = (flowId: string, position: number): OperationRecord => ({
    status: 'completed',
    flowId,
    position,
    key: `s${position}`,
    kind: 'run',
    attempts: 1,
    result: '[1]',
    startedAt: T0,
    finishedAt: T0,
  });

  it('files a flow due now in its ready set with its member, and a later one in its due set', async () => {
    const store = await open();
    const now = flow();
    const later = flow({ runAt: T0 + 60_000 });
    await store.createFlow(now);
    await store.createFlow(later);
    const ready = await stores.admin().zrange(key(store, 'ready', 'default'), 0, -1, 'WITHSCORES');
    expect(ready).toEqual([`${String(T0).padStart(16, '0')}${now.id}`, '0']);
    expect(await stores.admin().hget(`{${store.prefix}}:flow:${now.id}`, 'rm')).toBe(ready[0]);
    expect(await stores.admin().zrange(key(store, 'due', 'default'), 0, -1)).toEqual([later.id]);
    expect(await store.nextWakeAt({ queues: ['default'], types: ['order'] })).toBe(T0);
  });

  it('claims flows filed at creation and flows promoted from the due set in one order: priority, then runAt', async () => {
    const store = await open();
    const first = flow({ runAt: T0 - 10 });
    const urgent = flow({ priority: 5 });
    const early = flow({ runAt: T0 - 20 });
    const due = flow({ runAt: T0 + 5, now: T0 });
    for (const f of [first, urgent, early, due]) await store.createFlow(f);
    const claimed = await claim(store, 10, T0 + 10);
    expect(claimed.map((c) => c.flow.id)).toEqual([urgent.id, early.id, first.id, due.id]);
    for (const c of claimed)
      expect(c.flow).toMatchObject({ status: 'running', leaseOwner: 'w1', fencingToken: 1 });
    expect(await stores.admin().exists(key(store, 'ready', 'default'))).toBe(0);
    // "rm" is "" for a flow in no ready set (a claim empties it in its write rather than deleting it).
    expect(await stores.admin().hget(`{${store.prefix}}:flow:${first.id}`, 'rm')).toBe('');
  });

  it('files a flow of a queue with flow control in its due set (its claims promote it by their own rules)', async () => {
    const store = await open();
    await store.configureQueue({ queue: 'limited', limits: { concurrency: 1 }, now: T0 });
    const a = flow({ queue: 'limited' });
    await store.createFlow(a);
    expect(await stores.admin().zrange(key(store, 'due', 'limited'), 0, -1)).toEqual([a.id]);
    expect(await stores.admin().exists(key(store, 'ready', 'limited'))).toBe(0);
    expect((await claim(store, 5, T0, ['limited'])).map((c) => c.flow.id)).toEqual([a.id]);
  });

  it('writes a flow claimed by its create (for its creator or a parked worker) once: running, held, due at its lease', async () => {
    const store = await open();
    const admin = stores.admin();
    const base = `{${store.prefix}}:`;
    const mine = flow();
    const made = await store.createFlow({ ...mine, claim: { workerId: 'w2', leaseMs: LEASE } });
    expect(made.claimed?.token).toBe(1);
    expect(made.flow).toMatchObject({
      status: 'running',
      leaseOwner: 'w2',
      leaseExpiresAt: T0 + LEASE,
      runCount: 1,
    });
    expect(await claim(store, 1)).toEqual([]);
    const parked = await store.claim({
      workerId: 'w1',
      types: ['order'],
      queues: ['default'],
      limit: 2,
      leaseMs: LEASE,
      now: T0,
      park: true,
    });
    expect(parked).toEqual([]);
    const handed = flow();
    const result = await store.createFlow(handed);
    expect(result.flow).toMatchObject({ status: 'running', leaseOwner: 'w1', fencingToken: 1 });
    expect(await admin.hmget(`${base}flow:${handed.id}`, 'status', 'owner', 'token', 'runs', 'rm')).toEqual([
      'running',
      'w1',
      '1',
      '1',
      '', // in no ready set
    ]);
    expect(await admin.sismember(`${base}held:w1`, handed.id)).toBe(1);
    expect(await admin.sismember(`${base}held:w2`, mine.id)).toBe(1);
    expect(Number(await admin.zscore(key(store, 'due', 'default'), handed.id))).toBeGreaterThan(T0);
    expect(Number(await admin.zscore(key(store, 'due', 'default'), mine.id))).toBe(T0 + LEASE);
    expect(await admin.exists(key(store, 'ready', 'default'))).toBe(0);
  });

  it('sends a record and the finish of the same run as one entry, each write with its own outcome', async () => {
    const store = await open();
    const a = flow();
    const b = flow();
    await store.createFlow(a);
    await store.createFlow(b);
    const [ca, cb] = await claim(store, 2);
    if (!ca || !cb) throw new Error('expected two claims');
    const writes = (id: string, token: number): BatchWrite[] => [
      { op: 'record', request: { flowId: id, token, record: record(id, 0) } },
      { op: 'finish', request: { flowId: id, token, status: 'completed', result: '[2]', now: T0 + 1 } },
    ];
    const batch = [...writes(ca.flow.id, ca.token), ...writes(cb.flow.id, cb.token + 1)];
    expect(batchArgs(batch, () => 'rid').filter((arg) => arg === 'R')).toHaveLength(2);
    const outcomes = await store.applyWrites(batch);
    expect(outcomes.map((o) => o.ok)).toEqual([true, true, false, false]);
    for (const o of outcomes.slice(2))
      expect(o.ok ? undefined : o.error).toMatchObject({ code: 'LEASE_LOST' });
    expect(await store.getFlow(ca.flow.id)).toMatchObject({ status: 'completed', result: '[2]' });
    expect((await store.getHistory(ca.flow.id)).map((r) => r.position)).toEqual([0]);
    expect(await store.getFlow(cb.flow.id)).toMatchObject({ status: 'running', fencingToken: cb.token });
    expect(await store.getHistory(cb.flow.id)).toEqual([]);
  });

  it('announces the flows a batch finishes in one message, heard as a finished event each', async () => {
    const store = await open();
    const events: StoreEvent[] = [];
    store.subscribe((e) => events.push(e));
    for (let i = 0; i < 3; i++) await store.createFlow(flow());
    const claimed = await claim(store, 3);
    const outcomes = await store.applyWrites(
      claimed.map(
        (c): BatchWrite => ({
          op: 'finish',
          request: { flowId: c.flow.id, token: c.token, status: 'completed', result: '[1]', now: T0 + 1 },
        }),
      ),
    );
    expect(outcomes.map((o) => o.ok)).toEqual([true, true, true]);
    await expect
      .poll(() => events.filter((e) => e.type === 'finished'), { timeout: 2000 })
      .toEqual(claimed.map((c) => ({ type: 'finished', flowId: c.flow.id, status: 'completed' })));
  });

  it('keeps a record and a finish of different runs or flows as two entries', () => {
    const w = (flowId: string, token: number): BatchWrite[] => [
      { op: 'record', request: { flowId, token, record: record(flowId, 0) } },
      {
        op: 'finish',
        request: { flowId: flowId === 'a' ? 'b' : flowId, token: token + 1, status: 'completed', now: T0 },
      },
    ];
    const args = batchArgs([...w('a', 1), ...w('c', 1)], () => 'rid');
    expect(args.filter((arg) => arg === 'R')).toHaveLength(0);
    expect(args.filter((arg) => arg === 'r' || arg === 'f')).toHaveLength(4);
  });
});
