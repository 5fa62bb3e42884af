import { describe, expect, it } from 'vitest';
import { flow } from '../src/index.js';
import { countClaims, harness, until } from './support.js';

describe('pausing a worker', () => {
  const h = harness();

  it('lets its runs finish, claims nothing while paused, stays registered, and claims again on resume', async () => {
    let release!: () => void;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const work = flow('pause-work', async (ctx, hold: boolean) => {
      await ctx.run('work', async () => {
        if (hold) await held;
      });
      return hold;
    });
    const worker = h.startWorker([work], { id: 'pausing' });
    const first = await h.client.schedule(work, true);
    await until(async () => (await first.get()).status === 'running', 5000, 'the first flow to run');
    const pausing = worker.pause();
    expect(worker.paused).toBe(true);
    // The run in flight finishes before the pause is over.
    release();
    await pausing;
    expect(await first.status()).toBe('completed');

    const second = await h.client.schedule(work, false);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const record = await second.get();
    expect(record.status).toBe('pending');
    expect(record.runCount).toBe(0);
    const registered = (await h.client.workers()).find((w) => w.id === 'pausing');
    expect(registered?.stats.paused).toBe(true);
    expect(worker.running).toBe(true);

    worker.resume();
    expect(worker.paused).toBe(false);
    expect(await second.result({ timeout: '5s' })).toBe(false);
    await until(
      async () => (await h.client.workers()).find((w) => w.id === 'pausing')?.stats.paused === undefined,
      5000,
      'a heartbeat without the paused mark',
    );
  });

  it('is handed nothing while paused, on a store that hands off to idle workers', async () => {
    const echo = flow('pause-idle', async (ctx, n: number) => ctx.run('double', () => n * 2));
    const claims = countClaims(h.store);
    const worker = h.startWorker([echo], { id: 'idle-pausing' });
    // Its first claim finds nothing (and, where the store hands off, parks it).
    await until(() => claims.has('idle-pausing'), 5000, 'the first claim');
    await worker.pause();
    const handle = await h.client.schedule(echo, 4);
    const record = await handle.get();
    expect(record.status).toBe('pending');
    expect(record.leaseOwner).toBeUndefined();
    worker.resume();
    expect(await handle.result({ timeout: '5s' })).toBe(8);
    expect((await handle.get()).runCount).toBe(1);
  });

  it('gives back, in its place and not as an abandoned run, a flow its unparking claim took', async () => {
    const echo = flow('pause-backlog', async (ctx, n: number) => ctx.run('double', () => n * 2));
    const worker = h.startWorker([echo], { id: 'backlog-pausing' });
    await until(
      async () => (await h.client.workers()).some((w) => w.id === 'backlog-pausing'),
      5000,
      'registration',
    );
    await worker.pause();
    const handles = [];
    for (let i = 0; i < 3; i++) handles.push(await h.client.schedule(echo, i));
    // Paused again (already paused: nothing happens), then resumed: every flow runs once.
    await worker.pause();
    worker.resume();
    expect(await Promise.all(handles.map((f) => f.result({ timeout: '5s' })))).toEqual([0, 2, 4]);
    for (const f of handles) {
      const record = await f.get();
      expect(record.abandonedRuns).toBe(0);
      expect(record.lastError).toBeUndefined();
    }
  });

  it('resumes after a pause still in progress, and stops from paused', async () => {
    let release!: () => void;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const work = flow('pause-resume', async (ctx, hold: boolean) => {
      await ctx.run('work', async () => {
        if (hold) await held;
      });
      return hold;
    });
    const worker = h.startWorker([work], { id: 'resume-early' });
    const first = await h.client.schedule(work, true);
    await until(async () => (await first.get()).status === 'running', 5000, 'the first flow to run');
    const pausing = worker.pause();
    worker.resume();
    const second = await h.client.schedule(work, false);
    release();
    await pausing;
    expect(await second.result({ timeout: '5s' })).toBe(false);

    await worker.pause();
    await worker.stop();
    expect(worker.running).toBe(false);
    expect(worker.paused).toBe(false);
    expect((await h.client.workers()).some((w) => w.id === 'resume-early')).toBe(false);
  });
});
