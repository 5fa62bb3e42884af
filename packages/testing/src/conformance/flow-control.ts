/**
 * Conformance: flow control (`capabilities.flowControl`, core's `queues.ts`):
 * queue concurrency, sliding-window rate limits, per-key concurrency, fair
 * order across keys, de-duplication and debounce, all kept by the store; an
 * imported flow keeps its flow-control fields.
 *
 * @module
 */
import type { ClaimRequest, FlowRecord, QueueLimits } from '@ergon/core';
import { describe, expect, it } from 'vitest';
import { expectCode, newFlow, type SuiteContext, T0, uid } from './support.js';

export function flowControlCases(ctx: SuiteContext): void {
  /** A fresh queue and type with these limits. */
  async function limitedQueue(limits: QueueLimits | undefined): Promise<{ queue: string; type: string }> {
    const queue = uid('q');
    const type = uid('t');
    if (limits) await ctx.store.configureQueue({ queue, limits, now: T0 });
    return { queue, type };
  }

  function claim(
    where: { queue: string; type: string },
    now: number,
    limit = 100,
    more: Partial<ClaimRequest> = {},
  ) {
    return ctx.store.claim({
      workerId: 'w1',
      types: [where.type],
      queues: [where.queue],
      limit,
      leaseMs: 60_000,
      now,
      ...more,
    });
  }

  async function createMany(where: { queue: string; type: string }, n: number, extra = {}, now = T0) {
    const ids: string[] = [];
    for (let i = 0; i < n; i++) {
      const flow = newFlow({ ...where, ...extra, now, runAt: now });
      await ctx.store.createFlow(flow);
      ids.push(flow.id);
    }
    return ids;
  }

  describe('flow control', () => {
    it('refuses bad queue limits with INVALID_FLOW_CONTROL', async () => {
      const queue = uid('q');
      const bad: unknown[] = [
        { concurrency: -1 },
        { concurrency: 0 },
        { concurrency: 1.5 },
        { rate: { limit: 0, periodMs: 1000 } },
        { rate: { limit: 5, periodMs: 0 } },
        { keyConcurrency: Number.NaN },
        { keyWeights: { a: 0 } },
        { maxRunning: 3 },
      ];
      for (const limits of bad) {
        await expectCode(
          ctx.store.configureQueue({ queue, limits: limits as QueueLimits, now: T0 }),
          'INVALID_FLOW_CONTROL',
        );
      }
      await expectCode(
        ctx.store.createFlow(newFlow({ concurrencyKey: 'k', concurrencyLimit: 0 })),
        'INVALID_FLOW_CONTROL',
      );
      await expectCode(
        ctx.store.createFlow(newFlow({ debounce: { key: 'k', delayMs: -5 } })),
        'INVALID_FLOW_CONTROL',
      );
      expect((await ctx.store.getQueueState({ queue, now: T0 })).limits).toBeUndefined();
    });

    it('never leaves more flows of a queue running than its concurrency, and frees a slot when one stops', async () => {
      const where = await limitedQueue({ concurrency: 2 });
      await createMany(where, 5);
      const first = await claim(where, T0);
      expect(first).toHaveLength(2);
      expect(await claim(where, T0 + 1)).toHaveLength(0);
      const [a, b] = first;
      if (!a || !b) throw new Error('unreachable');
      await ctx.store.finishFlow({ flowId: a.flow.id, token: a.token, status: 'completed', now: T0 + 2 });
      expect(await claim(where, T0 + 3)).toHaveLength(1);
      await ctx.store.suspend({
        flowId: b.flow.id,
        token: b.token,
        waits: [{ kind: 'signal', name: 'go', position: 0 }],
        now: T0 + 4,
      });
      expect(await claim(where, T0 + 5)).toHaveLength(1);
      expect((await ctx.store.getQueueState({ queue: where.queue, now: T0 + 5 })).running).toBe(2);
      // Leases that expired no longer count: a dead worker's slots come back by themselves.
      const later = await claim(where, T0 + 5 + 60_000);
      expect(later).toHaveLength(2);
    });

    it('holds the concurrency under competing claimers', async () => {
      const where = await limitedQueue({ concurrency: 3 });
      await createMany(where, 20);
      const results = await Promise.all(
        Array.from({ length: 8 }, (_, i) => claim(where, T0, 5, { workerId: `w${i}` })),
      );
      expect(results.flat()).toHaveLength(3);
    });

    it('never starts more than the rate in any window of the period (a sliding window, not a fixed one)', async () => {
      const where = await limitedQueue({ rate: { limit: 3, periodMs: 1000 } });
      await createMany(where, 12);
      const starts: number[] = [];
      const at = async (now: number, want: number) => {
        const got = await claim(where, now, want);
        for (const _ of got) starts.push(now);
        return got.length;
      };
      expect(await at(T0 + 100, 1)).toBe(1);
      expect(await at(T0 + 700, 5)).toBe(2);
      expect(await at(T0 + 900, 5)).toBe(0);
      // A fixed window starting at T0 + 1000 would allow 3 more here; the sliding one only 1.
      expect(await at(T0 + 1100, 5)).toBe(1);
      expect(await at(T0 + 1650, 5)).toBe(0);
      expect(await at(T0 + 1700, 5)).toBe(2);
      for (const s of starts) {
        expect(starts.filter((t) => t > s - 1000 && t <= s).length).toBeLessThanOrEqual(3);
      }
      expect((await ctx.store.getQueueState({ queue: where.queue, now: T0 + 1700 })).recentStarts).toBe(3);
    });

    it('limits running flows per concurrency key: the queue default and a flow’s own limit (a singleton)', async () => {
      const where = await limitedQueue({ keyConcurrency: 2 });
      await createMany(where, 4, { concurrencyKey: 'a' });
      await createMany(where, 1, { concurrencyKey: 'b' });
      const claimed = await claim(where, T0);
      const keys = claimed.map((c) => c.flow.concurrencyKey).sort();
      expect(keys).toEqual(['a', 'a', 'b']);
      const state = await ctx.store.getQueueState({ queue: where.queue, key: 'a', now: T0 });
      expect(state).toMatchObject({ running: 3, keyRunning: 2 });

      const single = await limitedQueue(undefined);
      await createMany(single, 3, { concurrencyKey: 'only', concurrencyLimit: 1 });
      const one = await claim(single, T0);
      expect(one).toHaveLength(1);
      expect(await claim(single, T0 + 1)).toHaveLength(0);
      const [held] = one;
      if (!held) throw new Error('unreachable');
      await ctx.store.finishFlow({
        flowId: held.flow.id,
        token: held.token,
        status: 'completed',
        now: T0 + 2,
      });
      expect(await claim(single, T0 + 3)).toHaveLength(1);
    });

    it('serves a small key’s first flows before a large key’s backlog (fair order)', async () => {
      const where = await limitedQueue({ concurrency: 1 });
      await createMany(where, 200, { concurrencyKey: 'big' });
      const order: string[] = [];
      const step = async (now: number) => {
        const [c] = await claim(where, now, 1);
        if (!c) throw new Error(`nothing claimed at ${now}`);
        order.push(c.flow.concurrencyKey ?? '');
        await ctx.store.finishFlow({ flowId: c.flow.id, token: c.token, status: 'completed', now });
      };
      for (let i = 0; i < 5; i++) await step(T0 + i);
      await createMany(where, 3, { concurrencyKey: 'small' }, T0 + 10);
      for (let i = 0; i < 8; i++) await step(T0 + 20 + i);
      const small = order.map((k, i) => (k === 'small' ? i : -1)).filter((i) => i >= 0);
      expect(small).toHaveLength(3);
      // Interleaved with the big key from the moment it arrived, not behind its 195 left.
      expect(Math.max(...small)).toBeLessThanOrEqual(5 + 6);
    });

    it('shares starts by key weight while keys have flows ready', async () => {
      const where = await limitedQueue({ keyWeights: { heavy: 3 } });
      for (let i = 0; i < 30; i++) {
        await createMany(where, 1, { concurrencyKey: 'heavy' });
        await createMany(where, 1, { concurrencyKey: 'light' });
      }
      const claimed = await claim(where, T0, 20);
      const heavy = claimed.filter((c) => c.flow.concurrencyKey === 'heavy').length;
      expect(claimed).toHaveLength(20);
      expect(heavy).toBeGreaterThanOrEqual(14);
      expect(heavy).toBeLessThanOrEqual(16);
    });

    it('de-duplicates by key within the period, and a singleton key until its flow finishes', async () => {
      const type = uid('t');
      const first = await ctx.store.createFlow(newFlow({ type, dedup: { key: 'order-7', forMs: 1000 } }));
      expect(first.created).toBe(true);
      const again = await ctx.store.createFlow(
        newFlow({ type, now: T0 + 999, dedup: { key: 'order-7', forMs: 1000 } }),
      );
      expect(again).toMatchObject({ created: false, flow: { id: first.flow.id } });
      const after = await ctx.store.createFlow(
        newFlow({ type, now: T0 + 1000, dedup: { key: 'order-7', forMs: 1000 } }),
      );
      expect(after.created).toBe(true);
      expect(after.flow.id).not.toBe(first.flow.id);

      const where = { queue: 'default', type: uid('single') };
      const one = await ctx.store.createFlow(newFlow({ ...where, dedup: { key: 'nightly' } }));
      const two = await ctx.store.createFlow(
        newFlow({ ...where, now: T0 + 86_400_000, dedup: { key: 'nightly' } }),
      );
      expect(two.flow.id).toBe(one.flow.id);
      const [run] = await claim(where, T0);
      if (!run) throw new Error('unreachable');
      await ctx.store.finishFlow({ flowId: run.flow.id, token: run.token, status: 'completed', now: T0 + 5 });
      const three = await ctx.store.createFlow(newFlow({ ...where, now: T0 + 6, dedup: { key: 'nightly' } }));
      expect(three.created).toBe(true);
    });

    it('debounces a burst into one flow with the last input, run after the quiet period (capped by maxWait)', async () => {
      const where = { queue: uid('q'), type: uid('t') };
      const debounce = { key: 'profile-9', delayMs: 500, maxWaitMs: 5000 };
      const ids = new Set<string>();
      for (let i = 0; i < 50; i++) {
        const r = await ctx.store.createFlow(
          newFlow({ ...where, input: `[${i}]`, now: T0 + i * 10, runAt: T0 + i * 10, debounce }),
        );
        ids.add(r.flow.id);
      }
      expect(ids.size).toBe(1);
      const [id] = [...ids];
      expect(await ctx.store.getFlow(id ?? '')).toMatchObject({
        input: '[49]',
        runAt: T0 + 490 + 500,
        debounceKey: 'profile-9',
      });
      expect(await claim(where, T0 + 989)).toHaveLength(0);
      const run = await claim(where, T0 + 990);
      expect(run.map((c) => c.flow.input)).toEqual(['[49]']);
      const next = await ctx.store.createFlow(
        newFlow({ ...where, now: T0 + 991, runAt: T0 + 991, debounce }),
      );
      expect(next.created).toBe(true);

      const capped = { key: 'capped', delayMs: 500, maxWaitMs: 1000 };
      let last = '';
      for (let i = 0; i < 30; i++) {
        last = (await ctx.store.createFlow(newFlow({ ...where, now: T0 + i * 100, debounce: capped }))).flow
          .id;
      }
      expect((await ctx.store.getFlow(last))?.runAt).toBe(T0 + 1000);
    });

    it('keeps an imported flow’s concurrency key, own limit and debounce key', async () => {
      const where = await limitedQueue(undefined);
      const flow: FlowRecord = {
        id: uid('imp'),
        ...where,
        status: 'pending',
        priority: 0,
        input: '["in"]',
        runAt: T0,
        fencingToken: 1,
        waits: [],
        cancelRequested: false,
        runCount: 1,
        abandonedRuns: 0,
        concurrencyKey: 'tenant-4',
        concurrencyLimit: 2,
        debounceKey: uid('debounce'),
        createdAt: T0 - 1000,
        updatedAt: T0 - 10,
      };
      const result = await ctx.store.importFlow({ flow, history: [], signals: [], now: T0 });
      expect(result).toEqual({ created: true, flow });
      expect(await ctx.store.getFlow(flow.id)).toEqual(flow);
      expect((await ctx.store.listFlows({ type: where.type })).flows).toEqual([flow]);
      const [run] = await claim(where, T0);
      expect(run?.flow).toMatchObject({
        id: flow.id,
        concurrencyKey: 'tenant-4',
        concurrencyLimit: 2,
        debounceKey: flow.debounceKey,
      });
    });

    it('claims without limits once a queue’s limits are removed', async () => {
      const where = await limitedQueue({ concurrency: 1 });
      await createMany(where, 3);
      expect(await claim(where, T0)).toHaveLength(1);
      await ctx.store.configureQueue({ queue: where.queue, limits: undefined, now: T0 });
      expect(await claim(where, T0 + 1)).toHaveLength(2);
      expect((await ctx.store.getQueueState({ queue: where.queue, now: T0 + 1 })).limits).toBeUndefined();
    });
  });
}
