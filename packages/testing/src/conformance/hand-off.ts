/**
 * Conformance: hand-off (capability `handOff`): a claim with `park` parks its
 * worker with the slots it left free, and a create claims a new flow for a
 * parked worker, announcing it with a `handed` event.
 *
 * @module
 */
import type { ClaimRequest } from '@ergon/core';
import { describe, expect, it } from 'vitest';
import { eventually, newFlow, newPair, type Pair, type SuiteContext, T0, withEvents } from './support.js';

/** The longest lease a hand-off may take (`ClaimRequest.park`). */
const HAND_OFF_LEASE_MAX_MS = 2000;

export function handOffCases(ctx: SuiteContext): void {
  describe('hand-off', () => {
    /** A claim of (queue, type) by `workerId` that asks to park. */
    const parkingClaim = (pair: Pair, workerId: string, limit: number, now = T0): ClaimRequest => ({
      workerId,
      types: [pair.type],
      queues: [pair.queue],
      limit,
      leaseMs: 30_000,
      now,
      park: true,
    });

    it('claims a new flow for the parked worker, and says so to its listeners with the claim', async () => {
      const pair = newPair();
      await withEvents(ctx, async (events) => {
        expect(await ctx.store.claim(parkingClaim(pair, 'parked-1', 5))).toEqual([]);
        const created = await ctx.store.createFlow(newFlow(pair));
        expect(created.created).toBe(true);
        expect(created.claimed).toBeUndefined();
        const { flow } = created;
        expect(flow.status).toBe('running');
        expect(flow.leaseOwner).toBe('parked-1');
        expect(flow.fencingToken).toBe(1);
        expect(flow.leaseExpiresAt).toBeGreaterThan(T0);
        expect(flow.leaseExpiresAt).toBeLessThanOrEqual(T0 + HAND_OFF_LEASE_MAX_MS);
        await eventually(() => events.some((e) => e.type === 'handed' && e.flowId === flow.id));
        const handed = events.find((e) => e.type === 'handed' && e.flowId === flow.id);
        expect(handed).toMatchObject({ workerId: 'parked-1', claimed: { token: 1 } });
        expect(handed?.type === 'handed' && handed.claimed?.flow.status).toBe('running');
        // No ready event woke the other workers for it.
        expect(events.some((e) => e.type === 'ready' && e.queue === pair.queue)).toBe(false);
        // The claim it carries is the worker's: its token writes.
        const renewed = await ctx.store.renewLease({
          flowId: flow.id,
          token: 1,
          leaseMs: 30_000,
          now: T0 + 1,
        });
        expect(renewed.cancelRequested).toBe(false);
        expect((await ctx.store.getFlow(flow.id))?.leaseExpiresAt).toBe(T0 + 30_001);
      });
    });

    it('hands off a flow too large to travel in an event with its claim, or leaves it to a claim', async () => {
      const pair = newPair();
      await withEvents(ctx, async (events) => {
        await ctx.store.claim(parkingClaim(pair, 'parked-large', 5));
        const input = JSON.stringify(['x'.repeat(40_000)]);
        const { flow } = await ctx.store.createFlow(newFlow({ ...pair, input }));
        if (flow.status === 'running') {
          await eventually(() =>
            events.some((e) => e.type === 'handed' && e.flowId === flow.id && e.claimed),
          );
          const handed = events.find((e) => e.type === 'handed' && e.flowId === flow.id);
          const claimed = handed?.type === 'handed' ? handed.claimed : undefined;
          expect(claimed?.token).toBe(1);
          expect(claimed?.flow.input).toBe(input);
        } else {
          expect(flow.status).toBe('pending');
          const [claimed] = await ctx.store.claim({ ...parkingClaim(pair, 'other', 1), park: false });
          expect(claimed?.flow.id).toBe(flow.id);
        }
      });
    });

    it('hands off no more flows than the slots the claim left; the rest wait for claims', async () => {
      const pair = newPair();
      await ctx.store.claim(parkingClaim(pair, 'parked-2', 2));
      const results = [];
      for (let i = 0; i < 3; i++) results.push(await ctx.store.createFlow(newFlow({ ...pair, now: T0 + i })));
      expect(results.map((r) => r.flow.status)).toEqual(['running', 'running', 'pending']);
      const [third] = await ctx.store.claim({ ...parkingClaim(pair, 'other', 5, T0 + 3), park: false });
      expect(third?.flow.id).toBe(results[2]?.flow.id);
    });

    it('parks nobody for a claim that does not ask, or that takes its whole limit', async () => {
      const pair = newPair();
      await ctx.store.claim({ ...parkingClaim(pair, 'not-parked', 5), park: false });
      expect((await ctx.store.createFlow(newFlow(pair))).flow.status).toBe('pending');
      // That flow is ready; a parking claim of one takes it, so its worker has no slot left.
      expect(await ctx.store.claim(parkingClaim(pair, 'full', 1, T0 + 1))).toHaveLength(1);
      expect((await ctx.store.createFlow(newFlow({ ...pair, now: T0 + 2 }))).flow.status).toBe('pending');
    });

    it('unparks a worker at its next claim and when it is removed', async () => {
      const pair = newPair();
      await ctx.store.claim(parkingClaim(pair, 'leaving', 5));
      await ctx.store.claim({ ...parkingClaim(pair, 'leaving', 5, T0 + 1), park: false });
      expect((await ctx.store.createFlow(newFlow({ ...pair, now: T0 + 2 }))).flow.status).toBe('pending');
      const other = newPair();
      await ctx.store.claim(parkingClaim(other, 'removed', 5));
      await ctx.store.removeWorker({ workerId: 'removed', now: T0 + 1, expireLeases: false });
      expect((await ctx.store.createFlow(newFlow({ ...other, now: T0 + 2 }))).flow.status).toBe('pending');
    });

    it('leaves a new flow to the claim order while an older one of its kind is due', async () => {
      const pair = newPair();
      const older = newFlow({ ...pair, runAt: T0 + 100 });
      await ctx.store.createFlow(older);
      // Not due yet: the claim takes nothing and parks its worker.
      expect(await ctx.store.claim(parkingClaim(pair, 'parked-3', 5))).toEqual([]);
      const newer = await ctx.store.createFlow(newFlow({ ...pair, runAt: T0 + 200, now: T0 + 200 }));
      expect(newer.flow.status).toBe('pending');
      const claimed = await ctx.store.claim({ ...parkingClaim(pair, 'other', 1, T0 + 200), park: false });
      expect(claimed.map((c) => c.flow.id)).toEqual([older.id]);
    });

    it('hands off no flow due later, nor one created for its creator to claim', async () => {
      const pair = newPair();
      await ctx.store.claim(parkingClaim(pair, 'parked-4', 5));
      const later = await ctx.store.createFlow(newFlow({ ...pair, runAt: T0 + 1000 }));
      expect(later.flow.status).toBe('pending');
      const own = await ctx.store.createFlow(
        newFlow({ ...pair, claim: { workerId: 'creator', leaseMs: 30_000 } }),
      );
      expect(own.claimed?.flow.leaseOwner).toBe('creator');
    });

    it('gives a hand-off nobody heard to the next claim once its short lease ran out', async () => {
      const pair = newPair();
      await ctx.store.claim(parkingClaim(pair, 'deaf', 5));
      const { flow } = await ctx.store.createFlow(newFlow(pair));
      expect(flow.leaseOwner).toBe('deaf');
      const expiry = flow.leaseExpiresAt ?? Number.POSITIVE_INFINITY;
      expect(await ctx.store.claim({ ...parkingClaim(pair, 'other', 5, expiry - 1), park: false })).toEqual(
        [],
      );
      const [again] = await ctx.store.claim({ ...parkingClaim(pair, 'other', 5, expiry), park: false });
      expect(again?.flow.id).toBe(flow.id);
      expect(again?.token).toBe(2);
      expect(again?.flow.abandonedRuns).toBe(1);
    });

    it('lets a parked worker go after a while without a claim', async () => {
      const pair = newPair();
      await ctx.store.claim(parkingClaim(pair, 'asleep', 5));
      const { flow } = await ctx.store.createFlow(newFlow({ ...pair, runAt: T0 + 60_000, now: T0 + 60_000 }));
      expect(flow.status).toBe('pending');
    });

    it('hands off nothing in a queue with limits (with capability flowControl)', async ({ skip }) => {
      if (!ctx.store.capabilities.flowControl || !ctx.store.configureQueue) {
        return skip('the store has no flow control: no queue has limits');
      }
      const pair = newPair();
      await ctx.store.configureQueue({ queue: pair.queue, limits: { concurrency: 10 }, now: T0 });
      await ctx.store.claim(parkingClaim(pair, 'parked-5', 5));
      expect((await ctx.store.createFlow(newFlow(pair))).flow.status).toBe('pending');
    });
  });
}
