/**
 * Conformance: bad input is refused with a typed error before it reaches the
 * store (the runtime wrapper), and changes nothing. The same on every store.
 *
 * @module
 */
import type { OperationRecord, Wait } from '@ergon/core';
import { describe, expect, it } from 'vitest';
import { createAndClaim, expectCode, newFlow, op, type SuiteContext, T0, uid } from './support.js';

export function badInputCases(ctx: SuiteContext): void {
  describe('bad input', () => {
    it('refuses a negative claim limit and claims nothing; a zero limit claims nothing', async () => {
      const type = uid('type');
      for (let i = 0; i < 3; i++) await ctx.store.createFlow(newFlow({ type }));
      const claim = (limit: number) =>
        ctx.store.claim({ workerId: 'w', types: [type], queues: ['default'], limit, leaseMs: 1000, now: T0 });
      await expectCode(claim(-1), 'INVALID_ARGUMENT');
      await expectCode(claim(1.5), 'INVALID_ARGUMENT');
      expect(await claim(0)).toEqual([]);
      const page = await ctx.store.listFlows({ type, limit: 10 });
      expect(page.flows.map((f) => f.status)).toEqual(['pending', 'pending', 'pending']);
    });

    it('refuses zero, negative and fractional list limits, unknown statuses and foreign cursors', async () => {
      await expectCode(ctx.store.listFlows({ limit: 0 }), 'INVALID_ARGUMENT');
      await expectCode(ctx.store.listFlows({ limit: -5 }), 'INVALID_ARGUMENT');
      await expectCode(ctx.store.listFlows({ limit: 2.5 }), 'INVALID_ARGUMENT');
      await expectCode(ctx.store.listFlows({ status: 'bogus' as never }), 'INVALID_ARGUMENT');
      await expectCode(ctx.store.listFlows({ status: [] }), 'INVALID_ARGUMENT');
      await expectCode(ctx.store.listFlows({ since: Number.NaN }), 'INVALID_ARGUMENT');
      await expectCode(ctx.store.listFlows({ cursor: 'not-a-cursor' }), 'INVALID_ARGUMENT');
    });

    it('refuses NaN and infinite times everywhere', async () => {
      await expectCode(ctx.store.createFlow(newFlow({ runAt: Number.NaN })), 'INVALID_ARGUMENT');
      await expectCode(ctx.store.createFlow(newFlow({ now: Number.POSITIVE_INFINITY })), 'INVALID_ARGUMENT');
      const { flow, token } = await createAndClaim(ctx.store);
      const lease = { flowId: flow.id, token };
      await expectCode(
        ctx.store.renewLease({ ...lease, leaseMs: 1000, now: Number.NaN }),
        'INVALID_ARGUMENT',
      );
      await expectCode(
        ctx.store.claim({
          workerId: 'w',
          types: ['t'],
          queues: ['q'],
          limit: 1,
          leaseMs: Number.NaN,
          now: T0,
        }),
        'INVALID_ARGUMENT',
      );
      const timer: Wait = { kind: 'timer', at: Number.NaN, position: 0 };
      await expectCode(ctx.store.suspend({ ...lease, waits: [timer], now: T0 }), 'INVALID_ARGUMENT');
      await expectCode(ctx.store.purge({ finishedBefore: Number.NaN, limit: 10 }), 'INVALID_ARGUMENT');
      expect(await ctx.store.getFlow(flow.id)).toMatchObject({ status: 'running' });
    });

    it('refuses a record whose flow differs from its lease, and writes to neither flow', async () => {
      const a = await createAndClaim(ctx.store);
      const b = await createAndClaim(ctx.store);
      const record = op(b.flow.id, 0);
      await expectCode(
        ctx.store.recordOperation({ flowId: a.flow.id, token: a.token, record }),
        'INVALID_ARGUMENT',
      );
      await expectCode(
        ctx.store.consumeSignal({ flowId: a.flow.id, token: a.token, name: 's', record }),
        'INVALID_ARGUMENT',
      );
      expect(await ctx.store.getHistory(a.flow.id)).toEqual([]);
      expect(await ctx.store.getHistory(b.flow.id)).toEqual([]);
    });

    it('refuses malformed records, waits, statuses and ids', async () => {
      const { flow, token } = await createAndClaim(ctx.store);
      const lease = { flowId: flow.id, token };
      const bad = (fields: Partial<OperationRecord>) => ({
        ...lease,
        record: { ...op(flow.id, 0), ...fields },
      });
      await expectCode(ctx.store.recordOperation(bad({ position: -1 })), 'INVALID_ARGUMENT');
      await expectCode(ctx.store.recordOperation(bad({ kind: 'teleport' as never })), 'INVALID_ARGUMENT');
      await expectCode(ctx.store.recordOperation(bad({ status: 'done' as never })), 'INVALID_ARGUMENT');
      await expectCode(ctx.store.recordOperation(bad({ key: '' })), 'INVALID_ARGUMENT');
      await expectCode(ctx.store.suspend({ ...lease, waits: [], now: T0 }), 'INVALID_ARGUMENT');
      await expectCode(
        ctx.store.suspend({ ...lease, waits: [{ kind: 'nap' } as never], now: T0 }),
        'INVALID_ARGUMENT',
      );
      await expectCode(
        ctx.store.finishFlow({ ...lease, status: 'bogus' as never, now: T0 }),
        'INVALID_ARGUMENT',
      );
      const next = { workerId: 'w1', types: [flow.type], queues: [flow.queue], limit: 1, leaseMs: 1000 };
      for (const wrong of [
        { ...next, limit: 0 },
        { ...next, leaseMs: 0 },
        { ...next, types: [] },
        { ...next, queues: [flow.queue, flow.queue] },
      ]) {
        await expectCode(
          ctx.store.finishFlow({ ...lease, status: 'completed', result: '1', now: T0, next: wrong }),
          'INVALID_ARGUMENT',
        );
      }
      await expectCode(ctx.store.getFlow('has space'), 'INVALID_ID');
      await expectCode(ctx.store.createFlow(newFlow({ id: '' })), 'INVALID_ID');
      await expectCode(ctx.store.createFlow(newFlow({ type: '' })), 'INVALID_ARGUMENT');
      await expectCode(ctx.store.purge({ finishedBefore: T0, limit: -1 }), 'INVALID_ARGUMENT');
      expect(await ctx.store.purge({ finishedBefore: T0, limit: 0 })).toBe(0);
      expect(await ctx.store.getHistory(flow.id)).toEqual([]);
      expect(await ctx.store.getFlow(flow.id)).toMatchObject({ status: 'running', fencingToken: token });
    });

    it('refuses every call after close with STORE_UNAVAILABLE, and closes once', async () => {
      const flow = newFlow();
      await ctx.store.createFlow(flow);
      await Promise.all([ctx.store.close(), ctx.store.close()]);
      expect(ctx.store.closed).toBe(true);
      await expectCode(ctx.store.getFlow(flow.id), 'STORE_UNAVAILABLE');
      await expectCode(ctx.store.createFlow(newFlow()), 'STORE_UNAVAILABLE');
      await expectCode(
        ctx.store.claim({
          workerId: 'w',
          types: [flow.type],
          queues: ['default'],
          limit: 1,
          leaseMs: 1,
          now: T0,
        }),
        'STORE_UNAVAILABLE',
      );
      await ctx.store.close();
    });

    it('gives up waiting when the call signal aborts', async () => {
      const controller = new AbortController();
      controller.abort();
      await expectCode(ctx.store.getFlow(uid(), { signal: controller.signal }), 'ABORTED');
      await expectCode(ctx.store.listFlows({ signal: controller.signal }), 'ABORTED');
    });
  });
}
