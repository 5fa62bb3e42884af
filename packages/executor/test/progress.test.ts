/**
 * `ctx.progress` on every store: the latest value is stored on the flow
 * record under the run's lease, reports are coalesced (one write in flight,
 * later values replacing a queued one), nothing is history (replay is never
 * affected, and recorded history is not reported again), bad values are typed
 * errors, and a lost lease abandons the run.
 */
import { LeaseLostError } from '@ergon/core';
import { describe, expect, it } from 'vitest';
import { Flow, flow, flowClass, flowContext, type RunOutcome, Step } from '../src/index.js';
import { spyProgress } from './progress-support.js';
import { harness, until } from './support.js';

describe('ctx.progress', () => {
  const h = harness();

  it('stores the latest value on the flow, kept after it completes, and records no history', async () => {
    const f = flow('report-steps', async (ctx) => {
      await ctx.progress({ current: 0, total: 2 });
      await ctx.run('a', () => 1);
      await ctx.progress({ current: 1, total: 2 });
      await ctx.run('b', () => 2);
      await ctx.progress({ current: 2, total: 2 });
      return 'done';
    });
    h.startWorker([f]);
    const handle = await h.client.schedule(f, undefined);
    expect(await handle.result()).toBe('done');
    const info = await handle.get();
    expect(info.progress).toEqual({ current: 2, total: 2 });
    expect(info.progressAt).toBeGreaterThanOrEqual(info.createdAt);
    expect(info.history.map((e) => e.key)).toEqual(['a#0', 'b#0']);
    const listed = await h.client.list({ type: 'report-steps' });
    expect(listed.flows[0]?.progress).toEqual({ current: 2, total: 2 });
  });

  it('coalesces a burst: one write in flight, the latest value wins, every report resolves', async () => {
    const spy = spyProgress(h.store);
    const f = flow('burst', async (ctx) => {
      const reports: Promise<void>[] = [];
      for (let i = 1; i <= 1000; i++) reports.push(ctx.progress(i));
      await Promise.all(reports);
      // A report made after the burst settled still writes.
      await ctx.run('between', () => 0);
      await ctx.progress('after');
      return reports.length;
    });
    h.startWorker([f], { store: spy.store });
    const handle = await h.client.schedule(f, undefined);
    expect(await handle.result()).toBe(1000);
    expect(spy.maxInFlight).toBe(1);
    // The first value goes at once; the other 999 replace each other in the queue.
    expect(spy.written).toEqual([1, 1000, 'after']);
    expect((await handle.get()).progress).toBe('after');
  });

  it('reported from inside a step, settles as the write lands; a report of the stored value writes nothing', async () => {
    const spy = spyProgress(h.store);
    const f = flow('inside-step', async (ctx) => {
      const total = await ctx.run('import', async () => {
        for (let i = 1; i <= 5; i++) await ctx.progress({ done: i, total: 5 });
        return 5;
      });
      await ctx.progress({ done: 5, total: 5 }); // the same value again
      return total;
    });
    h.startWorker([f], { store: spy.store });
    const handle = await h.client.schedule(f, undefined);
    expect(await handle.result()).toBe(5);
    expect(spy.written).toEqual([1, 2, 3, 4, 5].map((done) => ({ done, total: 5 })));
  });

  it('never reports recorded history again on replay, so progress never moves backwards', async () => {
    const spy = spyProgress(h.store);
    let runs = 0;
    const f = flow('replayed-progress', async (ctx) => {
      runs++;
      // Reported more often on later runs: progress is not history, replay does not mind.
      if (runs > 1) await ctx.progress('only on replays, before the recorded steps');
      await ctx.progress(0.1);
      await ctx.run('first', () => 1);
      await ctx.progress(0.5);
      await ctx.sleep('50ms');
      await ctx.progress(0.9);
      await ctx.run('second', () => 2);
      await ctx.progress(1);
      return runs;
    });
    h.startWorker([f], { store: spy.store });
    const handle = await h.client.schedule(f, undefined);
    expect(await handle.result()).toBeGreaterThanOrEqual(2);
    expect(spy.written).toEqual([0.1, 0.5, 0.9, 1]);
    const info = await handle.get();
    expect(info.history.map((e) => e.key)).toEqual(['first#0', 'sleep#0', 'second#0']);
    expect(info.progress).toBe(1);
  });

  it('refuses a value the codec cannot encode and one over the limit with typed errors; the flow goes on', async () => {
    const caught: unknown[] = [];
    const f = flow('bad-progress', async (ctx) => {
      await ctx.progress('fine');
      await ctx.progress({ callback: () => 1 }).catch((e: unknown) => caught.push(e));
      await ctx.progress('x'.repeat(20_000)).catch((e: unknown) => caught.push(e));
      // Not awaited and refused: no unhandled rejection reaches the process.
      void ctx.progress(Symbol('nope'));
      await ctx.run('after', () => 1);
      return 'ok';
    });
    h.startWorker([f]);
    const handle = await h.client.schedule(f, undefined);
    expect(await handle.result()).toBe('ok');
    expect(caught).toMatchObject([
      { name: 'SerializationError', code: 'CODEC_FUNCTION' },
      { name: 'ProgressTooLargeError', code: 'PROGRESS_TOO_LARGE', maxBytes: 16_384 },
    ]);
    expect((await handle.get()).progress).toBe('fine');
  });
});

