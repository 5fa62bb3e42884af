import { RetryPolicy } from '@ergon/core';
import { graph } from '@ergon/graph';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { flow } from '../src/index.js';
import { freezable, harness, until } from './support.js';

interface Order {
  readonly user: string;
  readonly sku: string;
  readonly amount: number;
}

function checkout(runs: Map<string, number>) {
  const count = (name: string) => runs.set(name, (runs.get(name) ?? 0) + 1);
  return graph<Order>('checkout')
    .node('validateUser', async (_d, o) => {
      count('validateUser');
      return { user: o.user, valid: true };
    })
    .node('checkInventory', async (_d, o) => {
      count('checkInventory');
      return { sku: o.sku, inStock: 3 };
    })
    .node('checkFraud', async (_d, o) => {
      count('checkFraud');
      return { score: o.amount > 1000 ? 0.9 : 0.1 };
    })
    .node('finalize', { deps: ['validateUser', 'checkInventory', 'checkFraud'] }, async (d) => {
      count('finalize');
      return `${d.validateUser.user}:${d.checkInventory.inStock}:${d.checkFraud.score}`;
    })
    .build();
}

describe('ctx.dag', () => {
  const h = harness();

  it("ports the seed's example: finalize sees the three outputs, each node is a durable step", async () => {
    const runs = new Map<string, number>();
    const g = checkout(runs);
    const f = flow('parallel-processing', async (ctx, order: Order) => {
      const result = await ctx.dag(g, order);
      expectTypeOf(result.outputs.finalize).toEqualTypeOf<string | undefined>();
      return result.outputs.finalize;
    });
    h.startWorker([f]);
    const handle = await h.client.schedule(f, { user: 'ada', sku: 'x1', amount: 10 });
    expect(await handle.result()).toBe('ada:3:0.1');
    const history = (await handle.get()).history;
    expect(history.map((e) => e.key)).toEqual([
      'dag:checkout#0',
      'checkout.validateUser#0',
      'checkout.checkInventory#0',
      'checkout.checkFraud#0',
      'checkout.finalize#0',
    ]);
    // The DAG record carries the graph's shape, so tools can draw it from history alone.
    const recorded = history[0]?.result as
      | { graph: { nodes: { name: string; deps: string[] }[] } }
      | undefined;
    const shape = recorded?.graph ?? { nodes: [] };
    expect(shape.nodes.find((n) => n.name === 'finalize')?.deps).toEqual([
      'validateUser',
      'checkInventory',
      'checkFraud',
    ]);
  });

  it('records the shape when the DAG starts, so tools draw a running DAG with its edges', async () => {
    let open = () => {};
    const gate = new Promise<void>((resolve) => {
      open = resolve;
    });
    const g = graph<void>('gated')
      .node('first', () => 1)
      .node('held', async () => {
        await gate;
        return 2;
      })
      .node('last', { deps: ['first', 'held'] }, (d) => d.first + d.held)
      .build();
    const f = flow('gated-dag', async (ctx) => (await ctx.dag(g, undefined)).outputs.last);
    h.startWorker([f]);
    const handle = await h.client.schedule(f, undefined);
    const running = await until(async () => {
      const [dag] = (await handle.get()).history;
      return dag?.status === 'waiting';
    }).then(() => handle.get());
    const [started] = running.history;
    expect(started).toMatchObject({ key: 'dag:gated#0', kind: 'dag', status: 'waiting' });
    const shape = (started?.result as { graph?: { nodes: { name: string; deps: string[] }[] } } | undefined)
      ?.graph;
    expect(shape?.nodes.find((n) => n.name === 'last')?.deps).toEqual(['first', 'held']);
    open();
    expect(await handle.result()).toBe(3);
    const [finished] = (await handle.get()).history;
    expect(finished).toMatchObject({ key: 'dag:gated#0', status: 'completed' });
    expect((finished?.result as { statuses?: Record<string, string> } | undefined)?.statuses).toEqual({
      first: 'completed',
      held: 'completed',
      last: 'completed',
    });
  });

  it('after a crash mid-DAG, re-runs only the unfinished nodes: each body ran exactly once', async () => {
    const runs = new Map<string, number>();
    const g = checkout(runs);
    const f = flow('dag-crash', async (ctx, order: Order) => (await ctx.dag(g, order)).outputs.finalize);
    // Positions 1–3 are the three independent checks; die once all three are recorded.
    const recorded = new Set<number>();
    const dying = freezable(h.store, {
      freezeAfterRecord: (p) => {
        if (p >= 1 && p <= 3) recorded.add(p);
        return recorded.size === 3;
      },
    });
    h.startWorker([f], { store: dying.store, lease: '100ms' });
    const handle = await h.client.schedule(f, { user: 'bo', sku: 'y', amount: 5000 });
    await until(() => dying.frozen);
    expect(runs.get('finalize')).toBeUndefined();
    h.startWorker([f], { lease: '100ms' });
    expect(await handle.result()).toBe('bo:3:0.9');
    expect(Object.fromEntries(runs)).toEqual({
      validateUser: 1,
      checkInventory: 1,
      checkFraud: 1,
      finalize: 1,
    });
  });

  it('run-what-can reports failed and skipped nodes and the result is recorded for replay', async () => {
    const g = graph<number>('partial')
      .node('ok', (_d, n) => n + 1)
      .node('bad', { retry: RetryPolicy.NONE }, () => {
        throw new Error('bad node');
      })
      .node('after-bad', { deps: ['bad'] }, () => 'never')
      .build();
    const f = flow('partial-flow', async (ctx, n: number) => {
      const result = await ctx.dag(g, n, { failurePolicy: 'run-what-can' });
      await ctx.sleep('10ms'); // replay the recorded DAG result
      return {
        status: result.status,
        ok: result.outputs.ok,
        failed: Object.keys(result.failed),
        skipped: result.skipped,
      };
    });
    h.startWorker([f]);
    const handle = await h.client.schedule(f, 1);
    expect(await handle.result()).toEqual({
      status: 'failed',
      ok: 2,
      failed: ['bad'],
      skipped: ['after-bad'],
    });
  });

  it('suspends the flow while a node waits on a durable retry backoff, then finishes the DAG', async () => {
    let tries = 0;
    const g = graph<void>('flaky-dag')
      // A backoff long enough to be still ahead when the suspend is written, even under CI load
      // (a wait already due then is not a suspension: the run goes on under the same lease).
      .node('flaky', { retry: new RetryPolicy({ maxAttempts: 2, initialDelay: 400 }) }, () => {
        if (++tries === 1) throw new Error('first try fails');
        return 'recovered';
      })
      .node('after', { deps: ['flaky'] }, (d) => `${d.flaky}!`)
      .build();
    const f = flow('flaky-dag-flow', async (ctx) => (await ctx.dag(g, undefined)).outputs.after);
    h.startWorker([f], { durableBackoff: '1ms' });
    const handle = await h.client.schedule(f, undefined);
    expect(await handle.result()).toBe('recovered!');
    expect((await handle.get()).runCount).toBeGreaterThanOrEqual(2);
  });
});
