// Worker liveness: the registry, a lapsed worker's leases expired at once, a graceful stop leaving the registry.
import { describe, expect, it } from 'vitest';
import { flow } from '../src/index.js';
import { freezable, harness, until } from './support.js';

describe('worker liveness', () => {
  const h = harness();

  it('resumes the flows of a worker that stopped dead within seconds, long before their 15 s lease ends', async () => {
    let firstRunStarted = false;
    let resumedAt = 0;
    const hang = flow('hangs-once', async (ctx) => {
      await ctx.run('work', async () => {
        if (!firstRunStarted) {
          firstRunStarted = true;
          await new Promise(() => {}); // the process "stops dead" inside the step
        }
        resumedAt = Date.now();
      });
      return 'done';
    });
    const dying = freezable(h.store);
    // Default lease (15 s); heartbeats every 100 ms, lapse 500 ms, to keep the test short.
    const liveness = { heartbeat: '100ms', lapse: '500ms' } as const;
    h.startWorker([hang], { store: dying.store, id: 'stops-dead', lease: '15s', liveness });
    const handle = await h.client.schedule(hang, undefined);
    await until(() => firstRunStarted, 10_000, 'the first run to start');
    dying.freeze(); // no heartbeat, no write, ever again
    const frozenAt = Date.now();
    h.startWorker([hang], { id: 'survivor', lease: '15s', liveness });
    expect(await handle.result({ timeout: '10s' })).toBe('done');
    // Not a speed target (apps/bench has recovery-after-kill): the 15 s lease alone could not do this.
    expect(resumedAt - frozenAt).toBeLessThan(8000);
    expect((await handle.get()).runCount).toBe(2);
  });

  it('lists live workers with their stats and the flows they hold, and forgets one that stops', async () => {
    let release!: () => void;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    let started = false;
    const hold = flow('holds', async (ctx) => {
      await ctx.run('hold', async () => {
        started = true;
        await held;
      });
    });
    const a = h.startWorker([hold], { id: 'worker-a', name: 'orders', liveness: { heartbeat: '50ms' } });
    h.startWorker([hold], { id: 'worker-b', liveness: { heartbeat: '50ms' }, queues: ['other'] });
    const handle = await h.client.schedule(hold, undefined);
    await until(() => started, 10_000, 'the flow to start');
    await until(async () => (await h.client.workers()).length === 2, 5000, 'both workers to register');
    const [wa, wb] = await h.client.workers();
    expect(wa).toMatchObject({ id: 'worker-a', kind: 'worker', name: 'orders', pid: process.pid, types: ['holds'] });
    expect(wa?.flows.map((f) => f.flowId)).toEqual([handle.id]);
    expect(wb).toMatchObject({ id: 'worker-b', queues: ['other'], flows: [] });
    expect(wa?.heartbeatAgeMs).toBeGreaterThanOrEqual(0);
    release();
    await handle.result();
    await until(async () => (await h.client.workers())[0]?.stats.flowsRun === 1, 5000, 'worker-a to report a run');
    await a.stop();
    expect((await h.client.workers()).map((w) => w.id)).toEqual(['worker-b']);
  });

  it('does not register a worker whose liveness is off', async () => {
    const noop = flow('noop-liveness', async () => undefined);
    h.startWorker([noop], { id: 'unregistered', liveness: false });
    h.startWorker([noop], { id: 'registered', liveness: { heartbeat: '50ms' } });
    await until(async () => (await h.client.workers()).length > 0, 5000, 'a registration');
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect((await h.client.workers()).map((w) => w.id)).toEqual(['registered']);
  });
});
