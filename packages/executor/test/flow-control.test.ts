// Flow control through the client and workers: concurrency keys from the definition, queue limits
// kept by the store, dedup, debounce, singletons, and why a flow is not running yet.
import { describe, expect, it } from 'vitest';
import { flow } from '../src/index.js';
import { harness, until } from './support.js';

interface Job {
  readonly tenant: string;
  readonly n: number;
}

describe('flow control', () => {
  const h = harness();

  it('keeps at most the queue concurrency and one flow per key running, and says why the others wait', async () => {
    const gate = { open: false };
    let running = 0;
    let peak = 0;
    const job = flow(
      'fc-job',
      async (ctx, input: Job) =>
        ctx.run('work', async () => {
          running++;
          peak = Math.max(peak, running);
          await until(() => gate.open, 10_000);
          running--;
          return input.n;
        }),
      { queue: 'fc-jobs', concurrencyKey: (input) => input.tenant, concurrencyLimit: 1 },
    );
    await h.client.queues.configure('fc-jobs', { concurrency: 2 });
    const a1 = await h.client.schedule(job, { tenant: 'a', n: 1 });
    const a2 = await h.client.schedule(job, { tenant: 'a', n: 2 });
    const b1 = await h.client.schedule(job, { tenant: 'b', n: 3 });
    const c1 = await h.client.schedule(job, { tenant: 'c', n: 4 });
    h.startWorker([job], { concurrency: 8, queues: ['fc-jobs'] });
    await until(async () => (await h.client.queues.state('fc-jobs')).running === 2);
    const infos = await Promise.all([a1, a2, b1, c1].map((f) => h.client.get(f.id, { history: false })));
    const waiting = infos.filter((info) => info.status !== 'running');
    expect(waiting.map((w) => w.waitingFor)).toEqual(['queue-concurrency', 'queue-concurrency']);
    // Fair order: the second flow of key a goes after the first flows of the other keys.
    expect(waiting.map((w) => w.id)).toContain(a2.id);
    expect((await h.store.getFlow(a1.id))?.concurrencyKey).toBe('a');
    await h.client.queues.configure('fc-jobs', null);
    await until(async () => (await h.client.get(a2.id, { history: false })).waitingFor === 'key-concurrency');
    gate.open = true;
    expect(await Promise.all([a1, a2, b1, c1].map((f) => f.result()))).toEqual([1, 2, 3, 4]);
    expect(peak).toBeLessThanOrEqual(3);
  });

  it('refuses bad queue limits with INVALID_FLOW_CONTROL before the store keeps them', async () => {
    for (const limits of [{ concurrency: -1 }, { concurrency: 2.5 }, { rate: { limit: 0, period: '1s' } }]) {
      await expect(h.client.queues.configure('fc-bad', limits)).rejects.toMatchObject({
        code: 'INVALID_FLOW_CONTROL',
      });
    }
    expect((await h.client.queues.state('fc-bad')).limits).toBeUndefined();
  });

  it('de-duplicates, skips a busy singleton, and debounces a burst into one run with the last input', async () => {
    const echo = flow('fc-echo', async (_ctx, input: { v: number }) => input.v, { queue: 'fc-echo' });
    const first = await h.client.schedule(echo, { v: 1 }, { dedup: { key: 'k', for: '1h' } });
    const second = await h.client.schedule(echo, { v: 2 }, { dedup: { key: 'k', for: '1h' } });
    expect(second.id).toBe(first.id);
    const single = await h.client.schedule(echo, { v: 3 }, { singleton: { key: 's', mode: 'skip' } });
    const skipped = await h.client.schedule(echo, { v: 4 }, { singleton: { key: 's', mode: 'skip' } });
    expect(skipped.id).toBe(single.id);

    const ids = new Set<string>();
    for (let i = 0; i < 100; i++) {
      ids.add((await h.client.schedule(echo, { v: i }, { debounce: { key: 'd', delay: '300ms' } })).id);
    }
    expect(ids.size).toBe(1);
    const [id] = [...ids];
    expect((await h.client.get(id ?? '', { history: false })).waitingFor).toBe('debounce');
    h.startWorker([echo], { queues: ['fc-echo'] });
    expect(await h.client.result(id ?? '')).toBe(99);
    expect(await first.result()).toBe(1);
  });

  it('gives a cron schedule’s flows the concurrency key of their definition', async () => {
    const keyed = flow('fc-keyed-tick', async (_ctx, input: Job) => input.n, {
      queue: 'fc-ticks',
      concurrencyKey: (input) => `tenant-${input.tenant}`,
      concurrencyLimit: 1,
    });
    h.startWorker([keyed], { queues: ['fc-ticks'] });
    await h.client.schedules.create({
      id: 'fc-every-second',
      flow: keyed,
      cron: '* * * * * *',
      input: { tenant: 't', n: 7 },
    });
    let started: { concurrencyKey?: string; concurrencyLimit?: number } | undefined;
    await until(async () => {
      const { flows } = await h.client.list({ type: 'fc-keyed-tick', limit: 1 });
      started = flows[0] && (await h.store.getFlow(flows[0].id));
      return started !== undefined;
    }, 10_000);
    expect(started).toMatchObject({ concurrencyKey: 'tenant-t', concurrencyLimit: 1 });
    await h.client.schedules.delete('fc-every-second');
  });
});
