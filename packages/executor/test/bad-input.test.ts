import { InMemoryExecutionLog, RetryPolicy } from '@ergon/core';
import { describe, expect, it } from 'vitest';
import {
  Client,
  connectSignalSource,
  Executor,
  flow,
  type SignalSource,
  UnknownFlowTypeError,
} from '../src/index.js';
import { harness, until } from './support.js';

describe('bad input', () => {
  const h = harness();
  const echo = flow('echo', async (ctx, input: unknown) => ctx.run('echo', () => input));

  it('refuses a non-encodable flow input with a typed error and stores nothing', async () => {
    await expect(h.client.schedule(echo, { callback: () => 1 })).rejects.toMatchObject({
      code: 'CODEC_FUNCTION',
    });
    await expect(h.client.schedule(echo, JSON.parse('{"__proto__":{"x":1}}'))).rejects.toMatchObject({
      code: 'CODEC_UNSAFE_KEY',
    });
    expect((await h.client.list()).flows).toEqual([]);
  });

  it('refuses a non-encodable signal payload, a malformed flow id and a bad signal name', async () => {
    const handle = await h.client.schedule(echo, 1);
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    await expect(handle.signal('go', cyclic)).rejects.toMatchObject({ code: 'CODEC_CYCLE' });
    await expect(h.client.schedule(echo, 1, { flowId: 'bad id with spaces' })).rejects.toMatchObject({
      code: 'INVALID_ID',
    });
    await expect(h.client.get('')).rejects.toMatchObject({ code: 'INVALID_ID' });
    await expect(h.client.signal(handle.id, 'bad name!', 1)).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
    expect((await h.client.get(handle.id)).signals).toEqual([]);
  });

  it('fails a step whose result cannot be stored with a SerializationError, and the worker keeps going', async () => {
    const leaky = flow('leaky', async (ctx) => ctx.run('returns-a-function', () => () => 1));
    h.startWorker([leaky, echo]);
    const bad = await h.client.schedule(leaky, undefined);
    await expect(bad.result()).rejects.toMatchObject({
      code: 'FLOW_FAILED',
      cause: { code: 'CODEC_FUNCTION' },
    });
    expect(await (await h.client.schedule(echo, 'still alive')).result()).toBe('still alive');
  });

  it('reports an unknown flow type instead of retrying it forever', async () => {
    const store = new InMemoryExecutionLog();
    const client = new Client({ store });
    const ghost = flow('ghost', async () => 1);
    const handle = await client.schedule(ghost, undefined, { flowId: 'ghost-1' });
    await expect(new Executor({ store, flows: [echo] }).resume('ghost-1')).rejects.toBeInstanceOf(
      UnknownFlowTypeError,
    );
    await expect(new Executor({ store, flows: [echo] }).resume('nope')).rejects.toMatchObject({
      code: 'FLOW_NOT_FOUND',
    });
    expect(await handle.status()).toBe('pending'); // left untouched

    // Workers never claim types they do not know; they report them instead.
    const reported: string[] = [];
    const worker = h.startWorker([echo], {
      store,
      onUnknownType: (type) => reported.push(type),
      unknownTypeCheck: '20ms',
    });
    await until(() => reported.includes('ghost'));
    expect(worker.running).toBe(true);
    expect(await handle.status()).toBe('pending');
    const direct = await new Executor({ store, flows: [] }).execute(echo, 'x');
    expect(direct.status).toBe('completed');
  });

  it('turns a thrown non-error into an Error with code INTERNAL, the same live and on replay', async () => {
    const weird = flow('weird', async (ctx) => {
      try {
        await ctx.run(
          'throws-string',
          () => {
            throw 'a string';
          },
          { retry: RetryPolicy.NONE },
        );
      } catch (error) {
        return `${(error as Error).message}/${(error as { code: string }).code}`;
      }
    });
    h.startWorker([weird]);
    const result = await (await h.client.schedule(weird, undefined)).result();
    expect(result).toBe('non-error thrown: a string/INTERNAL');
  });
});

describe('signal source adapter', () => {
  const h = harness();

  it('stores signals from an outside source and reports the ones it cannot deliver', async () => {
    const waiter = flow('waiter', async (ctx) => ctx.waitForSignal<number>('n'));
    h.startWorker([waiter]);
    const handle = await h.client.schedule(waiter, undefined);
    const source: SignalSource = {
      name: 'test-queue',
      async start(deliver) {
        await deliver({ flowId: 'missing', name: 'n', payload: 0 }).catch(() => {});
        await deliver({ flowId: handle.id, name: 'n', payload: 42 });
      },
    };
    const errors: string[] = [];
    const connection = connectSignalSource(source, h.client, {
      onError: (s, e) => errors.push(`${s.flowId}:${(e as { code?: string }).code}`),
    });
    await connection.done;
    expect(await handle.result()).toBe(42);
    expect(errors).toEqual(['missing:FLOW_NOT_FOUND']);
    connection.stop();
  });
});

describe('retention', () => {
  const h = harness();

  it('purges finished flows older than the retention', async () => {
    const quick = flow('quick', async () => 1);
    h.startWorker([quick]);
    const handles = await Promise.all([1, 2, 3].map(() => h.client.schedule(quick, undefined)));
    await Promise.all(handles.map((x) => x.result()));
    expect(await h.client.purge({ olderThan: '1h' })).toBe(0);
    await new Promise((r) => setTimeout(r, 5));
    expect(await h.client.purge({ olderThan: 1 })).toBe(3);
    expect((await h.client.list()).flows).toEqual([]);
  });
});

describe('result()', () => {
  const h = harness();

  it('honours an abort signal and leaves no listeners behind', async () => {
    const waits = flow('waits-forever', async (ctx) => ctx.waitForSignal('never'));
    h.startWorker([waits]);
    const handle = await h.client.schedule(waits, undefined);
    const controller = new AbortController();
    const pending = handle.result({ signal: controller.signal });
    await new Promise((r) => setTimeout(r, 100)); // several polls
    controller.abort(new Error('caller gave up'));
    await expect(pending).rejects.toThrow('caller gave up');
    const { EventEmitter } = await import('node:events');
    expect(EventEmitter.getEventListeners(controller.signal, 'abort')).toHaveLength(0);
  });
});
