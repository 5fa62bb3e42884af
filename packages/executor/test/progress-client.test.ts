/**
 * `client.progress(flowId)` on every store: the current progress, then each
 * change, ending once the flow is terminal after its last progress; driven by
 * store events (a poll behind them); typed errors for an unknown flow, an
 * abort and a value the client cannot decode. And what `client.get` shows.
 */
import { createCodec, ErrorCode } from '@ergon/core';
import { describe, expect, it } from 'vitest';
import { Client, flow, type ProgressUpdate } from '../src/index.js';
import { harness, until } from './support.js';

/** Collects what an iteration yields, and how it ended. */
function collect<T>(iterable: AsyncIterable<ProgressUpdate<T>>) {
  const seen: ProgressUpdate<T>[] = [];
  const done = (async () => {
    for await (const update of iterable) seen.push(update);
  })();
  return { seen, done };
}

describe('client.progress', () => {
  const h = harness();

  it('yields each change across suspensions and ends when the flow completes, after its last progress', async () => {
    const steps = flow('stepped', async (ctx) => {
      await ctx.progress({ current: 0, total: 3 });
      for (let i = 1; i <= 3; i++) {
        await ctx.waitForSignal('next');
        await ctx.progress({ current: i, total: 3 });
      }
      return 'done';
    });
    h.startWorker([steps]);
    const handle = await h.client.schedule(steps, undefined);
    const { seen, done } = collect(handle.progress<{ current: number; total: number }>());
    for (let i = 1; i <= 3; i++) {
      await until(() => seen.length === i, 10_000, `progress ${i - 1} to be seen`);
      await handle.signal('next');
    }
    await done;
    expect(seen.map((u) => u.value.current)).toEqual([0, 1, 2, 3]);
    for (const [i, u] of seen.entries()) {
      expect(typeof u.at).toBe('number');
      if (i > 0) expect(u.at).toBeGreaterThanOrEqual(seen[i - 1]?.at ?? 0);
    }
    expect(await handle.result()).toBe('done');
  });

  it('on a finished flow yields its last progress once and ends; without progress it yields nothing', async () => {
    const quiet = flow('quiet', async (ctx) => ctx.run('x', () => 1));
    const loud = flow('loud', async (ctx) => {
      await ctx.progress('half');
      await ctx.progress('all');
      return 2;
    });
    h.startWorker([quiet, loud]);
    const a = await h.client.schedule(quiet, undefined);
    const b = await h.client.schedule(loud, undefined);
    await Promise.all([a.result(), b.result()]);
    const none = collect(h.client.progress(a.id));
    const last = collect(h.client.progress(b.id));
    await Promise.all([none.done, last.done]);
    expect(none.seen).toEqual([]);
    expect(last.seen.map((u) => u.value)).toEqual(['all']);
  });

  it('ends a failed or cancelled flow too', async () => {
    const waits = flow('waits-forever', async (ctx) => {
      await ctx.progress('waiting');
      await ctx.waitForSignal('never');
    });
    h.startWorker([waits]);
    const handle = await h.client.schedule(waits, undefined);
    const { seen, done } = collect(handle.progress());
    await until(async () => (await handle.status()) === 'suspended');
    await handle.cancel('enough');
    await done;
    expect(seen.map((u) => u.value)).toEqual(['waiting']);
  });

  it('refuses an unknown flow and a malformed id, stops on abort, and types what it cannot decode', async () => {
    await expect(collect(h.client.progress('no-such-flow')).done).rejects.toMatchObject({
      code: ErrorCode.FLOW_NOT_FOUND,
    });
    expect(() => h.client.progress('bad id with spaces')).toThrow(
      expect.objectContaining({ code: 'INVALID_ID' }),
    );

    const waits = flow('abortable', async (ctx) => {
      await ctx.progress(1);
      await ctx.waitForSignal('never');
    });
    h.startWorker([waits]);
    const handle = await h.client.schedule(waits, undefined);
    const controller = new AbortController();
    const { seen, done } = collect(handle.progress({ signal: controller.signal }));
    await until(() => seen.length === 1);
    controller.abort();
    await expect(done).rejects.toMatchObject({ code: ErrorCode.ABORTED });

    // A client whose codec did not write the value (another transform) gets a typed error.
    const foreign = new Client({
      store: h.store,
      codec: createCodec({ transform: { encode: (t) => `x${t}`, decode: (t) => t.slice(1) } }),
    });
    const failed = collect(foreign.progress(handle.id));
    await expect(failed.done).rejects.toMatchObject({ name: 'SerializationError' });
    await handle.cancel();
  });

  it('shows in client.get and client.list with when it was reported, and the trace context', async () => {
    const reports = flow('reports', async (ctx) => {
      await ctx.progress({ phase: 'load', done: 3, total: 4 });
      await ctx.waitForSignal('go');
    });
    h.startWorker([reports]);
    const traceContext = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    const handle = await h.client.schedule(reports, undefined, { traceContext });
    await until(async () => (await handle.status()) === 'suspended');
    const info = await handle.get();
    expect(info.progress).toEqual({ phase: 'load', done: 3, total: 4 });
    expect(info.progressAt).toBeGreaterThanOrEqual(info.createdAt);
    expect(info.traceContext).toBe(traceContext);
    const [listed] = (await h.client.list({ type: 'reports' })).flows;
    expect(listed).toMatchObject({ progress: { phase: 'load' }, traceContext });
    await handle.cancel();
  });
});
