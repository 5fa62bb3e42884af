import { InMemoryExecutionLog } from '@ergon/core';
import { describe, expectTypeOf, it } from 'vitest';
import { Client, Flow, type FlowHandle, flow, flowClass, Scheduler, step } from '../src/index.js';

interface Order {
  id: string;
  total: number;
}

const charge = step('charge', async (order: Order, _scope) => ({
  receipt: `r-${order.id}`,
  cents: order.total * 100,
}));
const processOrder = flow('process-order', async (ctx, order: Order) => {
  const payment = await ctx.step(charge, order);
  expectTypeOf(payment).toEqualTypeOf<{ receipt: string; cents: number }>();
  const approval = await ctx.waitForSignal<{ ok: boolean }>('approval');
  return { payment, ok: approval.ok };
});

class Shipment {
  constructor(public orderId: string) {}
  @Flow() async ship(): Promise<number> {
    return this.orderId.length;
  }
}

describe('type inference', () => {
  it('flows input and output types through schedule() and result() without annotations', async () => {
    const client = new Client({ store: new InMemoryExecutionLog() });
    const handle = await client.schedule(processOrder, { id: 'o1', total: 5 });
    expectTypeOf(handle).toEqualTypeOf<
      FlowHandle<{ payment: { receipt: string; cents: number }; ok: boolean }>
    >();
    expectTypeOf(handle.result()).resolves.toEqualTypeOf<{
      payment: { receipt: string; cents: number };
      ok: boolean;
    }>();

    // @ts-expect-error: wrong input type
    await client.schedule(processOrder, { id: 1 });
    // @ts-expect-error: a step called with the wrong argument
    flow('bad', async (ctx) => ctx.step(charge, 'not an order'));

    const scheduler = new Scheduler({ store: new InMemoryExecutionLog() });
    const shipped = await scheduler.schedule(flowClass(Shipment, 'ship'), new Shipment('abc'));
    expectTypeOf(shipped.result()).resolves.toEqualTypeOf<number>();
  });
});

describe('scheduling by type name', () => {
  it('takes the input and output types the caller gives', async () => {
    const client = new Client({ store: new InMemoryExecutionLog() });
    const handle = await client.schedule<Order, { ok: boolean }>('process-order', { id: 'o1', total: 5 });
    expectTypeOf(handle).toEqualTypeOf<FlowHandle<{ ok: boolean }>>();
    // @ts-expect-error: the input must match the given type
    await client.schedule<Order, boolean>('process-order', { id: 'o1' });
    const untyped = await client.schedule('process-order', 42);
    expectTypeOf(untyped).toEqualTypeOf<FlowHandle<unknown>>();
  });
});
