import { ErrorCode } from '@ergon/core';
import { describe, expect, it } from 'vitest';
import { graph } from '@ergon/graph';
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
    expect(edited.plan.changes).toEqual([
      { target: 'result', position: 2, key: 's2#0', before: 3, after: 100 },
    ]);
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

  it('forked inside a DAG re-runs the DAG with only its nodes from the fork point, as planned', async () => {
    const ran: string[] = [];
    const chain = graph<number>('chain')
      .node('x', async (_deps, n) => {
        ran.push('x');
        return n + 1;
      })
      .node('y', { deps: ['x'] }, async (deps) => {
        ran.push('y');
        return deps.x * 10;
      })
      .node('z', { deps: ['y'] }, async (deps) => {
        ran.push('z');
        return deps.y + 5;
      })
      .build();
    const withDag = flow('fork-dag', async (ctx, n: number) => {
      const a = await ctx.run('a', () => {
        ran.push('a');
        return n;
      });
      const dag = await ctx.dag(chain, a);
      return ctx.run('b', () => {
        ran.push('b');
        return dag.status === 'completed' ? dag.outputs.z : -1;
      });
    });
    h.startWorker([withDag]);
    const handle = await h.client.schedule(withDag, 1);
    expect(await handle.result()).toBe(25);
    const keys = (await handle.get()).history.map((e) => `${e.position}:${e.key}`);
    expect(keys).toEqual(['0:a#0', '1:dag:chain#0', '2:chain.x#0', '3:chain.y#0', '4:chain.z#0', '5:b#0']);

    ran.length = 0;
    const inside = await h.client.fork(handle.id, { at: 3 });
    expect(inside.plan.kept.map((s) => s.position)).toEqual([0, 2]);
    expect(inside.plan.rerun.map((s) => s.position)).toEqual([1, 3, 4, 5]);
    expect(await h.client.handle(inside.flowId).result()).toBe(25);
    expect(ran.sort()).toEqual(['b', 'y', 'z']);

    ran.length = 0;
    const after = await h.client.fork(handle.id, { at: 5 });
    expect(after.plan.kept.map((s) => s.position)).toEqual([0, 1, 2, 3, 4]);
    expect(await h.client.handle(after.flowId).result()).toBe(25);
    expect(ran).toEqual(['b']);
  });

  it('refuses an unknown flow, a position out of range, an unknown key and an edit past the fork point', async () => {
    const id = await original();
    await expect(h.client.fork('no-such-flow', { at: 0 })).rejects.toMatchObject({
      code: ErrorCode.FLOW_NOT_FOUND,
    });
    await expect(h.client.fork(id, { at: 5 })).rejects.toMatchObject({
      code: ErrorCode.INVALID_ARGUMENT,
      details: { at: 5, last: 4 },
    });
    await expect(h.client.fork(id, { at: -1 })).rejects.toMatchObject({ code: ErrorCode.INVALID_ARGUMENT });
    await expect(h.client.fork(id, { at: 'nope' })).rejects.toMatchObject({
      code: ErrorCode.INVALID_ARGUMENT,
    });
    await expect(h.client.fork(id, { at: 2, results: { 3: 1 } })).rejects.toMatchObject({
      code: ErrorCode.INVALID_ARGUMENT,
    });
    await expect(h.client.fork(id, { at: 1, flowId: id })).rejects.toMatchObject({
      code: ErrorCode.INVALID_ARGUMENT,
    });
  });
});
