/**
 * A batched record and finish of a flow its store claimed without a parent, abandons, lastError
 * or error is "plain" (internal/held.ts): the script reads and deletes none of those fields
 * (scripts/includes/finish.lua). What it leaves is what a full finish leaves: a cancel request
 * made after the claim still gives its reason to a cancelled flow and loses it on completion, and
 * a flow claimed again after an abandoned run (not plain) still loses its abandons and lastError.
 */
import type { ClaimedFlow } from '@ergon/core';
import { describe, expect, it } from 'vitest';
import type { RedisExecutionLog } from '../index.js';
import { newFlow, recordAndFinish, storeFixture } from './fixture.js';
import { redisAvailable } from './support.js';

const T0 = Date.UTC(2030, 0, 1);

async function claimOne(store: RedisExecutionLog, now: number): Promise<ClaimedFlow> {
  const [claimed] = await store.claim({
    workerId: 'w1',
    types: ['order'],
    queues: ['default'],
    limit: 1,
    leaseMs: 30_000,
    now,
  });
  if (!claimed) throw new Error('nothing claimed');
  return claimed;
}

// Service guard (support.ts): under CI=true a missing Redis fails the run; elsewhere this suite is skipped loudly.
describe.skipIf(!redisAvailable)('RedisExecutionLog plain finishes', () => {
  const stores = storeFixture();

  it('keeps a cancel reason given after the claim for a cancelled flow, and drops it on completion', async () => {
    const store = await stores.open();
    for (const status of ['cancelled', 'completed'] as const) {
      await store.createFlow(newFlow(T0));
      const claimed = await claimOne(store, T0);
      expect(claimed.flow.error).toBeUndefined();
      await store.requestCancel({ flowId: claimed.flow.id, error: '"stop"', now: T0 + 1 });
      const outcomes = await store.applyWrites!(recordAndFinish(claimed, status, T0 + 2));
      expect(outcomes.map((o) => o.ok)).toEqual([true, true]);
      const first = outcomes[0];
      expect(first?.ok && (first.value as { cancelRequested: boolean }).cancelRequested).toBe(true);
      const flow = await store.getFlow(claimed.flow.id);
      expect(flow?.status).toBe(status);
      expect(flow?.error).toBe(status === 'cancelled' ? '"stop"' : undefined);
      expect(flow?.leaseOwner).toBeUndefined();
      expect(flow?.leaseExpiresAt).toBeUndefined();
    }
  });

  it('drops abandons and lastError of a flow claimed again after an abandoned run', async () => {
    const store = await stores.open();
    const admin = stores.admin();
    await store.createFlow(newFlow(T0));
    const first = await claimOne(store, T0);
    await store.releaseLease({ flowId: first.flow.id, token: first.token, now: T0 + 1, error: '"boom"' });
    const second = await claimOne(store, T0 + 2);
    expect(second.flow.lastError).toBe('"boom"');
    expect(second.flow.abandonedRuns).toBe(1);
    const outcomes = await store.applyWrites!(recordAndFinish(second, 'completed', T0 + 3));
    expect(outcomes.map((o) => o.ok)).toEqual([true, true]);
    const hash = await admin.hgetall(`{${store.prefix}}:flow:${first.flow.id}`);
    expect(hash.status).toBe('completed');
    expect(hash).not.toHaveProperty('lastError');
    expect(hash).not.toHaveProperty('abandons');
    expect(hash).not.toHaveProperty('lease');
    expect(hash).not.toHaveProperty('owner');
    expect(hash).not.toHaveProperty('runAt');
  });

  it('refuses a plain write under a stale token', async () => {
    const store = await stores.open();
    await store.createFlow(newFlow(T0));
    const claimed = await claimOne(store, T0);
    const stale = { ...claimed, token: claimed.token + 1 };
    const outcomes = await store.applyWrites!(recordAndFinish(stale, 'completed', T0 + 1));
    expect(outcomes.map((o) => o.ok)).toEqual([false, false]);
    expect((await store.getFlow(claimed.flow.id))?.status).toBe('running');
  });
});
