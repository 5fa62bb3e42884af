import { ErrorCode } from '@ergon/core';
import { describe, expect, it } from 'vitest';
import { Executor, type FlowDefinition, flow, NonDeterminismError } from '../src/index.js';
import { harness } from './support.js';

/** Notes that a branch's step body ran (bodies run once; replays do not come here). */
function ledger(taken: string[], branch: string, value: string): string {
  taken.push(branch);
  return value;
}

/** Flow code in its successive versions: which branch's step body ran goes to `taken`. */
function versions(taken: string[]) {
  const a = (ctx: Parameters<Parameters<typeof flow>[1]>[0]) => ctx.run('a', () => 'a');
  const v1 = flow('patched-order', async (ctx) => {
    await a(ctx);
    await ctx.waitForSignal('go');
    await ctx.run('ship-by-post', () => ledger(taken, 'old', 'post'));
    await ctx.waitForSignal('done');
    return 'old';
  });
  const v2 = flow('patched-order', async (ctx) => {
    await a(ctx);
    await ctx.waitForSignal('go');
    if (await ctx.patched('courier')) {
      await ctx.run('ship-by-courier', () => ledger(taken, 'new', 'courier'));
    } else {
      await ctx.run('ship-by-post', () => ledger(taken, 'old', 'post'));
    }
    await ctx.waitForSignal('done');
    return (await ctx.patched('courier')) ? 'new' : 'old';
  });
  /** The clean-up phase: only the new branch is left. */
  const v3 = flow('patched-order', async (ctx) => {
    await a(ctx);
    await ctx.waitForSignal('go');
    await ctx.deprecatePatch('courier');
    await ctx.run('ship-by-courier', () => ledger(taken, 'new', 'courier'));
    await ctx.waitForSignal('done');
    return 'new';
  });
  /** The patch gone for good. */
  const v4 = flow('patched-order', async (ctx) => {
    await a(ctx);
    await ctx.waitForSignal('go');
    await ctx.run('ship-by-courier', () => ledger(taken, 'new', 'courier'));
    await ctx.waitForSignal('done');
    return 'new';
  });
  return { v1, v2, v3, v4 };
}

