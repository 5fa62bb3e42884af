/**
 * Conformance: batches of writes (`applyWrites`, optional). Each write of a
 * batch does what its single call does, in order, and fails alone; the runtime
 * wrapper coalesces concurrent writes into batches and gives each caller its
 * own outcome. Skipped (visibly) for a store without batches.
 *
 * @module
 */
import type { BatchOutcome, BatchWrite, FinishRequest, RecordRequest, SuspendRequest } from '@ergon/core';
import { describe, expect, it } from 'vitest';
import { createAndClaim, op, type SuiteContext, T0 } from './support.js';

const record = (request: RecordRequest): BatchWrite => ({ op: 'record', request });
const suspend = (request: SuspendRequest): BatchWrite => ({ op: 'suspend', request });
const finish = (request: FinishRequest): BatchWrite => ({ op: 'finish', request });

export function batchCases(ctx: SuiteContext): void {
  describe('batches of writes', () => {
    const apply = (writes: BatchWrite[]): Promise<BatchOutcome[]> => {
      const inner = ctx.store.inner;
      if (!inner.applyWrites) throw new Error('unreachable: checked by the test');
      return inner.applyWrites(writes);
    };

    it('applies each write of a batch as its single call, in order, each with its own outcome', async (t) => {
      if (!ctx.store.inner.applyWrites) return t.skip('the store takes no batches: single calls only');
      const a = await createAndClaim(ctx.store);
      const b = await createAndClaim(ctx.store);
      const c = await createAndClaim(ctx.store);
      const d = await createAndClaim(ctx.store);
      await ctx.store.requestCancel({ flowId: d.flow.id, error: '"stop"', now: T0 + 1 });
      const outcomes = await apply([
        record({ flowId: a.flow.id, token: a.token, record: op(a.flow.id, 0) }),
        // First write wins inside a batch too.
        record({ flowId: a.flow.id, token: a.token, record: op(a.flow.id, 0, { result: '["other"]' }) }),
        record({ flowId: b.flow.id, token: b.token, record: op(b.flow.id, 0) }),
        finish({ flowId: b.flow.id, token: b.token, status: 'completed', result: '["done"]', now: T0 + 5 }),
        // A stale token fails this write alone.
        record({ flowId: c.flow.id, token: c.token + 1, record: op(c.flow.id, 0) }),
        suspend({
          flowId: c.flow.id,
          token: c.token,
          waits: [{ kind: 'timer', at: T0 + 60_000, position: 0 }],
          now: T0 + 5,
        }),
        record({ flowId: d.flow.id, token: d.token, record: op(d.flow.id, 0) }),
      ]);
      expect(outcomes).toHaveLength(7);
      expect(outcomes[0]).toMatchObject({ ok: true, value: { existed: false, cancelRequested: false } });
      expect(outcomes[1]).toMatchObject({ ok: true, value: { existed: true, record: { result: '["r0"]' } } });
      expect(outcomes[2]).toMatchObject({ ok: true, value: { existed: false } });
      expect(outcomes[3]).toEqual({ ok: true, value: undefined });
      expect(outcomes[4]).toMatchObject({ ok: false, error: { code: 'LEASE_LOST' } });
      expect(outcomes[5]).toEqual({ ok: true, value: { outcome: 'suspended' } });
      expect(outcomes[6]).toMatchObject({ ok: true, value: { cancelRequested: true } });
      expect(await ctx.store.getHistory(a.flow.id)).toHaveLength(1);
      expect(await ctx.store.getFlow(b.flow.id)).toMatchObject({ status: 'completed', result: '["done"]' });
      expect(await ctx.store.getHistory(b.flow.id)).toHaveLength(1);
      expect(await ctx.store.getHistory(c.flow.id)).toEqual([]);
      expect(await ctx.store.getFlow(c.flow.id)).toMatchObject({ status: 'suspended', runAt: T0 + 60_000 });
    });

    it('keeps order across kinds: a write after its flow finished fails; a child finishing wakes its parent', async (t) => {
      if (!ctx.store.inner.applyWrites) return t.skip('the store takes no batches: single calls only');
      const a = await createAndClaim(ctx.store);
      const parent = await createAndClaim(ctx.store);
      const child = await createAndClaim(ctx.store, { id: `${parent.flow.id}/0`, parentId: parent.flow.id });
      await ctx.store.suspend({
        flowId: parent.flow.id,
        token: parent.token,
        waits: [{ kind: 'child', flowId: child.flow.id, position: 0 }],
        now: T0,
      });
      const outcomes = await apply([
        finish({ flowId: a.flow.id, token: a.token, status: 'completed', result: '[1]', now: T0 + 5 }),
        record({ flowId: a.flow.id, token: a.token, record: op(a.flow.id, 0) }),
        finish({ flowId: a.flow.id, token: a.token, status: 'failed', error: '"late"', now: T0 + 6 }),
        record({ flowId: child.flow.id, token: child.token, record: op(child.flow.id, 0) }),
        finish({
          flowId: child.flow.id,
          token: child.token,
          status: 'completed',
          result: '[2]',
          now: T0 + 5,
        }),
      ]);
      expect(outcomes[0]).toEqual({ ok: true, value: undefined });
      expect(outcomes[1]).toMatchObject({ ok: false, error: { code: 'LEASE_LOST' } });
      expect(outcomes[2]).toMatchObject({ ok: false, error: { code: 'LEASE_LOST' } });
      expect(outcomes[3]).toMatchObject({ ok: true, value: { existed: false } });
      expect(outcomes[4]).toEqual({ ok: true, value: undefined });
      expect(await ctx.store.getFlow(a.flow.id)).toMatchObject({ status: 'completed', result: '[1]' });
      expect(await ctx.store.getHistory(a.flow.id)).toEqual([]);
      expect(await ctx.store.getHistory(child.flow.id)).toHaveLength(1);
      const [woken] = await ctx.store.claim({
        workerId: 'w',
        types: [parent.flow.type],
        queues: ['default'],
        limit: 1,
        leaseMs: 1000,
        now: T0 + 6,
      });
      expect(woken?.flow.id).toBe(parent.flow.id);
    });

    it("takes a run's last record and its finish together: both apply, under a pending cancel too, or both are refused", async (t) => {
      if (!ctx.store.inner.applyWrites) return t.skip('the store takes no batches: single calls only');
      const a = await createAndClaim(ctx.store);
      const b = await createAndClaim(ctx.store);
      const c = await createAndClaim(ctx.store);
      await ctx.store.requestCancel({ flowId: b.flow.id, error: '"stop"', now: T0 + 1 });
      const end = (flow: { flow: { id: string }; token: number }, token = flow.token): BatchWrite[] => [
        record({ flowId: flow.flow.id, token, record: op(flow.flow.id, 0) }),
        finish({ flowId: flow.flow.id, token, status: 'completed', result: '[1]', now: T0 + 5 }),
      ];
      const outcomes = await apply([...end(a), ...end(b), ...end(c, c.token + 1)]);
      expect(outcomes[0]).toMatchObject({ ok: true, value: { existed: false, cancelRequested: false } });
      expect(outcomes[1]).toEqual({ ok: true, value: undefined });
      expect(outcomes[2]).toMatchObject({ ok: true, value: { existed: false, cancelRequested: true } });
      expect(outcomes[3]).toEqual({ ok: true, value: undefined });
      expect(outcomes[4]).toMatchObject({ ok: false, error: { code: 'LEASE_LOST' } });
      expect(outcomes[5]).toMatchObject({ ok: false, error: { code: 'LEASE_LOST' } });
      for (const done of [a, b]) {
        expect(await ctx.store.getFlow(done.flow.id)).toMatchObject({ status: 'completed', result: '[1]' });
        expect(await ctx.store.getHistory(done.flow.id)).toHaveLength(1);
      }
      expect(await ctx.store.getFlow(c.flow.id)).toMatchObject({ status: 'running' });
      expect(await ctx.store.getHistory(c.flow.id)).toEqual([]);
    });

    it('through the runtime wrapper, concurrent writes each settle with their own outcome', async () => {
      const claimed = await Promise.all(Array.from({ length: 20 }, () => createAndClaim(ctx.store)));
      const settled = await Promise.allSettled(
        claimed.flatMap(({ flow, token }, i) => [
          ctx.store.recordOperation({
            flowId: flow.id,
            token: i % 5 === 0 ? token + 1 : token,
            record: op(flow.id, 0),
          }),
          ctx.store.recordOperation({ flowId: flow.id, token, record: op(flow.id, 1) }),
        ]),
      );
      settled.forEach((s, n) => {
        const i = Math.floor(n / 2);
        const stale = n % 2 === 0 && i % 5 === 0;
        if (stale) expect(s).toMatchObject({ status: 'rejected', reason: { code: 'LEASE_LOST' } });
        else expect(s).toMatchObject({ status: 'fulfilled', value: { existed: false } });
      });
      await Promise.all(
        claimed.map(({ flow, token }) =>
          ctx.store.finishFlow({ flowId: flow.id, token, status: 'completed', result: '[1]', now: T0 + 2 }),
        ),
      );
      for (const [i, { flow }] of claimed.entries()) {
        expect((await ctx.store.getHistory(flow.id)).map((r) => r.position)).toEqual(
          i % 5 === 0 ? [1] : [0, 1],
        );
        expect((await ctx.store.getFlow(flow.id))?.status).toBe('completed');
      }
    });
  });
}
