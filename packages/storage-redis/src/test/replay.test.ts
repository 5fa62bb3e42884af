/**
 * A resent batch of writes (ioredis resends a command in flight when its connection drops): the
 * finishes that ran answer their first reply from the request id, read only once the fence
 * fails (includes/op-finish.lua).
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { RedisExecutionLog } from '../index.js';
import { loadScripts, runScript } from '../internal/scripts.js';
import { disposeStore, openStore, REDIS_URL, randomPrefix, redisAvailable } from './support.js';

const T0 = Date.UTC(2030, 0, 1);

// Service guard (support.ts): under CI=true a missing service fails the run; elsewhere this suite is skipped loudly.
describe.skipIf(!redisAvailable)('a resent apply-writes batch', () => {
  const stores: RedisExecutionLog[] = [];
  const raw = new Redis(REDIS_URL, { lazyConnect: true });
  afterEach(async () => {
    for (const store of stores.splice(0)) await disposeStore(store);
  });
  afterAll(() => raw.disconnect());

  /** A store with two new flows claimed by worker "w", and its key base. */
  async function twoClaimed() {
    const store = await openStore({ prefix: randomPrefix() });
    stores.push(store);
    for (let i = 0; i < 2; i++)
      await store.createFlow({
        id: `f-${randomUUID()}`,
        type: 'order',
        queue: 'default',
        input: '[1]',
        priority: 0,
        runAt: T0,
        now: T0,
      });
    const claimed = await store.claim({
      workerId: 'w',
      types: ['order'],
      queues: ['default'],
      limit: 2,
      leaseMs: 1000,
      now: T0,
    });
    expect(claimed).toHaveLength(2);
    return { store, base: `{${store.prefix}}:`, claimed };
  }

  it('answers its finishes from their first reply and applies nothing twice', async () => {
    const { store, base, claimed } = await twoClaimed();
    const ids = claimed.map((c) => c.flow.id);
    const args = [String(claimed.length * 2)];
    for (const [i, { flow, token }] of claimed.entries()) {
      const record = JSON.stringify({
        status: 'completed',
        flowId: flow.id,
        position: 0,
        key: 'a#0',
        kind: 'run',
      });
      args.push('r', flow.id, String(token), '0', record);
      args.push('f', `rid-${i}`, flow.id, String(token), 'completed', '=[2]', '', String(T0 + 1));
    }
    const script = (await loadScripts()).get('apply-writes');
    if (!script) throw new Error('no apply-writes script');
    const send = () => runScript(raw, script, [`${base}flow:${claimed[0]?.flow.id}`, base, ...args]);
    // Every outcome the common one: the count of writes alone.
    expect(await send()).toBe(4);
    // The records find their flows finished (the fence); the finishes answer as the first time did
    // (1: the common outcome, "1").
    const again = (await send()) as unknown[];
    expect(again[1]).toBe(1);
    expect(again[3]).toBe(1);
    expect(String((again[0] as unknown[])[1])).toMatch(/ERGON_LEASE_LOST/);
    for (const id of ids)
      expect(await store.getFlow(id)).toMatchObject({ status: 'completed', result: '[2]' });
    expect(await raw.zcard(`${base}finished`)).toBe(2);
    expect(await raw.scard(`${base}held:w`)).toBe(0);
    // A finish under another request id is refused.
    const other = [...args];
    other[7] = 'rid-x';
    const refused = (await runScript(raw, script, [
      `${base}flow:${claimed[0]?.flow.id}`,
      base,
      ...other,
    ])) as unknown[];
    expect(String((refused[1] as unknown[])[1])).toMatch(/ERGON_LEASE_LOST/);
  });

  it('answers the finishes of its "C" entries (a plain record and completion) from their first reply', async () => {
    const { base, claimed, store } = await twoClaimed();
    const args = [String(claimed.length * 2)];
    for (const [i, { flow, token }] of claimed.entries()) {
      const record = JSON.stringify({
        status: 'completed',
        flowId: flow.id,
        position: 0,
        key: 'a#0',
        kind: 'run',
      });
      args.push('C', flow.id, String(token), '0', record, `rid-${i}`, '[2]', String(T0 + 1));
    }
    const script = (await loadScripts()).get('apply-writes');
    if (!script) throw new Error('no apply-writes script');
    const send = () => runScript(raw, script, [`${base}flow:${claimed[0]?.flow.id}`, base, ...args]);
    expect(await send()).toBe(4);
    // The records fail the fence; each finish then runs alone and answers as the first time did.
    const again = (await send()) as unknown[];
    expect(again[1]).toBe(1);
    expect(again[3]).toBe(1);
    expect(String((again[0] as unknown[])[1])).toMatch(/ERGON_LEASE_LOST/);
    expect(String((again[2] as unknown[])[1])).toMatch(/ERGON_LEASE_LOST/);
    for (const { flow } of claimed)
      expect(await store.getFlow(flow.id)).toMatchObject({
        status: 'completed',
        result: '[2]',
        finishedAt: T0 + 1,
      });
    expect(await raw.zcard(`${base}finished`)).toBe(2);
    expect(await raw.scard(`${base}held:w`)).toBe(0);
  });
});
