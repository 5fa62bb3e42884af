// Found by the simulation's long run (bench/simulate.mjs, memory growing by
// about 0.4 MB a seed): a worker keeps the frame of every flow activation
// that suspended or was abandoned, for good. The pending operations of an
// ended activation resolve to one shared promise that never settles (`NEVER`
// in src/internal/recorder.ts); every promise chained to it stays in that
// promise's reaction list, and with it the flow function's suspended frame,
// its context (the activation and its history) and whatever the flow holds.
// A long-running worker that suspends a million flows keeps a million frames.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { flow } from '../../src/index.js';
import { harness, until } from '../support.js';

setFlagsFromString('--expose_gc');
const gc = runInNewContext('gc') as () => void;

describe('a suspended flow', () => {
  const h = harness({ fake: true });

  // Fixed in src/internal/recorder.ts: a fresh never-settling promise per use, which is collected.
  it("is not kept in the worker's memory once it suspended", async () => {
    const alive: WeakRef<object>[] = [];
    const sleeper = flow('sleeper', async (ctx) => {
      const held = { payload: new Array(1000).fill(0) };
      alive.push(new WeakRef(held));
      await ctx.sleep('1h');
      return held.payload.length;
    });
    const worker = h.startWorker([sleeper]);
    for (let i = 0; i < 20; i++) await h.client.schedule(sleeper, undefined);
    await until(
      async () => (await h.client.list({ status: 'suspended', limit: 100 })).flows.length === 20,
      10_000,
      'every flow to suspend',
    );
    await worker.stop();
    for (let i = 0; i < 5; i++) {
      gc();
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect(alive).toHaveLength(20);
    expect(alive.filter((ref) => ref.deref() !== undefined)).toHaveLength(0);
  });
});
