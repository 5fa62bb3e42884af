/**
 * Conformance: what the poison rule needs from a store (DESIGN §2.7). Runs
 * given up on are counted in the flow (`abandonedRuns`): at a claim that
 * takes over an expired lease, and at a release with an `error`, which is
 * kept as `lastError` and may hold the flow back until `retryAt`. A run that
 * suspends or finishes resets both.
 *
 * @module
 */
import { describe, expect, it } from 'vitest';
import { createAndClaim, newFlow, op, type SuiteContext, T0, uid } from './support.js';

const CAUSE = '["STORE_UNAVAILABLE: the disk is full"]';

export function abandonedCases(ctx: SuiteContext): void {
  describe('abandoned runs', () => {
    const claimOne = async (type: string, now: number, leaseMs = 1000) =>
      (
        await ctx.store.claim({ workerId: 'w', types: [type], queues: ['default'], limit: 1, leaseMs, now })
      )[0];

    it('counts a claim that takes over an expired lease as an abandoned run, and a first claim not', async () => {
      const type = uid('expire');
      const flow = newFlow({ type });
      await ctx.store.createFlow(flow);
      expect((await ctx.store.getFlow(flow.id))?.abandonedRuns ?? 0).toBe(0);
      const first = await claimOne(type, T0);
      expect(first?.flow.abandonedRuns ?? 0).toBe(0);
      const second = await claimOne(type, T0 + 1000);
      expect(second?.flow).toMatchObject({ abandonedRuns: 1, runCount: 2 });
      const third = await claimOne(type, T0 + 2000);
      expect(third?.flow).toMatchObject({ abandonedRuns: 2, runCount: 3 });
      expect(await ctx.store.getFlow(flow.id)).toMatchObject({ abandonedRuns: 2 });
    });

    it('keeps the error of a release as lastError, counts the run, and holds the flow until retryAt', async () => {
      const type = uid('backoff');
      const { flow, token } = await createAndClaim(ctx.store, { type });
      await ctx.store.releaseLease({
        flowId: flow.id,
        token,
        now: T0 + 10,
        error: CAUSE,
        retryAt: T0 + 5000,
      });
      expect(await ctx.store.getFlow(flow.id)).toMatchObject({
        status: 'pending',
        runAt: T0 + 5000,
        abandonedRuns: 1,
        lastError: CAUSE,
      });
      expect(await ctx.store.nextWakeAt({ types: [type], queues: ['default'] })).toBe(T0 + 5000);
      expect(await claimOne(type, T0 + 4999)).toBeUndefined();
      const again = await claimOne(type, T0 + 5000);
      // Claimed from pending: the release already counted that run.
      expect(again?.flow).toMatchObject({ status: 'running', abandonedRuns: 1, lastError: CAUSE });
    });

    it('leaves the count and the last error as they are on a plain release (a graceful stop)', async () => {
      const type = uid('plain');
      const { flow, token } = await createAndClaim(ctx.store, { type });
      await ctx.store.releaseLease({ flowId: flow.id, token, now: T0, error: CAUSE });
      const next = await claimOne(type, T0);
      if (!next) throw new Error('the released flow was not claimable');
      await ctx.store.releaseLease({ flowId: flow.id, token: next.token, now: T0 + 1 });
      expect(await ctx.store.getFlow(flow.id)).toMatchObject({
        status: 'pending',
        runAt: T0 + 1,
        abandonedRuns: 1,
        lastError: CAUSE,
      });
    });

    it('resets the count and the last error when a run suspends, and when it finishes', async () => {
      const type = uid('reset');
      const { flow, token } = await createAndClaim(ctx.store, { type });
      await ctx.store.releaseLease({ flowId: flow.id, token, now: T0, error: CAUSE });
      const second = await claimOne(type, T0, 60_000);
      if (!second) throw new Error('the released flow was not claimable');
      const lease = { flowId: flow.id, token: second.token };
      await ctx.store.recordOperation({ ...lease, record: op(flow.id, 0) });
      await ctx.store.suspend({ ...lease, waits: [{ kind: 'timer', at: T0 + 100, position: 1 }], now: T0 });
      const suspended = await ctx.store.getFlow(flow.id);
      expect(suspended?.abandonedRuns ?? 0).toBe(0);
      expect(suspended?.lastError).toBeUndefined();

      const third = await claimOne(type, T0 + 100, 60_000);
      if (!third) throw new Error('the suspended flow did not wake');
      await ctx.store.releaseLease({ flowId: flow.id, token: third.token, now: T0 + 100, error: CAUSE });
      const fourth = await claimOne(type, T0 + 100, 60_000);
      if (!fourth) throw new Error('the released flow was not claimable');
      expect(fourth.flow.abandonedRuns).toBe(1);
      await ctx.store.finishFlow({
        flowId: flow.id,
        token: fourth.token,
        status: 'completed',
        result: '[1]',
        now: T0 + 101,
      });
      const finished = await ctx.store.getFlow(flow.id);
      expect(finished?.abandonedRuns ?? 0).toBe(0);
      expect(finished?.lastError).toBeUndefined();
    });

    it('ignores a release with a stale token: the error is not kept and nothing is counted', async () => {
      const type = uid('stale');
      const { flow, token } = await createAndClaim(ctx.store, { type }, 1000);
      const taken = await claimOne(type, T0 + 1000, 60_000);
      expect(taken?.flow.abandonedRuns).toBe(1);
      await ctx.store.releaseLease({
        flowId: flow.id,
        token,
        now: T0 + 1001,
        error: CAUSE,
        retryAt: T0 + 9000,
      });
      const after = await ctx.store.getFlow(flow.id);
      expect(after).toMatchObject({ status: 'running', abandonedRuns: 1 });
      expect(after?.lastError).toBeUndefined();
    });
  });
}
