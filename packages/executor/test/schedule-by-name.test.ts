// Scheduling from a process that does not have the flow's code, and the class form's entry definition.
import { RetryPolicy } from '@ergon/core';
import { describe, expect, it } from 'vitest';
import { Client, Executor, Flow, flow, flowClassWithEntry, Scheduler, Step } from '../src/index.js';
import { harness } from './support.js';

interface Order {
  readonly id: string;
  readonly total: number;
}

class Checkout {
  constructor(
    public orderId: string,
    public cents: number,
  ) {}
  @Flow({ name: 'checkout' })
  async run(): Promise<string> {
    return `${this.orderId}:${await this.charge()}`;
  }
  async quick(): Promise<string> {
    return `quick ${this.orderId}`;
  }
  @Step()
  async charge(): Promise<number> {
    return this.cents;
  }
}

describe('scheduling by type name', () => {
  const h = harness();

  it('schedules a flow by its name; a worker that has the code runs it', async () => {
    const priced = flow('priced-order', async (ctx, order: Order) => ctx.run('price', () => order.total * 2));
    h.startWorker([priced]);
    // A client in a process without the flow's code: only the name and, optionally, the types.
    const client = new Client({ store: h.store });
    const handle = await client.schedule<Order, number>('priced-order', { id: 'o-1', total: 21 });
    expect(await handle.result()).toBe(42);
    const again = await new Scheduler({ store: h.store }).schedule<Order, number>(
      'priced-order',
      { id: 'o-1', total: 1 },
      {
        flowId: handle.id,
      },
    );
    expect(again.created).toBe(false);
    expect((await h.client.get(handle.id)).queue).toBe('default');
  });

  it('refuses a malformed type name or runAt with INVALID_ARGUMENT before anything is stored', async () => {
    await expect(h.client.schedule('has spaces', {})).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    const noop = flow('noop-flow', async () => undefined);
    await expect(h.client.schedule(noop, undefined, { runAt: 'tomorrow' as never })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
    expect((await h.client.list()).flows).toEqual([]);
  });

  it('exports flowClassWithEntry: a worker resumes class-form flows entered through a lambda', async () => {
    const definition = flowClassWithEntry(Checkout, (f) => f.run());
    expect(definition.name).toBe('checkout');
    const outcome = await new Executor({ store: h.store }).execute(definition, new Checkout('o-7', 500));
    expect(outcome).toMatchObject({ status: 'completed', result: 'o-7:500' });
    const quick = flowClassWithEntry(Checkout, (f) => f.quick());
    h.startWorker([quick]);
    const handle = await h.client.schedule(quick, new Checkout('o-8', 1));
    expect(await handle.result()).toBe('quick o-8');
  });
});

describe('retry', () => {
  const h = harness();

  it('schedules a failed flow again under the next retry id, and refuses one that did not fail', async () => {
    let calls = 0;
    const flaky = flow('flaky-once', async (ctx, n: number) =>
      ctx.run(
        'try',
        () => {
          calls++;
          if (calls === 1) throw new Error('first time fails');
          return n * 2;
        },
        { retry: RetryPolicy.NONE },
      ),
    );
    h.startWorker([flaky]);
    const first = await h.client.schedule(flaky, 21, { flowId: 'flaky' });
    await expect(first.result()).rejects.toMatchObject({ code: 'FLOW_FAILED' });
    const retried = await h.client.retry('flaky');
    expect(retried).toEqual({
      id: 'flaky.retry-1',
      retryOf: 'flaky',
      previousStatus: 'failed',
      type: 'flaky-once',
      queue: 'default',
    });
    expect(await h.client.result('flaky.retry-1')).toBe(42);
    await expect(h.client.retry('flaky.retry-1')).rejects.toMatchObject({
      code: 'FLOW_NOT_RETRYABLE',
      flowId: 'flaky.retry-1',
      status: 'completed',
    });
    await expect(h.client.retry('no-such-flow')).rejects.toMatchObject({ code: 'FLOW_NOT_FOUND' });
  });
});