/** The class form reports through `flowContext()`, from the flow and from its steps. */
class ProgressClass {
  total = 2;

  @Step()
  async part(i: number): Promise<number> {
    await flowContext().progress({ current: i, total: this.total });
    return i;
  }

  @Flow({ name: 'progress-class' })
  async run(): Promise<number> {
    for (let i = 1; i <= this.total; i++) await this.part(i);
    await flowContext().progress('finished');
    return this.total;
  }
}

describe('ctx.progress in the class form', () => {
  const h = harness();

  it('is reached through flowContext() in the flow and in its steps', async () => {
    const spy = spyProgress(h.store);
    const definition = flowClass(ProgressClass, 'run');
    h.startWorker([ProgressClass], { store: spy.store });
    const handle = await h.client.schedule(definition, new ProgressClass());
    expect(await handle.result()).toBe(2);
    expect(spy.written).toEqual([{ current: 1, total: 2 }, { current: 2, total: 2 }, 'finished']);
    expect((await handle.get()).progress).toBe('finished');
  });
});

describe('ctx.progress and leases', () => {
  const h = harness({ fake: true });

  it('rejects with LeaseLostError after the lease was lost, and the run is abandoned', async () => {
    let release!: () => void;
    const paused = new Promise<void>((r) => {
      release = r;
    });
    let started = 0;
    let lost: unknown;
    const f = flow('lease-progress', async (ctx) => {
      return ctx.run('long', async () => {
        if (++started === 1) {
          await paused; // no heartbeat reaches the store meanwhile
          await ctx.progress('stale').catch((error: unknown) => {
            lost = error;
          });
          return 'stale';
        }
        await ctx.progress('rescued');
        return 'rescued';
      });
    });
    const outcomes: RunOutcome[] = [];
    const deaf = new Proxy(h.store, {
      get(target, p) {
        if (p === 'renewLease') return () => new Promise(() => {});
        const value = Reflect.get(target, p, target);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    // One slot, held by the paused run: once the lease is gone, only the rescuer can claim the
    // flow again (with a free slot the paused worker itself sometimes won that claim, ran the
    // rescue and reported it completed before its stale run was abandoned).
    h.startWorker([f], {
      store: deaf,
      id: 'paused',
      lease: '1s',
      concurrency: 1,
      onOutcome: (_id, o) => outcomes.push(o),
    });
    const handle = await h.client.schedule(f, undefined);
    await until(() => started === 1, 5000, 'the first run to start its step');
    h.fakeClock.advance(1001); // the lease expires
    h.startWorker([f], { id: 'rescuer', lease: '1s' });
    expect(await handle.result()).toBe('rescued');
    release();
    await until(() => lost !== undefined && outcomes.length > 0, 5000, 'the stale report to be refused');
    expect(lost).toBeInstanceOf(LeaseLostError);
    expect(outcomes[0]).toMatchObject({ status: 'abandoned' });
    const info = await handle.get();
    expect(info.progress).toBe('rescued');
    expect(info.history).toHaveLength(1);
  });
});
