// A run's finish claims its worker's next flows in the same store call (`FinishRequest.next`), on
// every store (each declares capability finishClaims), and a worker that stopped claiming while
// such a finish was in flight gives what it claimed back in its place.
import type { BatchWrite, ClaimRequest, ExecutionLog, FinishRequest } from '@ergon/core';
import { describe, expect, it } from 'vitest';
import { flow } from '../src/index.js';
import { harness, until } from './support.js';

/** How many claims of `store` took flows, from now on. */
function countTakingClaims(store: ExecutionLog): { taking: number } {
  const count = { taking: 0 };
  const claim = store.claim.bind(store);
  store.claim = async (request: ClaimRequest) => {
    const flows = await claim(request);
    if (flows.length > 0) count.taking++;
    return flows;
  };
  return count;
}

/**
 * Holds back the answer of the store call that finishes `flowId` (run, then held) until
 * `release()`; `sent` resolves once that call ran.
 */
function holdFinishReply(store: ExecutionLog, flowId: string) {
  let release!: () => void;
  const gate = new Promise<void>((resolve) => {
    release = resolve;
  });
  let ran!: () => void;
  const sent = new Promise<void>((resolve) => {
    ran = resolve;
  });
  const finishes = (request: FinishRequest) => request.flowId === flowId;
  const finishFlow = store.finishFlow.bind(store);
  store.finishFlow = async (request) => {
    const result = await finishFlow(request);
    if (finishes(request)) {
      ran();
      await gate;
    }
    return result;
  };
  const applyWrites = store.applyWrites?.bind(store);
  if (applyWrites) {
    store.applyWrites = async (writes: readonly BatchWrite[]) => {
      const outcomes = await applyWrites(writes);
      if (writes.some((w) => w.op === 'finish' && finishes(w.request))) {
        ran();
        await gate;
      }
      return outcomes;
    };
  }
  return { sent, release };
}

describe('a finish claims the next flows', () => {
  const h = harness();

  it('at concurrency 1, takes each next flow with the finish of the one before', async () => {
    expect(h.store.capabilities.finishClaims).toBe(true);
    const echo = flow('next-echo', async (ctx, n: number) => ctx.run('double', () => n * 2));
    const handles = [];
    for (let i = 0; i < 10; i++) handles.push(await h.client.schedule(echo, i));
    const claims = countTakingClaims(h.store);
    h.startWorker([echo], { concurrency: 1 });
    for (const [i, handle] of handles.entries()) expect(await handle.result({ timeout: '10s' })).toBe(i * 2);
    // The loop's first claim took the first flow; every other came with a finish.
    expect(claims.taking).toBe(1);
    for (const handle of handles) expect((await handle.get()).runCount).toBe(1);
  });

  it("sends an idle worker's finish alone (stores with hand-off), its reply not held up by a claim likely to find nothing", async ({
    skip,
  }) => {
    // Where a store hands new flows to idle workers (Redis, PostgreSQL): elsewhere an idle worker's
    // loop claims each flow, taking all it asked for, and the finish then claims as under load.
    if (h.store.capabilities.handOff !== true)
      return skip('the store has no hand-off: an idle worker claims each flow itself');
    const echo = flow('next-idle', async (ctx, n: number) => ctx.run('double', () => n * 2));
    const nexts: boolean[] = [];
    const finishFlow = h.store.finishFlow.bind(h.store);
    h.store.finishFlow = (request) => {
      nexts.push(request.next !== undefined);
      return finishFlow(request);
    };
    const applyWrites = h.store.applyWrites?.bind(h.store);
    if (applyWrites) {
      h.store.applyWrites = (writes: readonly BatchWrite[]) => {
        for (const w of writes) if (w.op === 'finish') nexts.push(w.request.next !== undefined);
        return applyWrites(writes);
      };
    }
    const claims = countTakingClaims(h.store);
    const worker = h.startWorker([echo], { concurrency: 1 });
    await until(() => worker.running, 5000, 'the worker to start');
    await new Promise((resolve) => setTimeout(resolve, 100));
    for (let i = 0; i < 3; i++)
      expect(await (await h.client.schedule(echo, i)).result({ timeout: '5s' })).toBe(i * 2);
    // Each flow found the worker idle (handed to it, or claimed by its loop): no finish claimed.
    expect(nexts).toEqual([false, false, false]);
    expect(claims.taking).toBeLessThanOrEqual(3);
  });

  it('gives back, in its place, what a finish claimed for a worker paused meanwhile', async () => {
    const work = flow('next-paused', async (ctx, n: number) => ctx.run('work', () => n));
    const first = await h.client.schedule(work, 1, { priority: 10 });
    const second = await h.client.schedule(work, 2);
    const held = holdFinishReply(h.store, first.id);
    const worker = h.startWorker([work], { concurrency: 1, id: 'pausing-next' });
    await held.sent;
    // The finish of the first ran and claimed the second; its answer is held back.
    expect(await second.get()).toMatchObject({ status: 'running', leaseOwner: 'pausing-next' });
    const pausing = worker.pause();
    held.release();
    await pausing;
    expect(await first.status()).toBe('completed');
    const given = await second.get();
    expect(given).toMatchObject({ status: 'pending', abandonedRuns: 0 });
    expect(given.leaseOwner).toBeUndefined();
    worker.resume();
    expect(await second.result({ timeout: '5s' })).toBe(2);
    await until(async () => (await second.get()).status === 'completed', 5000, 'the second to complete');
  });
});
