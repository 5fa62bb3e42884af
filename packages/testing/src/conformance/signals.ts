/**
 * Conformance: signals (buffered, FIFO per name, consumed once).
 *
 * @module
 */
import type { OperationRecord } from '@ergon/core';
import { describe, expect, it } from 'vitest';
import { createAndClaim, expectCode, newFlow, type SuiteContext, T0, uid } from './support.js';

function waitRecord(
  flowId: string,
  position: number,
  name: string,
): Omit<OperationRecord, 'result' | 'status'> {
  return {
    flowId,
    position,
    key: `${name}#${position}`,
    kind: 'signal',
    attempts: 1,
    startedAt: T0,
    finishedAt: T0 + 1,
  };
}

export function signalCases(ctx: SuiteContext): void {
  describe('signals', () => {
    it('refuses signals to unknown and finished flows with typed errors', async () => {
      await expectCode(
        ctx.store.sendSignal({ flowId: uid(), name: 'go', payload: '[1]', now: T0 }),
        'FLOW_NOT_FOUND',
      );
      const { flow, token } = await createAndClaim(ctx.store);
      await ctx.store.finishFlow({ flowId: flow.id, token, status: 'completed', result: '[1]', now: T0 });
      await expectCode(
        ctx.store.sendSignal({ flowId: flow.id, name: 'go', payload: '[1]', now: T0 }),
        'FLOW_FINISHED',
      );
    });

    it('buffers signals sent before the wait and delivers them FIFO per name, each once', async () => {
      const { flow, token } = await createAndClaim(ctx.store);
      const lease = { flowId: flow.id, token };
      for (const [name, payload] of [
        ['a', '["a1"]'],
        ['b', '["b1"]'],
        ['a', '["a2"]'],
      ] as const) {
        await ctx.store.sendSignal({ flowId: flow.id, name, payload, now: T0 });
      }
      const buffered = await ctx.store.getSignals(flow.id);
      expect(buffered.map((s) => [s.name, s.payload])).toEqual([
        ['a', '["a1"]'],
        ['b', '["b1"]'],
        ['a', '["a2"]'],
      ]);
      expect(buffered[0]?.seq).toBeLessThan(buffered[2]?.seq ?? 0);

      const first = await ctx.store.consumeSignal({
        ...lease,
        name: 'a',
        record: waitRecord(flow.id, 0, 'a'),
      });
      expect(first?.record).toMatchObject({
        status: 'completed',
        result: '["a1"]',
        kind: 'signal',
        position: 0,
      });
      const second = await ctx.store.consumeSignal({
        ...lease,
        name: 'a',
        record: waitRecord(flow.id, 1, 'a'),
      });
      expect(second?.record.result).toBe('["a2"]');
      expect(
        await ctx.store.consumeSignal({ ...lease, name: 'a', record: waitRecord(flow.id, 2, 'a') }),
      ).toBeUndefined();
      const b = await ctx.store.consumeSignal({ ...lease, name: 'b', record: waitRecord(flow.id, 3, 'b') });
      expect(b?.record.result).toBe('["b1"]');
      expect(await ctx.store.getSignals(flow.id)).toEqual([]);
      expect((await ctx.store.getHistory(flow.id)).map((h) => h.result)).toEqual([
        '["a1"]',
        '["a2"]',
        '["b1"]',
      ]);
    });

    it('is idempotent per position: consuming again at a recorded position takes nothing', async () => {
      const { flow, token } = await createAndClaim(ctx.store);
      const lease = { flowId: flow.id, token };
      await ctx.store.sendSignal({ flowId: flow.id, name: 'a', payload: '["a1"]', now: T0 });
      await ctx.store.sendSignal({ flowId: flow.id, name: 'a', payload: '["a2"]', now: T0 });
      await ctx.store.consumeSignal({ ...lease, name: 'a', record: waitRecord(flow.id, 0, 'a') });
      const retry = await ctx.store.consumeSignal({
        ...lease,
        name: 'a',
        record: waitRecord(flow.id, 0, 'a'),
      });
      expect(retry?.existed).toBe(true);
      expect(retry?.record.result).toBe('["a1"]');
      expect((await ctx.store.getSignals(flow.id)).map((s) => s.payload)).toEqual(['["a2"]']);
    });

    it('consumes each signal exactly once under concurrent consumers', async () => {
      const { flow, token } = await createAndClaim(ctx.store);
      const lease = { flowId: flow.id, token };
      for (let i = 0; i < 5; i++)
        await ctx.store.sendSignal({ flowId: flow.id, name: 'x', payload: `[${i}]`, now: T0 });
      const results = await Promise.all(
        Array.from({ length: 8 }, (_, p) =>
          ctx.store.consumeSignal({ ...lease, name: 'x', record: waitRecord(flow.id, p, 'x') }),
        ),
      );
      const payloads = results.flatMap((r) => (r ? [r.record.result] : []));
      expect(payloads.sort()).toEqual(['[0]', '[1]', '[2]', '[3]', '[4]']);
    });

    it('wakes a flow suspended on that signal name, and only that name', async () => {
      const { flow, token } = await createAndClaim(ctx.store);
      await ctx.store.suspend({
        flowId: flow.id,
        token,
        waits: [{ kind: 'signal', name: 'approve', position: 0 }],
        now: T0,
      });
      const claim = (now: number) =>
        ctx.store.claim({
          workerId: 'w',
          types: [flow.type],
          queues: ['default'],
          limit: 1,
          leaseMs: 1000,
          now,
        });
      await ctx.store.sendSignal({ flowId: flow.id, name: 'unrelated', payload: '[0]', now: T0 + 1 });
      expect(await claim(T0 + 1)).toEqual([]);
      await ctx.store.sendSignal({ flowId: flow.id, name: 'approve', payload: '[1]', now: T0 + 2 });
      const [woken] = await claim(T0 + 2);
      expect(woken?.flow.id).toBe(flow.id);
    });

    it('answers ready when a waited signal is already buffered', async () => {
      const { flow, token } = await createAndClaim(ctx.store);
      await ctx.store.sendSignal({ flowId: flow.id, name: 'approve', payload: '[1]', now: T0 });
      const result = await ctx.store.suspend({
        flowId: flow.id,
        token,
        waits: [
          { kind: 'signal', name: 'approve', position: 0 },
          { kind: 'timer', at: T0 + 1000, position: 1 },
        ],
        now: T0,
      });
      expect(result.outcome).toBe('ready');
    });

    it('accepts signals to pending and suspended flows', async () => {
      const pending = newFlow();
      await ctx.store.createFlow(pending);
      await ctx.store.sendSignal({ flowId: pending.id, name: 'early', payload: '[1]', now: T0 });
      expect(await ctx.store.getSignals(pending.id)).toHaveLength(1);
    });
  });
}
