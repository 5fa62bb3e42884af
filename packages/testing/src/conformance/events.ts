/**
 * Conformance: store events (capability `events`), and the runtime wrapper's
 * isolation of listeners.
 *
 * @module
 */
import type { StoreEvent } from '@ergon/core';
import { describe, expect, it } from 'vitest';
import { createAndClaim, eventually, newFlow, type SuiteContext, T0 } from './support.js';

export function eventCases(ctx: SuiteContext): void {
  describe('events', () => {
    it('emits ready, cancel-requested and finished events', async () => {
      const events: StoreEvent[] = [];
      const unsubscribe = subscribe(ctx, (e) => events.push(e));
      try {
        await new Promise((resolve) => setTimeout(resolve, 20)); // let a remote subscription settle
        const { flow, token } = await createAndClaim(ctx.store, { queue: 'evq' });
        await ctx.store.requestCancel({ flowId: flow.id, error: '["why"]', now: T0 });
        await eventually(() => events.some((e) => e.type === 'cancel-requested' && e.flowId === flow.id));
        await ctx.store.finishFlow({
          flowId: flow.id,
          token,
          status: 'cancelled',
          error: '["other"]',
          now: T0,
        });
        await eventually(() => events.some((e) => e.type === 'finished' && e.flowId === flow.id));
        expect(events.some((e) => e.type === 'ready' && e.queue === 'evq')).toBe(true);
      } finally {
        unsubscribe();
      }
    });

    it('emits a progress event naming the flow for each progress write', async () => {
      const events: StoreEvent[] = [];
      const unsubscribe = subscribe(ctx, (e) => events.push(e));
      try {
        await new Promise((resolve) => setTimeout(resolve, 20)); // let a remote subscription settle
        const { flow, token } = await createAndClaim(ctx.store);
        await ctx.store.setProgress({ flowId: flow.id, token, progress: '[0.5]', now: T0 + 1 });
        await eventually(() => events.some((e) => e.type === 'progress' && e.flowId === flow.id));
        await ctx.store.setProgress({ flowId: flow.id, token, progress: '[0.75]', now: T0 + 2 });
        await eventually(
          () => events.filter((e) => e.type === 'progress' && e.flowId === flow.id).length >= 2,
        );
        // A refused write tells nobody.
        await ctx.store
          .setProgress({ flowId: flow.id, token: token + 1, progress: '[1]', now: T0 + 3 })
          .catch(() => {});
        await new Promise((resolve) => setTimeout(resolve, 50));
        expect(events.filter((e) => e.type === 'progress' && e.flowId === flow.id)).toHaveLength(2);
      } finally {
        unsubscribe();
      }
    });

    it('isolates a listener that throws: the others still hear every event, nothing escapes', async () => {
      const uncaught: unknown[] = [];
      const onUncaught = (error: unknown) => uncaught.push(error);
      process.on('uncaughtException', onUncaught);
      const heard: StoreEvent[] = [];
      const stopBad = subscribe(ctx, () => {
        throw new Error('listener bug');
      });
      const stopGood = subscribe(ctx, (e) => heard.push(e));
      try {
        await new Promise((resolve) => setTimeout(resolve, 20));
        const a = newFlow({ queue: 'iso' });
        const b = newFlow({ queue: 'iso' });
        await ctx.store.createFlow(a);
        await ctx.store.createFlow(b);
        await eventually(() => heard.filter((e) => e.type === 'ready' && e.queue === 'iso').length >= 2);
        await new Promise((resolve) => setTimeout(resolve, 20));
        expect(uncaught).toEqual([]);
      } finally {
        stopBad();
        stopGood();
        process.off('uncaughtException', onUncaught);
      }
    });
  });
}

function subscribe(ctx: SuiteContext, listener: (event: StoreEvent) => void): () => void {
  const subscribe = ctx.store.subscribe;
  if (!subscribe) throw new Error('the store declares capability events but has no subscribe');
  return subscribe(listener);
}
