// Cron schedules (client.schedules and the workers' firing), on every store: a fake clock drives
// the firing passes, so overlap and catch-up are checked tick by tick.
import { noopLogger, type RuntimeExecutionLog, runtimeStore } from '@ergon/core';
import { describe, expect, it } from 'vitest';
import { ScheduleRunner } from '../src/schedules/runner.js';
import { flow, SCHEDULE_GRACE_MS, tickFlowId } from '../src/index.js';
import { harness, until } from './support.js';

const report = flow('report', async (_ctx, input: { readonly n: number }) => input.n * 2);

describe('schedules', () => {
  const h = harness({ fake: true });

  /** A schedule runner on the harness store, as a worker of `report` has. */
  function runner(store: RuntimeExecutionLog = runtimeStore(h.store)): ScheduleRunner {
    return new ScheduleRunner({
      store,
      clock: h.clock,
      logger: noopLogger,
      types: ['report'],
      checkMs: 5000,
    });
  }

  /** The ids of the flows schedule `id` started, in tick order. */
  async function started(id: string): Promise<string[]> {
    const page = await h.client.list({ type: 'report', limit: 1000 });
    return page.flows
      .map((f) => f.id)
      .filter((f) => f.startsWith(`${id}@`))
      .sort();
  }

  /** Claims and completes `flowId`, as a worker running it to the end would. */
  async function finish(flowId: string): Promise<void> {
    const store = runtimeStore(h.store);
    const now = h.clock.now();
    const [claimed] = await store.claim({
      workerId: 'w',
      types: ['report'],
      queues: ['default'],
      limit: 100,
      leaseMs: 60_000,
      now,
    });
    expect(claimed).toBeDefined();
    // Claims order by runAt: give back the others.
    const all = [
      claimed,
      ...(await store.claim({
        workerId: 'w',
        types: ['report'],
        queues: ['default'],
        limit: 100,
        leaseMs: 60_000,
        now,
      })),
    ];
    for (const c of all) {
      if (!c) continue;
      if (c.flow.id === flowId)
        await store.finishFlow({ flowId, token: c.token, status: 'completed', result: '2', now });
      else await store.releaseLease({ flowId: c.flow.id, token: c.token, now });
    }
    expect((await store.getFlow(flowId))?.status).toBe('completed');
  }

  const tick = (n: number) => Date.UTC(2030, 0, 1, 0, n);

  it('refuses configurations that cannot work, each with INVALID_SCHEDULE naming the field', async () => {
    const base = { id: 'bad', flow: report, cron: '*/5 * * * *', input: { n: 1 } };
    const cases: [Record<string, unknown>, string][] = [
      [{ cron: '0 0 30 2 *' }, 'cron'],
      [{ cron: '0 0 31 4 *' }, 'cron'],
      [{ cron: 'every five minutes' }, 'cron'],
      [{ cron: '61 * * * *' }, 'cron'],
      [{ cron: '' }, 'cron'],
      [{ timezone: 'Mars/Olympus_Mons' }, 'timezone'],
      [{ overlap: 'sometimes' }, 'overlap'],
      [{ catchup: 0 }, 'catchup'],
      [{ catchup: -3 }, 'catchup'],
      [{ catchup: 2.5 }, 'catchup'],
      [{ catchup: 'all' }, 'catchup'],
    ];
    for (const [override, field] of cases) {
      await expect(h.client.schedules.create({ ...base, ...override } as never)).rejects.toMatchObject({
        code: 'INVALID_SCHEDULE',
        field,
      });
    }
    expect((await h.client.schedules.list()).schedules).toEqual([]);
  });

  it('refuses a flow type by name that no registered worker runs, and accepts one that a worker runs', async () => {
    h.startWorker([report], { schedules: false });
    await until(async () => (await h.client.workers()).length > 0);
    await expect(
      h.client.schedules.create({ id: 'typo', flow: 'reprot', cron: '* * * * *' }),
    ).rejects.toMatchObject({ code: 'INVALID_SCHEDULE', field: 'flow' });
    const ok = await h.client.schedules.create({
      id: 'by-name',
      flow: 'report',
      cron: '* * * * *',
      input: { n: 1 },
    });
    expect(ok.flowType).toBe('report');
  });

  it('creates once per id: the same definition again returns it, another is SCHEDULE_EXISTS', async () => {
    const first = await h.client.schedules.create({
      id: 's',
      flow: report,
      cron: '*/5 * * * *',
      input: { n: 1 },
    });
    const again = await h.client.schedules.create({
      id: 's',
      flow: report,
      cron: '*/5 * * * *',
      input: { n: 1 },
    });
    expect(again).toEqual(first);
    await expect(
      h.client.schedules.create({ id: 's', flow: report, cron: '*/10 * * * *', input: { n: 1 } }),
    ).rejects.toMatchObject({ code: 'SCHEDULE_EXISTS' });
    await expect(h.client.schedules.get('missing')).rejects.toMatchObject({ code: 'SCHEDULE_NOT_FOUND' });
    await expect(h.client.schedules.delete('missing')).rejects.toMatchObject({ code: 'SCHEDULE_NOT_FOUND' });
  });

  it('lists schedules with their next fire times, in their time zone', async () => {
    // 09:30 on weekdays in Berlin is 08:30 UTC in January; 2030-01-01 is a Tuesday.
    const info = await h.client.schedules.create({
      id: 'berlin',
      flow: report,
      cron: '30 9 * * 1-5',
      timezone: 'Europe/Berlin',
      input: { n: 3 },
    });
    expect(info.nextRunAt?.toISOString()).toBe('2030-01-01T08:30:00.000Z');
    expect(info.upcoming.map((d) => d.toISOString())).toEqual([
      '2030-01-01T08:30:00.000Z',
      '2030-01-02T08:30:00.000Z',
      '2030-01-03T08:30:00.000Z',
      '2030-01-04T08:30:00.000Z',
      '2030-01-07T08:30:00.000Z',
    ]);
    await h.client.schedules.create({ id: 'another', flow: report, cron: '* * * * *', input: { n: 1 } });
    const { schedules } = await h.client.schedules.list();
    expect(schedules.map((s) => [s.id, s.input])).toEqual([
      ['another', { n: 1 }],
      ['berlin', { n: 3 }],
    ]);
    const page = await h.client.schedules.list({ limit: 1 });
    expect(page.schedules.map((s) => s.id)).toEqual(['another']);
    expect((await h.client.schedules.list({ cursor: page.nextCursor })).schedules.map((s) => s.id)).toEqual([
      'berlin',
    ]);
  });

  it('starts one flow per tick, with the id derived from the tick, however many workers race', async () => {
    await h.client.schedules.create({
      id: 'race',
      flow: report,
      cron: '* * * * *',
      overlap: 'allow',
      input: { n: 1 },
    });
    const runners = [runner(), runner(), runner()];
    for (let minute = 1; minute <= 5; minute++) {
      h.fakeClock.set(tick(minute));
      await Promise.all(runners.map((r) => r.pass()));
    }
    expect(await started('race')).toEqual([1, 2, 3, 4, 5].map((m) => tickFlowId('race', tick(m))));
    const flowRecord = await h.client.get(tickFlowId('race', tick(3)));
    expect(flowRecord.input).toEqual({ n: 1 });
    expect((await h.client.schedules.get('race')).lastFlowId).toBe(tickFlowId('race', tick(5)));
  });

  it('neither loses nor doubles a tick whose flow was created by a worker that died before advancing', async () => {
    await h.client.schedules.create({ id: 'crash', flow: report, cron: '* * * * *', input: { n: 1 } });
    h.fakeClock.set(tick(1));
    // The dead worker's half of the tick: the flow exists, the cursor did not move.
    await h.client.schedule(report, { n: 1 }, { flowId: tickFlowId('crash', tick(1)) });
    await runner().pass();
    expect(await started('crash')).toEqual([tickFlowId('crash', tick(1))]);
    const after = await h.client.schedules.get('crash');
    expect(after.lastFlowId).toBe(tickFlowId('crash', tick(1)));
    expect(after.nextRunAt?.getTime()).toBe(tick(2));
  });

  it('overlap skip: a tick while the last flow runs starts nothing; the first tick after it ends starts', async () => {
    await h.client.schedules.create({
      id: 'skip',
      flow: report,
      cron: '* * * * *',
      overlap: 'skip',
      input: { n: 1 },
    });
    const r = runner();
    for (let minute = 1; minute <= 3; minute++) {
      h.fakeClock.set(tick(minute));
      await r.pass();
    }
    expect(await started('skip')).toEqual([tickFlowId('skip', tick(1))]);
    await finish(tickFlowId('skip', tick(1)));
    h.fakeClock.set(tick(4));
    await r.pass();
    expect(await started('skip')).toEqual([tickFlowId('skip', tick(1)), tickFlowId('skip', tick(4))]);
  });

  it('overlap buffer-one: keeps one tick while the last flow runs and starts it once that flow ends', async () => {
    await h.client.schedules.create({
      id: 'buf',
      flow: report,
      cron: '* * * * *',
      overlap: 'buffer-one',
      input: { n: 1 },
    });
    const r = runner();
    for (let minute = 1; minute <= 4; minute++) {
      h.fakeClock.set(tick(minute));
      await r.pass();
    }
    expect(await started('buf')).toEqual([tickFlowId('buf', tick(1))]);
    expect((await h.client.schedules.get('buf')).bufferedAt?.getTime()).toBe(tick(2));
    await finish(tickFlowId('buf', tick(1)));
    h.fakeClock.set(tick(4) + 10_000);
    await r.pass();
    // The buffered tick (minute 2) starts; minutes 3 and 4 came while it waited and are dropped.
    expect(await started('buf')).toEqual([tickFlowId('buf', tick(1)), tickFlowId('buf', tick(2))]);
    const after = await h.client.schedules.get('buf');
    expect(after.bufferedAt).toBeUndefined();
    expect(after.nextRunAt?.getTime()).toBe(tick(5));
  });

  it('overlap allow: every tick starts, whatever still runs', async () => {
    await h.client.schedules.create({
      id: 'all',
      flow: report,
      cron: '* * * * *',
      overlap: 'allow',
      input: { n: 1 },
    });
    const r = runner();
    for (let minute = 1; minute <= 3; minute++) {
      h.fakeClock.set(tick(minute));
      await r.pass();
    }
    expect(await started('all')).toHaveLength(3);
  });

  for (const [catchup, missed] of [
    ['none', 0],
    ['latest', 1],
    [3, 3],
  ] as const) {
    it(`catch-up ${catchup}: after an hour down, starts ${missed} missed tick(s) and every on-time one`, async () => {
      const id = `down-${catchup}`;
      await h.client.schedules.create({
        id,
        flow: report,
        cron: '* * * * *',
        overlap: 'allow',
        catchup,
        input: { n: 1 },
      });
      // Down from before minute 1 until minute 60: ticks 1..59 are more than the grace late, 60 is on time.
      h.fakeClock.set(tick(60));
      await runner().pass();
      const expected = [
        ...Array.from({ length: missed }, (_, i) => tickFlowId(id, tick(59 - missed + 1 + i))),
        tickFlowId(id, tick(60)),
      ];
      expect(await started(id)).toEqual(expected);
      expect((await h.client.schedules.get(id)).nextRunAt?.getTime()).toBe(tick(61));
    });
  }

  it('counts a tick within the grace as on time, not missed', async () => {
    await h.client.schedules.create({
      id: 'late',
      flow: report,
      cron: '* * * * *',
      catchup: 'none',
      input: { n: 1 },
    });
    h.fakeClock.set(tick(1) + SCHEDULE_GRACE_MS - 1);
    await runner().pass();
    expect(await started('late')).toEqual([tickFlowId('late', tick(1))]);
  });

  it('pauses (nothing starts), resumes from the next tick after now, updates and deletes', async () => {
    await h.client.schedules.create({ id: 'p', flow: report, cron: '* * * * *', input: { n: 1 } });
    const paused = await h.client.schedules.pause('p');
    expect(paused.paused).toBe(true);
    expect(paused.nextRunAt).toBeUndefined();
    h.fakeClock.set(tick(5));
    await runner().pass();
    expect(await started('p')).toEqual([]);
    h.fakeClock.set(tick(5) + 30_000);
    const resumed = await h.client.schedules.resume('p');
    expect(resumed.nextRunAt?.getTime()).toBe(tick(6));
    const updated = await h.client.schedules.update('p', { cron: '*/10 * * * *', input: { n: 7 } });
    expect(updated.nextRunAt?.getTime()).toBe(tick(10));
    expect(updated.input).toEqual({ n: 7 });
    await expect(h.client.schedules.update('p', { cron: '0 0 30 2 *' })).rejects.toMatchObject({
      code: 'INVALID_SCHEDULE',
    });
    h.fakeClock.set(tick(10));
    await runner().pass();
    expect(await started('p')).toEqual([tickFlowId('p', tick(10))]);
    expect((await h.client.get(tickFlowId('p', tick(10)))).input).toEqual({ n: 7 });
    await h.client.schedules.delete('p');
    await expect(h.client.schedules.get('p')).rejects.toMatchObject({ code: 'SCHEDULE_NOT_FOUND' });
    h.fakeClock.set(tick(20));
    await runner().pass();
    expect(await started('p')).toEqual([tickFlowId('p', tick(10))]);
  });
});

