import { ErrorCode } from '@ergon/core';
import { describe, expect, it } from 'vitest';
import { Executor, Flow, flow, Step, toFlowDefinition } from '../src/index.js';
import { harness, until } from './support.js';

/** The same flow type in two versions: v2 ships by courier, behind a patch, and says so. */
function versions() {
  const body = (ctx: Parameters<Parameters<typeof flow>[1]>[0], courier: boolean) =>
    ctx.run(courier ? 'ship-by-courier' : 'ship-by-post', () => (courier ? 'courier' : 'post'));
  const v1 = flow(
    'versioned',
    async (ctx) => {
      await ctx.run('prepare', () => 'ready');
      await ctx.waitForSignal('go');
      return body(ctx, false);
    },
    { version: '1' },
  );
  const v2 = flow(
    'versioned',
    async (ctx) => {
      await ctx.run('prepare', () => 'ready');
      await ctx.waitForSignal('go');
      return body(ctx, await ctx.patched('courier'));
    },
    { version: '2' },
  );
  const unversioned = flow('versioned', async (ctx) => {
    await ctx.run('prepare', () => 'ready');
    await ctx.waitForSignal('go');
    return body(ctx, await ctx.patched('courier'));
  });
  return { v1, v2, unversioned };
}

describe('flow versions', () => {
  const h = harness();

  it('a flow recorded under a version no worker serves is released with the reason, not failed, until one serves it', async () => {
    const { v1, v2 } = versions();
    const v1Worker = h.startWorker([v1]);
    const handle = await h.client.schedule(v1, undefined, { flowId: 'recorded-v1' });
    await until(
      async () => (await h.store.getFlow('recorded-v1'))?.status === 'suspended',
      10_000,
      'v1 to suspend',
    );
    await v1Worker.stop({ timeout: '1s' });
    expect((await handle.get()).history.map((e) => `${e.kind}:${e.key}`)).toEqual([
      'patch:version:1#0',
      'run:prepare#0',
    ]);

    // Only v2 workers now, serving v2 alone (the default), with the poison rule at its strictest.
    const v2Only = h.startWorker([v2], { maxAbandonedRuns: 1 });
    await h.client.signal('recorded-v1', 'go', null);
    await until(
      async () => ((await h.store.getFlow('recorded-v1'))?.abandonedRuns ?? 0) >= 2,
      20_000,
      'the v2 worker to release it twice',
    );
    const waiting = await handle.get();
    expect(waiting.status).not.toBe('failed');
    expect(waiting.lastError).toMatchObject({
      code: ErrorCode.VERSION_NOT_SERVED,
      details: { recorded: '1', served: ['2'], type: 'versioned' },
    });
    expect((waiting.lastError as Error).message).toMatch(
      /recorded under version '1'.*does not serve.*no live worker serves it/,
    );
    // The registry tells which recorded versions each live worker serves.
    const [registered] = await h.client.workers();
    expect(registered?.stats).toMatchObject({ versions: { versioned: ['2'] } });
    expect(waiting.history.map((e) => e.key)).toEqual(['version:1#0', 'prepare#0']);
    await v2Only.stop({ timeout: '1s' });

    // A worker whose code replays v1 histories (the patch) and says so. The flow stopped before
    // the patch point, so it goes on by the new branch.
    h.startWorker([v2], { versions: { versioned: ['1', '2'] } });
    expect(await handle.result({ timeout: '20s' })).toBe('courier');
    expect((await handle.get()).status).toBe('completed');
  });

  it('a new flow records the version it first ran under and takes the new branch', async () => {
    const { v2 } = versions();
    h.startWorker([v2]);
    const handle = await h.client.schedule(v2, undefined, { flowId: 'recorded-v2' });
    await until(
      async () => (await h.store.getFlow('recorded-v2'))?.status === 'suspended',
      10_000,
      'v2 to suspend',
    );
    await h.client.signal('recorded-v2', 'go', null);
    expect(await handle.result({ timeout: '20s' })).toBe('courier');
    expect((await handle.get()).history.map((e) => e.key)).toEqual([
      'version:2#0',
      'prepare#0',
      'go#0',
      'patch:courier#0',
      'ship-by-courier#0',
    ]);
  });

  it('histories recorded before the type had a version run on every worker, and unversioned code passes over a marker', async () => {
    const { v2, unversioned } = versions();
    const executor = new Executor({ store: h.store, flows: [unversioned] });
    expect((await executor.execute(unversioned, undefined, { flowId: 'plain' })).status).toBe('suspended');
    const worker = h.startWorker([v2]);
    await h.client.signal('plain', 'go', null);
    expect(await h.client.handle('plain').result({ timeout: '20s' })).toBe('courier');
    // Recorded before the type had a version: no marker is added, the positions stay.
    expect((await h.client.get('plain')).history.map((e) => e.key)).toEqual([
      'prepare#0',
      'go#0',
      'patch:courier#0',
      'ship-by-courier#0',
    ]);

    // No worker from here on: the executors below run the flow themselves.
    await worker.stop({ timeout: '1s' });
    const marked = new Executor({ store: h.store, flows: [v2] });
    expect((await marked.execute(v2, undefined, { flowId: 'marked' })).status).toBe('suspended');
    await h.client.signal('marked', 'go', null);
    const outcome = await new Executor({ store: h.store, flows: [unversioned] }).resume('marked');
    expect(outcome).toMatchObject({ status: 'completed', result: 'courier' });
  });

  it('records the version of a class-form flow too', async () => {
    class Versioned {
      who = 'world';

      @Step()
      async greet(): Promise<string> {
        return `hello, ${this.who}`;
      }

      @Flow({ name: 'versioned-class', version: '7' })
      async run(): Promise<string> {
        return this.greet();
      }
    }
    expect(toFlowDefinition(Versioned).options.version).toBe('7');
    h.startWorker([Versioned]);
    const handle = await h.client.schedule('versioned-class', { who: 'there' }, { flowId: 'class-7' });
    expect(await handle.result({ timeout: '20s' })).toBe('hello, there');
    expect((await handle.get()).history.map((e) => e.key)).toEqual(['version:7#0', 'greet#0']);
  });

  it('refuses an invalid version name with a typed error', () => {
    expect(() => flow('bad-version', async () => 1, { version: 'has spaces' })).toThrow(
      expect.objectContaining({ code: ErrorCode.INVALID_ARGUMENT }),
    );
  });
});