describe('patches (ctx.patched, ctx.deprecatePatch)', () => {
  const h = harness();

  async function start(definition: FlowDefinition<unknown, string>, flowId: string) {
    const outcome = await new Executor({ store: h.store, flows: [definition] }).execute(
      definition,
      undefined,
      {
        flowId,
      },
    );
    expect(outcome.status).toBe('suspended');
  }

  async function resume(definition: FlowDefinition<unknown, string>, flowId: string, signal: string) {
    await h.client.signal(flowId, signal, null);
    return new Executor({ store: h.store, flows: [definition] }).resume(flowId);
  }

  async function keys(flowId: string) {
    return (await h.client.get(flowId)).history.map((e) => `${e.kind}:${e.key}`);
  }

  it('a flow suspended under v1 past the patch point and resumed under v2 takes the old branch and completes', async () => {
    const taken: string[] = [];
    const { v1, v2 } = versions(taken);
    await start(v1, 'patch-old');
    expect(await resume(v1, 'patch-old', 'go')).toMatchObject({ status: 'suspended' });
    expect(await resume(v2, 'patch-old', 'done')).toMatchObject({ status: 'completed', result: 'old' });
    expect(taken).toEqual(['old']);
    // No marker: the history lines up with what v1 would have written.
    expect(await keys('patch-old')).toEqual([
      'run:a#0',
      'signal:go#0',
      'run:ship-by-post#0',
      'signal:done#0',
    ]);
  });

  it('a new flow under v2 takes the new branch, records the marker, and replays it as true', async () => {
    const taken: string[] = [];
    const { v2 } = versions(taken);
    await start(v2, 'patch-new');
    expect(await resume(v2, 'patch-new', 'go')).toMatchObject({ status: 'suspended' });
    // Replayed twice more (the 'done' resume and its own end): the marker keeps it on the new branch.
    expect(await resume(v2, 'patch-new', 'done')).toMatchObject({ status: 'completed', result: 'new' });
    expect(taken).toEqual(['new']);
    expect(await keys('patch-new')).toEqual([
      'run:a#0',
      'signal:go#0',
      'patch:patch:courier#0',
      'run:ship-by-courier#0',
      'signal:done#0',
    ]);
  });

  it('a flow suspended under v1 before the patch point takes the new branch under v2', async () => {
    const taken: string[] = [];
    const { v1, v2 } = versions(taken);
    await start(v1, 'patch-early');
    // Suspended on 'go' under v1: the patch point is past its recorded history.
    expect(await resume(v2, 'patch-early', 'go')).toMatchObject({ status: 'suspended' });
    expect(await resume(v2, 'patch-early', 'done')).toMatchObject({ status: 'completed', result: 'new' });
    expect(taken).toEqual(['new']);
  });

  it('without the patch, v1 history resumed by changed code fails with NonDeterminismError as before', async () => {
    const taken: string[] = [];
    const { v1, v4 } = versions(taken);
    await start(v1, 'patch-none');
    expect(await resume(v1, 'patch-none', 'go')).toMatchObject({ status: 'suspended' });
    const outcome = await resume(v4, 'patch-none', 'done');
    expect(outcome.status).toBe('failed');
    const error = outcome.status === 'failed' ? outcome.error : undefined;
    expect(error).toBeInstanceOf(NonDeterminismError);
    expect(error).toMatchObject({
      code: ErrorCode.NON_DETERMINISM,
      position: 2,
      recordedKey: 'ship-by-post#0',
      calledKey: 'ship-by-courier#0',
    });
  });

  it('deprecatePatch replays histories with and without the marker, and its own markers survive its removal', async () => {
    const taken: string[] = [];
    const { v2, v3, v4 } = versions(taken);
    // Marked by v2, finished by v3.
    await start(v2, 'dep-marked');
    expect(await resume(v2, 'dep-marked', 'go')).toMatchObject({ status: 'suspended' });
    expect(await resume(v3, 'dep-marked', 'done')).toMatchObject({ status: 'completed', result: 'new' });
    // Unmarked (suspended before the patch point), then run by v3: it writes a deprecated marker.
    await start(v2, 'dep-fresh');
    expect(await resume(v3, 'dep-fresh', 'go')).toMatchObject({ status: 'suspended' });
    expect(await keys('dep-fresh')).toContain('patch:patch:courier#0');
    // v2 still reads that marker as its new branch.
    expect(await resume(v2, 'dep-fresh', 'done')).toMatchObject({ status: 'completed', result: 'new' });
    // A deprecated marker, then the call removed (v4): replay passes over it.
    await start(v3, 'dep-removed');
    expect(await resume(v3, 'dep-removed', 'go')).toMatchObject({ status: 'suspended' });
    expect(await resume(v4, 'dep-removed', 'done')).toMatchObject({ status: 'completed', result: 'new' });
    // A marker patched() wrote is not passed over: removing patched() before deprecatePatch diverges.
    await start(v2, 'dep-too-soon');
    expect(await resume(v2, 'dep-too-soon', 'go')).toMatchObject({ status: 'suspended' });
    expect(await resume(v4, 'dep-too-soon', 'done')).toMatchObject({
      status: 'failed',
      error: { code: ErrorCode.NON_DETERMINISM, position: 2, recordedKey: 'patch:courier#0' },
    });
  });

  it('refuses an invalid patch id with a typed error', async () => {
    const bad = flow('bad-patch', async (ctx) => ctx.patched('no spaces allowed'));
    const outcome = await new Executor({ store: h.store, flows: [bad] }).execute(bad, undefined);
    expect(outcome).toMatchObject({ status: 'failed', error: { code: ErrorCode.INVALID_ARGUMENT } });
  });
});