describe('schedules fired by a running worker', () => {
  const h = harness();

  it('a worker runs a schedule with a seconds field: each tick one flow, run to the end', async () => {
    h.startWorker([report], { schedules: { check: '200ms' } });
    const created = await h.client.schedules.create({
      id: 'live',
      flow: report,
      cron: '* * * * * *',
      input: { n: 21 },
    });
    const first = created.nextRunAt?.getTime() ?? 0;
    await until(async () => {
      const page = await h.client.list({ type: 'report', status: 'completed', limit: 100 });
      return page.flows.length >= 2;
    }, 10_000);
    const ids = (await h.client.list({ type: 'report', limit: 100 })).flows.map((f) => f.id).sort();
    expect(ids[0]).toBe(tickFlowId('live', first));
    expect(await h.client.result(tickFlowId('live', first))).toBe(42);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('buffer-one with flows longer than the period: each starts only after the one before finished', async () => {
    const slow = flow('slow-report', async (ctx) => {
      await ctx.run('work', () => new Promise((resolve) => setTimeout(resolve, 1200)));
      return 'done';
    });
    h.startWorker([slow], { schedules: { check: '200ms' } });
    await h.client.schedules.create({ id: 'slow', flow: slow, cron: '* * * * * *', overlap: 'buffer-one' });
    const finished = await until(async () => {
      const page = await h.client.list({ type: 'slow-report', status: 'completed', limit: 100 });
      return page.flows.length >= 3;
    }, 20_000).then(() => h.client.list({ type: 'slow-report', limit: 100 }));
    const flows = [...finished.flows].sort((a, b) => a.createdAt - b.createdAt);
    // Never two at once: a flow is created only once the one before it has finished.
    for (let i = 1; i < flows.length; i++) {
      const previous = flows[i - 1];
      expect(previous?.finishedAt, `${previous?.id} finished before ${flows[i]?.id} started`).toBeDefined();
      expect(flows[i]?.createdAt).toBeGreaterThanOrEqual(previous?.finishedAt ?? Number.POSITIVE_INFINITY);
    }
  });
});
