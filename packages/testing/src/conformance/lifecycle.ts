/**
 * Conformance: cancellation, purge and store events.
 *
 * @module
 */
import { describe, expect, it } from 'vitest';
import { createAndClaim, expectCode, newFlow, op, type SuiteContext, T0, uid } from './support.js';

export function lifecycleCases(ctx: SuiteContext): void {
  describe('cancellation', () => {
    it('cancels pending and suspended flows at once', async () => {
      const pending = newFlow();
      await ctx.store.createFlow(pending);
      const cancelled = await ctx.store.requestCancel({ flowId: pending.id, error: '["stop"]', now: T0 + 1 });
      expect(cancelled).toMatchObject({ status: 'cancelled', finishedAt: T0 + 1, error: '["stop"]' });

      const { flow, token } = await createAndClaim(ctx.store);
      await ctx.store.suspend({
        flowId: flow.id,
        token,
        waits: [{ kind: 'timer', at: T0 + 5000, position: 0 }],
        now: T0,
      });
      await ctx.store.requestCancel({ flowId: flow.id, error: '["stop"]', now: T0 + 2 });
      expect(await ctx.store.getFlow(flow.id)).toMatchObject({ status: 'cancelled' });
      const none = await ctx.store.claim({
        workerId: 'w',
        types: [flow.type],
        queues: ['default'],
        limit: 1,
        leaseMs: 1000,
        now: T0 + 10_000,
      });
      expect(none).toEqual([]);
    });

    it('flags a running flow and tells its worker on renew, record and suspend', async () => {
      const { flow, token } = await createAndClaim(ctx.store);
      const lease = { flowId: flow.id, token };
      const flagged = await ctx.store.requestCancel({ flowId: flow.id, error: '["stop"]', now: T0 + 1 });
      expect(flagged).toMatchObject({ status: 'running', cancelRequested: true });
      expect((await ctx.store.renewLease({ ...lease, leaseMs: 1000, now: T0 + 2 })).cancelRequested).toBe(
        true,
      );
      expect((await ctx.store.recordOperation({ ...lease, record: op(flow.id, 0) })).cancelRequested).toBe(
        true,
      );
      const suspended = await ctx.store.suspend({
        ...lease,
        waits: [{ kind: 'timer', at: T0 + 9000, position: 1 }],
        now: T0 + 3,
      });
      expect(suspended.outcome).toBe('cancelled');
      expect(await ctx.store.getFlow(flow.id)).toMatchObject({ status: 'cancelled' });
    });

    it('leaves terminal flows unchanged and refuses unknown ids', async () => {
      const { flow, token } = await createAndClaim(ctx.store);
      await ctx.store.finishFlow({ flowId: flow.id, token, status: 'completed', result: '[1]', now: T0 });
      const same = await ctx.store.requestCancel({ flowId: flow.id, error: '["stop"]', now: T0 + 1 });
      expect(same).toMatchObject({ status: 'completed', result: '[1]' });
      await expectCode(ctx.store.requestCancel({ flowId: uid(), error: '[]', now: T0 }), 'FLOW_NOT_FOUND');
    });

    it('wakes a parent waiting on a child that is cancelled', async () => {
      const parent = await createAndClaim(ctx.store);
      const childId = `${parent.flow.id}/0`;
      await ctx.store.createFlow(newFlow({ id: childId, type: uid('child'), parentId: parent.flow.id }));
      await ctx.store.suspend({
        flowId: parent.flow.id,
        token: parent.token,
        waits: [{ kind: 'child', flowId: childId, position: 0 }],
        now: T0,
      });
      await ctx.store.requestCancel({ flowId: childId, error: '["stop"]', now: T0 + 1 });
      const [woken] = await ctx.store.claim({
        workerId: 'w',
        types: [parent.flow.type],
        queues: ['default'],
        limit: 1,
        leaseMs: 1000,
        now: T0 + 1,
      });
      expect(woken?.flow.id).toBe(parent.flow.id);
    });
  });

  describe('purge', () => {
    it('deletes terminal flows finished before the cut-off, with history and signals, up to the limit', async () => {
      const type = uid('purge');
      const finished: string[] = [];
      for (let i = 0; i < 3; i++) {
        const { flow, token } = await createAndClaim(ctx.store, { type });
        await ctx.store.recordOperation({ ...{ flowId: flow.id, token }, record: op(flow.id, 0) });
        await ctx.store.finishFlow({
          flowId: flow.id,
          token,
          status: 'completed',
          result: '[1]',
          now: T0 + i,
        });
        finished.push(flow.id);
      }
      const recent = await createAndClaim(ctx.store, { type });
      await ctx.store.finishFlow({
        flowId: recent.flow.id,
        token: recent.token,
        status: 'failed',
        error: '[1]',
        now: T0 + 100,
      });
      const live = newFlow({ type });
      await ctx.store.createFlow(live);

      expect(await ctx.store.purge({ finishedBefore: T0 + 50, limit: 2 })).toBe(2);
      expect(await ctx.store.purge({ finishedBefore: T0 + 50, limit: 100 })).toBe(1);
      expect(await ctx.store.purge({ finishedBefore: T0 + 50, limit: 100 })).toBe(0);
      for (const id of finished) {
        expect(await ctx.store.getFlow(id)).toBeUndefined();
        expect(await ctx.store.getHistory(id)).toEqual([]);
      }
      expect(await ctx.store.getFlow(recent.flow.id)).toBeDefined();
      expect(await ctx.store.getFlow(live.id)).toBeDefined();
      const remaining = await ctx.store.listFlows({ type, limit: 100 });
      expect(remaining.flows.map((f) => f.id).sort()).toEqual([recent.flow.id, live.id].sort());
    });
  });
}
