// Hand-off (capability handOff: Redis with one partition, PostgreSQL): an idle worker is parked by
// its claims, and a create claims the new flow for it (a `handed` event), one round trip fewer
// between enqueue and start. What must hold around it: a hand-off nobody hears runs elsewhere
// once its short lease runs out, and a worker with no slot left gives a handed flow back.
import type { ExecutionLog } from '@ergon/core';
import { describe, expect, it } from 'vitest';
import { type FlowHandle, flow } from '../src/index.js';
import { STORE_KIND } from './stores.js';
import { countClaims, harness, until } from './support.js';

/** The stores that hand off (the conformance suite says why the others do not). */
const HANDS_OFF = STORE_KIND === 'redis' || STORE_KIND === 'postgres';

/** The `handed` events `store` publishes from now on: flow id → the worker it was handed to. */
function handedEvents(store: ExecutionLog): Map<string, string> {
  const handed = new Map<string, string>();
  store.subscribe?.((event) => {
    if (event.type === 'handed') handed.set(event.flowId, event.workerId);
  });
  return handed;
}

describe.skipIf(!HANDS_OFF)('hand-off to a parked worker', () => {
  const h = harness();

  it('starts a flow created while the worker is idle without a claim of its own', async () => {
    const echo = flow('handed-echo', async (ctx, n: number) => ctx.run('double', () => n * 2));
    const claims = countClaims(h.store);
    h.startWorker([echo], { id: 'idle-worker' });
    // Its first claim finds nothing and parks it.
    await until(() => claims.has('idle-worker'), 5000, 'the first claim');
    const handle = await h.client.schedule(echo, 21);
    expect(await handle.result({ timeout: '5s' })).toBe(42);
    const record = await handle.get();
    expect(record.runCount).toBe(1);
    expect(record.abandonedRuns).toBe(0);
    expect(claims.get('idle-worker')).not.toContain(handle.id);
  });

  it('runs a flow handed to a worker that never heard of it elsewhere once the hand-off lease runs out', async () => {
    const echo = flow('handed-lost', async (ctx, n: number) => ctx.run('double', () => n * 2));
    // A worker parks, then never listens: its process went away before the event came.
    await h.store.claim({
      workerId: 'deaf-worker',
      types: ['handed-lost'],
      queues: ['default'],
      limit: 5,
      leaseMs: 15_000,
      now: Date.now(),
      park: true,
    });
    const handle = await h.client.schedule(echo, 4);
    const handed = await handle.get();
    expect(handed.leaseOwner).toBe('deaf-worker');
    expect((handed.leaseExpiresAt ?? 0) - Date.now()).toBeLessThanOrEqual(2000);
    h.startWorker([echo], { id: 'rescuer', lease: '15s' });
    expect(await handle.result({ timeout: '8s' })).toBe(8);
    // Its second run: the first was the hand-off nobody heard.
    expect((await handle.get()).runCount).toBe(2);
  });

  it('gives a handed flow back at once when the worker has no slot left', async () => {
    let release!: () => void;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    let running = 0;
    let most = 0;
    const work = flow('handed-busy', async (ctx, hold: boolean) => {
      await ctx.run('work', async () => {
        running++;
        most = Math.max(most, running);
        if (hold) await held;
        running--;
      });
      return hold;
    });
    const handed = handedEvents(h.store);
    const worker = h.startWorker([work], { id: 'busy-worker', concurrency: 1 });
    const first = await h.client.schedule(work, true);
    await until(() => running === 1, 5000, 'the first flow to run');
    // A claim of its id parks it while its one slot is taken (as a claim answered late might).
    await h.store.claim({
      workerId: worker.id,
      types: ['handed-busy'],
      queues: ['default'],
      limit: 1,
      leaseMs: 15_000,
      now: Date.now(),
      park: true,
    });
    const second = await h.client.schedule(work, false);
    // Handed to it (the event; the flow may be back already by the time it is read).
    await until(() => handed.get(second.id) === worker.id, 5000, 'the hand-off');
    // Given back: pending again (no lease), not running beside the first.
    await until(async () => (await second.get()).status === 'pending', 5000, 'the hand-off to come back');
    release();
    expect(await first.result({ timeout: '5s' })).toBe(true);
    expect(await second.result({ timeout: '5s' })).toBe(false);
    expect(most).toBe(1);
  });

  it('hands nothing to a worker that stopped, with or without a registry entry', async () => {
    const echo = flow('handed-stopped', async (ctx, n: number) => ctx.run('double', () => n * 2));
    const claims = countClaims(h.store);
    for (const liveness of [undefined, false] as const) {
      const id = `stopping-${liveness === false ? 'unregistered' : 'registered'}`;
      const worker = h.startWorker([echo], { id, ...(liveness === false ? { liveness } : {}) });
      await until(() => claims.has(id), 5000, 'the first claim');
      await worker.stop();
      const handle = await h.client.schedule(echo, 1);
      expect(await handle.status()).toBe('pending');
    }
  });

  it('keeps a handed flow that runs past the short hand-off lease: its run renews it in time', async () => {
    let runs = 0;
    const slow = flow('handed-slow', async (ctx) =>
      ctx.run('slow', async () => {
        runs++;
        await new Promise((resolve) => setTimeout(resolve, 2600));
        return runs;
      }),
    );
    const claims = countClaims(h.store);
    h.startWorker([slow], { id: 'slow-a', lease: '15s' });
    h.startWorker([slow], { id: 'slow-b', lease: '15s' });
    await until(() => claims.has('slow-a') && claims.has('slow-b'), 5000, 'both workers to claim');
    const handle = await h.client.schedule(slow, undefined);
    expect((await handle.get()).leaseOwner).toMatch(/^slow-[ab]$/);
    expect(await handle.result({ timeout: '10s' })).toBe(1);
    expect((await handle.get()).runCount).toBe(1);
  });

  it('gives back a flow of a type it does not serve, parked under its id by an earlier worker', async () => {
    const mine = flow('handed-mine', async (ctx) => ctx.run('a', () => 1));
    // A type per try: a later try's park (a real claim) must not take an earlier try's flow.
    const theirs = [0, 1, 2, 3, 4].map((n) =>
      flow(`handed-theirs-${n}`, async (ctx) => ctx.run('b', () => 2)),
    );
    const claims = countClaims(h.store);
    const handedTo = handedEvents(h.store);
    const worker = h.startWorker([mine], { id: 'reused-id' });
    await until(() => claims.has('reused-id'), 5000, 'the first claim');
    // An earlier worker of the same id served another type, and parked for it. The live worker's
    // own next claim (a late wake-up, on a loaded machine) may park it again for its own types:
    // the create then hands nothing off, and the next try parks for another type.
    const handles: FlowHandle<number>[] = [];
    let handed: FlowHandle<number> | undefined;
    for (const definition of theirs) {
      await h.store.claim({
        workerId: worker.id,
        types: [definition.name],
        queues: ['default'],
        limit: 5,
        leaseMs: 15_000,
        now: Date.now(),
        park: true,
      });
      const handle = await h.client.schedule(definition, undefined);
      handles.push(handle);
      const wasHanded = await until(() => handedTo.get(handle.id) === 'reused-id', 1000, 'a hand-off').then(
        () => true,
        () => false,
      );
      if (wasHanded) {
        handed = handle;
        break;
      }
    }
    if (!handed) throw new Error('no create handed its flow to the parked worker id in 5 tries');
    const back = handed;
    await until(async () => (await back.status()) === 'pending', 5000, 'the hand-off to come back');
    h.startWorker(theirs, { id: 'serves-it' });
    for (const handle of handles) expect(await handle.result({ timeout: '5s' })).toBe(2);
  });
});
