import { ErrorCode } from '@ergon/core';
import { describe, expect, it } from 'vitest';
import { flow, SignalTimeoutError } from '../src/index.js';
import { harness, until } from './support.js';

describe('durable timers (fake clock)', () => {
  const h = harness({ fake: true });

  it('never fire early and never twice, with two workers competing; they survive new Worker objects', async () => {
    let afterSleep = 0;
    const timed = flow('timed', async (ctx) => {
      await ctx.run('before', () => 1);
      await ctx.sleep('10m');
      await ctx.run('after', () => {
        afterSleep++;
      });
      return (await ctx.now()).getTime();
    });
    const start = h.clock.now();
    const first = [h.startWorker([timed], { id: 'a' }), h.startWorker([timed], { id: 'b' })];
    const handles = await Promise.all(Array.from({ length: 20 }, () => h.client.schedule(timed, undefined)));
    await until(async () => (await h.client.list({ status: 'suspended', limit: 100 })).flows.length === 20);
    // "Restart": the original workers go away; new Worker objects on the same store take over.
    await Promise.all(first.map((w) => w.stop()));
    h.startWorker([timed], { id: 'c' });
    h.startWorker([timed], { id: 'd' });
    h.fakeClock.advance(10 * 60_000 - 1);
    await new Promise((r) => setTimeout(r, 80));
    expect(afterSleep).toBe(0);
    expect((await h.client.list({ status: 'suspended', limit: 100 })).flows).toHaveLength(20);
    h.fakeClock.advance(1);
    const results = (await Promise.all(handles.map((x) => x.result()))) as number[];
    expect(afterSleep).toBe(20);
    for (const r of results) expect(r).toBeGreaterThanOrEqual(start + 10 * 60_000);
  });

  // On the fake clock: a loaded machine cannot let the timer win a race the test means the signal to win.
  it('resolves a race of a signal and a sleep the same way on replay', async () => {
    const winners: string[] = [];
    const f = flow('race', async (ctx) => {
      const winner = await Promise.race([
        ctx.waitForSignal<string>('go').then((v) => `signal:${v}`),
        ctx.sleep('200ms').then(() => 'timer'),
      ]);
      winners.push(winner);
      await ctx.sleep('250ms'); // a later activation replays the race after the timer is due too
      winners.push(`replayed:${winner}`);
      return winner;
    });
    h.startWorker([f]);
    const handle = await h.client.schedule(f, undefined);
    await until(async () => (await handle.status()) === 'suspended');
    await handle.signal('go', 'now');
    await until(async () => winners.length > 0 && (await handle.status()) === 'suspended');
    h.fakeClock.advance(1_000);
    expect(await handle.result()).toBe('signal:now');
    expect(winners.filter((w) => !w.startsWith('replayed')).every((w) => w === 'signal:now')).toBe(true);
    expect(winners.at(-1)).toBe('replayed:signal:now');

    // And the timer's win is stable as well.
    const timerWins: string[] = [];
    const g = flow('race2', async (ctx) => {
      const w = await Promise.race([
        ctx.waitForSignal('go').then(() => 'signal'),
        ctx.sleep('30ms').then(() => 'timer'),
      ]);
      timerWins.push(w);
      await ctx.sleep('30ms');
      timerWins.push(w);
      return w;
    });
    h.startWorker([g]);
    const h2 = await h.client.schedule(g, undefined);
    await until(async () => (await h2.status()) === 'suspended');
    h.fakeClock.advance(100);
    await until(async () => timerWins.length > 0 && (await h2.status()) === 'suspended');
    await h2.signal('go', 'late'); // arrives after the timer won; replay must still say timer
    h.fakeClock.advance(100);
    expect(await h2.result()).toBe('timer');
    expect(new Set(timerWins)).toEqual(new Set(['timer']));
  });

  it('sleepUntil a past time continues at once', async () => {
    const f = flow('past', async (ctx) => {
      await ctx.sleepUntil(new Date(0));
      return 'ok';
    });
    h.startWorker([f]);
    expect(await (await h.client.schedule(f, undefined)).result()).toBe('ok');
  });
});

describe('signals', () => {
  const h = harness();

  it('delivers signals sent before and after the wait, FIFO per name, each consumed once', async () => {
    const f = flow('inbox', async (ctx) => {
      const a1 = await ctx.waitForSignal<string>('a');
      const b1 = await ctx.waitForSignal<string>('b');
      const a2 = await ctx.waitForSignal<string>('a');
      const a3 = await ctx.waitForSignal<string>('a');
      return [a1, b1, a2, a3];
    });
    const handle = await h.client.schedule(f, undefined);
    // Before any worker runs the flow: buffered.
    await handle.signal('a', 'a-first');
    await handle.signal('a', 'a-second');
    await handle.signal('b', 'b-first');
    h.startWorker([f]);
    await until(async () => (await handle.status()) === 'suspended');
    await handle.signal('a', 'a-third');
    expect(await handle.result()).toEqual(['a-first', 'b-first', 'a-second', 'a-third']);
    expect((await handle.get()).signals).toEqual([]);
  });

  it('times out with SignalTimeoutError, recorded', async () => {
    const f = flow('impatient', async (ctx) => {
      try {
        await ctx.waitForSignal('never', { timeout: '40ms' });
        return 'got it';
      } catch (error) {
        return `${error instanceof SignalTimeoutError}:${(error as SignalTimeoutError).code}`;
      }
    });
    h.startWorker([f]);
    const handle = await h.client.schedule(f, undefined);
    expect(await handle.result()).toBe(`true:${ErrorCode.SIGNAL_TIMEOUT}`);
    expect((await handle.get()).history[0]).toMatchObject({ kind: 'signal', status: 'failed' });
  });

  it('refuses signals to unknown and finished flows with typed errors', async () => {
    await expect(h.client.signal('no-such-flow', 'go', 1)).rejects.toMatchObject({ code: 'FLOW_NOT_FOUND' });
    const done = flow('done', async () => 'x');
    h.startWorker([done]);
    const handle = await h.client.schedule(done, undefined);
    await handle.result();
    await expect(handle.signal('go', 1)).rejects.toMatchObject({ code: 'FLOW_FINISHED' });
  });
});
