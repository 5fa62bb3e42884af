// Found by the simulation (memory store, seed 10 before the workload was tuned):
// a run that replays a failed DAG can hang for good. On replay, recorded
// results are delivered in recording order; a DAG node recorded in the first
// run but never called in the replay (fail-fast stopped before starting it)
// holds back every later-recorded result until the activation unstalls them.
// The unstall happens only when no live work is left, and after it nothing
// checks again: when the unstalled results leave only waits (here a retry
// backoff as a durable timer), the activation neither suspends nor ends. The
// run stays `running` under its lease, renewed by heartbeats, forever.
import { RetryPolicy } from '@ergon/core';
import { Graph } from '@ergon/graph';
import { describe, expect, it } from 'vitest';
import { flow } from '../../src/index.js';
import { harness, until } from '../support.js';

describe('replay of a failed DAG followed by waits only', () => {
  const h = harness({ fake: true });

  // Fixed in src/internal/liveness.ts: after `stalled()` unstalls deliveries, another check follows.
  it('suspends again on its pending timer instead of hanging in `running`', async () => {
    // n0 fails only once n2 has started, and n2 fails a little later: the first run records
    // n0's failure before n2's on every store, however fast its writes are.
    let n2Started!: () => void;
    const n2Running = new Promise<void>((resolve) => {
      n2Started = resolve;
    });
    const g = Graph.fromNodes(
      [
        {
          name: 'n0',
          retry: RetryPolicy.NONE,
          run: async () => {
            await n2Running;
            throw new Error('n0');
          },
        },
        { name: 'n1', run: async () => 'n1' },
        {
          name: 'n2',
          deps: ['n1'],
          retry: RetryPolicy.NONE,
          run: async () => {
            n2Started();
            await new Promise((resolve) => setTimeout(resolve, 50));
            throw new Error('n2');
          },
        },
      ],
      { name: 'g' },
    );
    const backoff = new RetryPolicy({ maxAttempts: 3, initialDelay: '10s', maxDelay: '10s' });
    const f = flow('dag-then-backoff', async (ctx) => {
      await ctx.dag(g, undefined).catch(() => 'dag failed');
      return Promise.all([
        ctx.run('a', () => 'a'),
        ctx.run('b', () => Promise.reject(new Error('b')), { retry: backoff }),
      ]);
    });
    h.startWorker([f], { durableBackoff: '5s', lease: '1h' });
    const handle = await h.client.schedule(f, undefined);
    const status = async () => (await h.store.getFlow(handle.id))?.status;
    await until(async () => (await status()) === 'suspended', 5000, 'the first run to suspend');
    const history = await h.store.getHistory(handle.id);
    // The first run recorded all three nodes (n2 started before n0's failure was seen).
    expect(history.map((r) => r.key)).toContain('g.n2#0');
    h.fakeClock.advance(10_000);
    await until(async () => (await h.store.getFlow(handle.id))?.runCount === 2, 5000, 'the second run');
    // The second run retries `b`, which fails again and backs off: the flow must suspend.
    await until(async () => (await status()) === 'suspended', 2000, 'the second run to suspend');
  });
});
