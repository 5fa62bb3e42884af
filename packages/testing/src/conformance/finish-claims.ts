/**
 * Conformance: a finish that claims its worker's next flows (capability
 * `finishClaims`, `FinishRequest.next`): the claim is made after the finish,
 * in the same call, as `claim` would make it, and never by a refused finish.
 *
 * @module
 */
import type { ClaimedFlow, FinishRequest, NextClaim } from '@ergon/core';
import { describe, expect, it } from 'vitest';
import {
  createAndClaim,
  eventually,
  expectCode,
  newFlow,
  newPair,
  op,
  type Pair,
  type SuiteContext,
  T0,
  withEvents,
} from './support.js';

export function finishClaimCases(ctx: SuiteContext): void {
  describe('finish claims the next flows', () => {
    /** The next claim of `pair` by worker w1. */
    const next = (pair: Pair, limit: number, park?: boolean): NextClaim => ({
      workerId: 'w1',
      types: [pair.type],
      queues: [pair.queue],
      limit,
      leaseMs: 30_000,
      ...(park ? { park } : {}),
    });
    /** Creates a flow of `pair` and claims exactly it. */
    const running = (pair: Pair) => createAndClaim(ctx.store, pair);
    const finish = (c: ClaimedFlow, extra: Partial<FinishRequest>): FinishRequest => ({
      flowId: c.flow.id,
      token: c.token,
      status: 'completed',
      result: '"done"',
      now: T0 + 10,
      ...extra,
    });

    it('finishes, then claims the ready flows as a claim would, highest priority first, up to the limit', async () => {
      const pair = newPair();
      const current = await running(pair);
      const low = newFlow({ ...pair, priority: 0 });
      const high = newFlow({ ...pair, priority: 5 });
      const third = newFlow({ ...pair, priority: 1 });
      for (const f of [low, high, third]) await ctx.store.createFlow(f);

      // Limit 1 for the order: a store of several partitions orders a larger claim only roughly.
      const result = await ctx.store.finishFlow(finish(current, { next: next(pair, 1) }));
      expect(result?.claimed?.map((c) => c.flow.id)).toEqual([high.id]);
      const [first] = result?.claimed ?? [];
      if (!first) throw new Error('unreachable');
      expect(first.token).toBe(1);
      expect(first.flow).toMatchObject({
        status: 'running',
        leaseOwner: 'w1',
        leaseExpiresAt: T0 + 10 + 30_000,
        runCount: 1,
        fencingToken: 1,
      });
      expect(await ctx.store.getFlow(current.flow.id)).toMatchObject({
        status: 'completed',
        result: '"done"',
      });
      expect(await ctx.store.getFlow(low.id)).toMatchObject({ status: 'pending' });
      // The claim is the worker's: its token writes, and its finish claims in turn, up to the limit.
      await ctx.store.recordOperation({
        flowId: first.flow.id,
        token: first.token,
        record: op(first.flow.id, 0),
      });
      const after = await ctx.store.finishFlow(finish(first, { next: next(pair, 5) }));
      expect(after?.claimed?.map((c) => c.flow.id).sort()).toEqual([low.id, third.id].sort());
      for (const c of after?.claimed ?? [])
        expect(c.flow).toMatchObject({ status: 'running', leaseOwner: 'w1' });
    });

    it('answers an empty claim when nothing is ready, and without next answers no claim', async () => {
      const pair = newPair();
      const a = await running(pair);
      expect((await ctx.store.finishFlow(finish(a, { next: next(pair, 3) })))?.claimed).toEqual([]);
      const b = await running(pair);
      expect((await ctx.store.finishFlow(finish(b, {})))?.claimed).toBeUndefined();
    });

    it('claims nothing when the finish is refused (a stale token)', async () => {
      const pair = newPair();
      const current = await running(pair);
      const waiting = newFlow(pair);
      await ctx.store.createFlow(waiting);
      await expectCode(
        ctx.store.finishFlow(finish(current, { token: current.token + 1, next: next(pair, 1) })),
        'LEASE_LOST',
      );
      expect(await ctx.store.getFlow(waiting.id)).toMatchObject({ status: 'pending' });
      expect(await ctx.store.getFlow(current.flow.id)).toMatchObject({ status: 'running' });
    });

    it('claims after the records written before the finish in one batch', async () => {
      const pair = newPair();
      const current = await running(pair);
      const waiting = newFlow(pair);
      await ctx.store.createFlow(waiting);
      const lease = { flowId: current.flow.id, token: current.token };
      const outcomes = await ctx.store.writeInOrder([
        { op: 'record', request: { ...lease, record: op(current.flow.id, 0) } },
        { op: 'finish', request: finish(current, { next: next(pair, 4) }) },
      ]);
      expect(outcomes.map((o) => o.ok)).toEqual([true, true]);
      const value = outcomes[1]?.ok ? outcomes[1].value : undefined;
      expect((value as { claimed?: ClaimedFlow[] } | undefined)?.claimed?.map((c) => c.flow.id)).toEqual([
        waiting.id,
      ]);
      expect(await ctx.store.getHistory(current.flow.id)).toHaveLength(1);
    });

    it('never claims one flow twice, nor more than asked, when finishes with next meet', async () => {
      const pair = newPair();
      const runs: ClaimedFlow[] = [];
      for (let i = 0; i < 6; i++) runs.push(await running(pair));
      const ready = Array.from({ length: 4 }, () => newFlow(pair));
      for (const f of ready) await ctx.store.createFlow(f);
      const results = await Promise.all(
        runs.map((r) => ctx.store.finishFlow(finish(r, { next: next(pair, 1) }))),
      );
      const claimed = results.flatMap((r) => r?.claimed ?? []);
      for (const r of results) expect(r?.claimed?.length ?? 0).toBeLessThanOrEqual(1);
      expect(new Set(claimed.map((c) => c.flow.id)).size).toBe(claimed.length);
      expect(claimed.map((c) => c.flow.id).sort()).toEqual(ready.map((f) => f.id).sort());
    });

    it('parks its worker when it asks to and takes fewer than its limit (stores with hand-off)', async ({
      skip,
    }) => {
      if (ctx.store.capabilities.handOff !== true) return skip('the store has no hand-off: no worker parks');
      const pair = newPair();
      const current = await running(pair);
      await withEvents(ctx, async (events) => {
        const parking = { ...next(pair, 2, true), workerId: 'parked-next' };
        expect((await ctx.store.finishFlow(finish(current, { next: parking })))?.claimed).toEqual([]);
        const { flow } = await ctx.store.createFlow(newFlow({ ...pair, now: T0 + 20 }));
        expect(flow).toMatchObject({ status: 'running', leaseOwner: 'parked-next' });
        await eventually(() => events.some((e) => e.type === 'handed' && e.flowId === flow.id));
      });
    });
  });
}
