/**
 * The poison rule, on every store: a run stopped by a store failure never
 * leaves its flow `running` forever without a visible reason. A cause no
 * retry can fix fails the flow; a transient one releases it with the cause
 * and a backoff (`client.get` says why it is not progressing) until the
 * store recovers; a failure that cannot even be recorded is counted at the
 * next claim, and a claimer fails the flow once enough runs were abandoned
 * for a permanent cause. Faults are injected by a store wrapper here; the
 * real damage of each store is in `damaged-stores.test.ts`.
 */
import {
  type ClaimedFlow,
  defaultCodec,
  ErgonError,
  ErrorCode,
  type ExecutionLog,
  runtimeStore,
  StoreUnavailableError,
} from '@ergon/core';
import { describe, expect, it } from 'vitest';
import { flow } from '../src/index.js';
import { harness, until } from './support.js';

type Method = keyof ExecutionLog;
/** Returns the error a call must fail with, or undefined to let it through. */
type Fault = (method: Method, request: Record<string, unknown> | string | undefined) => Error | undefined;

/** `store` with `fault` deciding, call by call, which calls fail. */
function faulty(store: ExecutionLog, fault: Fault): ExecutionLog {
  return new Proxy(store, {
    get(target, property, receiver) {
      // Call by call: no batches of writes, so every write meets `fault` as its own call.
      if (property === 'applyWrites') return undefined;
      const value = Reflect.get(target, property, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        const error = fault(property as Method, args[0] as Record<string, unknown> | string | undefined);
        return error ? Promise.reject(error) : value.apply(target, args);
      };
    },
  });
}

const corrupt = () => new ErgonError(ErrorCode.STORE_CORRUPT, 'injected: the history is damaged');
const unavailable = () => new StoreUnavailableError('test', 'injected: the store is unreachable');

/** Whether a request is about `flowId`. */
const about = (request: Record<string, unknown> | string | undefined, flowId: string) =>
  request === flowId || (typeof request === 'object' && request?.flowId === flowId);

