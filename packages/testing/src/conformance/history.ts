/**
 * Conformance: history records (first write wins) and suspension.
 *
 * @module
 */
import { describe, expect, it } from 'vitest';
import { createAndClaim, expectCode, newFlow, op, type SuiteContext, T0, uid } from './support.js';

export function historyCases(ctx: SuiteContext): void {
  describe('history', () => {
    it('stores records and returns them by position with every field intact', async () => {
      const { flow, token } = await createAndClaim(ctx.store);
      const lease = { flowId: flow.id, token };
      const records = [
        op(flow.id, 2, {
          kind: 'sleep',
          key: 'sleep#0',
          status: 'waiting',
          wakeAt: T0 + 100,
          result: undefined,
          finishedAt: undefined,
        }),
        op(flow.id, 0, { attempts: 3, result: '["paid",{"n":1}]', seq: 2 }),
        op(flow.id, 1, {
          status: 'failed',
          result: undefined,
          error: '[{"message":1},"boom"]',
          kind: 'run',
          key: 'inline#0',
        }),
      ];
      for (const r of records) {
        const res = await ctx.store.recordOperation({ ...lease, record: r });
        expect(res.existed).toBe(false);
        expect(res.cancelRequested).toBe(false);
      }
      const history = await ctx.store.getHistory(flow.id);
      expect(history.map((h) => h.position)).toEqual([0, 1, 2]);
      expect(history[0]).toMatchObject({
        key: 'step-0#0',
        kind: 'step',
        status: 'completed',
        attempts: 3,
        result: '["paid",{"n":1}]',
        startedAt: T0,
        finishedAt: T0 + 1,
      });
      expect(history[1]).toMatchObject({
        kind: 'run',
        key: 'inline#0',
        status: 'failed',
        error: '[{"message":1},"boom"]',
      });
      expect(history[1]?.result).toBeUndefined();
      expect(history[2]).toMatchObject({ kind: 'sleep', status: 'waiting', wakeAt: T0 + 100 });
      expect(history[2]?.finishedAt).toBeUndefined();
    });

    it('keeps the first final record: a later write at that position returns it unchanged', async () => {
      const { flow, token } = await createAndClaim(ctx.store);
      const lease = { flowId: flow.id, token };
      await ctx.store.recordOperation({ ...lease, record: op(flow.id, 0, { result: '["first"]' }) });
      const second = await ctx.store.recordOperation({
        ...lease,
        record: op(flow.id, 0, { result: '["second"]' }),
      });
      expect(second.existed).toBe(true);
      expect(second.record.result).toBe('["first"]');
      expect((await ctx.store.getHistory(flow.id)).map((h) => h.result)).toEqual(['["first"]']);
    });

    it('lets a final record replace a waiting one, never the reverse', async () => {
      const { flow, token } = await createAndClaim(ctx.store);
      const lease = { flowId: flow.id, token };
      const waiting = op(flow.id, 0, {
        status: 'waiting',
        attempts: 1,
        error: '["e1"]',
        wakeAt: T0 + 60_000,
        result: undefined,
      });
      await ctx.store.recordOperation({ ...lease, record: waiting });
      await ctx.store.recordOperation({
        ...lease,
        record: {
          ...waiting,
          attempts: 2,
          error: '["e2"]',
          wakeAt: T0 + 120_000,
        },
      });
      expect((await ctx.store.getHistory(flow.id))[0]).toMatchObject({
        status: 'waiting',
        attempts: 2,
        error: '["e2"]',
      });
      const final = await ctx.store.recordOperation({ ...lease, record: op(flow.id, 0, { attempts: 3 }) });
      expect(final.existed).toBe(false);
      const late = await ctx.store.recordOperation({ ...lease, record: waiting });
      expect(late.existed).toBe(true);
      expect(late.record).toMatchObject({ status: 'completed', attempts: 3 });
    });

    it('keeps records at any whole position, however large, in position order and first write wins', async () => {
      const { flow, token } = await createAndClaim(ctx.store);
      const lease = { flowId: flow.id, token };
      const positions = [2 ** 40, 0, 2 ** 20 + 3, 2 ** 20 - 1, 2 ** 20, 2 ** 31];
      for (const position of positions) {
        const res = await ctx.store.recordOperation({
          ...lease,
          record: op(flow.id, position, { result: `["${position}"]` }),
        });
        expect(res.existed).toBe(false);
      }
      const again = await ctx.store.recordOperation({
        ...lease,
        record: op(flow.id, 2 ** 20 + 3, { result: '["late"]' }),
      });
      expect(again).toMatchObject({
        existed: true,
        record: { position: 2 ** 20 + 3, result: `["${2 ** 20 + 3}"]` },
      });
      const history = await ctx.store.getHistory(flow.id);
      expect(history.map((h) => [h.position, h.result])).toEqual(
        [...positions].sort((a, b) => a - b).map((p) => [p, `["${p}"]`]),
      );
    });

    it('records exactly one winner under concurrent writes to one position', async () => {
      const { flow, token } = await createAndClaim(ctx.store);
      const lease = { flowId: flow.id, token };
      const results = await Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          ctx.store.recordOperation({ ...lease, record: op(flow.id, 7, { result: `["w${i}"]` }) }),
        ),
      );
      expect(results.filter((r) => !r.existed)).toHaveLength(1);
      expect(new Set(results.map((r) => r.record.result)).size).toBe(1);
      expect(await ctx.store.getHistory(flow.id)).toHaveLength(1);
    });

    it('refuses writes for an unknown flow', async () => {
      const id = uid();
      await expect(
        ctx.store.recordOperation({ ...{ flowId: id, token: 1 }, record: op(id, 0) }),
      ).rejects.toMatchObject({
        code: expect.stringMatching(/^(FLOW_NOT_FOUND|LEASE_LOST)$/),
      });
    });
  });

  describe('suspension and timers', () => {
    it('suspends on a future timer, wakes it when due, and gives it to exactly one worker', async () => {
      const { flow, token } = await createAndClaim(ctx.store);
      const result = await ctx.store.suspend({
        flowId: flow.id,
        token,
        waits: [{ kind: 'timer', at: T0 + 10_000, position: 0 }],
        now: T0 + 5,
      });
      expect(result.outcome).toBe('suspended');
      const stored = await ctx.store.getFlow(flow.id);
      expect(stored).toMatchObject({ status: 'suspended', runAt: T0 + 10_000 });
      expect(stored?.leaseOwner).toBeUndefined();
      expect(stored?.waits).toEqual([{ kind: 'timer', at: T0 + 10_000, position: 0 }]);
      expect(await ctx.store.nextWakeAt({ types: [flow.type], queues: ['default'] })).toBe(T0 + 10_000);

      const claimAt = (now: number, w: number) =>
        ctx.store.claim({
          workerId: `w${w}`,
          types: [flow.type],
          queues: ['default'],
          limit: 5,
          leaseMs: 60_000,
          now,
        });
      expect(await claimAt(T0 + 9_999, 0)).toEqual([]);
      const winners = (
        await Promise.all(Array.from({ length: 6 }, (_, w) => claimAt(T0 + 10_000, w)))
      ).flat();
      expect(winners).toHaveLength(1);
      expect(winners[0]?.flow.waits).toEqual([]);
    });

    it('answers ready, keeping the lease, when a timer is already due', async () => {
      const { flow, token } = await createAndClaim(ctx.store);
      const result = await ctx.store.suspend({
        flowId: flow.id,
        token,
        waits: [{ kind: 'timer', at: T0, position: 0 }],
        now: T0,
      });
      expect(result.outcome).toBe('ready');
      expect(await ctx.store.getFlow(flow.id)).toMatchObject({ status: 'running', fencingToken: token });
      await ctx.store.recordOperation({ ...{ flowId: flow.id, token }, record: op(flow.id, 0) });
    });

    it('suspends with no timer as not claimable by time', async () => {
      const { flow, token } = await createAndClaim(ctx.store);
      await ctx.store.suspend({
        flowId: flow.id,
        token,
        waits: [{ kind: 'signal', name: 'go', position: 0 }],
        now: T0,
      });
      expect((await ctx.store.getFlow(flow.id))?.runAt).toBeUndefined();
      expect(await ctx.store.nextWakeAt({ types: [flow.type], queues: ['default'] })).toBeUndefined();
      const none = await ctx.store.claim({
        workerId: 'w',
        types: [flow.type],
        queues: ['default'],
        limit: 1,
        leaseMs: 1000,
        now: T0 + 10 ** 9,
      });
      expect(none).toEqual([]);
    });

    it('wakes a parent waiting on a child when the child finishes, and answers ready if it already has', async () => {
      const parent = await createAndClaim(ctx.store);
      const childType = uid('child');
      const childId = `${parent.flow.id}/0`;
      await ctx.store.createFlow(newFlow({ id: childId, type: childType, parentId: parent.flow.id }));
      const suspended = await ctx.store.suspend({
        flowId: parent.flow.id,
        token: parent.token,
        waits: [{ kind: 'child', flowId: childId, position: 0 }],
        now: T0,
      });
      expect(suspended.outcome).toBe('suspended');
      const [child] = await ctx.store.claim({
        workerId: 'w',
        types: [childType],
        queues: ['default'],
        limit: 1,
        leaseMs: 1000,
        now: T0 + 1,
      });
      expect(child).toBeDefined();
      await ctx.store.finishFlow({
        flowId: childId,
        token: child?.token ?? 0,
        status: 'completed',
        result: '["done"]',
        now: T0 + 2,
      });
      expect(await ctx.store.getFlow(childId)).toMatchObject({
        status: 'completed',
        result: '["done"]',
        finishedAt: T0 + 2,
      });
      const [resumed] = await ctx.store.claim({
        workerId: 'w',
        types: [parent.flow.type],
        queues: ['default'],
        limit: 1,
        leaseMs: 1000,
        now: T0 + 2,
      });
      expect(resumed?.flow.id).toBe(parent.flow.id);
      const again = await ctx.store.suspend({
        flowId: parent.flow.id,
        token: resumed?.token ?? 0,
        waits: [{ kind: 'child', flowId: childId, position: 0 }],
        now: T0 + 3,
      });
      expect(again.outcome).toBe('ready');
    });

    it('finishes a flow: terminal, lease cleared, not claimable, fields stored', async () => {
      const { flow, token } = await createAndClaim(ctx.store);
      await ctx.store.finishFlow({
        flowId: flow.id,
        token,
        status: 'failed',
        error: '["boom"]',
        now: T0 + 7,
      });
      const stored = await ctx.store.getFlow(flow.id);
      expect(stored).toMatchObject({ status: 'failed', error: '["boom"]', finishedAt: T0 + 7 });
      expect(stored?.leaseOwner).toBeUndefined();
      const none = await ctx.store.claim({
        workerId: 'w',
        types: [flow.type],
        queues: ['default'],
        limit: 1,
        leaseMs: 1000,
        now: T0 + 10 ** 9,
      });
      expect(none).toEqual([]);
      await expectCode(
        ctx.store.finishFlow({ flowId: flow.id, token, status: 'completed', now: T0 + 8 }),
        'LEASE_LOST',
      );
    });
  });
}
