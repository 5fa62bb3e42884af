/**
 * Conformance: creating a flow already claimed (`NewFlow.claim`), natively
 * (`capabilities.claimOnCreate`) or by the runtime wrapper, and creates in
 * batches (`createFlows`, optional). Through the wrapper, so every store is
 * held to the same observable rules.
 *
 * @module
 */
import type { NewFlow } from '@ergon/core';
import { describe, expect, it } from 'vitest';
import { newFlow, op, type SuiteContext, T0, uid } from './support.js';

const claim = { workerId: 'w-create', leaseMs: 30_000 };

export function createClaimCases(ctx: SuiteContext): void {
  describe('creating a flow already claimed', () => {
    it('creates and claims a due flow in one call; the claim is a claim like any other', async () => {
      const flow = newFlow({ type: uid('type'), claim });
      const result = await ctx.store.createFlow(flow);
      expect(result.created).toBe(true);
      expect(result.claimed?.token).toBeGreaterThanOrEqual(1);
      expect(result.flow).toMatchObject({
        id: flow.id,
        status: 'running',
        leaseOwner: 'w-create',
        leaseExpiresAt: T0 + 30_000,
        runCount: 1,
      });
      const token = result.claimed?.token ?? 0;
      expect(await ctx.store.getFlow(flow.id)).toMatchObject({ status: 'running', fencingToken: token });
      // Held: nobody else claims it, and writes go under its token.
      const other = await ctx.store.claim({
        workerId: 'w2',
        types: [flow.type],
        queues: ['default'],
        limit: 5,
        leaseMs: 1000,
        now: T0 + 1,
      });
      expect(other).toEqual([]);
      await ctx.store.recordOperation({ flowId: flow.id, token, record: op(flow.id, 0) });
      await ctx.store.finishFlow({ flowId: flow.id, token, status: 'completed', result: '[1]', now: T0 + 2 });
      expect(await ctx.store.getFlow(flow.id)).toMatchObject({ status: 'completed', runCount: 1 });
    });

    it('returns an existing flow as it is, unclaimed, and creates a flow due later unclaimed', async () => {
      const first = await ctx.store.createFlow(newFlow({ type: uid('type'), claim }));
      const again = await ctx.store.createFlow({
        ...newFlow({ id: first.flow.id }),
        claim: { ...claim, workerId: 'w2' },
      });
      expect(again.created).toBe(false);
      expect(again.claimed).toBeUndefined();
      expect(again.flow).toMatchObject({ status: 'running', leaseOwner: 'w-create', runCount: 1 });
      const later = await ctx.store.createFlow(newFlow({ type: uid('type'), runAt: T0 + 60_000, claim }));
      expect(later.created).toBe(true);
      expect(later.claimed).toBeUndefined();
      expect(later.flow).toMatchObject({ status: 'pending', runAt: T0 + 60_000, runCount: 0 });
    });

    it('keeps a queue limit: a create in a full queue stays pending', async (t) => {
      if (!ctx.store.capabilities.flowControl) return t.skip('the store has no flow control');
      const queue = uid('q');
      await ctx.store.configureQueue({ queue, limits: { concurrency: 1 }, now: T0 });
      const type = uid('type');
      const a = await ctx.store.createFlow(newFlow({ type, queue, claim }));
      const b = await ctx.store.createFlow(newFlow({ type, queue, claim }));
      expect(a.claimed).toBeDefined();
      expect(b.claimed).toBeUndefined();
      expect(b.flow.status).toBe('pending');
      await ctx.store.configureQueue({ queue, limits: undefined, now: T0 });
    });

    it('gives each of many concurrent creates its own result', async () => {
      const type = uid('type');
      const flows = Array.from({ length: 40 }, (_, i) =>
        newFlow({ type, ...(i % 2 === 0 ? { claim } : {}), input: `[${i}]` }),
      );
      const results = await Promise.all(flows.map((flow) => ctx.store.createFlow(flow)));
      results.forEach((result, i) => {
        expect(result.created).toBe(true);
        expect(result.flow.id).toBe(flows[i]?.id);
        expect(result.flow.input).toBe(`[${i}]`);
        expect(result.flow.status).toBe(i % 2 === 0 ? 'running' : 'pending');
        expect(result.claimed !== undefined).toBe(i % 2 === 0);
      });
      const rest = await ctx.store.claim({
        workerId: 'w2',
        types: [type],
        queues: ['default'],
        limit: 100,
        leaseMs: 1000,
        now: T0,
      });
      expect(rest.map((c) => c.flow.id).sort()).toEqual(
        flows
          .filter((_, i) => i % 2 === 1)
          .map((f) => f.id)
          .sort(),
      );
    });
  });

  describe('creates in batches', () => {
    it('applies each create of a batch as its single call, in order', async (t) => {
      const inner = ctx.store.inner;
      if (!inner.createFlows) return t.skip('the store takes no batches of creates: single calls only');
      const type = uid('type');
      const a = newFlow({ type });
      const b: NewFlow = { ...newFlow({ type }), ...(ctx.store.capabilities.claimOnCreate ? { claim } : {}) };
      const outcomes = await inner.createFlows([a, { ...a, input: '["second"]' }, b]);
      expect(outcomes).toHaveLength(3);
      expect(outcomes[0]).toMatchObject({
        ok: true,
        value: { created: true, flow: { id: a.id, input: '["in"]' } },
      });
      // The second create of one id finds the first: first write wins inside a batch too.
      expect(outcomes[1]).toMatchObject({
        ok: true,
        value: { created: false, flow: { id: a.id, input: '["in"]' } },
      });
      expect(outcomes[2]).toMatchObject({ ok: true, value: { created: true, flow: { id: b.id } } });
      if (ctx.store.capabilities.claimOnCreate) {
        expect(outcomes[2]).toMatchObject({ ok: true, value: { flow: { status: 'running' } } });
      }
      expect(await ctx.store.getFlow(a.id)).toMatchObject({ status: 'pending', input: '["in"]' });
    });

    it('de-duplicates by key within a batch as calls one after the other would', async (t) => {
      const inner = ctx.store.inner;
      if (!inner.createFlows) return t.skip('the store takes no batches of creates: single calls only');
      if (!ctx.store.capabilities.flowControl) return t.skip('the store has no flow control');
      const type = uid('type');
      const dedup = { key: uid('k'), forMs: 60_000 };
      const outcomes = await inner.createFlows([newFlow({ type, dedup }), newFlow({ type, dedup })]);
      const [first, second] = outcomes;
      expect(first).toMatchObject({ ok: true, value: { created: true } });
      expect(second).toMatchObject({ ok: true, value: { created: false } });
      if (first?.ok && second?.ok) expect(second.value.flow.id).toBe(first.value.flow.id);
    });
  });
}
