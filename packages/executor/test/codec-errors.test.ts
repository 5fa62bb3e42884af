/**
 * Values the codec cannot read as plain data (nesting past its depth limit, a
 * throwing getter, a proxy whose traps throw) are refused with a typed
 * `SerializationError` wherever they enter: at schedule, at signal, and as a
 * step's or a flow's result. Never a raw `RangeError` or the getter's own error.
 */
import { SerializationError } from '@ergon/core';
import { describe, expect, it } from 'vitest';
import { flow } from '../src/index.js';
import { harness } from './support.js';

function nested(depth: number): unknown {
  let value: unknown = 'leaf';
  for (let i = 0; i < depth; i++) value = { next: value };
  return value;
}

function throwingGetter(): unknown {
  return {
    get total(): number {
      throw new Error('the getter threw');
    },
  };
}

function throwingProxy(): unknown {
  return new Proxy(
    { a: 1 },
    {
      ownKeys() {
        throw new TypeError('the trap threw');
      },
    },
  );
}

const unreadable: readonly [string, () => unknown, string][] = [
  ['nesting 1,400 levels deep', () => nested(1400), 'CODEC_TOO_DEEP'],
  ['nesting 100,000 levels deep', () => nested(100_000), 'CODEC_TOO_DEEP'],
  ['a throwing getter', throwingGetter, 'CODEC_UNSUPPORTED_TYPE'],
  ['a proxy whose trap throws', throwingProxy, 'CODEC_UNSUPPORTED_TYPE'],
];

describe('values the codec cannot read', () => {
  const h = harness();
  const echo = flow('codec-echo', async (ctx, input: unknown) => ctx.run('echo', () => input));

  it.each(unreadable)(
    'refuses %s at schedule with a SerializationError and stores nothing',
    async (_, make, code) => {
      const refused = await h.client.schedule(echo, make()).catch((error: unknown) => error);
      expect(refused).toBeInstanceOf(SerializationError);
      expect(refused).toMatchObject({ code });
      expect((await h.client.list()).flows).toEqual([]);
    },
  );

  it.each(unreadable)('refuses %s as a signal payload with a SerializationError', async (_, make, code) => {
    const handle = await h.client.schedule(echo, 1);
    const refused = await handle.signal('go', make()).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(SerializationError);
    expect(refused).toMatchObject({ code });
    expect((await h.client.get(handle.id)).signals).toEqual([]);
  });

  it.each(unreadable)(
    'fails a step whose result is %s, with the SerializationError recorded',
    async (_, make, code) => {
      const name = `codec-step-${code}-${Math.random().toString(36).slice(2, 8)}`;
      const f = flow(name, async (ctx) => ctx.run('produce', () => make()));
      h.startWorker([f]);
      const handle = await h.client.schedule(f, undefined);
      const failure = await handle.result().catch((error: unknown) => error);
      expect(failure).toMatchObject({ code: 'FLOW_FAILED', cause: { code } });
      expect((failure as Error).cause).toBeInstanceOf(SerializationError);
      const info = await h.client.get(handle.id);
      expect(info.history).toMatchObject([{ key: 'produce#0', status: 'failed', error: { code } }]);
    },
  );

  it.each(unreadable)('fails a flow whose own result is %s', async (_, make, code) => {
    const name = `codec-flow-${code}-${Math.random().toString(36).slice(2, 8)}`;
    const f = flow(name, async () => make());
    h.startWorker([f]);
    const handle = await h.client.schedule(f, undefined);
    await expect(handle.result()).rejects.toMatchObject({ code: 'FLOW_FAILED', cause: { code } });
  });
});
