import { ErrorCode } from '@ergon/core';
import { describe, expect, it } from 'vitest';
import { flow } from '../src/index.js';
import { harness } from './support.js';

describe('client.fork', () => {
  const h = harness();
  const runs = [0, 0, 0, 0, 0];
  const five = flow('fork-five', async (ctx, start: number) => {
    let total = start;
    for (let i = 0; i < 5; i++) {
      total = await ctx.run(`s${i}`, () => {
        runs[i] = (runs[i] ?? 0) + 1;
        return total + 1;
      });
    }
    return total;
  });

  async function original(): Promise<string> {
    h.startWorker([five]);
    const handle = await h.client.schedule(five, 0);
    expect(await handle.result()).toBe(5);
    runs.fill(0);
    return handle.id;
  }

  it('forked from each position of a 5-step flow re-runs exactly the steps from there, as the dry run planned', async () => {
    const id = await original();
    const before = (await h.client.get(id)).history;
    for (let at = 0; at < 5; at++) {
      runs.fill(0);
      const dry = await h.client.fork(id, { at, dryRun: true });
      expect(dry.created).toBe(false);
      expect(await h.store.getFlow(dry.flowId)).toBeUndefined();
      const forked = await h.client.fork(id, { at, flowId: `${id}-at-${at}` });
      expect(forked.created).toBe(true);
      // The real fork does what the dry run said (its id aside).
      expect({ ...forked.plan, flowId: dry.flowId }).toEqual(dry.plan);
      expect(forked.plan.kept.map((s) => s.position)).toEqual([0, 1, 2, 3, 4].slice(0, at));
      expect(forked.plan.rerun.map((s) => s.position)).toEqual([0, 1, 2, 3, 4].slice(at));
      expect(await h.client.handle(forked.flowId).result()).toBe(5);
      // Exactly the planned positions ran again; the kept records are the original's.
      const ran = runs.flatMap((n, i) => (n > 0 ? [i] : []));
      expect(runs.every((n) => n <= 1)).toBe(true);
      expect(ran).toEqual(forked.plan.rerun.map((s) => s.position));
      const after = (await h.client.get(forked.flowId)).history;
      expect(after.slice(0, at)).toEqual(before.slice(0, at));
      expect(after.map((e) => e.key)).toEqual(before.map((e) => e.key));
    }
    // The original is untouched.
    expect((await h.client.get(id)).history).toEqual(before);
  });

  it('feeds an edited step result, or an edited input, to the steps that follow', async () => {
    const id = await original();
    const edited = await h.client.fork(id, { at: 3, results: { 2: 100 } });
    expect(edited.plan.changes).toEqual([{ target: 'result', position: 2, key: 's2#0', before: 3, after: 100 }]);
    expect(await h.client.handle(edited.flowId).result()).toBe(102);
    expect(runs).toEqual([0, 0, 0, 1, 1]);
    const byKey = await h.client.fork(id, { at: 's1', results: { 's0#0': 50 } });
    expect(byKey.plan.at).toBe(1);
    expect(await h.client.handle(byKey.flowId).result()).toBe(54);
    const input = await h.client.fork(id, { at: 0, input: 10 });
    expect(input.plan.changes).toEqual([{ target: 'input', before: 0, after: 10 }]);
    expect(await h.client.handle(input.flowId).result()).toBe(15);
  });

  it('sends the fork again the signals consumed at the positions it re-runs', async () => {
    const approvals = flow('fork-signal', async (ctx) => {
      const first = await ctx.run('prepare', () => 'ready');
      const answer = await ctx.waitForSignal<string>('approve');
      return `${first}:${answer}`;
    });
    h.startWorker([approvals]);
    const handle = await h.client.schedule(approvals, undefined);
    await h.client.signal(handle.id, 'approve', 'yes');
    expect(await handle.result()).toBe('ready:yes');
    const forked = await h.client.fork(handle.id, { at: 'approve' });
    expect(forked.plan.signals).toEqual(['approve']);
    expect(await h.client.handle(forked.flowId).result()).toBe('ready:yes');
  });

  it('refuses an unknown flow, a position out of range, an unknown key and an edit past the fork point', async () => {
    const id = await original();
    await expect(h.client.fork('no-such-flow', { at: 0 })).rejects.toMatchObject({ code: ErrorCode.FLOW_NOT_FOUND });
    await expect(h.client.fork(id, { at: 5 })).rejects.toMatchObject({
      code: ErrorCode.INVALID_ARGUMENT,
      details: { at: 5, last: 4 },
    });
    await expect(h.client.fork(id, { at: -1 })).rejects.toMatchObject({ code: ErrorCode.INVALID_ARGUMENT });
    await expect(h.client.fork(id, { at: 'nope' })).rejects.toMatchObject({ code: ErrorCode.INVALID_ARGUMENT });
    await expect(h.client.fork(id, { at: 2, results: { 3: 1 } })).rejects.toMatchObject({
      code: ErrorCode.INVALID_ARGUMENT,
    });
    await expect(h.client.fork(id, { at: 1, flowId: id })).rejects.toMatchObject({
      code: ErrorCode.INVALID_ARGUMENT,
    });
  });
});
