/**
 * Conformance: creating, reading and listing flows.
 *
 * @module
 */
import { describe, expect, it } from 'vitest';
import { expectCode, newFlow, type SuiteContext, T0, uid } from './support.js';

export function flowCases(ctx: SuiteContext): void {
  describe('flows', () => {
    it('creates a pending flow with the given fields', async () => {
      const input = newFlow({ input: '["hello"]', priority: 3, traceContext: '00-abc-def-01' });
      const { flow, created } = await ctx.store.createFlow(input);
      expect(created).toBe(true);
      expect(flow).toMatchObject({
        id: input.id,
        type: 'order',
        queue: 'default',
        status: 'pending',
        priority: 3,
        input: '["hello"]',
        runAt: T0,
        fencingToken: 0,
        cancelRequested: false,
        runCount: 0,
        traceContext: '00-abc-def-01',
        createdAt: T0,
      });
      expect(flow.waits).toEqual([]);
      expect(await ctx.store.getFlow(input.id)).toMatchObject({ id: input.id, status: 'pending' });
    });

    it('is idempotent by id: a second create returns the existing flow unchanged', async () => {
      const input = newFlow();
      await ctx.store.createFlow(input);
      const again = await ctx.store.createFlow({ ...input, input: '["other"]', type: 'other' });
      expect(again.created).toBe(false);
      expect(again.flow.input).toBe(input.input);
      expect(again.flow.type).toBe('order');
    });

    it('creates exactly one flow under concurrent creates of the same id', async () => {
      const input = newFlow();
      const results = await Promise.all(Array.from({ length: 10 }, () => ctx.store.createFlow(input)));
      expect(results.filter((r) => r.created)).toHaveLength(1);
      expect(new Set(results.map((r) => r.flow.id)).size).toBe(1);
    });

    it('returns undefined and empty lists for an unknown flow', async () => {
      expect(await ctx.store.getFlow(uid())).toBeUndefined();
      expect(await ctx.store.getHistory(uid())).toEqual([]);
      expect(await ctx.store.getSignals(uid())).toEqual([]);
    });

    it('lists newest first with filters and a cursor that visits each flow once', async () => {
      const type = uid('list');
      const ids: string[] = [];
      for (let i = 0; i < 25; i++) {
        const input = newFlow({ type, now: T0 + i, queue: i % 2 === 0 ? 'even' : 'odd' });
        ids.push(input.id);
        await ctx.store.createFlow(input);
      }
      const seen: string[] = [];
      let cursor: string | undefined;
      let pages = 0;
      do {
        const page = await ctx.store.listFlows({ type, limit: 10, cursor });
        seen.push(...page.flows.map((f) => f.id));
        cursor = page.nextCursor;
        pages++;
      } while (cursor && pages < 10);
      expect(pages).toBe(3);
      expect(seen).toEqual([...ids].reverse());

      const even = await ctx.store.listFlows({ type, queue: 'even', limit: 100 });
      expect(even.flows).toHaveLength(13);
      expect(even.nextCursor).toBeUndefined();
      const recent = await ctx.store.listFlows({ type, since: T0 + 20 });
      expect(recent.flows.map((f) => f.id)).toEqual(ids.slice(20).reverse());
      const running = await ctx.store.listFlows({ type, status: ['running', 'completed'] });
      expect(running.flows).toEqual([]);
      const pending = await ctx.store.listFlows({ type, status: 'pending', limit: 1000 });
      expect(pending.flows).toHaveLength(25);
    });

    it('lists children by parent id', async () => {
      const parent = newFlow();
      await ctx.store.createFlow(parent);
      const child = newFlow({ id: `${parent.id}/1`, parentId: parent.id });
      await ctx.store.createFlow(child);
      const page = await ctx.store.listFlows({ parentId: parent.id });
      expect(page.flows.map((f) => f.id)).toEqual([child.id]);
      expect(page.flows[0]?.parentId).toBe(parent.id);
    });

    it('refuses a malformed cursor with INVALID_ARGUMENT', async () => {
      await expectCode(ctx.store.listFlows({ cursor: 'not-a-cursor' }), 'INVALID_ARGUMENT');
    });
  });
}
