// One test per usage pattern of the seed (sequential, custom errors with retry
// control, human approval by signal, durable timer, child flows, several
// workers sharing one store, crash recovery).
import { RetryPolicy, registerErrorClass } from '@ergon/core';
import { graph } from '@ergon/graph';
import { describe, expect, it } from 'vitest';
import { Flow, flow, flowClass, flowContext, Step, step } from '../src/index.js';
import { freezable, harness, until } from './support.js';

class BusinessError extends Error {
  constructor(
    readonly kind: 'Retryable' | 'Permanent',
    message: string,
  ) {
    super(message);
    this.name = 'BusinessError';
  }
  isRetryable(): boolean {
    return this.kind === 'Retryable';
  }
}
registerErrorClass(BusinessError);

describe('seed usage patterns', () => {
  const h = harness();

  it('Pattern 1: sequential', async () => {
    class Sequential {
      constructor(public seed: string) {}
      @Flow() async sequential(): Promise<string> {
        const a = await this.step1();
        const b = await this.step2(a);
        return this.step3(b);
      }
      @Step() async step1() {
        return `${this.seed}1`;
      }
      @Step() async step2(a: string) {
        return `${a}2`;
      }
      @Step() async step3(b: string) {
        return `${b}3`;
      }
    }
    h.startWorker([Sequential]);
    const handle = await h.client.schedule(flowClass(Sequential, 'sequential'), new Sequential('s'));
    expect(await handle.result()).toBe('s123');
  });

  it('Pattern 2: parallel DAG (fetch user, fetch orders → merge)', async () => {
    const g = graph<{ id: number }>('summary')
      .node('fetchUser', (_d, input) => ({ name: `user${input.id}` }))
      .node('fetchOrders', () => [1, 2, 3])
      .node(
        'merge',
        { deps: ['fetchUser', 'fetchOrders'] },
        (d) => `${d.fetchUser.name}:${d.fetchOrders.length}`,
      )
      .build();
    const parallel = flow('parallel', async (ctx, input: { id: number }) => {
      const result = await ctx.dag(g, input);
      return result.outputs.merge;
    });
    h.startWorker([parallel]);
    expect(await (await h.client.schedule(parallel, { id: 7 })).result()).toBe('user7:3');
  });

  it('custom errors with retry control: retryable errors retry, permanent ones stop at once', async () => {
    const calls = { network: 0, funds: 0 };
    const charge = step(
      'charge-card',
      async (kind: 'network' | 'funds') => {
        calls[kind]++;
        if (kind === 'network' && calls.network < 3) throw new BusinessError('Retryable', 'network timeout');
        if (kind === 'funds') throw new BusinessError('Permanent', 'insufficient funds');
        return 'receipt';
      },
      { retry: new RetryPolicy({ maxAttempts: 5, initialDelay: 5 }) },
    );
    const payment = flow('payment', async (ctx, kind: 'network' | 'funds') => {
      try {
        return await ctx.step(charge, kind);
      } catch (error) {
        return `${(error as Error).name}:${(error as BusinessError).kind}:${error instanceof BusinessError}`;
      }
    });
    h.startWorker([payment]);
    expect(await (await h.client.schedule(payment, 'network')).result()).toBe('receipt');
    expect(calls.network).toBe(3);
    expect(await (await h.client.schedule(payment, 'funds')).result()).toBe('BusinessError:Permanent:true');
    expect(calls.funds).toBe(1);
  });

  it('external signals: human approval', async () => {
    class Approval {
      constructor(public orderId: string) {}
      @Flow() async run(): Promise<string> {
        await this.prepare();
        const decision = await flowContext().waitForSignal<{ approved: boolean; by: string }>(
          'manager-approval',
        );
        return decision.approved ? `approved by ${decision.by}` : 'rejected';
      }
      @Step() async prepare() {
        return this.orderId;
      }
    }
    h.startWorker([Approval]);
    const handle = await h.client.schedule(flowClass(Approval, 'run'), new Approval('o-1'));
    await until(async () => (await handle.status()) === 'suspended');
    expect((await handle.get()).waits).toEqual([{ kind: 'signal', name: 'manager-approval', position: 1 }]);
    await handle.signal('manager-approval', { approved: true, by: 'ada' });
    expect(await handle.result()).toBe('approved by ada');
  });

  it('durable timers: the flow suspends and resumes after the timer', async () => {
    const settle = flow('settle', async (ctx) => {
      const before = await ctx.now();
      await ctx.sleep('150ms');
      const after = await ctx.now();
      return after.getTime() - before.getTime();
    });
    h.startWorker([settle]);
    const handle = await h.client.schedule(settle, undefined);
    await until(async () => (await handle.status()) === 'suspended');
    expect(await handle.result()).toBeGreaterThanOrEqual(150);
  });

  it('child flow invocation: items processed by child flows, results collected', async () => {
    const item = flow('item', async (ctx, name: string) => ctx.run('upper', () => name.toUpperCase()));
    const parent = flow('items', async (ctx, items: string[]) => {
      const results: string[] = [];
      for (const i of items) results.push(await ctx.child(item, i));
      return results;
    });
    h.startWorker([item, parent]);
    const handle = await h.client.schedule(parent, ['a', 'b', 'c']);
    expect(await handle.result()).toEqual(['A', 'B', 'C']);
    const children = await h.client.list({ parentId: handle.id });
    expect(children.flows.map((f) => f.id).sort()).toEqual([0, 1, 2].map((p) => `${handle.id}/${p}`));
  });

  it('distributed workers: four workers share one store and split the load', async () => {
    const ranOn = new Map<string, string>();
    const job = flow('job', async (ctx, n: number) => {
      await ctx.run('work', async () => {
        await new Promise((r) => setTimeout(r, 5));
        return n;
      });
      return n;
    });
    const workers = [1, 2, 3, 4].map((i) =>
      h.startWorker([job], { id: `w${i}`, concurrency: 2, onOutcome: (id) => ranOn.set(id, `w${i}`) }),
    );
    const handles = await Promise.all(Array.from({ length: 40 }, (_, n) => h.client.schedule(job, n)));
    const results = await Promise.all(handles.map((x) => x.result()));
    expect(results).toEqual(Array.from({ length: 40 }, (_, n) => n));
    expect(new Set(ranOn.values()).size).toBeGreaterThan(1);
    expect(workers.every((w) => w.running)).toBe(true);
  });

  it('crash recovery: a worker that dies mid-flow is replaced and no finished step runs again', async () => {
    const runs = new Map<string, number>();
    const count = (k: string) => runs.set(k, (runs.get(k) ?? 0) + 1);
    const order = flow('crashy', async (ctx) => {
      for (const name of ['reserve', 'charge', 'ship']) await ctx.run(name, () => count(name));
      return 'done';
    });
    // The first worker's process "dies" right after recording step 1 (charge).
    const dying = freezable(h.store, { freezeAfterRecord: (p) => p === 1 });
    h.startWorker([order], { store: dying.store, lease: '300ms' });
    const handle = await h.client.schedule(order, undefined);
    await until(() => dying.frozen);
    // The replacement holds the harness's longer lease: with 300 ms, one heartbeat late on a loaded
    // machine let its own lease lapse and it claimed the flow a third time (runCount 3).
    h.startWorker([order]);
    expect(await handle.result()).toBe('done');
    expect(Object.fromEntries(runs)).toEqual({ reserve: 1, charge: 1, ship: 1 });
    expect((await handle.get()).runCount).toBe(2);
  });
});
