/**
 * Conformance: claims, leases and fencing.
 *
 * @module
 */
import { describe, expect, it } from 'vitest';
import { createAndClaim, expectCode, newFlow, op, type SuiteContext, T0, uid } from './support.js';

export function claimCases(ctx: SuiteContext): void {
  describe('claims and leases', () => {
    it('claims only ready flows of the requested types and queues, up to the limit', async () => {
      const type = uid('claim');
      const ready = newFlow({ type });
      const later = newFlow({ type, runAt: T0 + 60_000 });
      const otherQueue = newFlow({ type, queue: 'other' });
      const otherType = newFlow({ type: uid('other') });
      for (const f of [ready, later, otherQueue, otherType]) await ctx.store.createFlow(f);

      const claimed = await ctx.store.claim({
        workerId: 'w1',
        types: [type],
        queues: ['default'],
        limit: 10,
        leaseMs: 120_000,
        now: T0,
      });
      expect(claimed.map((c) => c.flow.id)).toEqual([ready.id]);
      const [first] = claimed;
      expect(first?.token).toBe(1);
      expect(first?.flow).toMatchObject({
        status: 'running',
        fencingToken: 1,
        leaseOwner: 'w1',
        leaseExpiresAt: T0 + 120_000,
        runCount: 1,
      });
      expect(await ctx.store.getFlow(ready.id)).toMatchObject({ status: 'running', leaseOwner: 'w1' });

      const none = await ctx.store.claim({
        workerId: 'w2',
        types: [type],
        queues: ['default'],
        limit: 10,
        leaseMs: 5000,
        now: T0 + 1000,
      });
      expect(none).toEqual([]);
      const due = await ctx.store.claim({
        workerId: 'w2',
        types: [type],
        queues: ['default'],
        limit: 10,
        leaseMs: 5000,
        now: T0 + 60_000,
      });
      expect(due.map((c) => c.flow.id)).toEqual([later.id]);
    });

    it('writes no history for a flow never claimed, so its first claim (runCount 1) finds none', async () => {
      const flow = newFlow({ type: uid('fresh') });
      await ctx.store.createFlow(flow);
      for (const token of [0, 1]) {
        await expect(
          ctx.store.recordOperation({ ...{ flowId: flow.id, token }, record: op(flow.id, 0) }),
        ).rejects.toMatchObject({
          code: expect.stringMatching(/^(LEASE_LOST|FLOW_NOT_FOUND)$/),
        });
      }
      const [claimed] = await ctx.store.claim({
        workerId: 'w1',
        types: [flow.type],
        queues: ['default'],
        limit: 1,
        leaseMs: 1000,
        now: T0,
      });
      expect(claimed?.flow.runCount).toBe(1);
      expect(await ctx.store.getHistory(flow.id)).toEqual([]);
    });

    it('claims one named flow when asked for it by id', async () => {
      const type = uid('byid');
      const a = newFlow({ type });
      const b = newFlow({ type });
      await ctx.store.createFlow(a);
      await ctx.store.createFlow(b);
      const claimed = await ctx.store.claim({
        workerId: 'w',
        types: [type],
        queues: ['default'],
        limit: 10,
        leaseMs: 1000,
        now: T0,
        flowId: b.id,
      });
      expect(claimed.map((c) => c.flow.id)).toEqual([b.id]);
      expect(await ctx.store.getFlow(a.id)).toMatchObject({ status: 'pending' });
    });

    it('orders claims by priority, then by runAt', async () => {
      const type = uid('prio');
      const low = newFlow({ type, priority: 0, runAt: T0 - 3 });
      const high = newFlow({ type, priority: 5, runAt: T0 - 1 });
      const mid = newFlow({ type, priority: 1, runAt: T0 - 2 });
      const lowOlder = newFlow({ type, priority: 0, runAt: T0 - 9 });
      for (const f of [low, high, mid, lowOlder]) await ctx.store.createFlow(f);
      const order: string[] = [];
      for (let i = 0; i < 4; i++) {
        const [c] = await ctx.store.claim({
          workerId: 'w',
          types: [type],
          queues: ['default'],
          limit: 1,
          leaseMs: 5000,
          now: T0,
        });
        if (c) order.push(c.flow.id);
      }
      expect(order).toEqual([high.id, mid.id, lowOlder.id, low.id]);
    });

    it('gives each ready flow to exactly one of many concurrent claimers', async () => {
      const type = uid('race');
      const ids = new Set<string>();
      for (let i = 0; i < 60; i++) {
        const f = newFlow({ type });
        ids.add(f.id);
        await ctx.store.createFlow(f);
      }
      const claimedBy = new Map<string, string>();
      let duplicates = 0;
      await Promise.all(
        Array.from({ length: 8 }, async (_, w) => {
          for (;;) {
            const batch = await ctx.store.claim({
              workerId: `w${w}`,
              types: [type],
              queues: ['default'],
              limit: 3,
              leaseMs: 60_000,
              now: T0,
            });
            if (batch.length === 0) return;
            for (const c of batch) {
              if (claimedBy.has(c.flow.id)) duplicates++;
              claimedBy.set(c.flow.id, `w${w}`);
            }
          }
        }),
      );
      expect(duplicates).toBe(0);
      expect(new Set(claimedBy.keys())).toEqual(ids);
    });

    it('lets another worker reclaim an expired lease with a newer token, and fences the old one', async () => {
      const { flow, token } = await createAndClaim(ctx.store, {}, 1000);
      const reclaim = () =>
        ctx.store.claim({
          workerId: 'w2',
          types: [flow.type],
          queues: ['default'],
          limit: 1,
          leaseMs: 1000,
          now: T0 + 1000,
        });
      expect(
        await ctx.store.claim({
          workerId: 'w2',
          types: [flow.type],
          queues: ['default'],
          limit: 1,
          leaseMs: 1000,
          now: T0 + 999,
        }),
      ).toEqual([]);
      const [taken] = await reclaim();
      expect(taken?.token).toBe(token + 1);
      expect(taken?.flow.leaseOwner).toBe('w2');
      expect(taken?.flow.runCount).toBe(2);

      const stale = { flowId: flow.id, token };
      await expectCode(ctx.store.recordOperation({ ...stale, record: op(flow.id, 0) }), 'LEASE_LOST');
      await expectCode(ctx.store.renewLease({ ...stale, leaseMs: 1000, now: T0 + 1001 }), 'LEASE_LOST');
      await expectCode(
        ctx.store.suspend({
          ...stale,
          waits: [{ kind: 'timer', at: T0 + 9000, position: 0 }],
          now: T0 + 1001,
        }),
        'LEASE_LOST',
      );
      await expectCode(
        ctx.store.finishFlow({ ...stale, status: 'completed', result: '[1]', now: T0 + 1001 }),
        'LEASE_LOST',
      );
      await expectCode(
        ctx.store.consumeSignal({
          ...stale,
          name: 's',
          record: { flowId: flow.id, position: 0, key: 's#0', kind: 'signal', attempts: 1, startedAt: T0 },
        }),
        'LEASE_LOST',
      );
      await ctx.store.releaseLease({ ...stale, now: T0 + 1001 });
      expect(await ctx.store.getFlow(flow.id)).toMatchObject({
        status: 'running',
        leaseOwner: 'w2',
        fencingToken: token + 1,
      });
      expect(await ctx.store.getHistory(flow.id)).toEqual([]);

      const fresh = { flowId: flow.id, token: token + 1 };
      const written = await ctx.store.recordOperation({ ...fresh, record: op(flow.id, 0) });
      expect(written.existed).toBe(false);
    });

    it('renews a lease so the flow is not reclaimable before the new expiry', async () => {
      const { flow, token } = await createAndClaim(ctx.store, {}, 1000);
      const renewed = await ctx.store.renewLease({ flowId: flow.id, token, leaseMs: 5000, now: T0 + 900 });
      expect(renewed.cancelRequested).toBe(false);
      expect((await ctx.store.getFlow(flow.id))?.leaseExpiresAt).toBe(T0 + 5900);
      const early = await ctx.store.claim({
        workerId: 'w2',
        types: [flow.type],
        queues: ['default'],
        limit: 1,
        leaseMs: 1000,
        now: T0 + 5000,
      });
      expect(early).toEqual([]);
      const late = await ctx.store.claim({
        workerId: 'w2',
        types: [flow.type],
        queues: ['default'],
        limit: 1,
        leaseMs: 1000,
        now: T0 + 5900,
      });
      expect(late).toHaveLength(1);
    });

    it('never shortens a lease: a renewal that arrives after a later one leaves the later expiry', async () => {
      const { flow, token } = await createAndClaim(ctx.store, {}, 1000);
      await ctx.store.renewLease({ flowId: flow.id, token, leaseMs: 1000, now: T0 + 900 });
      // The renewal of an earlier tick, resent after a dropped connection: it must not pull the expiry back.
      await ctx.store.renewLease({ flowId: flow.id, token, leaseMs: 1000, now: T0 + 400 });
      expect((await ctx.store.getFlow(flow.id))?.leaseExpiresAt).toBe(T0 + 1900);
      const claim = { workerId: 'w2', types: [flow.type], queues: ['default'], limit: 1, leaseMs: 1000 };
      expect(await ctx.store.claim({ ...claim, now: T0 + 1500 })).toEqual([]);
      expect(await ctx.store.claim({ ...claim, now: T0 + 1900 })).toHaveLength(1);
    });

    it('releases a lease so any worker may claim the flow at once', async () => {
      const { flow, token } = await createAndClaim(ctx.store, {}, 60_000);
      await ctx.store.releaseLease({ flowId: flow.id, token, now: T0 + 10 });
      expect(await ctx.store.getFlow(flow.id)).toMatchObject({ status: 'pending', runAt: T0 + 10 });
      const [again] = await ctx.store.claim({
        workerId: 'w2',
        types: [flow.type],
        queues: ['default'],
        limit: 1,
        leaseMs: 1000,
        now: T0 + 10,
      });
      expect(again?.token).toBe(token + 1);
    });

    it('reports the earliest time a flow becomes claimable, including lease expiry', async () => {
      const type = uid('wake');
      expect(await ctx.store.nextWakeAt({ types: [type], queues: ['default'] })).toBeUndefined();
      await ctx.store.createFlow(newFlow({ type, runAt: T0 + 5000 }));
      await ctx.store.createFlow(newFlow({ type, runAt: T0 + 3000 }));
      expect(await ctx.store.nextWakeAt({ types: [type], queues: ['default'] })).toBe(T0 + 3000);
      expect(await ctx.store.nextWakeAt({ types: [type], queues: ['elsewhere'] })).toBeUndefined();
      const { flow } = await createAndClaim(ctx.store, { type }, 1000, T0);
      expect(flow.leaseExpiresAt).toBe(T0 + 1000);
      expect(await ctx.store.nextWakeAt({ types: [type], queues: ['default'] })).toBe(T0 + 1000);
    });
  });
}
