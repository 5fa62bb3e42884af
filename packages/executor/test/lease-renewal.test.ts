// Heartbeats keep a lease alive while a step runs long (DESIGN §2.6): a step that runs for several
// leases is not taken over by a competing worker, and the flow runs once.
import { describe, expect, it } from 'vitest';
import { Executor, flow } from '../src/index.js';
import { harness } from './support.js';

describe('lease renewal', () => {
  const h = harness();

  it('keeps the lease of a step that runs four leases long: a second worker never takes the flow', async () => {
    let bodies = 0;
    const long = flow('renewed-long', async (ctx) =>
      ctx.run('long', async () => {
        bodies++;
        await new Promise((resolve) => setTimeout(resolve, 1200));
        return bodies;
      }),
    );
    // Lease 300 ms, heartbeat 100 ms: without renewals the other worker claims it after 300 ms.
    h.startWorker([long], { id: 'holder', lease: '300ms' });
    h.startWorker([long], { id: 'watcher', lease: '300ms' });
    const handle = await h.client.schedule(long, undefined);
    expect(await handle.result({ timeout: '10s' })).toBe(1);
    const record = await handle.get();
    expect(record.runCount).toBe(1);
    expect(record.abandonedRuns).toBe(0);
    expect(bodies).toBe(1);
  });

  it('keeps the lease of several flows at once, each renewed though they started at different times', async () => {
    let bodies = 0;
    const long = flow('renewed-many', async (ctx, n: number) => {
      await ctx.run('wait', () => new Promise((resolve) => setTimeout(resolve, 150 * n)));
      return ctx.run('long', async () => {
        bodies++;
        await new Promise((resolve) => setTimeout(resolve, 900));
        return n;
      });
    });
    h.startWorker([long], { id: 'holder', lease: '300ms', concurrency: 4 });
    const handles = await Promise.all([0, 1, 2, 3].map((n) => h.client.schedule(long, n)));
    // Another worker joins while they run: it would take any lease that lapsed.
    h.startWorker([long], { id: 'watcher', lease: '300ms' });
    expect(await Promise.all(handles.map((x) => x.result({ timeout: '10s' })))).toEqual([0, 1, 2, 3]);
    for (const handle of handles) expect((await handle.get()).runCount).toBe(1);
    expect(bodies).toBe(4);
  });

  it('keeps the lease of a flow an executor runs while a worker watches', async () => {
    let bodies = 0;
    const long = flow('renewed-executor', async (ctx) =>
      ctx.run('long', async () => {
        bodies++;
        await new Promise((resolve) => setTimeout(resolve, 1200));
        return bodies;
      }),
    );
    h.startWorker([long], { id: 'watcher', lease: '300ms' });
    const executor = new Executor({ store: h.store, flows: [long], lease: '300ms' });
    const outcome = await executor.execute(long, undefined);
    expect(outcome).toMatchObject({ status: 'completed', result: 1 });
    expect(bodies).toBe(1);
  });
});
