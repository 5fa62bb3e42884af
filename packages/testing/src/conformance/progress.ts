/**
 * Conformance: a flow's progress (`setProgress`), a fenced write on the flow
 * record that is not history. Its event is checked with the other events
 * (capability `events`).
 *
 * @module
 */
import { MAX_PROGRESS_BYTES } from '@ergon/core';
import { describe, expect, it } from 'vitest';
import { createAndClaim, expectCode, newFlow, op, type SuiteContext, T0, uid } from './support.js';

export function progressCases(ctx: SuiteContext): void {
  describe('progress', () => {
    it('stores the latest value on the flow record, read back by getFlow and listFlows', async () => {
      const { flow, token } = await createAndClaim(ctx.store);
      expect(flow.progress).toBeUndefined();
      expect(flow.progressAt).toBeUndefined();
      const lease = { flowId: flow.id, token };
      expect(await ctx.store.setProgress({ ...lease, progress: '[0.25]', now: T0 + 10 })).toEqual({
        cancelRequested: false,
      });
      await ctx.store.setProgress({ ...lease, progress: '[{"current":3,"total":4}]', now: T0 + 20 });
      const read = await ctx.store.getFlow(flow.id);
      expect(read).toMatchObject({
        status: 'running',
        progress: '[{"current":3,"total":4}]',
        progressAt: T0 + 20,
        updatedAt: T0 + 20,
      });
      const page = await ctx.store.listFlows({ type: flow.type, limit: 10 });
      expect(page.flows).toHaveLength(1);
      expect(page.flows[0]).toMatchObject({ progress: '[{"current":3,"total":4}]', progressAt: T0 + 20 });
      // Not history: no position is taken, nothing is recorded.
      expect(await ctx.store.getHistory(flow.id)).toEqual([]);
    });

    it('takes any text the codec writes, up to the size limit in UTF-8 bytes', async () => {
      const { flow, token } = await createAndClaim(ctx.store);
      const lease = { flowId: flow.id, token };
      // Three bytes per '€': exactly at the limit is accepted.
      const euros = Math.floor(MAX_PROGRESS_BYTES / 3);
      const atLimit = '€'.repeat(euros) + 'x'.repeat(MAX_PROGRESS_BYTES - euros * 3);
      await ctx.store.setProgress({ ...lease, progress: atLimit, now: T0 + 1 });
      expect((await ctx.store.getFlow(flow.id))?.progress).toBe(atLimit);
      const odd = '["quote \\" backslash \\\\ newline \\n tab \\t ünïcödé 🚀 %s {}"]';
      await ctx.store.setProgress({ ...lease, progress: odd, now: T0 + 2 });
      expect((await ctx.store.getFlow(flow.id))?.progress).toBe(odd);
      await ctx.store.setProgress({ ...lease, progress: '', now: T0 + 3 });
      expect(await ctx.store.getFlow(flow.id)).toMatchObject({ progress: '', progressAt: T0 + 3 });
    });

    it('refuses a value over the limit with PROGRESS_TOO_LARGE and keeps the previous one', async () => {
      const { flow, token } = await createAndClaim(ctx.store);
      const lease = { flowId: flow.id, token };
      await ctx.store.setProgress({ ...lease, progress: '[1]', now: T0 + 1 });
      const over = '€'.repeat(Math.floor(MAX_PROGRESS_BYTES / 3) + 1);
      await expectCode(
        ctx.store.setProgress({ ...lease, progress: over, now: T0 + 2 }),
        'PROGRESS_TOO_LARGE',
      );
      await expectCode(
        ctx.store.setProgress({ ...lease, progress: 42 as unknown as string, now: T0 + 2 }),
        'INVALID_ARGUMENT',
      );
      await expectCode(
        ctx.store.setProgress({ ...lease, progress: '[2]', now: Number.NaN }),
        'INVALID_ARGUMENT',
      );
      expect(await ctx.store.getFlow(flow.id)).toMatchObject({ progress: '[1]', progressAt: T0 + 1 });
    });

    it('is fenced: a stale token or a flow that is not running is refused, an unknown flow is not found', async () => {
      const type = uid('type');
      const first = await createAndClaim(ctx.store, { type }, 1000);
      // The lease expires and another worker takes the flow over.
      const [second] = await ctx.store.claim({
        workerId: 'w2',
        types: [type],
        queues: ['default'],
        limit: 1,
        leaseMs: 30_000,
        now: T0 + 5000,
      });
      if (!second) throw new Error('the expired lease was not reclaimed');
      const id = first.flow.id;
      await expectCode(
        ctx.store.setProgress({ flowId: id, token: first.token, progress: '["stale"]', now: T0 + 5001 }),
        'LEASE_LOST',
      );
      await ctx.store.setProgress({ flowId: id, token: second.token, progress: '["new"]', now: T0 + 5002 });
      expect((await ctx.store.getFlow(id))?.progress).toBe('["new"]');

      const pending = newFlow();
      await ctx.store.createFlow(pending);
      await expectCode(
        ctx.store.setProgress({ flowId: pending.id, token: 0, progress: '[1]', now: T0 }),
        'LEASE_LOST',
      );
      await expectCode(
        ctx.store.setProgress({ flowId: uid(), token: 1, progress: '[1]', now: T0 }),
        'FLOW_NOT_FOUND',
      );

      await ctx.store.suspend({
        flowId: id,
        token: second.token,
        waits: [{ kind: 'timer', at: T0 + 60_000, position: 0 }],
        now: T0 + 5003,
      });
      await expectCode(
        ctx.store.setProgress({ flowId: id, token: second.token, progress: '["late"]', now: T0 + 5004 }),
        'LEASE_LOST',
      );
      // Suspending, and the next claim, keep the last value.
      expect(await ctx.store.getFlow(id)).toMatchObject({ progress: '["new"]', progressAt: T0 + 5002 });
      const [third] = await ctx.store.claim({
        workerId: 'w3',
        types: [type],
        queues: ['default'],
        limit: 1,
        leaseMs: 30_000,
        now: T0 + 60_000,
      });
      expect(third?.flow).toMatchObject({ progress: '["new"]', progressAt: T0 + 5002 });
    });

    it('tells the writer when cancellation was requested', async () => {
      const { flow, token } = await createAndClaim(ctx.store);
      await ctx.store.requestCancel({ flowId: flow.id, error: '["stop"]', now: T0 + 1 });
      const result = await ctx.store.setProgress({ flowId: flow.id, token, progress: '[0.5]', now: T0 + 2 });
      expect(result.cancelRequested).toBe(true);
    });

    it('keeps the last value after the flow finishes, refuses more, and purges it with the flow', async () => {
      const { flow, token } = await createAndClaim(ctx.store);
      const lease = { flowId: flow.id, token };
      await ctx.store.recordOperation({ ...lease, record: op(flow.id, 0) });
      await ctx.store.setProgress({ ...lease, progress: '[1]', now: T0 + 3 });
      await ctx.store.finishFlow({ ...lease, status: 'completed', result: '["done"]', now: T0 + 4 });
      expect(await ctx.store.getFlow(flow.id)).toMatchObject({
        status: 'completed',
        progress: '[1]',
        progressAt: T0 + 3,
      });
      await expectCode(ctx.store.setProgress({ ...lease, progress: '[2]', now: T0 + 5 }), 'LEASE_LOST');
      expect(await ctx.store.purge({ finishedBefore: T0 + 10, limit: 100 })).toBeGreaterThanOrEqual(1);
      expect(await ctx.store.getFlow(flow.id)).toBeUndefined();
      // An id used again starts without progress.
      const again = await ctx.store.createFlow(newFlow({ id: flow.id, now: T0 + 20 }));
      expect(again.flow.progress).toBeUndefined();
      expect(again.flow.progressAt).toBeUndefined();
    });
  });
}