describe('the poison rule', () => {
  const h = harness({ fake: true });

  /** A flow that runs step `a`, waits for signal `go`, then runs step `b`. */
  function twoSteps(name: string, bodies: string[]) {
    return flow(name, async (ctx) => {
      await ctx.run('a', () => bodies.push('a'));
      await ctx.waitForSignal('go');
      await ctx.run('b', () => bodies.push('b'));
      return 'done';
    });
  }

  /** Moves the fake clock to the flow's retry time whenever it waits for one. */
  async function untilWith(check: () => Promise<boolean>, flowId: string, what: string): Promise<void> {
    await until(
      async () => {
        if (await check()) return true;
        const record = await h.store.getFlow(flowId);
        if (record?.status === 'pending' && record.runAt !== undefined && record.runAt > h.clock.now()) {
          h.fakeClock.set(record.runAt);
        }
        return false;
      },
      10_000,
      what,
    );
  }

  it('fails a flow whose history cannot be read (STORE_CORRUPT) at once, instead of retrying it forever', async () => {
    const bodies: string[] = [];
    const f = twoSteps('poison-history', bodies);
    let armed = '';
    const store = faulty(h.store, (method, request) =>
      method === 'getHistory' && armed && about(request, armed) ? corrupt() : undefined,
    );
    h.startWorker([f], { store });
    const handle = await h.client.schedule(f, undefined);
    await until(async () => (await handle.get()).status === 'suspended', 5000, 'the flow to wait');
    armed = handle.id;
    await handle.signal('go');
    await expect(handle.result()).rejects.toMatchObject({
      code: 'FLOW_FAILED',
      cause: { code: 'STORE_CORRUPT' },
    });
    const info = await handle.get();
    expect(info).toMatchObject({ status: 'failed', error: { code: 'STORE_CORRUPT' }, runCount: 2 });
    expect(bodies).toEqual(['a']);
  });

  it('fails a flow whose record write fails with STORE_CORRUPT', async () => {
    const bodies: string[] = [];
    const f = twoSteps('poison-write', bodies);
    const store = faulty(h.store, (method, request) =>
      method === 'recordOperation' && (request as { record: { key: string } }).record.key === 'b#0'
        ? corrupt()
        : undefined,
    );
    h.startWorker([f], { store });
    const handle = await h.client.schedule(f, undefined);
    await until(async () => (await handle.get()).status === 'suspended', 5000, 'the flow to wait');
    await handle.signal('go');
    await expect(handle.result()).rejects.toMatchObject({ cause: { code: 'STORE_CORRUPT' } });
    expect((await handle.get()).history.map((r) => r.key)).toEqual(['a#0', 'go#0']);
  });

  it('releases a flow after a transient failure with the cause and a backoff that get shows, and completes it once the store recovers', async () => {
    const bodies: string[] = [];
    const f = flow('poison-transient', async (ctx) => {
      await ctx.run('a', () => bodies.push('a'));
      return 'done';
    });
    let failures = 2;
    const store = faulty(h.store, (method) => {
      if (method !== 'recordOperation' || failures === 0) return undefined;
      failures--;
      return unavailable();
    });
    h.startWorker([f], { store });
    const handle = await h.client.schedule(f, undefined);
    await until(async () => (await handle.get()).abandonedRuns === 1, 5000, 'the first abandoned run');
    const waiting = await handle.get();
    expect(waiting).toMatchObject({ status: 'pending', lastError: { code: 'STORE_UNAVAILABLE' } });
    expect(waiting.runAt).toBeGreaterThan(h.clock.now());
    expect(waiting.runAt).toBeLessThanOrEqual(h.clock.now() + 1000);

    await untilWith(async () => (await handle.get()).status === 'completed', handle.id, 'completion');
    expect(await handle.result()).toBe('done');
    const done = await handle.get();
    expect(done).toMatchObject({ abandonedRuns: 0, runCount: 3 });
    expect(done.lastError).toBeUndefined();
    expect(done.history).toMatchObject([{ key: 'a#0', status: 'completed' }]);
    expect(bodies).toEqual(['a', 'a', 'a']);
  });

  it('backs off longer after each transient failure, and never fails the flow for it', async () => {
    const f = flow('poison-backoff', async (ctx) => ctx.run('a', () => 1));
    let failing = true;
    const store = faulty(h.store, (method) =>
      failing && method === 'recordOperation' ? unavailable() : undefined,
    );
    h.startWorker([f], { store });
    const handle = await h.client.schedule(f, undefined);
    const delays: number[] = [];
    for (let run = 1; run <= 5; run++) {
      await until(async () => (await handle.get()).abandonedRuns === run, 5000, `abandoned run ${run}`);
      const info = await handle.get();
      expect(info.status).toBe('pending');
      delays.push((info.runAt ?? 0) - h.clock.now());
      h.fakeClock.set(info.runAt ?? 0);
    }
    // 1 s, 2 s, 4 s, 8 s, 16 s, each jittered down by at most a fifth.
    delays.forEach((delay, i) => {
      expect(delay).toBeGreaterThanOrEqual(0.8 * 1000 * 2 ** i - 1);
      expect(delay).toBeLessThanOrEqual(1000 * 2 ** i);
    });
    failing = false;
    await untilWith(async () => (await handle.get()).status === 'completed', handle.id, 'completion');
  });

  it('releases a flow whose failure cannot be recorded, counts its runs, and a claimer fails it after three', async () => {
    const bodies: string[] = [];
    const f = twoSteps('poison-unrecordable', bodies);
    let armed = '';
    let finishFailures = 3;
    let historyReads = 0;
    const store = faulty(h.store, (method, request) => {
      if (!armed || !about(request, armed)) return undefined;
      if (method === 'getHistory') {
        historyReads++;
        return corrupt();
      }
      if (method === 'finishFlow' && finishFailures > 0) {
        finishFailures--;
        return corrupt();
      }
      return undefined;
    });
    h.startWorker([f], { store });
    const handle = await h.client.schedule(f, undefined);
    await until(async () => (await handle.get()).status === 'suspended', 5000, 'the flow to wait');
    armed = handle.id;
    await handle.signal('go');
    await until(async () => (await handle.get()).abandonedRuns === 1, 5000, 'the first abandoned run');
    expect(await handle.get()).toMatchObject({ status: 'pending', lastError: { code: 'STORE_CORRUPT' } });

    await untilWith(async () => (await handle.get()).status === 'failed', handle.id, 'the flow to fail');
    expect(await handle.get()).toMatchObject({ error: { code: 'STORE_CORRUPT' }, runCount: 5 });
    // Runs 2 to 4 read the history; the fifth claimer failed the flow without running it.
    expect(historyReads).toBe(3);
    expect(bodies).toEqual(['a']);
  });

  it('fails, before running it, a flow claimed after three abandoned runs whose last cause is permanent', async () => {
    const ran: string[] = [];
    const f = flow('poison-claimed', async (ctx) => ctx.run('a', () => ran.push('a')));
    const handle = await h.client.schedule(f, undefined);
    await abandonThrice(handle.id, f.name, corrupt());
    h.startWorker([f]);
    await expect(handle.result()).rejects.toMatchObject({ cause: { code: 'STORE_CORRUPT' } });
    expect(ran).toEqual([]);
  });

  it('takes the limit from the worker: maxAbandonedRuns 5 still runs a flow abandoned three times', async () => {
    const f = flow('poison-limit', async (ctx) => ctx.run('a', () => 'ran'));
    const handle = await h.client.schedule(f, undefined);
    await abandonThrice(handle.id, f.name, corrupt());
    expect(() => h.startWorker([f], { maxAbandonedRuns: 0 })).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
    );
    h.startWorker([f], { maxAbandonedRuns: 5 });
    expect(await handle.result()).toBe('ran');
  });

  it('keeps running a flow whose abandoned runs had transient causes, however many', async () => {
    const f = flow('poison-transient-claimed', async (ctx) => ctx.run('a', () => 'ran'));
    const handle = await h.client.schedule(f, undefined);
    await abandonThrice(handle.id, f.name, unavailable());
    await abandonThrice(handle.id, f.name, unavailable());
    expect((await handle.get()).abandonedRuns).toBe(6);
    h.startWorker([f]);
    expect(await handle.result()).toBe('ran');
  });

  /** Claims and releases the flow three times with `cause`, as three failing workers would. */
  async function abandonThrice(flowId: string, type: string, cause: Error): Promise<void> {
    const store = runtimeStore(h.store);
    for (let i = 0; i < 3; i++) {
      const [claimed] = (await store.claim({
        workerId: 'failing',
        types: [type],
        queues: ['default'],
        limit: 1,
        leaseMs: 60_000,
        now: h.clock.now(),
      })) as ClaimedFlow[];
      if (!claimed) throw new Error('the flow was not claimable');
      await store.releaseLease({
        flowId,
        token: claimed.token,
        now: h.clock.now(),
        error: defaultCodec.encode(cause),
      });
    }
  }
});
