/**
 * Redis-specific behaviour beyond the conformance suite: key layout and
 * prefixes, nothing left behind after purge, events, and the request ids
 * that make a resent script harmless.
 */
import { randomUUID } from 'node:crypto';
import type { StoreEvent } from '@ergon/core';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { RedisExecutionLog } from '../index.js';
import { loadScripts, runScript, type ScriptName } from '../internal/scripts.js';
import {
  deletePrefix,
  disposeStore,
  keysOf,
  openStore,
  REDIS_URL,
  randomPrefix,
  redisAvailable,
} from './support.js';

const T0 = Date.UTC(2030, 0, 1);

// Service guard (support.ts): under CI=true a missing service fails the run; elsewhere this suite is skipped loudly.
describe.skipIf(!redisAvailable)('RedisExecutionLog specifics', () => {
  let admin: Redis;
  const stores: RedisExecutionLog[] = [];
  const open = async (prefix = randomPrefix()) => {
    const store = await openStore({ prefix });
    stores.push(store);
    return store;
  };
  const flow = (
    overrides: { id?: string; type?: string; queue?: string; runAt?: number; now?: number } = {},
  ) => ({
    id: `f-${randomUUID()}`,
    type: 'order',
    queue: 'default',
    input: '[1]',
    priority: 0,
    runAt: T0,
    now: T0,
    ...overrides,
  });

  beforeAll(async () => {
    admin = new Redis(REDIS_URL);
  });
  afterEach(async () => {
    for (const store of stores.splice(0)) await disposeStore(store);
  });
  afterAll(() => {
    admin.disconnect();
  });

  it('keeps every key under {prefix}: so one store is one cluster slot; a colon in the prefix is safe', async () => {
    const base = randomPrefix();
    const outer = await open(base);
    const inner = await open(`${base}:inner`);
    const a = flow();
    await outer.createFlow(a);
    await inner.createFlow(flow());
    const [claimed] = await outer.claim({
      workerId: 'w',
      types: ['order'],
      queues: ['default'],
      limit: 1,
      leaseMs: 1000,
      now: T0,
    });
    expect(claimed?.flow.id).toBe(a.id);
    await outer.sendSignal({ flowId: a.id, name: 'go', payload: '[1]', now: T0 });

    const keys = await keysOf(admin, outer.prefix);
    expect(keys.length).toBeGreaterThan(0);
    for (const key of keys) expect(key.startsWith(`{${outer.prefix}}:`), key).toBe(true);
    // The inner prefix's keys are not the outer one's: the braces delimit the tag.
    expect(keys.some((k) => k.includes(':inner'))).toBe(false);
    expect((await inner.listFlows({ limit: 50 })).flows).toHaveLength(1);
    expect((await outer.listFlows({ limit: 50 })).flows.map((f) => f.id)).toEqual([a.id]);
  });

  it('leaves no key behind once every flow is finished and purged', async () => {
    const store = await open();
    for (let i = 0; i < 5; i++) {
      const input = flow({ type: 't', runAt: T0 + i * 1000 });
      await store.createFlow(input);
      const [c] = await store.claim({
        workerId: 'w',
        types: ['t'],
        queues: ['default'],
        limit: 1,
        leaseMs: 1000,
        now: T0 + i * 1000,
      });
      if (!c) throw new Error('not claimed');
      const lease = { flowId: input.id, token: c.token };
      await store.recordOperation({
        ...lease,
        record: {
          flowId: input.id,
          position: 0,
          key: 's#0',
          kind: 'step',
          status: 'completed',
          attempts: 1,
          result: '[1]',
          startedAt: T0,
        },
      });
      await store.sendSignal({ flowId: input.id, name: 'left-over', payload: '[2]', now: T0 });
      await store.suspend({
        ...lease,
        waits: [{ kind: 'timer', at: T0 + 10 ** 6, position: 1 }],
        now: T0 + i * 1000,
      });
      await store.requestCancel({ flowId: input.id, error: '["stop"]', now: T0 + i * 1000 + 1 });
    }
    expect((await keysOf(admin, store.prefix)).length).toBeGreaterThan(0);
    expect(await store.purge({ finishedBefore: T0 + 10 ** 7, limit: 100 })).toBe(5);
    // Only the store's own metadata (its partition count) is left.
    expect(await keysOf(admin, store.prefix)).toEqual([`{${store.prefix}}:meta`]);
  });

  it('takes a flow out of the ready set when its expired lease is renewed before anyone claims it', async () => {
    const store = await open();
    const claimAt = (now: number, limit = 1, leaseMs = 1000) =>
      store.claim({ workerId: 'w2', types: ['t'], queues: ['default'], limit, leaseMs, now });
    const held = flow({ type: 't' });
    await store.createFlow(held);
    const [first] = await claimAt(T0);
    if (!first) throw new Error('not claimed');
    // A higher-priority flow wins the next claim; the expired one is moved to the ready set but not taken.
    await store.createFlow({ ...flow({ type: 't' }), priority: 9 });
    expect((await claimAt(T0 + 1000, 1, 60_000)).map((c) => c.flow.priority)).toEqual([9]);
    await store.renewLease({ flowId: held.id, token: first.token, leaseMs: 5000, now: T0 + 1001 });
    expect(await claimAt(T0 + 2000, 10)).toEqual([]);
    expect(await store.nextWakeAt({ types: ['t'], queues: ['default'] })).toBe(T0 + 6001);
    const [taken] = await claimAt(T0 + 6001, 10);
    expect(taken).toMatchObject({ token: first.token + 1, flow: { id: held.id } });
  });

  it('publishes ready with the due time, and finished, to other stores on the prefix', async () => {
    const prefix = randomPrefix();
    const writer = await open(prefix);
    const watcher = await open(prefix);
    const events: StoreEvent[] = [];
    watcher.subscribe((e) => events.push(e));
    const later = flow({ queue: 'q1', runAt: T0 + 5000 });
    await writer.createFlow(later);
    await expect
      .poll(() => events, { timeout: 2000 })
      .toContainEqual({ type: 'ready', queue: 'q1', at: T0 + 5000 });
    await writer.requestCancel({ flowId: later.id, error: '[]', now: T0 });
    await expect
      .poll(() => events, { timeout: 2000 })
      .toContainEqual({ type: 'finished', flowId: later.id, status: 'cancelled' });
  });

  it('answers a resent state change with its first reply (the request id), never applying it twice', async () => {
    const store = await open();
    const scripts = await loadScripts();
    const raw = new Redis(REDIS_URL);
    const call = (name: ScriptName, ...args: string[]) => runScript(raw, scripts.get(name)!, args);
    const base = `{${store.prefix}}:`;
    try {
      const input = flow();
      const fkey = `${base}flow:${input.id}`;
      const create = ['rid-1', input.id, 'order', 'default', '[]', '0', String(T0), '', '', String(T0)];
      const first = (await call('create-flow', fkey, base, ...create)) as [number];
      const again = (await call('create-flow', fkey, base, ...create)) as [number];
      expect([first[0], again[0]]).toEqual([1, 1]);
      const other = (await call('create-flow', fkey, base, 'rid-2', ...create.slice(1))) as [number];
      expect(other[0]).toBe(0);

      const signal = [
        `${base}sig:${input.id}`,
        `${base}sigx:${input.id}`,
        base,
        'rid-3',
        input.id,
        'go',
        '[1]',
        String(T0),
      ];
      await call('send-signal', fkey, ...signal);
      await call('send-signal', fkey, ...signal);
      expect(await store.getSignals(input.id)).toHaveLength(1);

      const [c] = await store.claim({
        workerId: 'w',
        types: ['order'],
        queues: ['default'],
        limit: 1,
        leaseMs: 1000,
        now: T0,
      });
      // The flow moves on (the signal is consumed), then the send arrives again: still buffered once.
      const consumed = await store.consumeSignal({
        flowId: input.id,
        token: c?.token ?? 0,
        name: 'go',
        record: { flowId: input.id, position: 0, key: 'go#0', kind: 'signal', attempts: 1, startedAt: T0 },
      });
      expect(consumed?.record.result).toBe('[1]');
      const waits = [{ kind: 'signal' as const, name: 'go', position: 1 }];
      await store.suspend({ flowId: input.id, token: c?.token ?? 0, waits, now: T0 });
      await call('send-signal', fkey, ...signal);
      expect(await store.getSignals(input.id)).toEqual([]);
      // A new send (its own request id) is buffered and wakes the flow.
      await call('send-signal', fkey, ...signal.slice(0, 3), 'rid-3b', ...signal.slice(4));
      expect(await store.getSignals(input.id)).toHaveLength(1);
      const [woken] = await store.claim({
        workerId: 'w',
        types: ['order'],
        queues: ['default'],
        limit: 1,
        leaseMs: 1000,
        now: T0,
      });
      const finish = [
        fkey,
        base,
        'rid-4',
        input.id,
        String(woken?.token),
        'completed',
        '=[1]',
        '',
        String(T0),
      ];
      expect(await call('finish-flow', ...finish)).toBe('1');
      expect(await call('finish-flow', ...finish)).toBe('1');
      await expect(call('finish-flow', fkey, base, 'rid-5', ...finish.slice(3))).rejects.toThrow(
        /ERGON_LEASE_LOST/,
      );
      expect(await store.getFlow(input.id)).toMatchObject({ status: 'completed', result: '[1]' });
    } finally {
      raw.disconnect();
    }
  });

  it('maps a foreign key of the wrong type to STORE_CORRUPT', async () => {
    const store = await open();
    const id = `f-${randomUUID()}`;
    await admin.set(`{${store.prefix}}:hist:${id}`, 'not a hash');
    await expect(store.getHistory(id)).rejects.toMatchObject({ code: 'STORE_CORRUPT' });
    await deletePrefix(REDIS_URL, store.prefix);
  });

  it('refuses calls after close with STORE_UNAVAILABLE, and closes idempotently', async () => {
    const store = await openStore();
    await disposeStore(store);
    await store.close();
    await expect(store.getFlow('x')).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE' });
  });

  it('runs on a caller-owned client, which it leaves open', async () => {
    const client = new Redis(REDIS_URL);
    try {
      const { RedisExecutionLog } = await import('../index.js');
      const store = await RedisExecutionLog.open({ redis: client, prefix: randomPrefix() });
      stores.push(store);
      const input = flow();
      expect((await store.createFlow(input)).created).toBe(true);
      await store.close();
      expect(await client.ping()).toBe('PONG');
      await expect(
        RedisExecutionLog.open({ redis: new Redis(REDIS_URL, { lazyConnect: true, keyPrefix: 'x:' }) }),
      ).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    } finally {
      client.disconnect();
    }
  });
});
