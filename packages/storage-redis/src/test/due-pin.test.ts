/**
 * A due set a claim files leases in keeps a pin (scripts/includes/keys.lua, DUE_PIN): a member
 * at +inf that makes Redis keep the set as a skip list, where a listpack (a set under 128
 * members) costs every ZADD and ZREM a scan and a move of the whole list. No reader sees the pin:
 * claims, due times and the store's keys are as without it.
 */
import { describe, expect, it } from 'vitest';
import { newFlow, storeFixture } from './fixture.js';
import { redisAvailable } from './support.js';

const T0 = Date.UTC(2030, 0, 1);
const LEASE = 30_000;

// Service guard (support.ts): under CI=true a missing Redis fails the run; elsewhere this suite is skipped loudly.
describe.skipIf(!redisAvailable)('RedisExecutionLog due set pin', () => {
  const stores = storeFixture();

  it('keeps a claimed due set a skip list, unseen by due times, and deletes it when only the pin is left', async () => {
    const store = await stores.open();
    const admin = stores.admin();
    const due = `{${store.prefix}}:due:7:default:order`;
    const flows = [newFlow(T0), newFlow(T0)];
    for (const f of flows) await store.createFlow(f);
    const claimed = await store.claim({
      workerId: 'w1',
      types: ['order'],
      queues: ['default'],
      limit: 2,
      leaseMs: LEASE,
      now: T0,
    });
    expect(claimed).toHaveLength(2);
    expect(await admin.object('ENCODING', due)).toBe('skiplist');
    expect(await admin.zcard(due)).toBe(3);
    // The earliest due time is the leases' expiry, never the pin's +inf.
    expect(await store.nextWakeAt({ queues: ['default'], types: ['order'] })).toBe(T0 + LEASE);
    const [first, second] = claimed.map((c) => c.flow);
    await store.finishFlow({
      flowId: first!.id,
      token: first!.fencingToken,
      status: 'completed',
      now: T0 + 1,
    });
    expect(await admin.zcard(due)).toBe(2);
    await store.finishFlow({
      flowId: second!.id,
      token: second!.fencingToken,
      status: 'completed',
      now: T0 + 2,
    });
    expect(await admin.exists(due)).toBe(0);
    expect(await store.nextWakeAt({ queues: ['default'], types: ['order'] })).toBeUndefined();
  });
});
