import { ErrorCode, NonRetryableError } from '@ergon/core';
import { describe, expect, it } from 'vitest';
import { ChildFlowFailedError, flow } from '../src/index.js';
import { freezable, harness, until } from './support.js';

describe('child flows', () => {
  const h = harness();

  it('derives the child id from the parent and position, and never starts a second child on replay', async () => {
    let childRuns = 0;
    const child = flow('kid', async (ctx, n: number) => ctx.run('count', () => ++childRuns && n * 2));
    const parent = flow('parent', async (ctx, n: number) => {
      await ctx.run('prep', () => n);
      const doubled = await ctx.child(child, n);
      await ctx.sleep('200ms'); // still ahead when the suspend is written, even under CI load
      return doubled;
    });
    // The first parent worker dies right after the child was started and the parent suspended.
    h.startWorker([child, parent]);
    const handle = await h.client.schedule(parent, 21, { flowId: 'p-1' });
    expect(await handle.result()).toBe(42);
    expect(childRuns).toBe(1);
    const kids = await h.client.list({ parentId: 'p-1' });
    expect(kids.flows.map((f) => f.id)).toEqual(['p-1/1']);
    expect((await h.client.get('p-1')).runCount).toBeGreaterThanOrEqual(2);
  });

  it('survives a parent crash between starting the child and recording its result', async () => {
    let childRuns = 0;
    const child = flow('kid2', async (ctx) => ctx.run('count', () => ++childRuns));
    const parent = flow('parent2', async (ctx) => ctx.child(child, undefined));
    const dying = freezable(h.store);
    h.startWorker([parent], { store: dying.store, lease: '100ms' });
    const handle = await h.client.schedule(parent, undefined, { flowId: 'p-2' });
    await until(async () => (await h.store.getFlow('p-2/0')) !== undefined);
    dying.freeze();
    h.startWorker([child, parent], { lease: '100ms' });
    expect(await handle.result()).toBe(1);
    expect(childRuns).toBe(1);
    expect((await h.client.list({ parentId: 'p-2' })).flows).toHaveLength(1);
  });

  it('fans out to 100 children and fans in their results', async () => {
    const square = flow('square', async (ctx, n: number) => ctx.run('sq', () => n * n));
    const fan = flow('fan', async (ctx, count: number) => {
      const results = await Promise.all(Array.from({ length: count }, (_, i) => ctx.child(square, i)));
      return results.reduce((a, b) => a + b, 0);
    });
    h.startWorker([square, fan], { concurrency: 20 });
    const handle = await h.client.schedule(fan, 100);
    expect(await handle.result()).toBe(
      Array.from({ length: 100 }, (_, i) => i * i).reduce((a, b) => a + b, 0),
    );
    expect((await h.client.list({ parentId: handle.id, limit: 1000 })).flows).toHaveLength(100);
  });

  it("delivers a child's failure to the parent as a typed error", async () => {
    const failing = flow('failing-kid', async () => {
      throw new NonRetryableError('kid broke');
    });
    const parent = flow('catching-parent', async (ctx) => {
      try {
        await ctx.child(failing, undefined);
        return 'no error';
      } catch (error) {
        const cause = (error as Error).cause as NonRetryableError;
        return [
          error instanceof ChildFlowFailedError,
          (error as ChildFlowFailedError).code,
          cause.code,
          cause.message,
        ];
      }
    });
    h.startWorker([failing, parent]);
    const handle = await h.client.schedule(parent, undefined);
    expect(await handle.result()).toEqual([
      true,
      ErrorCode.CHILD_FLOW_FAILED,
      ErrorCode.NON_RETRYABLE,
      'kid broke',
    ]);
  });
});
