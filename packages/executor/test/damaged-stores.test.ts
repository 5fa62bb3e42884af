/**
 * Real damage at rest, on the stores that keep data at rest (SQLite, Redis):
 * values altered on disk or in Redis are caught by their checksum and fail
 * only their flow with `STORE_CORRUPT`, instead of completing with altered
 * data; damaged history (a Redis key of the wrong type, a record that is not
 * JSON, a SQLite page corrupted on disk) fails the flow instead of looping
 * forever; a damaged flow record does not break `client.list()`.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteExecutionLog } from '@ergon/storage-sqlite';
import { describe, expect, it } from 'vitest';
import { Client, flow, Worker } from '../src/index.js';
import {
  alterFlowValue,
  alterRecordedResult,
  corruptHistoryPage,
  damageWaits,
  redisOutside,
} from './damage.js';
import { STORE_KIND } from './stores.js';
import { harness, until } from './support.js';

const atRest = STORE_KIND === 'sqlite' || STORE_KIND === 'redis';

/** A flow that pays `amount` in a step, waits for signal `go`, and returns what it paid. */
const pay = flow('damaged-pay', async (ctx, order: { amount: number }) => {
  const paid = await ctx.run('pay', () => ({ paid: order.amount }));
  await ctx.waitForSignal('go');
  return paid;
});

describe.skipIf(!atRest)(`values and history damaged at rest (${STORE_KIND})`, () => {
  const h = harness();

  it('fails only the flow whose stored input was altered, with STORE_CORRUPT', async () => {
    const altered = await h.client.schedule(pay, { amount: 100 });
    const intact = await h.client.schedule(pay, { amount: 100 });
    await alterFlowValue(h.store, altered.id, 'input');
    h.startWorker([pay]);
    await expect(altered.result()).rejects.toMatchObject({
      code: 'FLOW_FAILED',
      cause: { code: 'STORE_CORRUPT' },
    });
    await until(async () => (await intact.get()).status === 'suspended', 5000, 'the intact flow to wait');
    await intact.signal('go');
    expect(await intact.result()).toEqual({ paid: 100 });
  });

  it('fails a flow whose recorded step result was altered, instead of completing with the altered value', async () => {
    const handle = await h.client.schedule(pay, { amount: 100 });
    h.startWorker([pay]);
    await until(async () => (await handle.get()).status === 'suspended', 5000, 'the flow to wait');
    await alterRecordedResult(h.store, handle.id, 0);
    const shown = (await handle.get()).history[0]?.result;
    expect(shown).toMatchObject({ code: 'STORE_CORRUPT' });
    await handle.signal('go');
    await expect(handle.result()).rejects.toMatchObject({ cause: { code: 'STORE_CORRUPT' } });
  });

  it("refuses a completed flow's result altered at rest: result() rejects with STORE_CORRUPT", async () => {
    const quick = flow('damaged-quick', async (_ctx, n: number) => ({ n }));
    h.startWorker([quick]);
    const handle = await h.client.schedule(quick, 1);
    expect(await handle.result()).toEqual({ n: 1 });
    await alterFlowValue(h.store, handle.id, 'result');
    await expect(handle.result()).rejects.toMatchObject({ code: 'STORE_CORRUPT' });
  });

  it('lists every flow when one flow record is damaged, that one flagged', async () => {
    const handle = await h.client.schedule(pay, { amount: 1 });
    h.startWorker([pay]);
    await until(async () => (await handle.get()).status === 'suspended', 5000, 'the flow to wait');
    const others = [await h.client.schedule(pay, { amount: 2 }), await h.client.schedule(pay, { amount: 3 })];
    await damageWaits(h.store, handle.id);
    const { flows } = await h.client.list({ type: 'damaged-pay' });
    expect(flows.map((f) => f.id).sort()).toEqual([handle.id, ...others.map((o) => o.id)].sort());
    expect(flows.find((f) => f.id === handle.id)?.damage).toMatch(/waits/);
    expect((await h.client.get(handle.id)).damage).toMatch(/waits/);
  });
});

describe.runIf(STORE_KIND === 'redis')('damaged Redis history', () => {
  const h = harness();

  for (const [what, damage] of [
    ['a history key of the wrong type', (key: string) => ['del', key, 'set', key, 'not a hash'] as const],
    ['a history record that is not JSON', (key: string) => ['hset', key, '0', '{"status":"compl'] as const],
  ] as const) {
    it(`fails the flow with STORE_CORRUPT on ${what}, instead of retrying it forever`, async () => {
      const handle = await h.client.schedule(pay, { amount: 1 });
      h.startWorker([pay]);
      await until(async () => (await handle.get()).status === 'suspended', 5000, 'the flow to wait');
      await redisOutside(h.store, async (redis, base) => {
        const [command, ...args] = damage(`${base}hist:${handle.id}`);
        if (command === 'del') {
          await redis.del(args[0]);
          await redis.set(args[2] as string, args[3] as string);
        } else {
          await redis.hset(args[0], args[1] as string, args[2] as string);
        }
      });
      await handle.signal('go');
      await expect(handle.result()).rejects.toMatchObject({ cause: { code: 'STORE_CORRUPT' } });
      expect(await h.client.get(handle.id, { history: false })).toMatchObject({
        status: 'failed',
        runCount: 2,
      });
    });
  }
});

describe.runIf(STORE_KIND === 'sqlite')('a SQLite page corrupted on disk', () => {
  it('fails the flow whose history page is corrupt with STORE_CORRUPT, instead of leaving it running', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ergon-corrupt-page-'));
    const path = join(dir, 'store.db');
    try {
      const before = await SqliteExecutionLog.open({ path });
      const worker = new Worker({ store: before, flows: [pay], maxIdle: '20ms' }).start();
      const handle = await new Client({ store: before }).schedule(
        pay,
        { amount: 1 },
        { flowId: randomUUID() },
      );
      await until(async () => (await handle.get()).status === 'suspended', 5000, 'the flow to wait');
      await worker.stop();
      await before.close();

      corruptHistoryPage(path);
      const after = await SqliteExecutionLog.open({ path });
      try {
        const client = new Client({ store: after });
        const rescuer = new Worker({ store: after, flows: [pay], maxIdle: '20ms', lease: '2s' }).start();
        await client.signal(handle.id, 'go');
        await expect(client.result(handle.id, { timeout: '10s' })).rejects.toMatchObject({
          cause: { code: 'STORE_CORRUPT' },
        });
        expect(await client.get(handle.id, { history: false })).toMatchObject({
          status: 'failed',
          runCount: 2,
        });
        await rescuer.stop();
      } finally {
        await after.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
